"""Phase 6, industry rows: a changed company's industry codes are replaced, a new company's
inserted, from the staged rows (Python path: lp_stage_industry; fast path: its own SELECT)."""

from __future__ import annotations

from enrichment.importers.merge.context import MergeContext
from enrichment.importers.merge.sql import INDUSTRY, one_value

COLUMNS = "company_id, nace_class, code_system, raw_code, is_primary"

# The industry rows of staged rows ``t`` (Python path): one per staged code.
STAGED_SELECT = (
    "SELECT {company_id} AS company_id, i.nace_class, i.code_system, i.raw_code, "
    "i.is_primary FROM {todo} t {join} "
    "JOIN lp_stage_industry i ON i.line = t.line WHERE {where}"
)
# The columns to insert, over either select; ``id_value``: ids base + slot, when reserved.
ROWS_SELECT = "SELECT {id_value}{columns} FROM ({select}) q"
# Industry rows into the directory. WHERE TRUE: SQLite would read "ON CONFLICT" after a FROM as
# a join condition.
ROWS_INSERT = "INSERT INTO {industry} ({id_column}{columns}) {select} WHERE TRUE{conflict}"
# The industry rows of the companies whose industry codes changed go, before their new ones.
CHANGED_DELETE = (
    "DELETE FROM {industry} WHERE company_id IN "
    "(SELECT company_id FROM lp_changed WHERE nace_changed)"
)
# Rows a side connection staged for a bulk load (ids already in them), copied as they are.
STAGED_TABLE_INSERT = "INSERT INTO {industry} (id, {columns}) SELECT * FROM {table}"


class IndustryRows:
    """The industry rows of one merge's staged rows (``todo``)."""

    def __init__(
        self, ctx: MergeContext, *, todo: str, select: str | None, ids_from_line: int | None
    ) -> None:
        # select: the fast path's SELECT (PreparedRows.industries_select); None: staged rows.
        self.ctx, self.todo, self.select, self.ids_from_line = ctx, todo, select, ids_from_line

    def changed_replace(self) -> None:
        """The companies in lp_changed whose industry codes changed get the staged ones."""
        self.ctx.cursor.execute(CHANGED_DELETE.format(industry=INDUSTRY))
        self.insert(
            "t.company_id IN (SELECT company_id FROM lp_changed WHERE nace_changed)",
            conflict=True,
        )

    def insert(
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
        if not self.select:
            block = False
        id_column = ""
        if block and self.ctx.sql.pg and self.ids_from_line:
            id_column = "id, "
            select = self.rows_select(where, company_id, join, base=self.ids_reserve())
        else:
            select = self.rows_select(where, company_id, join)
        self.ctx.cursor.execute(
            ROWS_INSERT.format(
                industry=INDUSTRY,
                id_column=id_column,
                columns=COLUMNS,
                select=select,
                conflict=" ON CONFLICT DO NOTHING" if conflict else "",
            )
        )

    def ids_reserve(self) -> int:
        """Reserve one block of industry ids (4 per staged line) and return its base."""
        cur = self.ctx.cursor
        assert self.ids_from_line is not None
        seq = one_value(cur, f"SELECT pg_get_serial_sequence('{INDUSTRY}', 'id')")
        base = int(one_value(cur, "SELECT nextval(%s::regclass)", [seq]))
        cur.execute("SELECT setval(%s::regclass, %s)", [seq, base + 4 * (self.ids_from_line + 1)])
        return base

    def rows_select(self, where: str, company_id: str, join: str, base: int | None = None) -> str:
        """SELECT ([id,] COLUMNS) of the industry rows of the staged rows ``t`` matching
        where; base: ids base + slot (the fast path's select only)."""
        if self.select:
            select = self.select.format(
                company_id=company_id, todo=self.todo, join=join, where=where
            )
        else:
            select = STAGED_SELECT.format(
                company_id=company_id, todo=self.todo, join=join, where=where
            )
        columns = ", ".join(f"q.{c}" for c in COLUMNS.split(", "))
        id_value = f"{base} + q.slot AS id, " if base is not None else ""
        return ROWS_SELECT.format(id_value=id_value, columns=columns, select=select)

    def staged_table_insert(self, table: str) -> None:
        self.ctx.cursor.execute(
            STAGED_TABLE_INSERT.format(industry=INDUSTRY, columns=COLUMNS, table=table)
        )
