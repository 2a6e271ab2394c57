# ruff: noqa: S608  (SQL is assembled from code constants: table/column names; values are params)
"""People and roles (after the companies): merged set-based for companies already in the
directory.

Persons are upserted by ``person_key`` (never a personal identity number); roles are keyed by
(company, person, kind). ``role_added``/``role_ended`` ChangeEvents are written when the source
has an earlier successful import. A snapshot source (Brreg roles) also ends the current roles a
listed company no longer lists.
"""

from __future__ import annotations

from enrichment.importers.merge.context import Counts, MergeContext
from enrichment.importers.merge.sql import COMPANY, EVENT, PERSON, ROLE, one_value
from enrichment.importers.merge.staging import Stager
from enrichment.importers.records import ROLE_FIELDS, RoleRecord

# The suppression list (blocklists) by table name: the directory does not import the app that
# builds on it. Only erasure writes kind 'person' (identifier_hash = the importer's person_key).
ERASED_PEOPLE_DROP = (
    "DELETE FROM lp_role WHERE person_key IN "
    "(SELECT identifier_hash FROM blocklists_suppression WHERE kind = 'person')"
)


class RoleMerge:
    """Roles (and their people) for companies already in the directory."""

    def __init__(self, ctx: MergeContext, *, snapshot: bool) -> None:
        self.sql, self.cursor = ctx.sql, ctx.cursor
        self.run_id, self.source_id, self.now = ctx.run_id, ctx.source_id, ctx.now
        self.emit = ctx.emit_events
        self.snapshot = snapshot  # a full roles file: a current role it no longer lists ended
        self.counts = Counts()
        self.stage = Stager(ctx.sql, ctx.cursor, "lp_stage_role", ("line", *ROLE_FIELDS))

    def add(self, record: RoleRecord) -> None:
        self.stage.add(record.row())

    def merge(self) -> Counts:
        cur, sql, counts = self.cursor, self.sql, self.counts
        self.stage.flush()
        staged = self.stage.count
        details = "r.details::jsonb" if sql.pg else "r.details"
        now = sql.dt(self.now)
        for t in ("lp_role", "lp_role2", "lp_role_changed", "lp_role_new", "lp_role_gone"):
            cur.execute(f"DROP TABLE IF EXISTS {t}")
        cur.execute(
            "CREATE TEMP TABLE lp_role AS SELECT c.id AS company_id, s.* FROM lp_stage_role s "
            f"JOIN {COMPANY} c ON c.country = s.country AND c.registry_id = s.registry_id"
        )
        known = one_value(cur, "SELECT COUNT(*) FROM lp_role")
        if staged - known:
            counts.rows_skipped += staged - known
            counts.notes.append(f"{staged - known} roles name a company not in the directory")
        # A person erased at their request (privacy) keeps their importer key on the global
        # suppression list: their rows are dropped here, so no re-import brings a name back.
        cur.execute(ERASED_PEOPLE_DROP)
        if erased := max(cur.rowcount, 0):
            counts.rows_skipped += erased
            counts.notes.append(f"{erased} roles name an erased person")
        cur.execute(
            f"INSERT INTO {PERSON} (person_key, full_name, first_name, middle_name, last_name, "
            "birth_year, country, created_at) SELECT person_key, MAX(full_name), MAX(first_name), "
            "MAX(middle_name), MAX(last_name), MAX(birth_year), MAX(country), %s FROM lp_role "
            "WHERE TRUE GROUP BY person_key ON CONFLICT (person_key) DO NOTHING",
            [now],
        )
        cur.execute(
            "CREATE TEMP TABLE lp_role2 AS SELECT * FROM (SELECT r.*, p.id AS person_id, "
            "ROW_NUMBER() OVER (PARTITION BY r.company_id, p.id, r.kind "
            "ORDER BY r.is_current DESC, r.line DESC) AS rn "
            f"FROM lp_role r JOIN {PERSON} p ON p.person_key = r.person_key) z WHERE rn = 1"
        )
        unique = one_value(cur, "SELECT COUNT(*) FROM lp_role2")
        counts.rows_unchanged += known - unique  # repeated (company, person, kind): same role
        x_details = "x.details" if sql.pg else "json(x.details)"
        r_details = "r.details::jsonb" if sql.pg else "json(r.details)"
        cur.execute(
            "CREATE TEMP TABLE lp_role_changed AS SELECT x.id AS role_id, r.company_id, "
            "r.person_id, r.kind, r.full_name, x.is_current AS old_current, r.is_current, "
            "r.ended_on, r.started_on, r.details, r.kind_raw "
            f"FROM lp_role2 r JOIN {ROLE} x ON x.company_id = r.company_id "
            "AND x.person_id = r.person_id AND x.kind = r.kind WHERE "
            + " OR ".join(
                [
                    sql.distinct("x.is_current", "r.is_current"),
                    sql.distinct("x.ended_on", "r.ended_on"),
                    sql.distinct("x.started_on", "r.started_on"),
                    sql.distinct(x_details, r_details),
                ]
            )
        )
        changed = one_value(cur, "SELECT COUNT(*) FROM lp_role_changed")
        cur.execute(
            "CREATE TEMP TABLE lp_role_new AS SELECT r.* FROM lp_role2 r WHERE NOT EXISTS "
            f"(SELECT 1 FROM {ROLE} x WHERE x.company_id = r.company_id "
            "AND x.person_id = r.person_id AND x.kind = r.kind)"
        )
        new = one_value(cur, "SELECT COUNT(*) FROM lp_role_new")
        params = [self.run_id, now]
        role_json = sql.json("'kind'", "kind", "'name'", "full_name")
        if self.emit:
            cur.execute(
                f"INSERT INTO {EVENT} (company_id, person_id, kind, old, new, import_run_id, "
                f"occurred_at) SELECT company_id, person_id, 'role_ended', {role_json}, NULL, "
                "%s, %s FROM lp_role_changed WHERE old_current AND NOT is_current",
                params,
            )
            counts.events += max(cur.rowcount, 0)
            cur.execute(
                f"INSERT INTO {EVENT} (company_id, person_id, kind, old, new, import_run_id, "
                f"occurred_at) SELECT company_id, person_id, 'role_added', NULL, {role_json}, "
                "%s, %s FROM lp_role_changed WHERE is_current AND NOT old_current",
                params,
            )
            counts.events += max(cur.rowcount, 0)
            cur.execute(
                f"INSERT INTO {EVENT} (company_id, person_id, kind, old, new, import_run_id, "
                f"occurred_at) SELECT company_id, person_id, 'role_added', NULL, {role_json}, "
                "%s, %s FROM lp_role_new WHERE is_current",
                params,
            )
            counts.events += max(cur.rowcount, 0)
        if changed:
            cur.execute(
                f"UPDATE {ROLE} AS x SET is_current = r.is_current, ended_on = r.ended_on, "
                f"started_on = r.started_on, details = {details}, kind_raw = r.kind_raw, "
                "updated_at = %s FROM lp_role_changed r WHERE x.id = r.role_id",
                [now],
            )
        if new:
            cur.execute(
                f"INSERT INTO {ROLE} (company_id, person_id, kind, kind_raw, details, started_on, "
                "ended_on, is_current, source_id, updated_at) SELECT r.company_id, r.person_id, "
                f"r.kind, r.kind_raw, {details}, r.started_on, r.ended_on, r.is_current, %s, %s "
                "FROM lp_role_new r",
                [self.source_id, now],
            )
        if self.snapshot:
            # A full roles file: a current role of a listed company that the file no longer
            # lists has ended.
            cur.execute(
                "CREATE TEMP TABLE lp_role_gone AS SELECT x.id AS role_id, x.company_id, "
                f"x.person_id, x.kind, p.full_name FROM {ROLE} x JOIN {PERSON} p ON p.id = x.person_id "
                "WHERE x.source_id = %s AND x.is_current "
                "AND x.company_id IN (SELECT company_id FROM lp_role) AND NOT EXISTS "
                "(SELECT 1 FROM lp_role2 r WHERE r.company_id = x.company_id "
                "AND r.person_id = x.person_id AND r.kind = x.kind)",
                [self.source_id],
            )
            gone = one_value(cur, "SELECT COUNT(*) FROM lp_role_gone")
            if gone:
                if self.emit:
                    cur.execute(
                        f"INSERT INTO {EVENT} (company_id, person_id, kind, old, new, "
                        "import_run_id, occurred_at) SELECT company_id, person_id, 'role_ended', "
                        f"{role_json}, NULL, %s, %s FROM lp_role_gone",
                        params,
                    )
                    counts.events += max(cur.rowcount, 0)
                cur.execute(
                    f"UPDATE {ROLE} SET is_current = FALSE, updated_at = %s "
                    "WHERE id IN (SELECT role_id FROM lp_role_gone)",
                    [now],
                )
                counts.notes.append(f"{gone} roles no longer listed were ended")
        counts.rows_new += new
        counts.rows_changed += changed
        counts.rows_unchanged += unique - new - changed
        return counts
