"""Make the matching query's exclusions index-driven (measured with bench/match.py).

- lp_name_key becomes PL/pgSQL (never inlined) with a high COST, and enrichment_company gets an
  index on lp_name_key(name): the planner then finds the few companies a name entry blocks through
  the index, instead of computing the key for every company of a broad segment (1-2 s at 300k).
- lp_sha256_hex gets the same high COST, and its contact-point index becomes non-partial: the
  planner ignores a partial index's statistics, guessed 0.5% of all contact points per hash, and
  hashed every contact point (2.5 s at 300k) instead of looking up the few suppressed ones.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION lp_name_key(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 10000
AS $$ BEGIN
  RETURN btrim(regexp_replace(
    btrim(regexp_replace(lower(value), '[^[:alnum:]]+', ' ', 'g')),
    '( (ltd|limited|plc|llp|lp|as|asa|ab|publ|aps|a s|oy|oyj|gmbh|inc|llc|sa|bv|nv|co))+$', ''));
END $$;
ALTER FUNCTION lp_sha256_hex(text) COST 10000;
CREATE INDEX IF NOT EXISTS lp_company_name_key ON enrichment_company (lp_name_key(name));
DROP INDEX IF EXISTS lp_contactpoint_person_sha256;
CREATE INDEX IF NOT EXISTS lp_contactpoint_sha256 ON enrichment_contactpoint (lp_sha256_hex(normalized));
"""

BACKWARD = r"""
DROP INDEX IF EXISTS lp_company_name_key;
DROP INDEX IF EXISTS lp_contactpoint_sha256;
CREATE INDEX IF NOT EXISTS lp_contactpoint_person_sha256
    ON enrichment_contactpoint (lp_sha256_hex(normalized)) WHERE person_id IS NOT NULL;
ALTER FUNCTION lp_sha256_hex(text) COST 100;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("blocklists", "0003_matching_sql")]

    operations = [migrations.RunPython(forwards, backwards)]
