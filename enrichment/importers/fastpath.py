# ruff: noqa: S608  (SQL is assembled from code constants: table/column names; values are params)
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
import sys
import time
from pathlib import Path

import psycopg
from django.db import DataError, connection, transaction

from enrichment import nace
from enrichment.importers.merge import REJ, TIMING, CompanyMerge, Counts, Sql, Timed
from enrichment.importers.parsers import CH_REQUIRED, FileFormatError
from enrichment.importers.records import CH_CATEGORY, CH_HASHED, CH_SIZE, CH_STATUS, sql_case
from enrichment.importers.streams import registry_open

log = logging.getLogger(__name__)

PG_ENCODINGS = {
    "utf-8": "UTF8",
    "utf-8-sig": "UTF8",
    "latin-1": "LATIN1",
    "cp1252": "WIN1252",
    "iso8859-15": "LATIN9",
}


DATE_YEARS = (1700, 2199)


def _dates(cur, table: str) -> None:
    """Every real DD/MM/YYYY date from 1700 to 2199 (183k rows). Checking and parsing a date is
    then one hash-join probe instead of a dozen string functions per row."""
    lo, hi = DATE_YEARS
    cur.execute(
        f"CREATE UNLOGGED TABLE {table} AS SELECT to_char(d, 'DD/MM/YYYY') AS txt, d::date AS d "
        f"FROM generate_series('{lo}-01-01'::date, '{hi}-12-31'::date, interval '1 day') d"
    )
    cur.execute(f"ANALYZE {table}")


def _sic_raw(x: str) -> str:
    """SQL: a SicText value -> its raw code ("62012"), the text when unparseable, else NULL.

    Mirrors nace.uk_sic_parse: the part before the first "-", if it is 4 or 5 digits."""
    head = f"btrim(split_part({x}, '-', 1))"
    return (
        f"(CASE WHEN btrim({x}) = '' OR lower(btrim({x})) = 'none supplied' THEN NULL "
        f"WHEN position('-' in {x}) > 0 AND length({head}) IN (4, 5) "
        f"AND translate({head}, '0123456789', '') = '' THEN {head} ELSE btrim({x}) END)"
    )


def _sic_map(cur, table: str) -> None:
    """UK SIC 2007 code -> NACE class, for the codes that are an activity."""
    cur.execute(f"CREATE UNLOGGED TABLE {table} (code text PRIMARY KEY, cls integer NOT NULL)")
    rows = [
        (code, cls)
        for code in nace.uk_sic_labels()
        if (cls := nace.nace_class_from_code(raw=code, system=nace.UK_SIC2007)) is not None
    ]
    cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)", rows)
    cur.execute(f"ANALYZE {table}")


def ch_basic_fast(*, path: Path, run, source, emit: bool, progress: bool | None, result) -> bool:
    """Import via COPY; returns False (nothing written) when the Python path must take over."""
    sql = Sql(connection)
    from django.utils import timezone

    now = timezone.now()
    # Staging tables are UNLOGGED tables named after the run, not TEMP tables: PostgreSQL
    # plans no parallel workers over temporary tables. They are created inside the import's
    # transaction, so a failed import leaves none behind; a successful one drops them.
    tag = f"lp_imp{int(run.pk)}"
    raw, todo, dates, sic = f"{tag}_raw", f"{tag}_todo", f"{tag}_dates", f"{tag}_sic"
    with registry_open(path, progress=progress) as opened, connection.cursor() as raw_cur:
        cur = Timed(raw_cur)
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
        col_list = ", ".join(cols)
        t0 = time.perf_counter()
        try:
            with transaction.atomic():
                # Created in the COPY's own subtransaction, so COPY may FREEZE the rows: later
                # scans then skip per-row visibility checks and never rewrite pages for hint bits.
                cur.execute(
                    f"CREATE UNLOGGED TABLE {raw} ("
                    + ", ".join(f"{c} text" for c in cols)
                    + ", line bigint GENERATED ALWAYS AS IDENTITY)"
                )
                with cur.cursor.copy(
                    f"COPY {raw} ({col_list}) FROM STDIN WITH (FORMAT csv, HEADER true, "
                    f"FREEZE true, ENCODING '{pg_encoding}', FORCE_NOT_NULL ({col_list}))"
                ) as copy:
                    while chunk := opened.stream.read(1 << 20):
                        copy.write(chunk)
                read = max(cur.cursor.rowcount, 0)
        except (psycopg.DataError, DataError) as exc:
            log.info("ch_basic fast path refused %s (%s); using the Python path", path, exc)
            result.counts = Counts(notes=[f"COPY refused the file, parsed row by row: {exc}"])
            return False
        if TIMING:
            print(f"[{time.perf_counter() - t0:7.2f}s] COPY {raw}", file=sys.stderr)
        result.fast_path, result.encoding = True, opened.encoding

    with connection.cursor() as raw_cur:
        cur = Timed(raw_cur)
        counts = _merge(
            cur=cur, sql=sql, col=col, read=read, run=run, source=source, emit=emit,
            now=now, raw=raw, todo=todo, dates=dates, sic=sic,
        )  # fmt: skip
        for table in (raw, todo, dates, sic):
            cur.execute(f"DROP TABLE {table}")
        result.counts = counts
    return True


