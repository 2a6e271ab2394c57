# ruff: noqa: S608  (SQL is assembled from code constants: table/column names; values are params)
"""Staging tables and the set-based merge into the directory, on PostgreSQL and SQLite.

Records are staged into temporary tables (PostgreSQL: ``COPY`` in batches; SQLite: executemany),
then a handful of set-based statements merge them: rows whose ``payload_hash`` (primary sources)
or owned fields (secondary sources) are unchanged are left alone; changed companies get their
ChangeEvents (name, status, address, industry) written from the old and new values before the
update; new companies are inserted with ``ON CONFLICT DO NOTHING``. Events are only written when
the source has a previous successful import (the first import is the baseline, not news).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from enrichment.importers.parsers.common import FileFormatError
from enrichment.importers.records import COMPANY_FIELDS, CompanyRecord
from enrichment.models import (
    ChangeEvent,
    Company,
    CompanyIndustry,
    ImportRejection,
    Person,
    Role,
)

BATCH = 10_000
# A full snapshot may not dissolve more than this share of the source's live companies (when
# that is at least DISSOLVE_GUARD_MIN of them) unless the caller allows it (retire_missing).
DISSOLVE_GUARD_SHARE = 0.2
DISSOLVE_GUARD_MIN = 100
TIMING = os.environ.get("LEADPILOT_IMPORT_TIMING") == "1"
EXPLAIN = os.environ.get("LEADPILOT_IMPORT_EXPLAIN") == "1"  # development: plans, run twice


def timing_print(t0: float, what: str) -> None:
    """One line per statement: its wall seconds, then (for CPU accounting against samples of
    the server's processes) the wall-clock start and end."""
    end = time.perf_counter()
    now = time.time()
    print(f"[{end - t0:7.2f}s] {what[:110]} @{now - (end - t0):.3f}-{now:.3f}", file=sys.stderr)


class Timed:
    """Wraps a cursor; with LEADPILOT_IMPORT_TIMING=1 prints each statement's duration."""

    def __init__(self, cursor) -> None:
        self._cursor = cursor

    def __getattr__(self, name: str):
        return getattr(self._cursor, name)

    def execute(self, query: str, params=None):
        t0 = time.perf_counter()
        if EXPLAIN and (" AS SELECT " in query or query.startswith(("INSERT", "SELECT"))):
            print(query, file=sys.stderr)
            self._cursor.execute("SAVEPOINT lp_explain")
            self._cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query, params)
            print("\n".join(r[0] for r in self._cursor.fetchall()), file=sys.stderr)
            self._cursor.execute("ROLLBACK TO SAVEPOINT lp_explain")
        out = self._cursor.execute(query, params)
        if TIMING:
            timing_print(t0, query)
        return out


C = Company._meta.db_table
IND = CompanyIndustry._meta.db_table
EV = ChangeEvent._meta.db_table
REJ = ImportRejection._meta.db_table
PER = Person._meta.db_table
ROL = Role._meta.db_table

PG_TYPES = {
    "line": "bigint",
    "incorporated_on": "date",
    "started_on": "date",
    "ended_on": "date",
    "nace_primary": "integer",
    "employees_min": "integer",
    "employees_max": "integer",
    "birth_year": "integer",
    "nace_class": "integer",
    "marketing_blocked": "boolean",
    "is_current": "boolean",
    "is_new": "boolean",
    "is_primary": "boolean",
    "company_id": "bigint",
}
INDUSTRY_FIELDS = ("line", "nace_class", "code_system", "raw_code", "is_primary")
IND_COLS = "company_id, nace_class, code_system, raw_code, is_primary"


@dataclass
class Counts:
    rows_read: int = 0
    rows_new: int = 0
    rows_changed: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    events: int = 0
    dissolved: int = 0  # companies of a full snapshot's source missing from this one
    notes: list[str] = field(default_factory=list)


