"""SQL the matching query relies on: the suppression hash and company-name key functions and the contact-point indexes
that let the anti-joins look people up by identifier (directory tables, matching-only indexes).

`lp_sha256_hex` wraps convert_to() (STABLE only because of encodings in general); the database
encoding never changes, so declaring the wrapper IMMUTABLE is sound and lets it be indexed.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION lp_sha256_hex(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT encode(sha256(convert_to(value, 'UTF8')), 'hex') $$;

CREATE OR REPLACE FUNCTION lp_name_key(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT btrim(regexp_replace(
    btrim(regexp_replace(lower(value), '[^[:alnum:]]+', ' ', 'g')),
    '( (ltd|limited|plc|llp|lp|as|asa|ab|publ|aps|a s|oy|oyj|gmbh|inc|llc|sa|bv|nv|co))+$', '')) $$;
"""

INDEXES = """
CREATE INDEX IF NOT EXISTS lp_contactpoint_person_sha256
    ON enrichment_contactpoint (lp_sha256_hex(normalized)) WHERE person_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS lp_contactpoint_person_normalized
    ON enrichment_contactpoint (normalized, kind) WHERE person_id IS NOT NULL;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    schema_editor.execute(INDEXES)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS lp_contactpoint_person_sha256")
    schema_editor.execute("DROP INDEX IF EXISTS lp_contactpoint_person_normalized")
    schema_editor.execute("DROP FUNCTION IF EXISTS lp_sha256_hex(text)")
    schema_editor.execute("DROP FUNCTION IF EXISTS lp_name_key(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("blocklists", "0002_suppression_blockentry"),
        ("enrichment", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
