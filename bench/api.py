"""Benchmark of the API's busiest read: one 50-lead page of GET /api/v1/orgs/<slug>/leads/.

One organisation with 100,000 leads (`--quick`: 2,000) over five segments and every status, and a
second organisation of the same size (its rows must cost the first nothing). Each request goes
through Django's test client in-process (API key authentication, middleware, view, serializer;
no network) `reps` times after one warm-up, as an integration pages: the first page, a page deep
in the list (its cursor taken from the previous page's `next`), and the first page filtered by
status. The figures are the p95 in milliseconds and the queries of one request.

Goal (issue 18): list_p95_ms <= 30 with a fixed number of queries whatever the page's depth. The
bench exits non-zero when a page takes more than LIST_GOAL_QUERIES queries, or (full run only)
misses the time goal.

Uses its own database (BENCH_DATABASE_URL, default .../leadpilot_bench_api[_quick]); the generated
leads are kept while the migrations and this generator are unchanged (bench/_common.py).
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import figures_line, setup_django, source_digest

FULL = {"leads": 100_000, "reps": 50}
QUICK = {"leads": 2_000, "reps": 5}
LIST_GOAL_MS = 30
LIST_GOAL_QUERIES = 4
PASSWORD = "bench bench bench"  # noqa: S105 - a generated bench user, never a real login


def generate(size: dict) -> None:
    """Two organisations, each with `leads` leads in every status over five segments."""
    import datetime as dt

    from django.utils import timezone

    from leads.models import Lead, LeadStatus
    from organizations.services import organization_create_with_owner
    from segments.models import Segment

    now = timezone.now()
    statuses = [
        LeadStatus.PENDING_APPROVAL,
        LeadStatus.APPROVED,
        LeadStatus.CONTACTED,
        LeadStatus.REJECTED,
    ]
    for name in ("Bench", "Other"):
        org, _owner = organization_create_with_owner(
            name=name, owner_email=f"owner@{name.lower()}.example", owner_password=PASSWORD
        )
        segments = [
            Segment.objects.for_org(org).create(
                organization=org, name=f"{name} segment {i}", criteria={}
            )
            for i in range(5)
        ]
        rows = []
        for i in range(size["leads"]):
            status = statuses[i % 4]
            rows.append(
                Lead(
                    organization=org,
                    segment=segments[i % 5],
                    company_name=f"{name} Company {i} AS",
                    company_snapshot={"name": f"{name} Company {i} AS", "country": "NO"},
                    person_name=f"Person {i} Nordmann",
                    person_snapshot={"name": f"Person {i} Nordmann"},
                    role_kind="ceo",
                    contact_kind="email",
                    contact_value=f"person{i}@company{i}.example",
                    evidence={"status": "valid", "reason": "", "flags": [], "verified": True},
                    verified_at=now,
                    status=status,
                    rejection_reason="wrong_person" if status == LeadStatus.REJECTED else "",
                    scheduled_date=(
                        now.date() + dt.timedelta(days=i % 60)
                        if status == LeadStatus.APPROVED
                        else None
                    ),
                )
            )
            if len(rows) == 5000:
                Lead.objects.for_org(org).bulk_create(rows)
                rows = []
        Lead.objects.for_org(org).bulk_create(rows)


def measure(client, path: str, reps: int, headers: dict) -> tuple[float, int, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(path, headers=headers)  # warm-up
    if response.status_code != 200:
        raise SystemExit(f"bench: {path} answered {response.status_code}: {response.content!r}")
    times = []
    queries = 0
    for _ in range(reps):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(path, headers=headers)
            times.append((time.perf_counter() - start) * 1000)
        queries = max(queries, len(ctx.captured_queries))
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else times[0]
    return round(p95, 1), queries, response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, few repetitions (CI)")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    os.environ.setdefault(
        "BENCH_DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/leadpilot_bench_api" + ("_quick" if args.quick else ""),
    )
    db = setup_django(built_by=source_digest(inspect.getsource(generate), repr(size)))

    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from organizations.models import Organization, OrganizationAPIKey, User
    from organizations.services import api_key_create

    if not db.reusable:
        db.mark_building()
        started = time.perf_counter()
        generate(size)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE leads_lead")
        db.mark_built()
        print(f"bench: generated {size} in {time.perf_counter() - started:.1f} s", flush=True)

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.LEADPILOT_API_RATES = {}
    cache.clear()
    org = Organization.objects.get(slug="bench")
    owner = User.objects.get(email="owner@bench.example")
    OrganizationAPIKey.objects.for_org(org).filter(name="bench").delete()
    _key, full = api_key_create(organization=org, actor=owner, name="bench", scopes=["read"])
    headers = {"Authorization": f"Api-Key {full}"}
    client = Client()
    base = f"/api/v1/orgs/{org.slug}/leads/"

    figures: dict[str, object] = {}
    p95, queries, page = measure(client, base + "?page_size=50", size["reps"], headers)
    assert len(page["results"]) == 50
    figures["list_p95_ms"], figures["list_queries"] = p95, queries
    print(f"first page      p95 {p95:7.1f} ms  {queries:2d} queries", flush=True)

    # A page deep in the list: follow `next` about halfway, as an integration syncing would.
    next_url = page["next"]
    for _ in range(min(size["leads"] // 100, 200)):
        next_url = client.get(next_url, headers=headers).json()["next"]
    p95, queries, page = measure(client, next_url, size["reps"], headers)
    figures["deep_p95_ms"], figures["deep_queries"] = p95, queries
    print(f"deep page       p95 {p95:7.1f} ms  {queries:2d} queries", flush=True)

    p95, queries, page = measure(
        client, base + "?page_size=50&status=approved", size["reps"], headers
    )
    assert page["results"] and all(r["status"] == "approved" for r in page["results"])
    figures["filtered_p95_ms"], figures["filtered_queries"] = p95, queries
    print(f"status=approved p95 {p95:7.1f} ms  {queries:2d} queries", flush=True)

    figures["leads"] = size["leads"]
    worst_queries = max(
        figures["list_queries"], figures["deep_queries"], figures["filtered_queries"]
    )  # type: ignore[type-var]
    print(figures_line(**figures))
    if worst_queries > LIST_GOAL_QUERIES or (
        figures["list_p95_ms"] > LIST_GOAL_MS and not args.quick  # type: ignore[operator]
    ):
        sys.exit(
            f"bench: the leads list misses its goal ({LIST_GOAL_MS} ms, {LIST_GOAL_QUERIES} q)"
        )


if __name__ == "__main__":
    main()
