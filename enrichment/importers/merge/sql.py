"""What every merge phase shares about SQL: the directory's tables, the few places where
PostgreSQL and SQLite differ, and a cursor that can time and explain each statement."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from enrichment.models import ChangeEvent, Company, CompanyIndustry, ImportRejection, Person, Role

COMPANY = Company._meta.db_table
INDUSTRY = CompanyIndustry._meta.db_table
EVENT = ChangeEvent._meta.db_table
REJECTION = ImportRejection._meta.db_table
PERSON = Person._meta.db_table
ROLE = Role._meta.db_table

# Column types of the staging tables on PostgreSQL (everything else is text).
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

TIMING = os.environ.get("LEADPILOT_IMPORT_TIMING") == "1"
EXPLAIN = os.environ.get("LEADPILOT_IMPORT_EXPLAIN") == "1"  # development: plans, run twice


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


def one_value(cursor, sql: str, params: list | tuple = ()) -> Any:
    cursor.execute(sql, params)
    return cursor.fetchone()[0]


def table_created(sql: Sql, cursor, table: str) -> int:
    """Rows of a table just made by CREATE TABLE AS (SQLite reports no row count for it)."""
    if sql.pg:
        return max(cursor.rowcount, 0)
    return one_value(cursor, f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - a table name of ours
