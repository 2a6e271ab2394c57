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
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.db import connection

from enrichment import nace
from enrichment.importers.copyparts import (
    CHUNK_BYTES,
    chunk_rows,
    copy_parts,
    drop_tables,
    line_expr,
    side_connection,
)
from enrichment.importers.merge import (
    CompanyMerge,
    CompanyPolicy,
    Counts,
    MergeContext,
    PreparedRows,
    Sql,
    Timed,
    timing_print,
)
from enrichment.importers.merge.sql import REJECTION, TIMING
from enrichment.importers.parsers import CH_REQUIRED, FileFormatError
from enrichment.importers.records import CH_CATEGORY, CH_HASHED, CH_SIZE, CH_STATUS
from enrichment.importers.streams import registry_open

log = logging.getLogger(__name__)

PG_ENCODINGS = {
    "utf-8": "UTF8",
    "utf-8-sig": "UTF8",
    "latin-1": "LATIN1",
    "cp1252": "WIN1252",
    "iso8859-15": "LATIN9",
}


DATE_YEARS = (1700, 2199)  # the dates in lp_dmy_date (migration enrichment 0003)
COPY_PARTS = 2  # COPY connections at once: one per core of the database server


@dataclass(frozen=True)
class CopiedFile:
    """The file after COPY: its rows as one relation and the staging tables the pass makes."""

    raw: str  # a subquery of every row: ``line`` (1 = first row after the header), c0, c1, ...
    col: dict[str, str]  # header name -> its column in ``raw`` ("r.c3")
    read: int  # rows in the file
    todo: str  # the rows to merge (CompanyMerge.TODO_COLUMNS plus SIC codes and reasons)
    sic: str  # the UK SIC code list (and {sic}_text: the file's SicText values)


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
    """UK SIC 2007 code -> NACE class ({table}: the codes that are an activity) and the file's
    SicText values ({table}_text: "NNNNN - label" -> code and class, one hash probe per value)."""
    cur.execute(f"CREATE UNLOGGED TABLE {table} (code text PRIMARY KEY, cls integer NOT NULL)")
    cur.execute(
        f"CREATE UNLOGGED TABLE {table}_text (txt text PRIMARY KEY, code text, cls integer)"
    )
    labels = nace.uk_sic_labels()
    classes = {code: nace.nace_class_from_code(raw=code, system=nace.UK_SIC2007) for code in labels}
    copier = cur.cursor if hasattr(cur, "cursor") else cur  # Django's wrapper or psycopg's
    with copier.copy(f"COPY {table} (code, cls) FROM STDIN") as copy:
        for code, cls in classes.items():
            if cls is not None:
                copy.write_row((code, cls))
    with copier.copy(f"COPY {table}_text (txt, code, cls) FROM STDIN") as copy:
        for code, label in labels.items():
            copy.write_row((f"{code} - {label}", code, classes[code]))
    cur.execute(f"ANALYZE {table}")
    cur.execute(f"ANALYZE {table}_text")


