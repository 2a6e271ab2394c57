"""`company_first` gets a database default (true, as for every new record).

0006 gave it only a Python default, so raw SQL that names the table's columns as they were before
(the match bench's generator) failed with a NOT NULL violation on every database built from scratch.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("blocklists", "0006_delivery_record_company_once"),
    ]

    operations = [
        migrations.AlterField(
            model_name="deliveryrecord",
            name="company_first",
            field=models.BooleanField(db_default=True, default=True, editable=False),
        ),
    ]
