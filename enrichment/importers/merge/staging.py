# ruff: noqa: S608  (SQL is assembled from code constants: table/column names; values are params)
"""Phase 1, staging: parsed records into temporary tables, rejected rows into ImportRejection,
and (Python path) the staged rows that are new or differ from the directory into the todo table.

PostgreSQL stages with ``COPY`` in batches, SQLite with executemany. The fast path stages its
own rows in SQL (fastpath.py) and hands them over as ``PreparedRows``.
"""

from __future__ import annotations

from enrichment.importers.merge.context import CompanyPolicy
from enrichment.importers.merge.sql import COMPANY, REJECTION, Sql

BATCH = 10_000
INDUSTRY_FIELDS = ("line", "nace_class", "code_system", "raw_code", "is_primary")

# The staged companies that are not in the directory yet or differ from it (primary sources:
# by payload hash; secondary sources: by the fields they own), with the directory's id.
TODO_FROM_STAGE = (
    "INSERT INTO {todo} SELECT c.id, c.id IS NULL, {staged_columns} FROM lp_stage_company s "
    "LEFT JOIN {company} c ON c.country = s.country AND c.registry_id = s.registry_id "
    "WHERE c.id IS NULL OR {differs}"
)
# Rejected rows, with their line number and why.
REJECTIONS_INSERT = (
    f"INSERT INTO {REJECTION} (import_run_id, line_number, reason, raw) VALUES (%s, %s, %s, %s)"
)


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


def rejections_write(cursor, *, run_id: int, rows: list[tuple[int, str, str]]) -> None:
    if rows:
        cursor.executemany(
            REJECTIONS_INSERT,
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


def todo_from_stage(
    sql: Sql, cursor, *, todo: str, columns: tuple[str, ...], policy: CompanyPolicy
) -> None:
    """Create ``todo`` (``columns``) from lp_stage_company: the rows to merge."""
    staged_columns = ", ".join(f"s.{f}" for f in columns[2:])  # after company_id, is_new
    if policy.primary:
        differs = sql.distinct("c.payload_hash", "s.payload_hash")
    else:
        differs = " OR ".join(sql.distinct(f"c.{f}", f"s.{f}") for f in policy.owned)
    sql.temp_table(cursor, todo, columns)
    cursor.execute(
        TODO_FROM_STAGE.format(
            todo=todo, staged_columns=staged_columns, company=COMPANY, differs=differs
        )
    )
