"""Phase 5, new companies: the staged rows of companies not in the directory yet are inserted
(ids from one reserved block for a large set), with their 'new_company' events and industry rows;
a large first load goes through a bulk load (bulkload.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from enrichment.importers import merge as limits
from enrichment.importers.merge.bulkload import BulkLoad
from enrichment.importers.merge.duplicates import duplicates_reject
from enrichment.importers.merge.events import events_new_write
from enrichment.importers.merge.sql import COMPANY, INDUSTRY, one_value, table_created
from enrichment.importers.records import COMPANY_FIELDS

if TYPE_CHECKING:
    from enrichment.importers.merge.pipeline import CompanyMerge

# The new companies, with their ids from a reserved block (base + line) or from the sequence;
# without a bulk load, a company inserted meanwhile by someone else is left alone.
COMPANIES_INSERT = (
    "INSERT INTO {company} ({id_column}{fields}, source_id, first_seen_at, updated_at) "
    "SELECT {id_value}{staged_fields}, %s, %s, %s FROM {todo} t WHERE t.is_new{conflict}"
)
# The new companies' ids by staged line, when they are not base + line.
NEW_IDS_CREATE = (
    "CREATE TEMP TABLE lp_new AS SELECT c.id AS company_id, t.line "
    "FROM {todo} t JOIN {company} c ON c.country = t.country "
    "AND c.registry_id = t.registry_id WHERE t.is_new{same_id}"
)
# The constraint a bulk load rebuilds right after the insert: the check for two rows of one company.
UNIQUE_KEY = "UNIQUE (country, registry_id)"


def companies_insert(
    merge: CompanyMerge, *, missing: int, bulk_load: bool, optimistic: bool
) -> tuple[int, int]:
    """Insert the new rows of ``merge.todo`` (``missing`` of them), then their 'new_company'
    events (when events are on) and industry rows. ``bulk_load``: set indexes and constraints
    aside first and rebuild them after. ``optimistic``: the rows were not checked for two rows
    of one company; the rebuilt unique constraint is the check, and only when it fails are they
    deduplicated and inserted again. Returns (companies inserted, rows rejected as duplicates)."""
    ctx, policy, todo, industries = merge.ctx, merge.policy, merge.todo, merge.industries
    cur, sql = ctx.cursor, ctx.sql
    bulk = None
    if bulk_load:
        bulk = BulkLoad(cur, (COMPANY, INDUSTRY) if policy.owns_industries else (COMPANY,))
        bulk.begin()
        bulk.drop()
    new_id = _ids_reserve(merge, missing)  # "base + t.line", or None: ids from the sequence
    insert = COMPANIES_INSERT.format(
        company=COMPANY,
        id_column="id, " if new_id else "",
        fields=", ".join(COMPANY_FIELDS),
        id_value=f"{new_id}, " if new_id else "",
        staged_fields=", ".join(f"t.{f}" for f in COMPANY_FIELDS),
        todo=todo,
        conflict="" if bulk else " ON CONFLICT (country, registry_id) DO NOTHING",
    )
    insert_params = [ctx.source_id, sql.dt(ctx.now), sql.dt(ctx.now)]
    staging = None
    stage_industries = merge.prepared.stage_industries if merge.prepared else None
    if bulk and new_id is not None and policy.owns_industries and stage_industries:
        # The industry rows (ids reserved now) are staged on the other connection
        # while the companies go in; the insert below then only copies them.
        start, also = stage_industries
        industry_base = industries.ids_reserve()
        staging = start(
            industries.rows_select(f"t.is_new AND {also}", new_id, "", base=industry_base)
        )
    rejected, deduped = 0, False
    if bulk and optimistic:
        try:
            with transaction.atomic():
                cur.execute(insert, insert_params)
                inserted = max(cur.rowcount, 0)
                bulk.restore_one(COMPANY, UNIQUE_KEY)
        except IntegrityError:
            deduped = True
            rejected = duplicates_reject(ctx, todo=todo, where="is_new")
            missing -= rejected
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
        same_id = f" AND c.id = {new_id}" if new_id else ""
        cur.execute(NEW_IDS_CREATE.format(todo=todo, company=COMPANY, same_id=same_id))
        new = table_created(sql, cur, "lp_new")
        join, new_company = "JOIN lp_new n ON n.line = t.line", "n.company_id"
    if ctx.emit_events and new:
        merge.counts.events += events_new_write(ctx, todo=todo, company_id=new_company, join=join)
    staged_table = staging.result() if staging is not None else None
    if staged_table and new and not deduped and join == "":
        industries.staged_table_insert(staged_table)
    elif policy.owns_industries and new:
        # Staged industry rows are unique per (line, raw code), so no conflict handling
        # is needed while the unique constraint is set aside in a bulk load.
        industries.insert(
            "t.is_new",
            company_id=new_company,
            join=join,
            conflict=not bulk,
            block=new_id is not None,
        )
    if bulk:
        bulk.restore()
    return new, rejected


def _ids_reserve(merge: CompanyMerge, missing: int) -> str | None:
    """One block of ids (base + line) instead of a nextval() per new row, for a large set on
    PostgreSQL; lines that are not new leave gaps. Nobody else inserts companies: the table is
    locked. Returns the id expression over staged rows ``t``."""
    ids_from_line = merge.prepared.ids_from_line if merge.prepared else None
    if not (merge.ctx.sql.pg and ids_from_line and missing >= limits.ID_BLOCK_MIN):
        return None
    cur = merge.ctx.cursor
    seq = one_value(cur, f"SELECT pg_get_serial_sequence('{COMPANY}', 'id')")
    base = int(one_value(cur, "SELECT nextval(%s::regclass)", [seq]))
    cur.execute("SELECT setval(%s::regclass, %s)", [seq, base + ids_from_line])
    return f"{base} + t.line"
