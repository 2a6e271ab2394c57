"""One lead per company per organisation, ever, enforced by the database.

The matching query skips companies the organisation already received a lead from, but two segments
running at once (different wanted roles at one company) cannot see each other's deliveries, and
both delivered and charged. A unique (organization, company) constraint is the guard.

Installations may already hold such pairs (that race is how they came about; the nightly bench had
them), and every record stays: it is also the person's "delivered once" marker. So the constraint
is partial: `company_first` is true for an organisation's first record at a company (and for every
new one), false for the later records of pairs made before this migration.
"""

from django.db import migrations, models

# No alias on the updated table: the embedded SQLite default runs this too.
MARK_LATER = """
UPDATE blocklists_deliveryrecord SET company_first = FALSE
WHERE EXISTS (
    SELECT 1 FROM blocklists_deliveryrecord e
    WHERE e.organization_id = blocklists_deliveryrecord.organization_id
    AND e.company_id = blocklists_deliveryrecord.company_id
    AND e.id < blocklists_deliveryrecord.id
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("blocklists", "0005_name_key_fast_suffix"),
        ("enrichment", "0004_company_country_id"),
        ("organizations", "0002_audit_event"),
    ]

    operations = [
        migrations.AddField(
            model_name="deliveryrecord",
            name="company_first",
            field=models.BooleanField(default=True, editable=False),
        ),
        migrations.RunSQL(MARK_LATER, migrations.RunSQL.noop),
        migrations.RemoveIndex(
            model_name="deliveryrecord",
            name="delivery_record_org_company",
        ),
        migrations.AddConstraint(
            model_name="deliveryrecord",
            constraint=models.UniqueConstraint(
                condition=models.Q(company_first=True),
                fields=("organization", "company"),
                name="delivery_record_company_once",
            ),
        ),
    ]