class Sql:
    """The few places where PostgreSQL and SQLite differ."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.pg = connection.vendor == "postgresql"

    def distinct(self, a: str, b: str) -> str:
        return f"({a} IS DISTINCT FROM {b})" if self.pg else f"({a} IS NOT {b})"

    def json(self, *pairs: str) -> str:
        return ("jsonb_build_object(" if self.pg else "json_object(") + ", ".join(pairs) + ")"

    def temp_table(self, cursor, name: str, columns: tuple[str, ...]) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        if self.pg:
            cols = ", ".join(f"{c} {PG_TYPES.get(c, 'text')}" for c in columns)
        else:
            cols = ", ".join(columns)
        cursor.execute(f"CREATE TEMP TABLE {name} ({cols})")

    def dt(self, value):
        return self.connection.ops.adapt_datetimefield_value(value)


class Stager:
    """Buffers rows and writes them to a temporary table in batches."""

    def __init__(self, sql: Sql, cursor, table: str, columns: tuple[str, ...]) -> None:
        self.sql, self.cursor, self.table, self.columns = sql, cursor, table, columns
        self.buf: list[tuple] = []
        self.count = 0
        sql.temp_table(cursor, table, columns)

    def add(self, row: tuple) -> None:
        self.buf.append(row)
        if len(self.buf) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.buf:
            return
        cols = ", ".join(self.columns)
        if self.sql.pg:
            with self.cursor.cursor.copy(f"COPY {self.table} ({cols}) FROM STDIN") as copy:
                for row in self.buf:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(self.columns))
            self.cursor.executemany(f"INSERT INTO {self.table} ({cols}) VALUES ({marks})", self.buf)
        self.count += len(self.buf)
        self.buf.clear()


@dataclass(frozen=True)
class CompanyPolicy:
    owned: tuple[str, ...]  # company fields this source sets when it updates a company
    primary: bool  # stores payload_hash (and source) on the company
    creates: bool  # may create companies that are not in the directory yet
    owns_industries: bool


def rejections_write(cursor, *, run_id: int, rows: list[tuple[int, str, str]]) -> None:
    if rows:
        cursor.executemany(
            f"INSERT INTO {REJ} (import_run_id, line_number, reason, raw) VALUES (%s, %s, %s, %s)",
            # A NUL byte in a rejected line would fail the whole import: PostgreSQL text has none.
            [
                (
                    run_id,
                    line,
                    reason[:500].replace("\x00", "\ufffd"),
                    raw.replace("\x00", "\ufffd"),
                )
                for line, reason, raw in rows
            ],
        )


def one_value(cursor, sql: str, params: list | tuple = ()) -> Any:
    cursor.execute(sql, params)
    return cursor.fetchone()[0]


BULK_MIN_ROWS = 50_000
ID_BLOCK_MIN = 10_000  # new rows from which ids are reserved as one block
BULK_SHARE = 0.5


class BulkLoad:
    """A bulk load into PostgreSQL tables, the way pg_restore does it: take an exclusive lock,
    set aside secondary indexes, unique constraints, foreign keys and primary keys that no
    foreign key references, insert, then rebuild them
    from their own catalogue definitions (one sort per index, one validating join per foreign
    key) inside the same transaction. Used when an import adds at least half as many rows as a
    table holds; smaller imports insert through the indexes."""

    def __init__(self, cursor, tables: tuple[str, ...]) -> None:
        self.cursor, self.tables = cursor, tables
        self.constraints: list[tuple[str, str, str]] = []
        self.indexes: list[tuple[str, str]] = []

    def begin(self) -> None:
        self.cursor.execute(f"LOCK TABLE {', '.join(self.tables)} IN ACCESS EXCLUSIVE MODE")

    def drop(self) -> None:
        cur = self.cursor
        # ALTER TABLE refuses while deferred foreign-key checks are queued: run them now.
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in self.tables:
            # A primary key goes too when no foreign key references it: rows arrive in the
            # parallel pass's order, not in id order, and a million random inserts into its
            # index cost 3-4 s where one sorted build costs 0.5 s.
            cur.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint c "
                "WHERE conrelid = %s::regclass AND (contype IN ('u', 'f') OR contype = 'p' "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' "
                "AND r.confrelid = c.conrelid)) ORDER BY contype <> 'p', conname",
                [table],
            )
            self.constraints += [(table, name, definition) for name, definition in cur.fetchall()]
            cur.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
                "AND NOT x.indisprimary AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1",
                [table],
            )
            self.indexes += list(cur.fetchall())
        for table, name, _ in self.constraints:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in self.indexes:
            cur.execute(f'DROP INDEX "{name}"')

    def restore_one(self, table: str, definition: str) -> None:
        """Rebuild one set-aside constraint now (an error here says what the data breaks)."""
        for item in self.constraints:
            if item[0] == table and item[2] == definition:
                self.cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                self.cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{item[1]}" {definition}')
                self.constraints.remove(item)
                return
        raise LookupError(f"{table}: no set-aside constraint {definition}")

    def restore(self) -> None:
        cur = self.cursor
        # One sort per index in memory, with the parallel workers PostgreSQL allows (2 here).
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cur.execute("SET LOCAL max_parallel_maintenance_workers = 2")
        for _, definition in self.indexes:
            cur.execute(definition)
        for table, name, definition in self.constraints:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cur.execute("SET CONSTRAINTS ALL DEFERRED")
        for table in self.tables:
            cur.execute(f"ANALYZE {table}")


class CompanyMerge:
    # is_new: not in the directory yet (company_id is NULL).
    TODO_COLUMNS = ("company_id", "is_new", "line", *COMPANY_FIELDS)

    def __init__(
        self,
        *,
        sql: Sql,
        cursor,
        policy: CompanyPolicy,
        run_id: int,
        source_id: int,
        now,
        emit_events: bool,
        todo: str = "lp_todo",
        industries_select: str | None = None,
        ids_from_line: int | None = None,
        staged_keys: str | None = None,
        stage_industries: tuple[Callable[[str], Future[str]], str] | None = None,
    ) -> None:
        self.sql, self.cursor, self.policy = sql, cursor, policy
        self.run_id, self.source_id, self.now, self.emit = run_id, source_id, now, emit_events
        # The staged rows to merge (TODO_COLUMNS). industries_select: a SELECT of (company_id,
        # nace_class, code_system, raw_code, is_primary) over staged rows ``t`` with {company_id},
        # {todo}, {join} and {where} to fill in; without it they come from lp_stage_industry. ids_from_line: the highest line number, when a
        # large set of new companies may take ids base + line from one reserved block.
        self.todo, self.industries_select = todo, industries_select
        self.ids_from_line = ids_from_line
        # staged_keys: SELECT (country, registry_id, line) of every row read, unchanged or not.
        self.staged_keys = staged_keys
        # stage_industries: (start, where): start(select) creates a table of the industry rows
        # of a bulk load of new companies on another connection while this one inserts the
        # companies (returns the table's name); where: what else those rows must match.
        self.stage_industries = stage_industries
        self.stage = None
        self.industries = None
        self.counts = Counts()

    # -- Python path -------------------------------------------------------------------

    def open_stage(self) -> None:
        self.stage = Stager(self.sql, self.cursor, "lp_stage_company", ("line", *COMPANY_FIELDS))
        self.staged_keys = "SELECT country, registry_id, line FROM lp_stage_company"
        self.industries = Stager(self.sql, self.cursor, "lp_stage_industry", INDUSTRY_FIELDS)

    def add(self, record: CompanyRecord) -> None:
        self.stage.add(record.row())
        for cls, system, raw, primary in record.industries:
            self.industries.add((record.line, cls, system, raw, primary))

    def merge_stage(self) -> Counts:
        """Stage -> lp_todo (rows that differ or are new), then merge."""
        self.stage.flush()
        self.industries.flush()
        staged = self.stage.count
        s_cols = ", ".join(f"s.{f}" for f in ("line", *COMPANY_FIELDS))
        if self.policy.primary:
            differs = self.sql.distinct("c.payload_hash", "s.payload_hash")
        else:
            differs = " OR ".join(self.sql.distinct(f"c.{f}", f"s.{f}") for f in self.policy.owned)
        self.sql.temp_table(self.cursor, "lp_todo", self.TODO_COLUMNS)
        self.cursor.execute(
            f"INSERT INTO lp_todo SELECT c.id, c.id IS NULL, {s_cols} FROM lp_stage_company s "
            f"LEFT JOIN {C} c ON c.country = s.country AND c.registry_id = s.registry_id "
            f"WHERE c.id IS NULL OR {differs}"
        )
        return self.merge_todo(staged=staged)

    # -- shared ------------------------------------------------------------------------

    def _dedupe(self, where: str = "TRUE") -> int:
        cur, todo = self.cursor, self.todo
        cur.execute(
            f"SELECT country, registry_id, MAX(line) FROM {todo} WHERE {where} "
            "GROUP BY country, registry_id HAVING COUNT(*) > 1"
        )
        dups = cur.fetchall()
        rejected = 0
        for country, rid, keep in dups:
            cur.execute(
                f"SELECT line FROM {todo} WHERE country = %s AND registry_id = %s AND line <> %s",
                [country, rid, keep],
            )
            lines = [r[0] for r in cur.fetchall()]
            rejections_write(
                cur,
                run_id=self.run_id,
                rows=[
                    (ln, f"duplicate registry id {rid}: the row on line {keep} is used", "")
                    for ln in lines
                ],
            )
            cur.execute(
                f"DELETE FROM {todo} WHERE country = %s AND registry_id = %s AND line <> %s",
                [country, rid, keep],
            )
            rejected += len(lines)
        return rejected

    def _created(self, table: str) -> int:
        """Rows of a table just made by CREATE TABLE AS (SQLite reports no row count for it)."""
        if self.sql.pg:
            return max(self.cursor.rowcount, 0)
        return one_value(self.cursor, f"SELECT COUNT(*) FROM {table}")

    def retire_missing(self, *, seen: str, country: str, allow_mass: bool = False) -> int:
        """Full snapshots (Companies House BasicCompanyData lists every live company): a
        company this source brought into the directory that the new file no longer names is
        marked dissolved, with a status ChangeEvent (when events are on). Its payload hash is
        cleared, so a later file that names it again restores it. ``seen``: a SELECT of the
        registry_id of every row read, imported or rejected. Idempotent: dissolved companies
        are not touched again. Callers run it only inside a successful import.

        A file that names no company at all (a header and no rows) is refused, not read as "every
        company is gone": FileFormatError, which rolls the import back. So is one that would
        dissolve more than DISSOLVE_GUARD_SHARE of the source's live companies (at least
        DISSOLVE_GUARD_MIN): what a download cut off at a line boundary looks like. A month of
        the real register dissolves about 1 %; ``allow_mass`` is for a register that really
        lost them."""
        cur, sql = self.cursor, self.sql
        cur.execute(f"SELECT EXISTS (SELECT 1 FROM ({seen}) s)")
        if not cur.fetchone()[0]:
            raise FileFormatError(
                "the file has a header but no rows: a full snapshot cannot be empty "
                "(nothing was imported, no company was marked dissolved)"
            )
        cur.execute("DROP TABLE IF EXISTS lp_gone")
        if sql.pg:
            # A hash anti join over both row sets (parallel): the planner's own choice, a merge
            # join, has every worker sort the whole file's numbers (5 s instead of 0.7 s per
            # million), and its cost estimate then triggers JIT compilation (2.4 s more).
            cur.execute("SET LOCAL enable_mergejoin = off")
            cur.execute("SET LOCAL jit = off")
        cur.execute(
            "CREATE TEMP TABLE lp_gone AS SELECT c.id AS company_id, c.status AS old_status "
            f"FROM {C} c WHERE c.country = %s AND c.source_id = %s AND c.status <> 'dissolved' "
            f"AND NOT EXISTS (SELECT 1 FROM ({seen}) s WHERE s.registry_id = c.registry_id)",
            [country, self.source_id],
        )
        gone = self._created("lp_gone")
        if sql.pg:
            cur.execute("RESET enable_mergejoin")
            cur.execute("RESET jit")
        if not gone:
            return 0
        if gone >= DISSOLVE_GUARD_MIN and not allow_mass:
            live = one_value(
                cur,
                f"SELECT COUNT(*) FROM {C} c WHERE c.country = %s AND c.source_id = %s "
                "AND c.status <> 'dissolved'",
                [country, self.source_id],
            )
            if gone > live * DISSOLVE_GUARD_SHARE:
                raise FileFormatError(
                    f"the file would mark {gone:,} of the {live:,} companies it should list "
                    f"dissolved ({100 * gone / max(live, 1):.0f} %): is it cut off? Nothing was "
                    "imported. If the register really lost them, import it with "
                    "--allow-mass-dissolve"
                )
        if self.emit:
            old = sql.json("'status'", "old_status")
            new = sql.json("'status'", "'dissolved'", "'reason'", "'not in the snapshot'")
            cur.execute(
                f"INSERT INTO {EV} (company_id, person_id, kind, old, new, import_run_id, "
                f"occurred_at) SELECT company_id, NULL, 'status', {old}, {new}, %s, %s "
                "FROM lp_gone",
                [self.run_id, sql.dt(self.now)],
            )
            self.counts.events += max(cur.rowcount, 0)
        cur.execute(
            f"UPDATE {C} SET status = 'dissolved', payload_hash = '', updated_at = %s "
            "WHERE id IN (SELECT company_id FROM lp_gone)",
            [sql.dt(self.now)],
        )
        self.counts.dissolved += gone
        return gone

    def _superseded(self) -> int:
        """Staged rows of existing companies that a later line of the file repeats, when that
        later line was left out of the staged rows because it matches the directory (same
        hash): it wins, as it did when it was imported, and the earlier line is rejected."""
        cur, todo = self.cursor, self.todo
        cur.execute(
            f"SELECT t.line, t.registry_id, k.last FROM {todo} t JOIN (SELECT s.country, "
            f"s.registry_id, MAX(s.line) AS last FROM ({self.staged_keys}) s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {REJ} j WHERE j.import_run_id = %s "
            "AND j.line_number = s.line) "
            f"AND EXISTS (SELECT 1 FROM {todo} o WHERE NOT o.is_new AND o.country = s.country "
            "AND o.registry_id = s.registry_id) GROUP BY s.country, s.registry_id) k "
            "ON k.country = t.country AND k.registry_id = t.registry_id "
            "WHERE NOT t.is_new AND k.last > t.line",
            [self.run_id],
        )
        late = cur.fetchall()
        rejections_write(
            cur,
            run_id=self.run_id,
            rows=[
                (line, f"duplicate registry id {rid}: the row on line {last} is used", "")
                for line, rid, last in late
            ],
        )
        for line, _, _ in late:
            cur.execute(f"DELETE FROM {todo} WHERE line = %s", [line])
        return len(late)

    def _insert_industries(
        self,
        where: str,
        company_id: str = "t.company_id",
        join: str = "",
        *,
        conflict: bool,
        block: bool = False,
    ) -> None:
        """INSERT the industry rows of the staged rows ``t`` matching where. block: take their
        ids from one block reserved on the sequence (staged row line x 4 + code position)
        instead of a nextval() per row (0.8 s per million rows here)."""
        cur = self.cursor
        if not self.industries_select:
            block = False
        id_col = ""
        if block and self.sql.pg and self.ids_from_line:
            id_col = "id, "
            select = self._industries(where, company_id, join, base=self._industry_ids())
        else:
            select = self._industries(where, company_id, join)
        cur.execute(
            # WHERE TRUE: SQLite would read "ON CONFLICT" after a FROM as a join condition.
            f"INSERT INTO {IND} ({id_col}{IND_COLS}) {select} "
            "WHERE TRUE" + (" ON CONFLICT DO NOTHING" if conflict else "")
        )

    def _industry_ids(self) -> int:
        """Reserve one block of industry ids (4 per staged line) and return its base."""
        cur = self.cursor
        seq = one_value(cur, f"SELECT pg_get_serial_sequence('{IND}', 'id')")
        base = int(one_value(cur, "SELECT nextval(%s::regclass)", [seq]))
        cur.execute("SELECT setval(%s::regclass, %s)", [seq, base + 4 * (self.ids_from_line + 1)])
        return base

    def _industries(self, where: str, company_id: str, join: str, base: int | None = None) -> str:
        """SELECT ([id,] IND_COLS) of the industry rows of the staged rows ``t`` matching
        where; base: ids base + slot (industries_select only)."""
        if self.industries_select:
            select = self.industries_select.format(
                company_id=company_id, todo=self.todo, join=join, where=where
            )
        else:
            select = (
                f"SELECT {company_id} AS company_id, i.nace_class, i.code_system, i.raw_code, "
                f"i.is_primary FROM {self.todo} t {join} "
                f"JOIN lp_stage_industry i ON i.line = t.line WHERE {where}"
            )
        q_cols = ", ".join(f"q.{c}" for c in IND_COLS.split(", "))
        id_val = f"{base} + q.slot AS id, " if base is not None else ""
        return f"SELECT {id_val}{q_cols} FROM ({select}) q"

    def merge_todo(self, *, staged: int, todo_rows: int | None = None) -> Counts:
        """Merge the staged rows (self.todo). todo_rows: their number, when the caller knows."""
        cur, sql, pol, counts, todo = self.cursor, self.sql, self.policy, self.counts, self.todo
        owned = pol.owned
        differs = " OR ".join(sql.distinct(f"c.{f}", f"t.{f}") for f in owned) or "FALSE"

        heads = _owned_heads(owned)

        def flag(name: str, expr: str) -> str:
            return f"({expr}) AS {name}" if name.split("_")[0] in heads else f"FALSE AS {name}"

        def count() -> tuple[int, int]:
            cur.execute(
                "SELECT COUNT(*) FILTER (WHERE is_new), COUNT(*) FILTER (WHERE NOT is_new) "
                f"FROM {todo}"
            )
            return cur.fetchone()

        missing, old_rows = count()
        bulk_ok = False
        if sql.pg and pol.creates and missing >= BULK_MIN_ROWS:
            existing = one_value(
                cur, f"SELECT reltuples::bigint FROM pg_class WHERE oid = '{C}'::regclass"
            )
            bulk_ok = missing >= max(existing, 0) * BULK_SHARE
        # Two staged rows for one company: the last line wins, the others are rejected. In a
        # bulk load of new companies the unique constraint, rebuilt right after the insert, is
        # the check (a GROUP BY over a million keys costs a second); only when it fails are the
        # new rows deduplicated and inserted again.
        optimistic = bulk_ok and todo_rows is not None
        dup = self._superseded() if old_rows and self.staged_keys else 0
        if dup:
            missing, old_rows = count()
        if optimistic:
            dup2 = self._dedupe("NOT is_new") if old_rows > 1 else 0
        else:
            dup2 = self._dedupe() if todo_rows is None or todo_rows > 1 else 0
        if dup2:
            missing, old_rows = count()
        dup += dup2
        counts.rows_rejected += dup
        staged -= dup
        changed = 0
        params = [self.run_id, sql.dt(self.now)]
        if old_rows:
            cur.execute("DROP TABLE IF EXISTS lp_changed")
            cur.execute(
                "CREATE TEMP TABLE lp_changed AS SELECT t.company_id, "
                f"{flag('name_changed', 'c.name <> t.name')}, "
                f"{flag('status_changed', 'c.status <> t.status')}, "
                f"{flag('address_changed', sql.distinct('c.address', 't.address') + ' OR ' + sql.distinct('c.postcode', 't.postcode'))}, "
                f"{flag('nace_changed', sql.distinct('c.nace_raw', 't.nace_raw'))}, "
                "c.name AS old_name, t.name AS new_name, c.status AS old_status, "
                "t.status AS new_status, c.address AS old_address, t.address AS new_address, "
                "c.postcode AS old_postcode, t.postcode AS new_postcode, "
                "c.nace_primary AS old_nace, t.nace_primary AS new_nace, "
                "c.nace_raw AS old_nace_raw, t.nace_raw AS new_nace_raw "
                f"FROM {todo} t JOIN {C} c ON c.id = t.company_id "
                f"WHERE NOT t.is_new AND ({differs})"
            )
            changed = self._created("lp_changed")
        if self.emit and changed:
            for kind, cond, old, new in (
                (
                    "name",
                    "name_changed",
                    sql.json("'name'", "old_name"),
                    sql.json("'name'", "new_name"),
                ),
                (
                    "status",
                    "status_changed",
                    sql.json("'status'", "old_status"),
                    sql.json("'status'", "new_status"),
                ),
                (
                    "address",
                    "address_changed",
                    sql.json("'address'", "old_address", "'postcode'", "old_postcode"),
                    sql.json("'address'", "new_address", "'postcode'", "new_postcode"),
                ),
                (
                    "industry",
                    "nace_changed",
                    sql.json("'nace_primary'", "old_nace", "'nace_raw'", "old_nace_raw"),
                    sql.json("'nace_primary'", "new_nace", "'nace_raw'", "new_nace_raw"),
                ),
            ):
                cur.execute(
                    f"INSERT INTO {EV} (company_id, person_id, kind, old, new, import_run_id, "
                    f"occurred_at) SELECT company_id, NULL, '{kind}', {old}, {new}, %s, %s "
                    f"FROM lp_changed WHERE {cond}",
                    params,
                )
                counts.events += max(cur.rowcount, 0)
        # Update every differing row: changed fields, or only the hash when nothing visible moved.
        sets = [f"{f} = t.{f}" for f in owned]
        if pol.primary:
            sets += ["payload_hash = t.payload_hash", f"source_id = {int(self.source_id)}"]
        if sets and old_rows:
            cur.execute(
                f"UPDATE {C} AS c SET {', '.join(sets)}, updated_at = %s FROM {todo} t "
                "WHERE c.id = t.company_id AND NOT t.is_new",
                [sql.dt(self.now)],
            )
        if pol.owns_industries and changed:
            cur.execute(
                f"DELETE FROM {IND} WHERE company_id IN "
                "(SELECT company_id FROM lp_changed WHERE nace_changed)"
            )
            self._insert_industries(
                "t.company_id IN (SELECT company_id FROM lp_changed WHERE nace_changed)",
                conflict=True,
            )
        # New companies
        new = 0
        if missing and pol.creates:
            bulk = None
            if bulk_ok:
                bulk = BulkLoad(cur, (C, IND) if pol.owns_industries else (C,))
                bulk.begin()
                bulk.drop()
            fields = ", ".join(COMPANY_FIELDS)
            t_fields = ", ".join(f"t.{f}" for f in COMPANY_FIELDS)
            conflict = "" if bulk else " ON CONFLICT (country, registry_id) DO NOTHING"
            new_id = None
            if sql.pg and self.ids_from_line and missing >= ID_BLOCK_MIN:
                # One block of ids (base + line) instead of a nextval() per new row; lines that
                # are not new leave gaps. Nobody else inserts companies: the table is locked.
                seq = one_value(cur, f"SELECT pg_get_serial_sequence('{C}', 'id')")
                base = int(one_value(cur, "SELECT nextval(%s::regclass)", [seq]))
                cur.execute("SELECT setval(%s::regclass, %s)", [seq, base + self.ids_from_line])
                new_id = f"{base} + t.line"
            id_col, id_val = ("id, ", f"{new_id}, ") if new_id else ("", "")
            insert = (
                f"INSERT INTO {C} ({id_col}{fields}, source_id, first_seen_at, updated_at) "
                f"SELECT {id_val}{t_fields}, %s, %s, %s FROM {todo} t WHERE t.is_new" + conflict
            )
            insert_params = [self.source_id, sql.dt(self.now), sql.dt(self.now)]
            staging = None
            if bulk and new_id is not None and pol.owns_industries and self.stage_industries:
                # The industry rows (ids reserved now) are staged on the other connection
                # while the companies go in; the insert below then only copies them.
                start, also = self.stage_industries
                industry_base = self._industry_ids()
                staging = start(
                    self._industries(f"t.is_new AND {also}", new_id, "", base=industry_base)
                )
            deduped = False
            if bulk and optimistic:
                try:
                    with transaction.atomic():
                        cur.execute(insert, insert_params)
                        inserted = max(cur.rowcount, 0)
                        bulk.restore_one(C, "UNIQUE (country, registry_id)")
                except IntegrityError:
                    deduped = True
                    dup = self._dedupe("is_new")
                    counts.rows_rejected += dup
                    staged -= dup
                    missing -= dup
                    cur.execute(insert, insert_params)
                    inserted = max(cur.rowcount, 0)
            else:
                cur.execute(insert, insert_params)
                inserted = max(cur.rowcount, 0)
            join = ""
            if new_id is not None and inserted == missing:
                # Every new row landed under its reserved id: read them from the staged rows.
                new, new_company = inserted, new_id
            else:
                cur.execute("DROP TABLE IF EXISTS lp_new")
                cur.execute(
                    "CREATE TEMP TABLE lp_new AS SELECT c.id AS company_id, t.line "
                    f"FROM {todo} t JOIN {C} c ON c.country = t.country "
                    "AND c.registry_id = t.registry_id WHERE t.is_new"
                    + (f" AND c.id = {new_id}" if new_id else "")
                )
                new = self._created("lp_new")
                join, new_company = "JOIN lp_new n ON n.line = t.line", "n.company_id"
            if self.emit and new:
                cur.execute(
                    f"INSERT INTO {EV} (company_id, person_id, kind, old, new, import_run_id, "
                    f"occurred_at) SELECT {new_company}, NULL, 'new_company', NULL, "
                    f"{sql.json(chr(39) + 'name' + chr(39), 't.name')}, %s, %s "
                    f"FROM {todo} t {join} WHERE t.is_new",
                    params,
                )
                counts.events += max(cur.rowcount, 0)
            staged_table = staging.result() if staging is not None else None
            if staged_table and new and not deduped and join == "":
                cur.execute(f"INSERT INTO {IND} (id, {IND_COLS}) SELECT * FROM {staged_table}")
            elif pol.owns_industries and new:
                # Staged industry rows are unique per (line, raw code), so no conflict handling
                # is needed while the unique constraint is set aside in a bulk load.
                self._insert_industries(
                    "t.is_new",
                    company_id=new_company,
                    join=join,
                    conflict=not bulk,
                    block=new_id is not None,
                )
            if bulk:
                bulk.restore()
        elif missing:
            counts.rows_skipped += missing
            counts.notes.append(f"{missing} rows name a company not in the directory")
        counts.rows_new += new
        counts.rows_changed += changed
        counts.rows_unchanged += staged - changed - new - (missing if not pol.creates else 0)
        return counts


def _owned_heads(owned: tuple[str, ...]) -> set[str]:
    """Which change-event kinds a source can cause, by the fields it owns."""
    heads = set()
    if "name" in owned:
        heads.add("name")
    if "status" in owned:
        heads.add("status")
    if "address" in owned:
        heads.add("address")
    if "nace_raw" in owned:
        heads.add("nace")
    return heads
