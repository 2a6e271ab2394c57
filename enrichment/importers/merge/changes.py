"""Phase 3, existing companies: which staged rows change a company's owned fields (and which
kinds of change event that makes), then the update of every differing row."""

from __future__ import annotations

from enrichment.importers.merge.context import CompanyPolicy, MergeContext
from enrichment.importers.merge.sql import COMPANY, table_created

# Existing companies whose owned fields differ: a flag per kind of change event and the old
# and new values those events report.
CHANGED_CREATE = (
    "CREATE TEMP TABLE lp_changed AS SELECT t.company_id, "
    "{name_changed}, {status_changed}, {address_changed}, {nace_changed}, "
    "c.name AS old_name, t.name AS new_name, c.status AS old_status, "
    "t.status AS new_status, c.address AS old_address, t.address AS new_address, "
    "c.postcode AS old_postcode, t.postcode AS new_postcode, "
    "c.nace_primary AS old_nace, t.nace_primary AS new_nace, "
    "c.nace_raw AS old_nace_raw, t.nace_raw AS new_nace_raw "
    "FROM {todo} t JOIN {company} c ON c.id = t.company_id "
    "WHERE NOT t.is_new AND ({differs})"
)
# Every differing existing company takes the staged values of the fields its source owns (only
# the hash when nothing visible moved).
COMPANIES_UPDATE = (
    "UPDATE {company} AS c SET {sets}, updated_at = %s FROM {todo} t "
    "WHERE c.id = t.company_id AND NOT t.is_new"
)


def changes_find(ctx: MergeContext, *, todo: str, owned: tuple[str, ...]) -> int:
    """Create lp_changed (CHANGED_CREATE) from the existing companies among the rows to merge;
    returns how many companies changed."""
    sql, cur = ctx.sql, ctx.cursor
    differs = " OR ".join(sql.distinct(f"c.{f}", f"t.{f}") for f in owned) or "FALSE"
    kinds = _event_kinds(owned)

    def flag(name: str, expr: str) -> str:
        return f"({expr}) AS {name}" if name.split("_")[0] in kinds else f"FALSE AS {name}"

    address = (
        sql.distinct("c.address", "t.address") + " OR " + sql.distinct("c.postcode", "t.postcode")
    )
    cur.execute("DROP TABLE IF EXISTS lp_changed")
    cur.execute(
        CHANGED_CREATE.format(
            name_changed=flag("name_changed", "c.name <> t.name"),
            status_changed=flag("status_changed", "c.status <> t.status"),
            address_changed=flag("address_changed", address),
            nace_changed=flag("nace_changed", sql.distinct("c.nace_raw", "t.nace_raw")),
            todo=todo,
            company=COMPANY,
            differs=differs,
        )
    )
    return table_created(sql, cur, "lp_changed")


def companies_update(ctx: MergeContext, *, todo: str, policy: CompanyPolicy) -> None:
    """COMPANIES_UPDATE, for a source that owns fields or the payload hash."""
    sets = [f"{f} = t.{f}" for f in policy.owned]
    if policy.primary:
        sets += ["payload_hash = t.payload_hash", f"source_id = {int(ctx.source_id)}"]
    if sets:
        ctx.cursor.execute(
            COMPANIES_UPDATE.format(company=COMPANY, sets=", ".join(sets), todo=todo),
            [ctx.sql.dt(ctx.now)],
        )


def _event_kinds(owned: tuple[str, ...]) -> set[str]:
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
