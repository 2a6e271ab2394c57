"""Phase 2, one row per company: when a file names a company twice, the last line wins and the
earlier lines are rejected ("duplicate registry id …: the row on line N is used")."""

from __future__ import annotations

from enrichment.importers.merge.context import MergeContext
from enrichment.importers.merge.sql import REJECTION
from enrichment.importers.merge.staging import rejections_write

# Registry ids staged more than once, with the last line (the one kept).
DUPLICATES_FIND = (
    "SELECT country, registry_id, MAX(line) FROM {todo} WHERE {where} "
    "GROUP BY country, registry_id HAVING COUNT(*) > 1"
)
# The other lines of one duplicated registry id.
DUPLICATE_LINES = "SELECT line FROM {todo} WHERE country = %s AND registry_id = %s AND line <> %s"
# Drop the other lines of one duplicated registry id from the rows to merge.
DUPLICATES_DELETE = "DELETE FROM {todo} WHERE country = %s AND registry_id = %s AND line <> %s"
# Staged rows of existing companies that a later, unchanged (so not staged) line of the file
# repeats: that later line wins. Lines already rejected do not count.
SUPERSEDED_FIND = (
    "SELECT t.line, t.registry_id, k.last FROM {todo} t JOIN (SELECT s.country, "
    "s.registry_id, MAX(s.line) AS last FROM ({staged_keys}) s "
    "WHERE NOT EXISTS (SELECT 1 FROM {rejection} j WHERE j.import_run_id = %s "
    "AND j.line_number = s.line) "
    "AND EXISTS (SELECT 1 FROM {todo} o WHERE NOT o.is_new AND o.country = s.country "
    "AND o.registry_id = s.registry_id) GROUP BY s.country, s.registry_id) k "
    "ON k.country = t.country AND k.registry_id = t.registry_id "
    "WHERE NOT t.is_new AND k.last > t.line"
)
# Drop one superseded line from the rows to merge.
SUPERSEDED_DELETE = "DELETE FROM {todo} WHERE line = %s"


def _reason(registry_id: str, kept: int) -> str:
    return f"duplicate registry id {registry_id}: the row on line {kept} is used"


def duplicates_reject(ctx: MergeContext, *, todo: str, where: str = "TRUE") -> int:
    """Reject every staged row (matching ``where``) of a company that a later staged line names
    again; returns how many."""
    cur = ctx.cursor
    cur.execute(DUPLICATES_FIND.format(todo=todo, where=where))
    dups = cur.fetchall()
    rejected = 0
    for country, rid, keep in dups:
        cur.execute(DUPLICATE_LINES.format(todo=todo), [country, rid, keep])
        lines = [r[0] for r in cur.fetchall()]
        rejections_write(
            cur, run_id=ctx.run_id, rows=[(ln, _reason(rid, keep), "") for ln in lines]
        )
        cur.execute(DUPLICATES_DELETE.format(todo=todo), [country, rid, keep])
        rejected += len(lines)
    return rejected


def duplicates_superseded(ctx: MergeContext, *, todo: str, staged_keys: str) -> int:
    """Staged rows of existing companies that a later line of the file repeats, when that later
    line was left out of the staged rows because it matches the directory (same hash): it wins,
    as it did when it was imported, and the earlier line is rejected. Returns how many."""
    cur = ctx.cursor
    find = SUPERSEDED_FIND.format(todo=todo, staged_keys=staged_keys, rejection=REJECTION)
    cur.execute(find, [ctx.run_id])
    late = cur.fetchall()
    rejections_write(
        cur, run_id=ctx.run_id, rows=[(line, _reason(rid, last), "") for line, rid, last in late]
    )
    for line, _, _ in late:
        cur.execute(SUPERSEDED_DELETE.format(todo=todo), [line])
    return len(late)
