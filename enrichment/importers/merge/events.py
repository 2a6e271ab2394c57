"""Phase 4, change events: what a re-import tells about companies (name, status, address,
industry, a new company, a company dissolved). Only written when the source has a previous
successful import: the first import is the baseline, not news. Role events: roles.py."""

from __future__ import annotations

from enrichment.importers.merge.context import MergeContext
from enrichment.importers.merge.sql import EVENT

# One event per changed company and kind of change, from lp_changed (changes.py).
CHANGED_EVENTS_INSERT = (
    "INSERT INTO {event} (company_id, person_id, kind, old, new, import_run_id, "
    "occurred_at) SELECT company_id, NULL, '{kind}', {old}, {new}, %s, %s "
    "FROM lp_changed WHERE {flag}"
)
# One 'new_company' event per new company, with its name.
NEW_COMPANY_EVENTS_INSERT = (
    "INSERT INTO {event} (company_id, person_id, kind, old, new, import_run_id, "
    "occurred_at) SELECT {company_id}, NULL, 'new_company', NULL, "
    "{new}, %s, %s "
    "FROM {todo} t {join} WHERE t.is_new"
)
# One 'status' event per company a full snapshot no longer lists, from lp_gone (dissolve.py).
DISSOLVED_EVENTS_INSERT = (
    "INSERT INTO {event} (company_id, person_id, kind, old, new, import_run_id, "
    "occurred_at) SELECT company_id, NULL, 'status', {old}, {new}, %s, %s "
    "FROM lp_gone"
)


def _params(ctx: MergeContext) -> list:
    return [ctx.run_id, ctx.sql.dt(ctx.now)]


def events_changed_write(ctx: MergeContext) -> int:
    """Name, status, address and industry events of the companies in lp_changed."""
    json, cur = ctx.sql.json, ctx.cursor
    written = 0
    for kind, flag, old, new in (
        ("name", "name_changed", json("'name'", "old_name"), json("'name'", "new_name")),
        (
            "status",
            "status_changed",
            json("'status'", "old_status"),
            json("'status'", "new_status"),
        ),
        (
            "address",
            "address_changed",
            json("'address'", "old_address", "'postcode'", "old_postcode"),
            json("'address'", "new_address", "'postcode'", "new_postcode"),
        ),
        (
            "industry",
            "nace_changed",
            json("'nace_primary'", "old_nace", "'nace_raw'", "old_nace_raw"),
            json("'nace_primary'", "new_nace", "'nace_raw'", "new_nace_raw"),
        ),
    ):
        cur.execute(
            CHANGED_EVENTS_INSERT.format(event=EVENT, kind=kind, old=old, new=new, flag=flag),
            _params(ctx),
        )
        written += max(cur.rowcount, 0)
    return written


def events_new_write(ctx: MergeContext, *, todo: str, company_id: str, join: str) -> int:
    """A 'new_company' event per new row of ``todo``; ``company_id``: its id expression
    (``join`` brings in what it needs)."""
    new = ctx.sql.json("'name'", "t.name")
    ctx.cursor.execute(
        NEW_COMPANY_EVENTS_INSERT.format(
            event=EVENT, company_id=company_id, new=new, todo=todo, join=join
        ),
        _params(ctx),
    )
    return max(ctx.cursor.rowcount, 0)


def events_dissolved_write(ctx: MergeContext) -> int:
    """A 'status' event (to dissolved, "not in the snapshot") per company in lp_gone."""
    old = ctx.sql.json("'status'", "old_status")
    new = ctx.sql.json("'status'", "'dissolved'", "'reason'", "'not in the snapshot'")
    ctx.cursor.execute(DISSOLVED_EVENTS_INSERT.format(event=EVENT, old=old, new=new), _params(ctx))
    return max(ctx.cursor.rowcount, 0)
