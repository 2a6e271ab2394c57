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
ID_BLOCK_MIN = 10_000  # new rows from which ids are reserved as one block


def _dates(cur, *, empty: bool = False) -> None:
    """lp_dates: every real DD/MM/YYYY date from 1700 to 2199 (183k rows). Checking and parsing
    a date is then one hash-join probe instead of a dozen string functions per row."""
    lo, hi = DATE_YEARS
    cur.execute("DROP TABLE IF EXISTS lp_dates")
    if empty:
        cur.execute("CREATE TEMP TABLE lp_dates (txt text, d date)")
        return
    cur.execute(
        "CREATE TEMP TABLE lp_dates AS SELECT to_char(d, 'DD/MM/YYYY') AS txt, d::date AS d "
        f"FROM generate_series('{lo}-01-01'::date, '{hi}-12-31'::date, interval '1 day') d"
    )
    cur.execute("ANALYZE lp_dates")


def _sic_raw(x: str) -> str:
    """SQL: a SicText value -> its raw code ("62012"), the text when unparseable, else NULL.

    Mirrors nace.uk_sic_parse: the part before the first "-", if it is 4 or 5 digits."""
    head = f"btrim(split_part({x}, '-', 1))"
    return (
        f"(CASE WHEN btrim({x}) = '' OR lower(btrim({x})) = 'none supplied' THEN NULL "
        f"WHEN position('-' in {x}) > 0 AND length({head}) IN (4, 5) "
        f"AND translate({head}, '0123456789', '') = '' THEN {head} ELSE btrim({x}) END)"
    )


def _sic_map(cur) -> None:
    """lp_sic_map: UK SIC 2007 code -> NACE class, for the codes that are an activity."""
    cur.execute("DROP TABLE IF EXISTS lp_sic_map")
    cur.execute("CREATE TEMP TABLE lp_sic_map (code text PRIMARY KEY, cls integer NOT NULL)")
    rows = [
        (code, cls)
        for code in nace.uk_sic_labels()
        if (cls := nace.nace_class_from_code(raw=code, system=nace.UK_SIC2007)) is not None
    ]
    cur.executemany("INSERT INTO lp_sic_map VALUES (%s, %s)", rows)
    cur.execute("ANALYZE lp_sic_map")


