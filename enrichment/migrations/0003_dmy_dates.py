"""lp_dmy_date: every real DD/MM/YYYY date from 1700 to 2199 (183k rows, 8 MB), for the
Companies House fast path: checking and parsing an incorporation date is one hash-join probe
instead of a dozen string functions per row, and no import pays for building the table.
The range is enrichment.importers.fastpath.DATE_YEARS (the Python parser checks the same)."""

from django.db import migrations

FORWARD = """
CREATE TABLE IF NOT EXISTS lp_dmy_date (txt text NOT NULL, d date NOT NULL);
INSERT INTO lp_dmy_date SELECT to_char(d, 'DD/MM/YYYY'), d::date
FROM generate_series('1700-01-01'::date, '2199-12-31'::date, interval '1 day') d;
ANALYZE lp_dmy_date;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TABLE IF EXISTS lp_dmy_date")


class Migration(migrations.Migration):
    dependencies = [("enrichment", "0002_import_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
