"""Usage events and ledger entries are append-only: a trigger rejects UPDATE and DELETE.

PostgreSQL only (the embedded SQLite demo has no second writer to protect against).
TRUNCATE does not fire row triggers, so test database flushes still work.
"""

from django.db import migrations

TABLES = ("billing_usageevent", "billing_ledgerentry")

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION billing_reject_mutation() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on %.% is not allowed: the usage ledger is append-only',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION billing_reject_mutation()"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS billing_reject_mutation()")


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
