# ruff: noqa: S608  (SQL is assembled from code constants: table/column names; values are params)
"""Phase 8, full snapshots: a company the source brought into the directory that its new file
no longer names is marked dissolved (with a status event), guarded against cut-off files."""

from __future__ import annotations

from enrichment.importers import merge as limits
from enrichment.importers.merge.context import MergeContext
from enrichment.importers.merge.events import events_dissolved_write
from enrichment.importers.merge.sql import COMPANY, one_value, table_created
from enrichment.importers.parsers.common import FileFormatError

# Whether the file named any company at all.
SEEN_ANY = "SELECT EXISTS (SELECT 1 FROM ({seen}) s)"
# The source's live companies of the country that the file does not name, with their status.
GONE_CREATE = (
    "CREATE TEMP TABLE lp_gone AS SELECT c.id AS company_id, c.status AS old_status "
    "FROM {company} c WHERE c.country = %s AND c.source_id = %s AND c.status <> 'dissolved' "
    "AND NOT EXISTS (SELECT 1 FROM ({seen}) s WHERE s.registry_id = c.registry_id)"
)
# The source's live companies of the country (for the cut-off guard).
LIVE_COUNT = (
    f"SELECT COUNT(*) FROM {COMPANY} c WHERE c.country = %s AND c.source_id = %s "
    "AND c.status <> 'dissolved'"
)
# The gone companies are dissolved; a cleared hash lets a later file that names them restore them.
GONE_DISSOLVE = (
    f"UPDATE {COMPANY} SET status = 'dissolved', payload_hash = '', updated_at = %s "
    "WHERE id IN (SELECT company_id FROM lp_gone)"
)


def companies_dissolve_missing(
    ctx: MergeContext, *, seen: str, country: str, allow_mass: bool = False
) -> tuple[int, int]:
    """Full snapshots (Companies House BasicCompanyData lists every live company): a
    company this source brought into the directory that the new file no longer names is
    marked dissolved, with a status ChangeEvent (when events are on). Its payload hash is
    cleared, so a later file that names it again restores it. ``seen``: a SELECT of the
    registry_id of every row read, imported or rejected. Idempotent: dissolved companies
    are not touched again. Callers run it only inside a successful import. Returns (companies
    dissolved, events written).

    A file that names no company at all (a header and no rows) is refused, not read as "every
    company is gone": FileFormatError, which rolls the import back. So is one that would
    dissolve more than DISSOLVE_GUARD_SHARE of the source's live companies (at least
    DISSOLVE_GUARD_MIN): what a download cut off at a line boundary looks like. A month of
    the real register dissolves about 1 %; ``allow_mass`` is for a register that really
    lost them."""
    cur, sql = ctx.cursor, ctx.sql
    cur.execute(SEEN_ANY.format(seen=seen))
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
    cur.execute(GONE_CREATE.format(company=COMPANY, seen=seen), [country, ctx.source_id])
    gone = table_created(sql, cur, "lp_gone")
    if sql.pg:
        cur.execute("RESET enable_mergejoin")
        cur.execute("RESET jit")
    if not gone:
        return 0, 0
    if gone >= limits.DISSOLVE_GUARD_MIN and not allow_mass:
        live = one_value(cur, LIVE_COUNT, [country, ctx.source_id])
        if gone > live * limits.DISSOLVE_GUARD_SHARE:
            raise FileFormatError(
                f"the file would mark {gone:,} of the {live:,} companies it should list "
                f"dissolved ({100 * gone / max(live, 1):.0f} %): is it cut off? Nothing was "
                "imported. If the register really lost them, import it with "
                "--allow-mass-dissolve"
            )
    events = events_dissolved_write(ctx) if ctx.emit_events else 0
    cur.execute(GONE_DISSOLVE, [sql.dt(ctx.now)])
    return gone, events