def ch_basic_fast(
    *,
    path: Path,
    run,
    source,
    emit: bool,
    progress: bool | None,
    result,
    allow_mass_dissolve: bool = False,
) -> bool:
    """Import via COPY; returns False (nothing written) when the Python path must take over."""
    sql = Sql(connection)
    from django.utils import timezone

    now = timezone.now()
    # Staging tables are UNLOGGED tables named after the run, not TEMP tables: PostgreSQL
    # plans no parallel workers over temporary tables. They are created inside the import's
    # transaction, so a failed import leaves none behind; a successful one drops them.
    tag = f"lp_imp{int(run.pk)}"
    todo, sic = f"{tag}_todo", f"{tag}_sic"
    raws = [f"{tag}_raw{p}" for p in range(COPY_PARTS)]
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
        _sweep(cur)
        t0 = time.perf_counter()
        # The raw tables are loaded by COPY_PARTS connections at once and committed by them
        # (copyparts); from here on the import owns them: dropped with its transaction, or
        # by registry_import after a failure (result.cleanup), or by the next import's sweep.
        result.cleanup = raws
        try:
            parts = copy_parts(
                opened.stream,
                tables=raws,
                columns=cols,
                options=f"ENCODING '{pg_encoding}', FORCE_NOT_NULL ({col_list})",
                chunk_bytes=CHUNK_BYTES,
            )
        except psycopg.DataError as exc:
            drop_tables(raws)
            result.cleanup = []
            log.info("ch_basic fast path refused %s (%s); using the Python path", path, exc)
            result.counts = Counts(notes=[f"COPY refused the file, parsed row by row: {exc}"])
            return False
        rows = chunk_rows(parts)
        read = sum(rows)
        if TIMING:
            timing_print(t0, f"COPY into {', '.join(raws)}")
        result.fast_path, result.encoding = True, opened.encoding

    # The file's rows as one relation: record number ``line`` (1 = first row after the
    # header) and the text columns; PostgreSQL scans the parts with a parallel append.
    raw = (
        "("
        + " UNION ALL ".join(
            f"SELECT {col_list}, {line_expr(part, rows)} AS line FROM {part.table} r"
            for part in parts
        )
        + ")"
    )
    # The pass over the file's rows runs on a connection of its own and commits its staging
    # tables (like the COPY parts), so that while this transaction inserts the companies
    # (serial: one core), that connection can stage their industry rows on the other core.
    # Only when this import's transaction is the outermost one: inside a caller's
    # transaction, another connection would not see what that transaction wrote.
    staged = [todo, sic, f"{sic}_text", f"{todo}_ind"]
    result.cleanup = raws + staged
    outermost = len(connection.atomic_blocks) == 1
    with (
        side_connection() if outermost else nullcontext() as side,
        ThreadPoolExecutor(max_workers=1) as pool,
        connection.cursor() as raw_cur,
    ):
        cur = Timed(raw_cur)
        ctx = MergeContext(
            sql=sql, cursor=cur, run_id=run.pk, source_id=source.pk, now=now, emit_events=emit
        )
        copied = CopiedFile(raw=raw, col=col, read=read, todo=todo, sic=sic)
        counts = _merge(
            ctx, copied=copied, side=side, pool=pool, allow_mass_dissolve=allow_mass_dissolve
        )
        for table in (*raws, *staged):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        result.counts = counts
    return True


def _sweep(cur) -> None:
    """Drop staging tables left by imports that are no longer running (a crash between the
    parts' commit and the import's end)."""
    from enrichment.models import ImportRun, ImportStatus

    cur.execute(
        "SELECT relname, substring(relname from '^lp_imp([0-9]+)_')::bigint FROM pg_class "
        "WHERE relname ~ '^lp_imp[0-9]+_' AND relkind = 'r' AND relpersistence = 'u'"
    )
    found = cur.fetchall()
    if not found:
        return
    running = set(
        ImportRun.objects.filter(
            pk__in={run for _, run in found}, status=ImportStatus.RUNNING
        ).values_list("pk", flat=True)
    )
    for table, run in found:
        if run not in running:
            cur.execute(f'DROP TABLE IF EXISTS "{table}"')


def _values(mapping: dict[str, str]) -> str:
    """A mapping as an inline VALUES list (k, v), for a hash join (parallel safe, no table)."""
    rows = ", ".join(
        "('{}', '{}')".format(k.replace("'", "''"), v.replace("'", "''"))
        for k, v in mapping.items()
    )
    return f"(VALUES {rows})"


