# ruff: noqa: S608 - the SQL is built from this file's constants and integers only
"""Benchmark of the matching query (segments/matching.py) on a generated directory.

Full size: 500,000 companies, 1,000,000 roles (1,000,000 people, 300,000 e-mail contact points,
20,000 suppressed identifiers), 50 organisations with ~10,000 block entries and ~20,000 delivered
leads each. `--quick`: 20,000 companies, 40,000 roles, 5 organisations (CI smoke test).

Figures, for one organisation and a selective, a medium and a broad segment:
- the preview (segment_match_counts: exact or estimated from a sample, segments/counting.py),
  p50/p95, whether it was estimated, and how far it is from the exact counts (computed once the
  way the preview did before the sample; minutes for a broad segment at 5M: `--no-exact`),
- candidates (the nightly search's call: segment_candidates with the nightly cap as limit),
- all candidates (every row, no limit, fetched into Python),
- all candidates in SQL only (count(*) over the candidate statement: no row transfer),
- the floor: count(*) over the same predicates and join without any anti-join.
Goals: preview p95 <= 300 ms at 500k and <= 1 s at 5M companies; selective p95 <= 200 ms; broad
(all, SQL) <= 3x the floor. The bench fails when an estimate is more than 15 % off the exact count.

`--companies N` sets the directory's size (5000000: the UK, Norwegian and Swedish registers
together; its own database, <BENCH_DATABASE_URL>_5000000, about half an hour to build on two
cores); `--preview-only` skips the candidate and floor figures; `--build-only` builds the directory
and stops; `--keep` keeps a directory built by this generator across new migrations (migrate
applies them) instead of building it again.

Uses its own database (BENCH_DATABASE_URL, default .../leadpilot_bench_match[_quick]); the
generated directory is kept and reused while its sizes match and it was built by the current
migrations and this generator (bench/_common.py: otherwise the database is dropped and built again,
with a line saying why); `--regenerate` forces a new one. Never run two builds of one size at once:
the second drops the first's database.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, figures_line, setup_django, source_digest

FULL = {"companies": 500_000, "orgs": 50, "blocks": 10_000, "delivered": 20_000, "reps": 15}
QUICK = {"companies": 20_000, "orgs": 5, "blocks": 1_000, "delivered": 2_000, "reps": 3}

SEGMENTS = {
    # ~0.1% of the directory: Norwegian software companies of 10-49 people, CEO wanted.
    "selective": {
        "countries": ["NO"],
        "industries": ["62"],
        "employees_min": 10,
        "employees_max": 49,
        "roles": ["ceo"],
    },
    # a few %: UK construction and manufacturing of wood/metal, small and medium, CEO or chair.
    "medium": {
        "countries": ["GB"],
        "industries": ["F", "16", "25"],
        "size_bands": ["small", "medium"],
        "roles": ["ceo", "chair"],
    },
    # roughly half the directory: every active UK company, any of four roles.
    "broad": {"countries": ["GB"], "roles": ["ceo", "chair", "owner", "director"]},
}
NIGHTLY_CAP = 200
# The preview's estimate may be this far off the exact count (relative) before the bench fails.
MAX_ESTIMATE_ERROR = 0.15
# --quick: a sample smaller than the quick directory's countries, so the estimate path runs too.
QUICK_SAMPLE_COMPANIES = 4_000


def exact_counts(*, organization, criteria, today) -> tuple[int, int]:
    """The preview's two counts, exact, as segment_match_counts computed them before the
    estimate (the figure to compare its speed and accuracy with)."""
    from segments.matching import candidate_roles, matching_companies
    from segments.selectors import _matching_plan

    with _matching_plan():
        companies = matching_companies(
            organization=organization, criteria=criteria, today=today
        ).count()
        with_dm = (
            candidate_roles(organization=organization, criteria=criteria, today=today)
            .values("company_id")
            .distinct()
            .count()
        )
    return companies, with_dm


def generate(cursor, *, companies: int, orgs: int, blocks: int, delivered: int) -> None:
    from segments import nace

    n = companies
    classes = "{" + ",".join(str(c) for c in nace.classes()) + "}"
    t0 = time.perf_counter()
    cursor.execute(
        "TRUNCATE enrichment_company, enrichment_person, blocklists_suppression,"
        " blocklists_blockentry, blocklists_deliveryrecord, segments_segment"
        " RESTART IDENTITY CASCADE"
    )
    cursor.execute("DELETE FROM organizations_organization WHERE slug LIKE 'bench-%%'")
    # Pseudo-random but deterministic: h(g, k) in [0, 100).
    h = "(abs(hashint4(g * 31 + {k})) % 100)"
    cursor.execute(
        f"""
        INSERT INTO enrichment_company (country, registry_id, name, legal_form, legal_form_raw,
            status, incorporated_on, nace_primary, nace_raw, employees_min, employees_max,
            employees_source, size_band, address, postcode, postcode_prefix, municipality, region,
            website_domain, email_domain, phone, lei, marketing_blocked, payload_hash,
            first_seen_at, updated_at)
        SELECT cc, CASE cc WHEN 'NO' THEN (900000000 + g)::text ELSE lpad(g::text, 8, '0') END,
            'Company ' || g || CASE cc WHEN 'GB' THEN ' Ltd' WHEN 'NO' THEN ' AS' ELSE ' AB' END,
            CASE WHEN {h.format(k=2)} < 80 THEN 'limited' WHEN {h.format(k=2)} < 88 THEN 'llp'
                 WHEN {h.format(k=2)} < 95 THEN 'sole_trader' ELSE 'partnership' END, '',
            CASE WHEN {h.format(k=3)} < 80 THEN 'active' WHEN {h.format(k=3)} < 90 THEN 'dissolved'
                 WHEN {h.format(k=3)} < 95 THEN 'dormant' ELSE 'liquidation' END,
            date '1950-01-01' + (abs(hashint4(g * 31 + 4)) % 27000),
            cls, cls::text, emin, emax, CASE WHEN emin IS NULL THEN '' ELSE 'registry' END,
            CASE WHEN emin IS NULL THEN '' WHEN emin < 10 THEN 'micro' WHEN emin < 50 THEN 'small'
                 WHEN emin < 250 THEN 'medium' ELSE 'large' END,
            g || ' High Street', 'PC' || (g % 9000), 'P' || (g % 300), 'Town ' || (g % 300),
            'Region ' || (g % 12),
            CASE WHEN {h.format(k=6)} < 50 THEN 'c' || g || '.example.co.uk' ELSE '' END,
            CASE WHEN {h.format(k=7)} < 30 THEN 'c' || g || '.example.co.uk' ELSE '' END,
            '', '', {h.format(k=8)} < 5, '', now(), now()
        FROM (
            SELECT g,
                CASE WHEN {h.format(k=1)} < 60 THEN 'GB' WHEN {h.format(k=1)} < 85 THEN 'NO'
                     ELSE 'SE' END AS cc,
                ('{classes}'::int[])[1 + abs(hashint4(g * 31 + 5)) % {len(nace.classes())}] AS cls,
                e AS emin, CASE WHEN e IS NULL THEN NULL ELSE e * 2 + 1 END AS emax
            FROM generate_series(1, {n}) g,
            LATERAL (SELECT CASE WHEN {h.format(k=9)} < 40 THEN NULL
                                 ELSE (exp((abs(hashint4(g * 31 + 10)) % 700) / 100.0))::int
                            END AS e) s
        ) x
        -- Registries are imported one country file at a time: rows of a country lie together.
        ORDER BY cc, g
        """
    )
    cursor.execute(
        f"""
        INSERT INTO enrichment_companyindustry (company_id, nace_class, code_system, raw_code,
            is_primary)
        SELECT id, nace_primary, 'uk_sic2007', nace_primary::text || '0', true
        FROM enrichment_company
        UNION ALL
        SELECT id, c2, 'uk_sic2007', c2::text || '1', false FROM (
            SELECT id, nace_primary,
                ('{classes}'::int[])[1 + abs(hashint4(id::int * 17)) % {len(nace.classes())}] c2
            FROM enrichment_company WHERE abs(hashint4(id::int * 13)) % 100 < 30) s
        WHERE c2 <> nace_primary
        """
    )
    roles = 2 * n
    cursor.execute(
        f"""
        INSERT INTO enrichment_person (person_key, full_name, first_name, middle_name, last_name,
            birth_year, country, created_at)
        SELECT 'bench:' || g, 'Person ' || g, 'First' || (g % 5000), '', 'Last' || (g % 20000),
            1940 + g % 60, '', now()
        FROM generate_series(1, {roles}) g
        """
    )
    cursor.execute(
        f"""
        INSERT INTO enrichment_role (company_id, person_id, kind, kind_raw, details, started_on,
            ended_on, is_current, updated_at)
        SELECT ((g - 1) % {n}) + 1,
            CASE WHEN g > {n} AND {h.format(k=11)} < 3 THEN 1 + abs(hashint4(g)) % {roles} ELSE g END,
            CASE WHEN g <= {n} THEN
                CASE WHEN {h.format(k=12)} < 85 THEN 'ceo' WHEN {h.format(k=12)} < 95 THEN 'owner'
                     ELSE 'director' END
            ELSE
                CASE WHEN {h.format(k=12)} < 40 THEN 'chair'
                     WHEN {h.format(k=12)} < 85 THEN 'board_member' ELSE 'director' END
            END, '', '{{}}', NULL, NULL, {h.format(k=13)} < 92, now()
        FROM generate_series(1, {roles}) g
        ON CONFLICT DO NOTHING
        """
    )
    cursor.execute(
        f"""
        INSERT INTO enrichment_contactpoint (person_id, kind, value, normalized, origin, status,
            reason, flags, evidence, line_type, created_at)
        SELECT g, 'email', e, e, 'pattern', 'valid', '', '[]', '{{}}', '', now()
        FROM (SELECT g, 'p' || g || '@c' || (((g - 1) % {n}) + 1) || '.example.co.uk' e
              FROM generate_series(1, {roles}) g WHERE {h.format(k=14)} < 30) s
        """
    )
    cursor.execute(
        """
        INSERT INTO blocklists_suppression (kind, identifier_hash, reason, created_at)
        SELECT 'email', lp_sha256_hex(normalized), 'bench', now()
        FROM enrichment_contactpoint WHERE id % 15 = 0
        """
    )
    cursor.execute(
        f"""
        INSERT INTO organizations_organization (name, slug, timezone, delivery_mode, leads_per_day,
            working_days, night_hour, monthly_lead_quota, created_at)
        SELECT 'Bench ' || o, 'bench-' || o, 'Europe/London', 'approval', 10, '[0,1,2,3,4]', 2,
            NULL, now()
        FROM generate_series(1, {orgs}) o
        """
    )
    # Block entries: 40% companies, 20% domains, 10% names, 20% e-mails, 10% people.
    share = {k: blocks * p // 100 for k, p in [("c", 40), ("d", 20), ("n", 10), ("e", 20)]}
    share["p"] = blocks - sum(share.values())
    cursor.execute("SELECT max(id) FROM enrichment_contactpoint")
    contact_points = cursor.fetchone()[0]
    pick = f"(1 + abs(hashint4(o.id::int * 100003 + k)) % {n})"
    cursor.execute(
        f"""
        INSERT INTO blocklists_blockentry (organization_id, kind, value, raw, person_id, note,
            created_at)
        SELECT o.id, 'company', c.country || ':' || c.registry_id, '', NULL::bigint, '', now()
        FROM organizations_organization o CROSS JOIN generate_series(1, {share["c"]}) k
        JOIN enrichment_company c ON c.id = {pick}
        WHERE o.slug LIKE 'bench-%%'
        UNION ALL
        SELECT o.id, 'domain', 'c' || {pick} || '.example.co.uk', '', NULL, '', now()
        FROM organizations_organization o CROSS JOIN generate_series(1000001, 1000000 + {share["d"]}) k
        WHERE o.slug LIKE 'bench-%%'
        UNION ALL
        SELECT o.id, 'company_name', lp_name_key(c.name), '', NULL, '', now()
        FROM organizations_organization o CROSS JOIN generate_series(2000001, 2000000 + {share["n"]}) k
        JOIN enrichment_company c ON c.id = {pick}
        WHERE o.slug LIKE 'bench-%%'
        UNION ALL
        SELECT o.id, 'email', cp.normalized, '', NULL, '', now()
        FROM organizations_organization o CROSS JOIN generate_series(3000001, 3000000 + {share["e"]}) k
        JOIN enrichment_contactpoint cp
            ON cp.id = 1 + abs(hashint4(o.id::int * 100003 + k)) % {contact_points}
        WHERE o.slug LIKE 'bench-%%'
        UNION ALL
        SELECT o.id, 'person', (2 * {pick})::text, '', 2 * {pick}, '', now()
        FROM organizations_organization o CROSS JOIN generate_series(4000001, 4000000 + {share["p"]}) k
        WHERE o.slug LIKE 'bench-%%'
        ON CONFLICT DO NOTHING
        """
    )
    cursor.execute(
        f"""
        INSERT INTO blocklists_deliveryrecord (organization_id, company_id, person_id, lead_id,
            delivered_at, company_first)
        SELECT o.id, r.company_id, r.person_id, NULL, now() - interval '40 days', true
        FROM organizations_organization o CROSS JOIN generate_series(1, {delivered * 21 // 20}) k
        JOIN enrichment_role r ON r.id = 1 + abs(hashint4(o.id::int * 1000003 + k)) % {roles}
        WHERE o.slug LIKE 'bench-%%'
        ON CONFLICT DO NOTHING
        """
    )
    print(f"generated in {time.perf_counter() - t0:.1f}s")


def counts(cursor) -> dict[str, int]:
    out = {}
    for name, table in [
        ("companies", "enrichment_company"),
        ("roles", "enrichment_role"),
        ("people", "enrichment_person"),
        ("contact_points", "enrichment_contactpoint"),
        ("suppressed", "blocklists_suppression"),
        ("block_entries", "blocklists_blockentry"),
        ("delivered", "blocklists_deliveryrecord"),
    ]:
        cursor.execute(f"SELECT count(*) FROM {table}")
        out[name] = cursor.fetchone()[0]
    cursor.execute("SELECT count(*) FROM organizations_organization WHERE slug LIKE 'bench-%'")
    out["orgs"] = cursor.fetchone()[0]
    return out


def subplan_count(cursor, sql: str, params) -> int:
    """SubPlans/InitPlans in the statement's plan (the anti-joins must all be joins)."""
    cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
    raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    stack, found = [plan], 0
    while stack:
        node = stack.pop()
        if node.get("Parent Relationship") in ("SubPlan", "InitPlan"):
            found += 1
        stack.extend(node.get("Plans", []))
    return found


def timed(fn, reps: int) -> list[float]:
    fn()  # warm the cache: figures are for a warm database, like the nightly run's
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke test)")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the directory")
    parser.add_argument("--no-plans", action="store_true", help="do not print the plans")
    parser.add_argument(
        "--companies",
        type=int,
        default=None,
        help=f"directory size (default {FULL['companies']:,}; 5000000 is the three registers)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep a directory built by this generator under older migrations (migrate it)",
    )
    parser.add_argument(
        "--preview-only",
        action="store_true",
        help="measure the preview only (not the candidate queries and the floor)",
    )
    parser.add_argument(
        "--no-exact",
        action="store_true",
        help="do not compare the preview with the exact counts (minutes for a broad segment at 5M)",
    )
    parser.add_argument(
        "--build-only", action="store_true", help="build (or check) the directory, measure nothing"
    )
    args = parser.parse_args()
    size = dict(QUICK if args.quick else FULL)
    os.environ.setdefault(
        "BENCH_DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/leadpilot_bench_match"
        + ("_quick" if args.quick else ""),
    )
    if args.companies is not None and args.companies != size["companies"]:
        # Each size has its own database, so a 5M directory survives a run at 500k.
        size["companies"] = args.companies
        os.environ["BENCH_DATABASE_URL"] += f"_{args.companies}"
    # What the generated data depends on: the generator and the NACE classes it draws from.
    db = setup_django(
        built_by=source_digest(
            inspect.getsource(generate),
            ROOT / "enrichment" / "nace.py",
            ROOT / "enrichment" / "data",
        ),
        keep_across_migrations=args.keep,
    )

    from django.conf import settings
    from django.db import connection, transaction

    from organizations.models import Organization
    from segments.criteria import SegmentCriteria
    from segments.matching import candidate_queryset, floor_queryset
    from segments.selectors import organization_today, segment_candidates, segment_match_counts

    with connection.cursor() as cursor:
        have = counts(cursor)
        stale = (
            not db.reusable
            or have["companies"] != size["companies"]
            or have["orgs"] != size["orgs"]
            or not have["block_entries"]
            or not have["delivered"]
        )
        if args.regenerate or stale:
            db.mark_building()
            # One transaction: an interrupted run leaves no half-built directory behind.
            with transaction.atomic():
                generate(
                    cursor,
                    companies=size["companies"],
                    orgs=size["orgs"],
                    blocks=size["blocks"],
                    delivered=size["delivered"],
                )
            # What autovacuum does soon after a bulk load: statistics and the visibility map
            # (index-only scans).
            cursor.execute("VACUUM ANALYZE")
            have = counts(cursor)
            db.mark_built()
        else:
            if args.keep:
                db.mark_built()  # migrated onto the current migrations just now
            print(f"directory: reusing {db.name} (same generator and sizes)")
    print("directory: " + ", ".join(f"{k}={v:,}" for k, v in have.items()))
    if args.build_only:
        return
    if args.quick:
        settings.LEADPILOT_PREVIEW_SAMPLE_COMPANIES = QUICK_SAMPLE_COMPANIES
    org = Organization.objects.filter(slug="bench-1").get()
    today = organization_today(organization=org)
    figures: dict[str, object] = {"companies": have["companies"], "roles": have["roles"]}
    subplans = 0
    failures: list[str] = []
    for name, raw in SEGMENTS.items():
        crit = SegmentCriteria.from_dict(raw)
        preview = timed(
            lambda crit=crit: segment_match_counts(organization=org, segment=crit), size["reps"]
        )
        counted = segment_match_counts(organization=org, segment=crit)
        about = "~" if counted.estimated else ""
        print(
            f"\n== {name}: {raw}\n"
            f"   preview   p50={pct(preview, 0.5):.1f}ms p95={pct(preview, 0.95):.1f}ms"
            f" companies={about}{counted.companies:,} with_dm={about}{counted.with_decision_maker:,}"
            f" ({'estimated' if counted.estimated else 'exact'})"
        )
        figures.update(
            {
                f"{name}_preview_p50_ms": round(pct(preview, 0.5), 1),
                f"{name}_preview_p95_ms": round(pct(preview, 0.95), 1),
                f"{name}_estimated": int(counted.estimated),
            }
        )
        if not args.no_exact:
            t = time.perf_counter()
            companies, with_dm = exact_counts(organization=org, criteria=crit, today=today)
            exact_ms = (time.perf_counter() - t) * 1000
            error = max(
                abs(counted.companies - companies) / max(companies, 1),
                abs(counted.with_decision_maker - with_dm) / max(with_dm, 1),
            )
            print(
                f"   exact     {exact_ms:.0f}ms companies={companies:,} with_dm={with_dm:,}"
                f" preview error={100 * error:.1f}%"
            )
            figures[f"{name}_exact_ms"] = round(exact_ms)
            figures[f"{name}_error_pct"] = round(100 * error, 1)
            if error > MAX_ESTIMATE_ERROR:
                failures.append(f"{name}: the preview is {100 * error:.1f}% off the exact count")
        if args.preview_only:
            continue
        cand_qs = candidate_queryset(organization=org, criteria=crit, today=today).distinct(
            "company_id"
        )
        sql, params = cand_qs.query.sql_with_params()
        floor_qs = floor_queryset(criteria=crit, today=today)
        n_all = len(segment_candidates(organization=org, segment=crit))

        def count_sql(sql=sql, params=params) -> int:
            with connection.cursor() as cur:
                cur.execute(f"SELECT count(*) FROM ({sql}) s", params)
                return cur.fetchone()[0]

        capped = timed(
            lambda crit=crit: segment_candidates(organization=org, segment=crit, limit=NIGHTLY_CAP),
            size["reps"],
        )
        every = timed(lambda crit=crit: segment_candidates(organization=org, segment=crit), 5)
        every_sql = timed(count_sql, size["reps"])
        floor = timed(floor_qs.count, size["reps"])
        floor_rows = floor_qs.count()
        print(
            f"   floor rows={floor_rows:,} candidates={n_all:,}\n"
            f"   capped({NIGHTLY_CAP}) p50={pct(capped, 0.5):.1f}ms p95={pct(capped, 0.95):.1f}ms\n"
            f"   all rows  p50={pct(every, 0.5):.1f}ms p95={pct(every, 0.95):.1f}ms\n"
            f"   all (SQL) p50={pct(every_sql, 0.5):.1f}ms p95={pct(every_sql, 0.95):.1f}ms\n"
            f"   floor     p50={pct(floor, 0.5):.1f}ms p95={pct(floor, 0.95):.1f}ms"
            f"   ratio all(SQL)/floor p95={pct(every_sql, 0.95) / pct(floor, 0.95):.2f}"
        )
        with connection.cursor() as cur:
            subplans += subplan_count(cur, sql, params)
            subplans += subplan_count(cur, f"{sql} LIMIT {NIGHTLY_CAP}", params)
        if not args.no_plans:
            with connection.cursor() as cur:
                for label, stmt in [
                    ("candidates, all", sql),
                    (f"candidates, LIMIT {NIGHTLY_CAP}", f"{sql} LIMIT {NIGHTLY_CAP}"),
                ]:
                    cur.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {stmt}", params)
                    print(f"   -- plan: {label}")
                    print("\n".join("   " + row[0] for row in cur.fetchall()))
        figures.update(
            {
                f"{name}_candidates": n_all,
                f"{name}_capped_p50_ms": round(pct(capped, 0.5), 1),
                f"{name}_capped_p95_ms": round(pct(capped, 0.95), 1),
                f"{name}_all_p95_ms": round(pct(every, 0.95), 1),
                f"{name}_sql_p50_ms": round(pct(every_sql, 0.5), 1),
                f"{name}_sql_p95_ms": round(pct(every_sql, 0.95), 1),
                f"{name}_floor_p95_ms": round(pct(floor, 0.95), 1),
                f"{name}_vs_floor": round(pct(every_sql, 0.95) / pct(floor, 0.95), 2),
            }
        )
    figures["subplans"] = subplans
    print(figures_line(**figures))
    if failures:
        sys.exit("bench/match.py: " + "; ".join(failures))


if __name__ == "__main__":
    main()
