"""PostgreSQL fast path for Companies House BasicCompanyData: raw COPY, normalise inside SQL.

The file's bytes go straight into ``COPY ... FROM STDIN (FORMAT csv)`` into an unindexed
temporary table of text columns (named by the header, so columns are mapped by name). Row checks,
the payload hash and the normalisation then run as set-based SQL, only for rows whose hash
differs from the directory's. The SQL renders the same mapping tables as the Python parser
(records.CH_*), and tests import one file both ways and compare.

If COPY refuses the file (a malformed row, bytes not in the detected encoding), the savepoint is
rolled back and the caller falls back to the Python path, which rejects bad rows one by one.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import psycopg
from django.db import DataError, connection, transaction

from enrichment import nace
from enrichment.importers.merge import REJ, CompanyMerge, Counts, Sql
from enrichment.importers.parsers import CH_REQUIRED, FileFormatError
from enrichment.importers.records import CH_CATEGORY, CH_SIZE, CH_STATUS, sql_case
from enrichment.importers.streams import registry_open

log = logging.getLogger(__name__)

PG_ENCODINGS = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "latin-1": "LATIN1", "cp1252": "WIN1252",
                "iso8859-15": "LATIN9"}


def _class_bitmap() -> str:
    classes = set(nace.nace_classes())
    return "".join("1" if i in classes else "0" for i in range(10000))


def _functions(cur) -> None:
    cur.execute(
        "CREATE OR REPLACE FUNCTION pg_temp.lp_ukdate(d text) RETURNS date LANGUAGE sql "
        "IMMUTABLE AS $$ SELECT CASE "
        "WHEN d !~ '^[0-9]{2}/[0-9]{2}/[0-9]{4}$' THEN NULL "
        "WHEN substr(d, 4, 2)::int NOT BETWEEN 1 AND 12 OR substr(d, 1, 2)::int < 1 "
        "OR substr(d, 7, 4)::int < 1 THEN NULL "
        "WHEN substr(d, 1, 2)::int > extract(day FROM make_date(substr(d, 7, 4)::int, "
        "substr(d, 4, 2)::int, 1) + interval '1 month - 1 day')::int THEN NULL "
        "ELSE make_date(substr(d, 7, 4)::int, substr(d, 4, 2)::int, substr(d, 1, 2)::int) END $$"
    )
    cur.execute(
        "CREATE OR REPLACE FUNCTION pg_temp.lp_sic_raw(s text) RETURNS text LANGUAGE sql "
        "IMMUTABLE AS $$ SELECT CASE "
        "WHEN btrim(s) = '' OR lower(btrim(s)) = 'none supplied' THEN NULL "
        "WHEN s ~ '^\\s*[0-9]{4,5}\\s*-' THEN substring(s from '^\\s*([0-9]{4,5})\\s*-') "
        "ELSE btrim(s) END $$"
    )
    non_activity = ", ".join(f"'{c}'" for c in sorted(nace.UK_NON_ACTIVITY))
    cur.execute(
        "CREATE OR REPLACE FUNCTION pg_temp.lp_sic(code text) RETURNS int LANGUAGE sql "
        "IMMUTABLE AS $$ SELECT CASE WHEN code ~ '^[0-9]{5}$' "
        f"AND code NOT IN ({non_activity}) "
        f"AND substr('{_class_bitmap()}', left(code, 4)::int + 1, 1) = '1' "
        "THEN left(code, 4)::int END $$"
    )


def ch_basic_fast(*, path: Path, run, source, emit: bool, progress: bool | None, result) -> bool:
    """Import via COPY; returns False (nothing written) when the Python path must take over."""
    sql = Sql(connection)
    from django.utils import timezone

    now = timezone.now()
    with registry_open(path, progress=progress) as opened, connection.cursor() as cur:
        pg_encoding = PG_ENCODINGS.get(opened.encoding)
        if pg_encoding is None:
            return False
        head = opened.stream.peek(1 << 16)
        first = head.split(b"\n", 1)[0].decode(opened.encoding, "replace").lstrip("\ufeff")
        names = [n.strip() for n in next(csv.reader([first.rstrip("\r")]))]
        missing = [r for r in CH_REQUIRED if r not in names]
        if missing:
            raise FileFormatError(f"ch_basic: header lacks required column(s) {', '.join(missing)}")
        cols = [f"c{i}" for i in range(len(names))]
        col = {n: f"r.{c}" for n, c in zip(names, cols, strict=True) if n}
        cur.execute("DROP TABLE IF EXISTS lp_raw_ch")
        cur.execute(
            "CREATE TEMP TABLE lp_raw_ch (" + ", ".join(f"{c} text" for c in cols)
            + ", line bigint GENERATED ALWAYS AS IDENTITY)"
        )
        col_list = ", ".join(cols)
        try:
            with transaction.atomic():
                with cur.cursor.copy(
                    f"COPY lp_raw_ch ({col_list}) FROM STDIN WITH (FORMAT csv, HEADER true, "
                    f"ENCODING '{pg_encoding}', FORCE_NOT_NULL ({col_list}))"
                ) as copy:
                    while chunk := opened.stream.read(1 << 20):
                        copy.write(chunk)
        except (psycopg.DataError, DataError) as exc:
            log.info("ch_basic fast path refused %s (%s); using the Python path", path, exc)
            result.counts = Counts(notes=[f"COPY refused the file, parsed row by row: {exc}"])
            return False
        read = _count(cur, "SELECT COUNT(*) FROM lp_raw_ch")
        result.fast_path, result.encoding = True, opened.encoding

    with connection.cursor() as cur:
        _functions(cur)

        def c(name: str) -> str:
            return col.get(name, "''")

        num, name, inc = f"btrim({c('CompanyNumber')})", f"btrim({c('CompanyName')})", (
            f"btrim({c('IncorporationDate')})")
        reason = (
            f"CASE WHEN {num} = '' THEN 'CompanyNumber: empty' "
            f"WHEN length({num}) > 32 THEN 'CompanyNumber: too long (' || length({num}) "
            "|| ' characters)' "
            f"WHEN {name} = '' THEN 'CompanyName: empty' "
            f"WHEN {inc} <> '' AND pg_temp.lp_ukdate({inc}) IS NULL THEN "
            f"'IncorporationDate: not a DD/MM/YYYY date: ' || quote_literal(left({inc}, 40)) END"
        )
        cur.execute(
            f"INSERT INTO {REJ} (import_run_id, line_number, reason, raw) "
            f"SELECT %s, line + 1, reason, raw FROM (SELECT r.line, {reason} AS reason, "
            f"left(concat_ws(',', {num}, {name}), 300) AS raw FROM lp_raw_ch r) x "
            "WHERE reason IS NOT NULL",
            [run.pk],
        )
        rejected = max(cur.rowcount, 0)
        sics = [f"pg_temp.lp_sic_raw({c(f'SICCode.SicText_{i}')})" for i in range(1, 5)]
        category = f"btrim({c('CompanyCategory')})"
        status = sql_case(f"lower(btrim({c('CompanyStatus')}))", CH_STATUS, "active")
        account = f"btrim({c('Accounts.AccountCategory')})"
        postcode = f"upper(btrim({c('RegAddress.PostCode')}))"
        address = ", ".join(
            f"NULLIF(btrim({c(n)}), '')" for n in ("RegAddress.CareOf", "RegAddress.POBox",
                                                  "RegAddress.AddressLine1",
                                                  "RegAddress.AddressLine2"))
        payload = "concat_ws(chr(31), " + ", ".join(f"r.{x}" for x in cols) + ")"
        todo_cols = ", ".join(CompanyMerge.TODO_COLUMNS)
        sql.temp_table(cur, "lp_todo", CompanyMerge.TODO_COLUMNS)
        cur.execute(
            f"INSERT INTO lp_todo ({todo_cols}) SELECT co.id, n.line, 'GB', n.registry_id, "
            f"left({name}, 300), {sql_case(f'lower({category})', CH_CATEGORY, 'other')}, "
            f"left({category}, 120), "
            f"CASE WHEN {status} = 'active' AND (upper({account}) = 'DORMANT' "
            "OR '99999' IN (s.s1, s.s2, s.s3, s.s4)) THEN 'dormant' ELSE " + status + " END, "
            f"pg_temp.lp_ukdate({inc}), "
            "COALESCE(pg_temp.lp_sic(s.s1), pg_temp.lp_sic(s.s2), pg_temp.lp_sic(s.s3), "
            "pg_temp.lp_sic(s.s4)), left(concat_ws(';', s.s1, s.s2, s.s3, s.s4), 200), "
            f"NULL, NULL, '', {sql_case(f'lower({account})', CH_SIZE, '')}, "
            f"left(concat_ws(', ', {address}), 300), left({postcode}, 16), "
            f"left(CASE WHEN position(' ' in {postcode}) > 0 THEN split_part({postcode}, ' ', 1) "
            f"WHEN length({postcode}) BETWEEN 5 AND 7 THEN left({postcode}, length({postcode}) - 3) "
            f"ELSE {postcode} END, 8), "
            f"left(btrim({c('RegAddress.PostTown')}), 100), "
            f"left(btrim({c('RegAddress.County')}), 100), '', '', '', '', FALSE, n.payload_hash "
            f"FROM (SELECT r.*, r.line + 1 AS line1, {num} AS registry_id, "
            f"encode(sha256(convert_to({payload}, 'UTF8')), 'hex') AS payload_hash "
            f"FROM lp_raw_ch r WHERE ({reason}) IS NULL) r "
            "CROSS JOIN LATERAL (SELECT r.line1 AS line, r.registry_id, r.payload_hash) n "
            f"CROSS JOIN LATERAL (SELECT {sics[0]} AS s1, {sics[1]} AS s2, {sics[2]} AS s3, "
            f"{sics[3]} AS s4) s "
            "LEFT JOIN enrichment_company co ON co.country = 'GB' "
            "AND co.registry_id = n.registry_id "
            "WHERE co.id IS NULL OR co.payload_hash IS DISTINCT FROM n.payload_hash"
        )
        sql.temp_table(cur, "lp_stage_industry",
                       ("line", "nace_class", "code_system", "raw_code", "is_primary"))
        cur.execute(
            "INSERT INTO lp_stage_industry SELECT line, cls, 'uk_sic2007', code, "
            "ROW_NUMBER() OVER (PARTITION BY line ORDER BY ord) = 1 FROM ("
            "SELECT t.line, u.code, u.ord, pg_temp.lp_sic(u.code) AS cls FROM lp_todo t, "
            "unnest(string_to_array(t.nace_raw, ';')) WITH ORDINALITY u(code, ord) "
            "WHERE t.nace_raw <> '') z WHERE cls IS NOT NULL"
        )
        merger = CompanyMerge(sql=sql, cursor=cur, policy=_policy(), run_id=run.pk,
                              source_id=source.pk, now=now, emit_events=emit)
        counts = merger.merge_todo(staged=read - rejected)
        counts.rows_read = read
        counts.rows_rejected += rejected
        cur.execute("DROP TABLE IF EXISTS lp_raw_ch")
        result.counts = counts
    return True


def _policy():
    from enrichment.importers import SOURCES

    return SOURCES["ch_basic"].policy


def _count(cur, query: str) -> int:
    cur.execute(query)
    return cur.fetchone()[0]