def ch_basic_fast(*, path: Path, run, source, emit: bool, progress: bool | None, result) -> bool:
    """Import via COPY; returns False (nothing written) when the Python path must take over."""
    sql = Sql(connection)
    from django.utils import timezone

    now = timezone.now()
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
        cur.execute("DROP TABLE IF EXISTS lp_raw_ch")
        cur.execute(
            "CREATE TEMP TABLE lp_raw_ch ("
            + ", ".join(f"{c} text" for c in cols)
            + ", line bigint GENERATED ALWAYS AS IDENTITY)"
        )
        col_list = ", ".join(cols)
        t0 = time.perf_counter()
        try:
            with (
                transaction.atomic(),
                cur.cursor.copy(
                    f"COPY lp_raw_ch ({col_list}) FROM STDIN WITH (FORMAT csv, HEADER true, "
                    f"ENCODING '{pg_encoding}', FORCE_NOT_NULL ({col_list}))"
                ) as copy,
            ):
                while chunk := opened.stream.read(1 << 20):
                    copy.write(chunk)
        except (psycopg.DataError, DataError) as exc:
            log.info("ch_basic fast path refused %s (%s); using the Python path", path, exc)
            result.counts = Counts(notes=[f"COPY refused the file, parsed row by row: {exc}"])
            return False
        if TIMING:
            print(f"[{time.perf_counter() - t0:7.2f}s] COPY lp_raw_ch", file=sys.stderr)
        read = _count(cur, "SELECT COUNT(*) FROM lp_raw_ch")
        result.fast_path, result.encoding = True, opened.encoding

    with connection.cursor() as raw_cur:
        cur = Timed(raw_cur)
        _sic_map(cur)

        def c(name: str) -> str:
            return col.get(name, "''")

        # v: the trimmed values every later expression uses (computed once per row).
        trimmed = {
            "num": "CompanyNumber",
            "name": "CompanyName",
            "inc": "IncorporationDate",
            "cat": "CompanyCategory",
            "status": "CompanyStatus",
            "account": "Accounts.AccountCategory",
            "town": "RegAddress.PostTown",
            "county": "RegAddress.County",
        }
        # The normalisation reads the number and the date from the checks (h.num, h.inc_date).
        v_cols = ", ".join(
            f"btrim({c(src)}) AS {alias}"
            for alias, src in trimmed.items()
            if alias not in ("num", "inc")
        )
        v_cols += f", upper(btrim({c('RegAddress.PostCode')})) AS pc"
        # What the row checks need: only three columns, for every row of the file.
        chk_cols = ", ".join(f"btrim({c(trimmed[a])}) AS {a}" for a in ("num", "name", "inc"))
        # Statistics only where the plan depends on them: the join key and the lookup keys.
        keyed = [
            col[n].removeprefix("r.")
            for n in (
                "CompanyNumber",
                "CompanyStatus",
                "CompanyCategory",
                "Accounts.AccountCategory",
                *(f"SICCode.SicText_{i}" for i in range(1, 5)),
            )
            if n in col
        ]
        reason = (
            "CASE WHEN v.num = '' THEN 'CompanyNumber: empty' "
            "WHEN length(v.num) > 32 THEN 'CompanyNumber: too long (' || length(v.num) "
            "|| ' characters)' "
            "WHEN v.name = '' THEN 'CompanyName: empty' "
            "WHEN v.inc <> '' AND dt.d IS NULL THEN "
            "'IncorporationDate: not a DD/MM/YYYY date: ' || quote_literal(left(v.inc, 40)) END"
        )
        # The same conditions as a plain boolean (the excerpt is kept for rejected rows only).
        # Both are evaluated inline: a LATERAL over them would be memoized on every input
        # column, with no hits and a cache entry per row (1.2 s and 180 MB per million rows).
        bad = "(v.num = '' OR length(v.num) > 32 OR v.name = '' OR (v.inc <> '' AND dt.d IS NULL))"
        payload = " || E'\\x1f' || ".join(c(n) for n in CH_HASHED)
        # 1. One pass over every row: the key and the payload hash.
        cur.execute("DROP TABLE IF EXISTS lp_chk")
        cur.execute(
            f"CREATE TEMP TABLE lp_chk AS SELECT r.line, btrim({c('CompanyNumber')}) AS num, "
            f"md5({payload}) AS payload_hash FROM lp_raw_ch r"
        )
        # 2. Rows that are new or whose hash moved. A row whose hash is already in the
        # directory was valid when it was imported and is identical now: it is not checked
        # again, and an unchanged re-import stops here.
        cur.execute("DROP TABLE IF EXISTS lp_hit0")
        cur.execute(
            "CREATE TEMP TABLE lp_hit0 AS SELECT k.line, k.num, k.payload_hash, "
            "co.id AS company_id FROM lp_chk k LEFT JOIN enrichment_company co "
            "ON co.country = 'GB' AND co.registry_id = k.num "
            "WHERE co.id IS NULL OR co.payload_hash IS DISTINCT FROM k.payload_hash"
        )
        hits = _count(cur, "SELECT COUNT(*) FROM lp_hit0")
        if hits >= 50_000:
            # Statistics where the plan depends on them (memoized lookups, joins).
            cur.execute(f"ANALYZE lp_raw_ch ({', '.join(keyed)})")
        # 3. The row checks, for those rows only; rejections are written from them.
        _dates(cur, empty=not hits)
        cur.execute("DROP TABLE IF EXISTS lp_hit")
        cur.execute(
            "CREATE TEMP TABLE lp_hit AS SELECT h.line, h.num, h.payload_hash, h.company_id, "
            f"dt.d AS inc_date, {reason} AS reason, CASE WHEN {bad} "
            "THEN left(concat_ws(',', v.num, v.name), 300) END AS excerpt "
            "FROM lp_hit0 h JOIN lp_raw_ch r ON r.line = h.line "
            f"CROSS JOIN LATERAL (SELECT {chk_cols} OFFSET 0) v "
            "LEFT JOIN lp_dates dt ON dt.txt = v.inc"
        )
        cur.execute(
            f"INSERT INTO {REJ} (import_run_id, line_number, reason, raw) "
            "SELECT %s, line + 1, reason, excerpt FROM lp_hit WHERE reason IS NOT NULL",
            [run.pk],
        )
        rejected = max(cur.rowcount, 0)
        cur.execute("SELECT pg_get_serial_sequence('enrichment_company', 'id')")
        sequence = cur.fetchone()[0]
        if hits >= ID_BLOCK_MIN:
            # Reserve one block of ids (base + line) instead of a nextval() per new row; rows
            # that are not new leave gaps. Nobody else inserts companies: the table is locked.
            cur.execute("SELECT nextval(%s::regclass)", [sequence])
            base = cur.fetchone()[0]
            cur.execute("SELECT setval(%s::regclass, %s)", [sequence, base + read + 1])
            new_id = f"{int(base)} + r.line"
        else:
            new_id = f"nextval('{sequence}')"
        # One lateral per SIC column: a single-parameter lookup that PostgreSQL memoizes over
        # the few hundred distinct SicText values; the NACE class is looked up inside it, so
        # the lp_sic_map probe runs once per distinct value instead of a hash join per row.
        sic_laterals = " ".join(
            f"CROSS JOIN LATERAL (SELECT q.s AS s{i}, (SELECT m.cls FROM lp_sic_map m "
            f"WHERE m.code = q.s) AS cls{i} FROM (SELECT {_sic_raw(c(f'SICCode.SicText_{i}'))} "
            f"AS s OFFSET 0) q OFFSET 0) s{i}x"
            for i in range(1, 5)
        )
        status = sql_case("lower(v.status)", CH_STATUS, "active")
        address = ", ".join(
            f"NULLIF(btrim({c(n)}), '')"
            for n in (
                "RegAddress.CareOf",
                "RegAddress.POBox",
                "RegAddress.AddressLine1",
                "RegAddress.AddressLine2",
            )
        )
        # lp_todo as the merge expects it, plus the primary SIC code (industry staging below).
        todo_columns = (*CompanyMerge.TODO_COLUMNS, "primary_code")
        todo_cols = ", ".join(todo_columns)
        sql.temp_table(cur, "lp_todo", todo_columns)
        # Hash first, normalise only the rows whose hash is not already in the directory.
        # "OFFSET 0" keeps each LATERAL subquery from being inlined, so every expression runs
        # once per row instead of once per reference.
        cur.execute(
            f"INSERT INTO lp_todo ({todo_cols}) SELECT COALESCE(h.company_id, "
            f"{new_id}), h.company_id IS NULL, r.line + 1, 'GB', h.num, "
            "left(v.name, 300), kc.lf, "
            "left(v.cat, 120), "
            "CASE WHEN k.st = 'active' AND (upper(v.account) = 'DORMANT' "
            "OR '99999' IN (s1x.s1, s2x.s2, s3x.s3, s4x.s4)) THEN 'dormant' ELSE k.st END, "
            "h.inc_date, COALESCE(s1x.cls1, s2x.cls2, s3x.cls3, s4x.cls4), "
            "left(concat_ws(';', s1x.s1, s2x.s2, s3x.s3, s4x.s4), 200), "
            "NULL, NULL, '', ka.sb, "
            f"left(concat_ws(', ', {address}), 300), left(v.pc, 16), "
            "left(CASE WHEN position(' ' in v.pc) > 0 THEN split_part(v.pc, ' ', 1) "
            "WHEN length(v.pc) BETWEEN 5 AND 7 THEN left(v.pc, length(v.pc) - 3) "
            "ELSE v.pc END, 8), "
            "left(v.town, 100), left(v.county, 100), '', '', '', '', FALSE, h.payload_hash, "
            "CASE WHEN s1x.cls1 IS NOT NULL THEN s1x.s1 WHEN s2x.cls2 IS NOT NULL THEN s2x.s2 "
            "WHEN s3x.cls3 IS NOT NULL THEN s3x.s3 WHEN s4x.cls4 IS NOT NULL THEN s4x.s4 END "
            "FROM lp_hit h JOIN lp_raw_ch r ON r.line = h.line AND h.reason IS NULL "
            f"CROSS JOIN LATERAL (SELECT {v_cols} OFFSET 0) v "
            f"CROSS JOIN LATERAL (SELECT {status} AS st OFFSET 0) k "
            # one-parameter lookups: PostgreSQL memoizes these over repeated values
            f"CROSS JOIN LATERAL (SELECT {sql_case('lower(v.cat)', CH_CATEGORY, 'other')} "
            "AS lf OFFSET 0) kc "
            f"CROSS JOIN LATERAL (SELECT {sql_case('lower(v.account)', CH_SIZE, '')} "
            "AS sb OFFSET 0) ka "
            f"{sic_laterals}"
        )
        sql.temp_table(
            cur,
            "lp_stage_industry",
            ("line", "nace_class", "code_system", "raw_code", "is_primary"),
        )
        cur.execute(
            "INSERT INTO lp_stage_industry SELECT t.line, m.cls, 'uk_sic2007', u.code, "
            "u.code = t.primary_code FROM lp_todo t "
            "CROSS JOIN LATERAL (SELECT string_to_array(t.nace_raw, ';') AS arr OFFSET 0) a "
            "CROSS JOIN LATERAL unnest(a.arr) WITH ORDINALITY u(code, ord) "
            "JOIN lp_sic_map m ON m.code = u.code "
            # the first occurrence of a code only: staged rows are unique per (line, code),
            # and exactly one of them is the primary code
            "WHERE t.nace_raw <> '' AND array_position(a.arr, u.code) = u.ord"
        )
        merger = CompanyMerge(
            sql=sql,
            cursor=cur,
            policy=_policy(),
            run_id=run.pk,
            source_id=source.pk,
            now=now,
            emit_events=emit,
        )
        counts = merger.merge_todo(staged=read - rejected)
        counts.rows_read = read
        counts.rows_rejected += rejected
        for table in ("lp_raw_ch", "lp_chk", "lp_hit0", "lp_hit"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        result.counts = counts
    return True


def _policy():
    from enrichment.importers import SOURCES

    return SOURCES["ch_basic"].policy


def _count(cur, query: str) -> int:
    cur.execute(query)
    return cur.fetchone()[0]
