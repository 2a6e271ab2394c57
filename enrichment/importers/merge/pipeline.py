# ruff: noqa: S608  (SQL is assembled from code constants: table/column names; values are params)
"""CompanyMerge: one company import's staged rows through the phases, in order."""

from __future__ import annotations

from enrichment.importers import merge as limits
from enrichment.importers.merge.changes import changes_find, companies_update
from enrichment.importers.merge.companies import companies_insert
from enrichment.importers.merge.context import CompanyPolicy, Counts, MergeContext, PreparedRows
from enrichment.importers.merge.dissolve import companies_dissolve_missing
from enrichment.importers.merge.duplicates import duplicates_reject, duplicates_superseded
from enrichment.importers.merge.events import events_changed_write
from enrichment.importers.merge.industries import IndustryRows
from enrichment.importers.merge.sql import COMPANY, one_value
from enrichment.importers.merge.staging import INDUSTRY_FIELDS, Stager, todo_from_stage
from enrichment.importers.records import COMPANY_FIELDS, CompanyRecord

# The rows to merge: new ones and existing ones that differ. is_new: not in the directory yet
# (company_id is NULL).
TODO_COUNT = "SELECT COUNT(*) FILTER (WHERE is_new), COUNT(*) FILTER (WHERE NOT is_new) FROM {todo}"
# The planner's estimate of the directory's size (for the bulk-load decision).
COMPANIES_ESTIMATE = f"SELECT reltuples::bigint FROM pg_class WHERE oid = '{COMPANY}'::regclass"


class CompanyMerge:
    """Python path: ``open_stage()``, ``add(record)`` per record, ``merge_stage()``. Fast path:
    ``CompanyMerge(ctx, policy=..., prepared=PreparedRows(...)).merge_todo(...)``. Then, for a
    full snapshot, ``retire_missing(...)``."""

    TODO_COLUMNS = ("company_id", "is_new", "line", *COMPANY_FIELDS)

    def __init__(
        self, ctx: MergeContext, *, policy: CompanyPolicy, prepared: PreparedRows | None = None
    ) -> None:
        self.ctx, self.policy, self.prepared = ctx, policy, prepared
        self.todo = prepared.todo if prepared else "lp_todo"
        self.staged_keys = prepared.staged_keys if prepared else None
        self.industries = IndustryRows(
            ctx,
            todo=self.todo,
            select=prepared.industries_select if prepared else None,
            ids_from_line=prepared.ids_from_line if prepared else None,
        )
        self.stage: Stager | None = None
        self.industry_stage: Stager | None = None
        self.counts = Counts()

    # -- Python path: stage the records, then the rows to merge --------------------------

    def open_stage(self) -> None:
        sql, cur = self.ctx.sql, self.ctx.cursor
        self.stage = Stager(sql, cur, "lp_stage_company", ("line", *COMPANY_FIELDS))
        self.staged_keys = "SELECT country, registry_id, line FROM lp_stage_company"
        self.industry_stage = Stager(sql, cur, "lp_stage_industry", INDUSTRY_FIELDS)

    def add(self, record: CompanyRecord) -> None:
        assert self.stage is not None and self.industry_stage is not None, "open_stage() first"
        self.stage.add(record.row())
        for cls, system, raw, primary in record.industries:
            self.industry_stage.add((record.line, cls, system, raw, primary))

    def merge_stage(self) -> Counts:
        """Stage -> lp_todo (rows that differ or are new), then merge."""
        assert self.stage is not None and self.industry_stage is not None, "open_stage() first"
        self.stage.flush()
        self.industry_stage.flush()
        todo_from_stage(
            self.ctx.sql,
            self.ctx.cursor,
            todo=self.todo,
            columns=self.TODO_COLUMNS,
            policy=self.policy,
        )
        return self.merge_todo(staged=self.stage.count)

    # -- both paths ----------------------------------------------------------------------

    def merge_todo(self, *, staged: int, todo_rows: int | None = None) -> Counts:
        """Merge the rows to merge (self.todo): duplicates, changed companies, new companies.
        todo_rows: their number, when the caller knows."""
        ctx, policy, counts, todo = self.ctx, self.policy, self.counts, self.todo
        missing, old_rows = self._todo_count()
        bulk_load = self._bulk_load_wanted(missing)
        # Two staged rows for one company: the last line wins, the others are rejected. In a
        # bulk load of new companies the unique constraint, rebuilt right after the insert, is
        # the check (a GROUP BY over a million keys costs a second); only when it fails are the
        # new rows deduplicated and inserted again.
        optimistic = bulk_load and todo_rows is not None
        rejected = 0
        if old_rows and self.staged_keys:
            rejected = duplicates_superseded(ctx, todo=todo, staged_keys=self.staged_keys)
        if rejected:
            missing, old_rows = self._todo_count()
        if optimistic:
            more = duplicates_reject(ctx, todo=todo, where="NOT is_new") if old_rows > 1 else 0
        else:
            more = duplicates_reject(ctx, todo=todo) if todo_rows is None or todo_rows > 1 else 0
        if more:
            missing, old_rows = self._todo_count()
        rejected += more
        counts.rows_rejected += rejected
        staged -= rejected
        # Existing companies: what changed, its events, the update, their industry rows.
        changed = changes_find(ctx, todo=todo, owned=policy.owned) if old_rows else 0
        if ctx.emit_events and changed:
            counts.events += events_changed_write(ctx)
        if old_rows:
            companies_update(ctx, todo=todo, policy=policy)
        if policy.owns_industries and changed:
            self.industries.changed_replace()
        # New companies.
        new = 0
        if missing and policy.creates:
            new, rejected = companies_insert(
                self, missing=missing, bulk_load=bulk_load, optimistic=optimistic
            )
            counts.rows_rejected += rejected
            staged -= rejected
        elif missing:
            counts.rows_skipped += missing
            counts.notes.append(f"{missing} rows name a company not in the directory")
        counts.rows_new += new
        counts.rows_changed += changed
        counts.rows_unchanged += staged - changed - new - (missing if not policy.creates else 0)
        return counts

    def retire_missing(self, *, seen: str, country: str, allow_mass: bool = False) -> int:
        """Full snapshots: the source's companies the file no longer names are dissolved
        (dissolve.companies_dissolve_missing, which says when it refuses)."""
        gone, events = companies_dissolve_missing(
            self.ctx, seen=seen, country=country, allow_mass=allow_mass
        )
        self.counts.events += events
        self.counts.dissolved += gone
        return gone

    def _todo_count(self) -> tuple[int, int]:
        """(new rows, rows of existing companies) to merge."""
        cur = self.ctx.cursor
        cur.execute(TODO_COUNT.format(todo=self.todo))
        return cur.fetchone()

    def _bulk_load_wanted(self, missing: int) -> bool:
        """A bulk load (bulkload.py) when an import adds at least BULK_MIN_ROWS new companies
        and at least BULK_SHARE of the companies the directory holds (PostgreSQL)."""
        if not (self.ctx.sql.pg and self.policy.creates and missing >= limits.BULK_MIN_ROWS):
            return False
        existing = one_value(self.ctx.cursor, COMPANIES_ESTIMATE)
        return missing >= max(existing, 0) * limits.BULK_SHARE