def _merge(*, cur, sql, col, read, run, source, emit, now, raw, todo, dates, sic) -> Counts:
    def c(name: str) -> str:
        return col.get(name, "''")

    _sic_map(cur, sic)
    _dates(cur, dates)
    # Parallel plans for every pass over the file's rows (2 workers on this machine's 2 cores;
    # the functions used are all PARALLEL SAFE and the staging tables are not temporary).
    cur.execute("SET LOCAL parallel_setup_cost = 100")
    cur.execute("SET LOCAL min_parallel_table_scan_size = '1MB'")
    payload = " || E'\\x1f' || ".join(c(n) for n in CH_HASHED)
    # The columns the normalisation reads, passed through the change filter below.
    used = sorted(
        {
            c(n).removeprefix("r.")
            for n in (
                "CompanyName",
                "CompanyCategory",
                "CompanyStatus",
                "IncorporationDate",
                "Accounts.AccountCategory",
                "RegAddress.CareOf",
                "RegAddress.POBox",
                "RegAddress.AddressLine1",
                "RegAddress.AddressLine2",
                "RegAddress.PostTown",
                "RegAddress.County",
                "RegAddress.PostCode",
                *(f"SICCode.SicText_{i}" for i in range(1, 5)),
            )
            if n in col
        }
    )

    def h(name: str) -> str:
        return c(name).replace("r.", "h.", 1) if name in col else "''"

    trimmed = {
        "name": "CompanyName",
        "inc": "IncorporationDate",
        "cat": "CompanyCategory",
        "status": "CompanyStatus",
        "account": "Accounts.AccountCategory",
        "town": "RegAddress.PostTown",
        "county": "RegAddress.County",
    }
    v_cols = ", ".join(f"btrim({h(src)}) AS {alias}" for alias, src in trimmed.items())
    v_cols += f", upper(btrim({h('RegAddress.PostCode')})) AS pc"
    reason = (
        "CASE WHEN h.num = '' THEN 'CompanyNumber: empty' "
        "WHEN length(h.num) > 32 THEN 'CompanyNumber: too long (' || length(h.num) "
        "|| ' characters)' "
        "WHEN v.name = '' THEN 'CompanyName: empty' "
        "WHEN v.inc <> '' AND dt.d IS NULL THEN "
        "'IncorporationDate: not a DD/MM/YYYY date: ' || quote_literal(left(v.inc, 40)) END"
    )
    bad = "(h.num = '' OR length(h.num) > 32 OR v.name = '' OR (v.inc <> '' AND dt.d IS NULL))"
    # One lateral per SIC column: a single-parameter lookup that PostgreSQL memoizes over the
    # few hundred distinct SicText values, with the NACE class read inside it.
    sic_laterals = " ".join(
        f"CROSS JOIN LATERAL (SELECT q.s AS s{i}, (SELECT m.cls FROM {sic} m "
        f"WHERE m.code = q.s) AS cls{i} FROM (SELECT {_sic_raw(h(f'SICCode.SicText_{i}'))} "
        f"AS s OFFSET 0) q OFFSET 0) s{i}x"
        for i in range(1, 5)
    )
    status = sql_case("lower(v.status)", CH_STATUS, "active")
    address = ", ".join(
        f"NULLIF(btrim({h(n)}), '')"
        for n in (
            "RegAddress.CareOf",
            "RegAddress.POBox",
            "RegAddress.AddressLine1",
            "RegAddress.AddressLine2",
        )
    )
    # The one pass over the file's rows (parallel): key and payload hash for every row, the
    # change filter against the directory, then, only for rows that are new or whose hash
    # moved (the OFFSET 0 fence keeps the normalisation above the filter: an unchanged
    # re-import computes nothing else), the row checks and the normalisation. A row already
    # in the directory with the same hash was valid when imported and is identical now.
    # "OFFSET 0" also keeps each LATERAL subquery from being inlined, so every expression
    # runs once per row instead of once per reference.
    cur.execute(
        f"CREATE UNLOGGED TABLE {todo} AS SELECT h.company_id, h.company_id IS NULL AS is_new, "
        "h.line + 1 AS line, 'GB'::text AS country, h.num AS registry_id, "
        "left(v.name, 300) AS name, kc.lf AS legal_form, left(v.cat, 120) AS legal_form_raw, "
        "CASE WHEN k.st = 'active' AND (upper(v.account) = 'DORMANT' "
        "OR '99999' IN (s1x.s1, s2x.s2, s3x.s3, s4x.s4)) THEN 'dormant' ELSE k.st END AS status, "
        "dt.d AS incorporated_on, "
        "COALESCE(s1x.cls1, s2x.cls2, s3x.cls3, s4x.cls4) AS nace_primary, "
        "left(concat_ws(';', s1x.s1, s2x.s2, s3x.s3, s4x.s4), 200) AS nace_raw, "
        "NULL::integer AS employees_min, NULL::integer AS employees_max, "
        "''::text AS employees_source, ka.sb AS size_band, "
        f"left(concat_ws(', ', {address}), 300) AS address, left(v.pc, 16) AS postcode, "
        "left(CASE WHEN position(' ' in v.pc) > 0 THEN split_part(v.pc, ' ', 1) "
        "WHEN length(v.pc) BETWEEN 5 AND 7 THEN left(v.pc, length(v.pc) - 3) "
        "ELSE v.pc END, 8) AS postcode_prefix, "
        "left(v.town, 100) AS municipality, left(v.county, 100) AS region, "
        "''::text AS website_domain, ''::text AS email_domain, ''::text AS phone, "
        "''::text AS lei, FALSE AS marketing_blocked, h.payload_hash, "
        "s1x.s1, s2x.s2, s3x.s3, s4x.s4, s1x.cls1, s2x.cls2, s3x.cls3, s4x.cls4, "
        f"{reason} AS reason, CASE WHEN {bad} "
        "THEN left(concat_ws(',', h.num, v.name), 300) END AS excerpt "
        f"FROM (SELECT r.line, {', '.join(f'r.{u}' for u in used)}, k.num, k.payload_hash, "
        f"co.id AS company_id FROM {raw} r "
        f"CROSS JOIN LATERAL (SELECT btrim({c('CompanyNumber')}) AS num, md5({payload}) "
        "AS payload_hash OFFSET 0) k "
        "LEFT JOIN enrichment_company co ON co.country = 'GB' AND co.registry_id = k.num "
        "WHERE co.id IS NULL OR co.payload_hash IS DISTINCT FROM k.payload_hash OFFSET 0) h "
        f"CROSS JOIN LATERAL (SELECT {v_cols} OFFSET 0) v "
        f"LEFT JOIN {dates} dt ON dt.txt = v.inc "
        f"CROSS JOIN LATERAL (SELECT {status} AS st OFFSET 0) k "
        # one-parameter lookups: PostgreSQL memoizes these over repeated values
        f"CROSS JOIN LATERAL (SELECT {sql_case('lower(v.cat)', CH_CATEGORY, 'other')} "
        "AS lf OFFSET 0) kc "
        f"CROSS JOIN LATERAL (SELECT {sql_case('lower(v.account)', CH_SIZE, '')} "
        "AS sb OFFSET 0) ka "
        f"{sic_laterals}"
    )
    hits = max(cur.rowcount, 0)
    rejected = 0
    if hits:
        cur.execute(
            f"INSERT INTO {REJ} (import_run_id, line_number, reason, raw) "
            f"SELECT %s, line, reason, excerpt FROM {todo} WHERE reason IS NOT NULL",
            [run.pk],
        )
        rejected = max(cur.rowcount, 0)
        if rejected:
            cur.execute(f"DELETE FROM {todo} WHERE reason IS NOT NULL")
    # Industry rows straight from the staged row (the first occurrence of each code; the
    # primary one is the first code with a class), no separate staging table.
    industries = (
        "SELECT x.cls AS nace_class, 'uk_sic2007' AS code_system, x.code AS raw_code, "
        "x.code = COALESCE(CASE WHEN t.cls1 IS NOT NULL THEN t.s1 END, "
        "CASE WHEN t.cls2 IS NOT NULL THEN t.s2 END, CASE WHEN t.cls3 IS NOT NULL THEN t.s3 END, "
        "t.s4) AS is_primary FROM (VALUES (t.cls1, t.s1, TRUE), "
        "(t.cls2, t.s2, t.s2 IS DISTINCT FROM t.s1), "
        "(t.cls3, t.s3, t.s3 IS DISTINCT FROM t.s1 AND t.s3 IS DISTINCT FROM t.s2), "
        "(t.cls4, t.s4, t.s4 IS DISTINCT FROM t.s1 AND t.s4 IS DISTINCT FROM t.s2 "
        "AND t.s4 IS DISTINCT FROM t.s3)) x(cls, code, first) "
        "WHERE x.cls IS NOT NULL AND x.first"
    )
    merger = CompanyMerge(
        sql=sql,
        cursor=cur,
        policy=_policy(),
        run_id=run.pk,
        source_id=source.pk,
        now=now,
        emit_events=emit,
        todo=todo,
        industries_lateral=industries,
        ids_from_line=read + 1,
    )
    counts = merger.merge_todo(staged=read - rejected, todo_rows=hits - rejected)
    counts.rows_read = read
    counts.rows_rejected += rejected
    return counts


def _policy():
    from enrichment.importers import SOURCES

    return SOURCES["ch_basic"].policy