def _merge(
    ctx: MergeContext,
    *,
    copied: CopiedFile,
    side: psycopg.Connection | None,
    pool: ThreadPoolExecutor,
    allow_mass_dissolve: bool,
) -> Counts:
    """The pass over the copied rows (on ``side``, when given, committed there) into the rows
    to merge, then CompanyMerge.merge_todo on this transaction's connection."""
    col, raw, todo, sic, read = copied.col, copied.raw, copied.todo, copied.sic, copied.read
    cur = main_cur = ctx.cursor

    def c(name: str) -> str:
        return col.get(name, "''").removeprefix("r.")

    if side is not None:
        cur = Timed(side.cursor())
    # Parallel plans for the pass over the file's rows (the machine's 2 cores; every function
    # used is PARALLEL SAFE, the staging tables are not temporary, and no LATERAL subquery
    # with outer references is used: its parameters would make the plan serial).
    for one in {main_cur, cur}:
        for setting in (
            "work_mem = '256MB'",
            "parallel_setup_cost = 10",
            "parallel_tuple_cost = 0.001",
            "min_parallel_table_scan_size = '1MB'",
        ):
            one.execute(f"SET {'LOCAL ' if one is main_cur else ''}{setting}")
    _sic_map(cur, sic)
    payload = " || E'\\x1f' || ".join(f"r.{c(n)}" if n in col else "''" for n in CH_HASHED)
    # Layer 1 (every row): key, payload hash and the raw columns the normalisation reads.
    # Layer 2: only rows that are new or whose hash moved (a row already in the directory with
    # the same hash was valid when imported and is identical now): an unchanged re-import
    # computes nothing else. Layer 3: trimmed values. Each layer is a subquery with OFFSET 0,
    # which PostgreSQL plans on its own (not merged into the next), so every expression is
    # computed once per row and the normalisation only runs above the change filter.
    raw_cols = {
        "name": "CompanyName",
        "inc": "IncorporationDate",
        "cat": "CompanyCategory",
        "status": "CompanyStatus",
        "account": "Accounts.AccountCategory",
        "town": "RegAddress.PostTown",
        "county": "RegAddress.County",
        "pc": "RegAddress.PostCode",
        "care": "RegAddress.CareOf",
        "pobox": "RegAddress.POBox",
        "addr1": "RegAddress.AddressLine1",
        "addr2": "RegAddress.AddressLine2",
        **{f"sic{i}": f"SICCode.SicText_{i}" for i in range(1, 5)},
    }
    l1 = (
        f"SELECT r.line, btrim(r.{c('CompanyNumber')}) AS num, md5({payload}) AS payload_hash, "
        + ", ".join(
            f"r.{c(src)} AS {a}" if src in col else f"''::text AS {a}"
            for a, src in raw_cols.items()
        )
        + f" FROM {raw} r OFFSET NULL"
    )
    l2 = (
        f"SELECT k.*, co.id AS company_id FROM ({l1}) k "
        "LEFT JOIN enrichment_company co ON co.country = 'GB' AND co.registry_id = k.num "
        "WHERE co.id IS NULL OR co.payload_hash IS DISTINCT FROM k.payload_hash OFFSET NULL"
    )
    l3 = (
        "SELECT h.line, h.num, h.payload_hash, h.company_id, btrim(h.name) AS name, "
        'btrim(h.inc) AS inc, btrim(h.cat) AS cat, lower(btrim(h.status) COLLATE "C") AS status, '
        "btrim(h.account) AS account, btrim(h.town) AS town, btrim(h.county) AS county, "
        "upper(btrim(h.pc)) AS pc, concat_ws(', ', "
        + ", ".join(f"NULLIF(btrim(h.{a}), '')" for a in ("care", "pobox", "addr1", "addr2"))
        + ") AS address, h.sic1, h.sic2, h.sic3, h.sic4 "
        f"FROM ({l2}) h OFFSET NULL"
    )
    # SIC: the file's SicText values are the SIC 2007 list's "NNNNN - label" (one hash probe
    # gives code and class); any other text is parsed (nace.uk_sic_parse) and its code looked
    # up, and the CASE makes that second join key NULL (no parsing) for known texts.
    l4 = (
        "SELECT v.*, dt.d AS inc_date, "
        + ", ".join(
            f"CASE WHEN t{i}.txt IS NOT NULL THEN t{i}.code ELSE {_sic_raw(f'v.sic{i}')} END "
            f"AS s{i}, COALESCE(t{i}.cls, m{i}.cls) AS cls{i}"
            for i in range(1, 5)
        )
        + f" FROM ({l3}) v LEFT JOIN lp_dmy_date dt ON dt.txt = v.inc "
        + " ".join(
            f"LEFT JOIN {sic}_text t{i} ON t{i}.txt = v.sic{i} "
            f"LEFT JOIN {sic} m{i} ON m{i}.code = "
            f"CASE WHEN t{i}.txt IS NULL THEN {_sic_raw(f'v.sic{i}')} END"
            for i in range(1, 5)
        )
        + " OFFSET NULL"
    )
    # Lookup keys are lower-cased with the "C" collation: ASCII case folding, a fraction of the
    # cost of the database locale's wide-character path. The keys are ASCII, so the lookups
    # match what Python's str.lower() matches (short of letters like the Kelvin sign).
    reason = (
        "CASE WHEN w.num = '' THEN 'CompanyNumber: empty' "
        "WHEN length(w.num) > 32 THEN 'CompanyNumber: too long (' || length(w.num) "
        "|| ' characters)' "
        "WHEN w.name = '' THEN 'CompanyName: empty' "
        "WHEN w.inc <> '' AND w.inc_date IS NULL THEN "
        "'IncorporationDate: not a DD/MM/YYYY date: ' || quote_literal(left(w.inc, 40)) END"
    )
    bad = (
        "(w.num = '' OR length(w.num) > 32 OR w.name = '' OR (w.inc <> '' AND w.inc_date IS NULL))"
    )
    cur.execute(
        f"CREATE UNLOGGED TABLE {todo} AS SELECT w.company_id, w.company_id IS NULL AS is_new, "
        "w.line + 1 AS line, 'GB'::text AS country, w.num AS registry_id, "
        "left(w.name, 300) AS name, COALESCE(kc.v, 'other') AS legal_form, "
        "left(w.cat, 120) AS legal_form_raw, "
        "CASE WHEN COALESCE(ks.v, 'active') = 'active' AND (upper(w.account COLLATE \"C\") = 'DORMANT' "
        "OR '99999' IN (w.s1, w.s2, w.s3, w.s4)) THEN 'dormant' "
        "ELSE COALESCE(ks.v, 'active') END AS status, "
        "w.inc_date AS incorporated_on, "
        "COALESCE(w.cls1, w.cls2, w.cls3, w.cls4) AS nace_primary, "
        "left(concat_ws(';', w.s1, w.s2, w.s3, w.s4), 200) AS nace_raw, "
        "NULL::integer AS employees_min, NULL::integer AS employees_max, "
        "''::text AS employees_source, COALESCE(ka.v, '') AS size_band, "
        "left(w.address, 300) AS address, left(w.pc, 16) AS postcode, "
        "left(CASE WHEN position(' ' in w.pc) > 0 THEN split_part(w.pc, ' ', 1) "
        "WHEN length(w.pc) BETWEEN 5 AND 7 THEN left(w.pc, length(w.pc) - 3) "
        "ELSE w.pc END, 8) AS postcode_prefix, "
        "left(w.town, 100) AS municipality, left(w.county, 100) AS region, "
        "''::text AS website_domain, ''::text AS email_domain, ''::text AS phone, "
        "''::text AS lei, FALSE AS marketing_blocked, w.payload_hash, "
        "w.s1, w.s2, w.s3, w.s4, w.cls1, w.cls2, w.cls3, w.cls4, "
        f"{reason} AS reason, CASE WHEN {bad} "
        "THEN left(concat_ws(',', w.num, w.name), 300) END AS excerpt "
        f"FROM ({l4}) w "
        f"LEFT JOIN {_values(CH_STATUS)} ks(k, v) ON ks.k = w.status "
        f'LEFT JOIN {_values(CH_CATEGORY)} kc(k, v) ON kc.k = lower(w.cat COLLATE "C") '
        f'LEFT JOIN {_values(CH_SIZE)} ka(k, v) ON ka.k = lower(w.account COLLATE "C")'
    )
    hits = max(cur.rowcount, 0)
    # Whether any row was rejected: a parallel count here, where the import's INSERT of the
    # rejections below is a serial scan of every staged row (0.25 s per million) that a
    # clean file would make for nothing.
    cur.execute(f"SELECT count(*) FROM {todo} WHERE reason IS NOT NULL")
    bad = cur.fetchone()[0]
    if side is not None:
        side.commit()
    cur = main_cur
    rejected = 0
    if bad:
        cur.execute(
            f"INSERT INTO {REJECTION} (import_run_id, line_number, reason, raw) "
            f"SELECT %s, line, reason, excerpt FROM {todo} WHERE reason IS NOT NULL",
            [ctx.run_id],
        )
        rejected = max(cur.rowcount, 0)
        if rejected:
            cur.execute(f"DELETE FROM {todo} WHERE reason IS NOT NULL")
    # Industry rows straight from the staged row: the first occurrence of each code with a
    # class; the primary one is the first code with a class. unnest() in the select list (four
    # codes per row in lockstep) is half the cost of a LATERAL VALUES join per row.
    firsts = ", ".join(
        " AND ".join(["TRUE"] + [f"t.s{i} IS DISTINCT FROM t.s{j}" for j in range(1, i)])
        for i in range(1, 5)
    )
    industries = (
        "SELECT x.company_id, x.cls AS nace_class, 'uk_sic2007' AS code_system, "
        "x.code AS raw_code, x.code = x.prim AS is_primary, x.slot FROM (SELECT {company_id} "
        "AS company_id, unnest(ARRAY[t.cls1, t.cls2, t.cls3, t.cls4]) AS cls, "
        "unnest(ARRAY[4 * t.line, 4 * t.line + 1, 4 * t.line + 2, 4 * t.line + 3]) AS slot, "
        "unnest(ARRAY[t.s1, t.s2, t.s3, t.s4]) AS code, "
        f"unnest(ARRAY[{firsts}]) AS first, "
        "COALESCE(CASE WHEN t.cls1 IS NOT NULL THEN t.s1 END, "
        "CASE WHEN t.cls2 IS NOT NULL THEN t.s2 END, CASE WHEN t.cls3 IS NOT NULL THEN t.s3 END, "
        "t.s4) AS prim FROM {todo} t {join} WHERE {where}) x "
        "WHERE x.cls IS NOT NULL AND x.first"
    )

    def stage_industries(select: str) -> Future[str]:
        """CREATE {todo}_ind AS select, on the side connection, committed (a thread: the
        caller goes on with its own statements meanwhile)."""

        def create() -> str:
            assert side is not None
            with side.cursor() as side_cur:
                # One process: it has the core the company insert leaves; parallel workers
                # would only add the cost of passing 1.3M rows per million to a leader.
                side_cur.execute("SET max_parallel_workers_per_gather = 0")
                Timed(side_cur).execute(f"CREATE UNLOGGED TABLE {todo}_ind AS {select}")
            side.commit()
            return f"{todo}_ind"

        return pool.submit(create)

    prepared = PreparedRows(
        todo=todo,
        industries_select=industries,
        staged_keys=f"SELECT 'GB' AS country, btrim(r.{c('CompanyNumber')}) AS registry_id, "
        f"r.line + 1 AS line FROM {raw} r",
        ids_from_line=read + 1,
        # Rows this transaction rejects stay visible to the side connection: it skips them.
        stage_industries=(stage_industries, "t.reason IS NULL") if side is not None else None,
    )
    merger = CompanyMerge(ctx, policy=_policy(), prepared=prepared)
    counts = merger.merge_todo(staged=read - rejected, todo_rows=hits - rejected)
    if ctx.emit_events and _full_snapshot():
        # Every row of the file names its company, rejected or not (COPY took them all).
        merger.retire_missing(
            seen=f"SELECT btrim(r.{c('CompanyNumber')}) AS registry_id FROM {raw} r",
            country="GB",
            allow_mass=allow_mass_dissolve,
        )
    counts.rows_read = read
    counts.rows_rejected += rejected
    return counts


def _full_snapshot() -> bool:
    from enrichment.importers import SOURCES

    return SOURCES["ch_basic"].full_snapshot


def _policy() -> CompanyPolicy:
    from enrichment.importers import SOURCES

    policy = SOURCES["ch_basic"].policy
    assert policy is not None
    return policy
