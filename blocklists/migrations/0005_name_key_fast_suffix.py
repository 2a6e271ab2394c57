"""lp_name_key without the suffix regular expression in the common cases (same results).

The key is the lower-cased name with runs of non-alphanumerics turned into single spaces, then
legal-form suffixes (" ltd", " limited", " a s", ...) stripped from its end. The second
regular expression cost about 5 of the 10 CPU-microseconds per name, which is what the bulk
import pays per company when it rebuilds the expression index lp_company_name_key (1M
companies: 10.4 -> 4.1 CPU-s). Now it runs only when the key ends in a chain of suffixes or in
" s" (perhaps " a s"): a key whose last word is not a suffix is returned as it is, and a key
with one suffix after a non-suffix word loses that last word; both are exactly what the
expression gives there. The index needs no rebuild: every key stays the same (checked on the
1M-name bench file and tests/blocklists/test_normalize.py).
"""

from django.db import migrations

SUFFIXES = "ltd|limited|plc|llp|lp|as|asa|ab|publ|aps|a s|oy|oyj|gmbh|inc|llc|sa|bv|nv|co"
WORDS = ", ".join(f"'{w}'" for w in SUFFIXES.split("|") if " " not in w)

FORWARD = f"""
CREATE OR REPLACE FUNCTION lp_name_key(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 10000
AS $$
DECLARE
  key text := btrim(regexp_replace(lower(value), '[^[:alnum:]]+', ' ', 'g'));
  last text;
BEGIN
  IF position(' ' in key) = 0 THEN
    RETURN key;
  END IF;
  last := split_part(key, ' ', -1);
  IF last <> 's' AND NOT last = ANY(ARRAY[{WORDS}]) THEN
    RETURN key;
  END IF;
  IF last <> 's' AND NOT split_part(key, ' ', -2) = ANY(ARRAY[{WORDS}, 's']) THEN
    RETURN left(key, length(key) - length(last) - 1);
  END IF;
  RETURN btrim(regexp_replace(key, '( ({SUFFIXES}))+$', ''));
END $$;
"""

BACKWARD = f"""
CREATE OR REPLACE FUNCTION lp_name_key(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 10000
AS $$ BEGIN
  RETURN btrim(regexp_replace(
    btrim(regexp_replace(lower(value), '[^[:alnum:]]+', ' ', 'g')),
    '( ({SUFFIXES}))+$', ''));
END $$;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("blocklists", "0004_matching_sql_costs")]

    operations = [migrations.RunPython(forwards, backwards)]
