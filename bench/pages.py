"""Benchmark of the dashboard's busiest pages: server time and queries per request.

One organisation with 10,000 leads awaiting approval (`--quick`: 500), 2,000 approved leads on
the calendar of the current and next month (`--quick`: 100) and a second organisation of the same
size (its rows must cost the first nothing). Each page is requested through Django's test client
(the whole server side: middleware, view, template; no network) `reps` times after one warm-up;
the figures are the p95 in milliseconds and the queries of one request.

Goal (issue 17): the approval queue renders in <= 150 ms (queue_p95_ms) with <= 15 queries;
overview, leads and calendar are measured the same way. The bench exits non-zero when the queue
misses either goal (`--quick`: only the query budget; its time measures the machine).

Uses its own database (BENCH_DATABASE_URL, default .../leadpilot_bench_pages[_quick]); the
generated leads are kept while the migrations and this generator are unchanged (bench/_common.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import figures_line, setup_django, source_digest

FULL = {"pending": 10_000, "scheduled": 2_000, "reps": 30}
QUICK = {"pending": 500, "scheduled": 100, "reps": 5}
QUEUE_GOAL_MS = 150
QUEUE_GOAL_QUERIES = 15
PASSWORD = "bench bench bench"  # noqa: S105 - a generated bench user, never a real login


def generate(size: dict) -> None:
    """Two organisations, each with `pending` queued and `scheduled` approved leads."""
    from django.utils import timezone

    from leads.models import Lead, LeadStatus
    from organizations.services import organization_create_with_owner
    from segments.models import Segment

    now = timezone.now()
    today = now.date()
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
        for i in range(size["pending"] + size["scheduled"]):
            pending = i < size["pending"]
            rows.append(
                Lead(
                    organization=org,
                    segment=segments[i % 5],
                    company_name=f"{name} Company {i} AS",
                    person_name=f"Person {i} Nordmann",
                    role_kind="ceo",
                    contact_kind="email",
                    contact_value=f"person{i}@company{i}.example",
                    evidence={"status": "valid", "reason": "", "flags": []},
                    verified_at=now,
                    status=LeadStatus.PENDING_APPROVAL if pending else LeadStatus.APPROVED,
                    scheduled_date=None if pending else today + dt.timedelta(days=i % 45),
                )
            )
        Lead.objects.for_org(org).bulk_create(rows, batch_size=2000)


def measure(client, path: str, reps: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(path)  # warm-up: templates, caches
    if response.status_code != 200:
        raise SystemExit(f"bench: {path} answered {response.status_code}")
    times = []
    queries = 0
    for _ in range(reps):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - start) * 1000)
        queries = max(queries, len(ctx.captured_queries))
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else times[0]
    return round(p95, 1), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, few repetitions (CI)")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    os.environ.setdefault(
        "BENCH_DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/leadpilot_bench_pages"
        + ("_quick" if args.quick else ""),
    )
    db = setup_django(built_by=source_digest(inspect.getsource(generate), repr(size)))

    from django.conf import settings
    from django.test import Client

    from organizations.models import Organization, User

    if not db.reusable:
        db.mark_building()
        started = time.perf_counter()
        generate(size)
        db.mark_built()
        print(f"bench: generated {size} in {time.perf_counter() - started:.1f} s", flush=True)

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    org = Organization.objects.get(slug="bench")
    client = Client()
    client.force_login(User.objects.get(email="owner@bench.example"))
    base = f"/o/{org.slug}/"
    pages = {
        "queue": base + "queue/",
        "overview": base,
        "leads": base + "leads/",
        "calendar": base + "calendar/",
        "week": base + "calendar/?view=week",
    }
    figures: dict[str, object] = {}
    for name, path in pages.items():
        p95, queries = measure(client, path, size["reps"])
        figures[f"{name}_p95_ms"] = p95
        figures[f"{name}_queries"] = queries
        print(f"{name:9} {path:28} p95 {p95:7.1f} ms  {queries:3d} queries", flush=True)
    figures["pending"] = size["pending"]
    # The query budget holds on any machine; the time goal is judged on the full run only (the
    # smoke run's five requests on a busy CI machine measure the machine).
    slow = figures["queue_p95_ms"] > QUEUE_GOAL_MS  # type: ignore[operator]
    too_many = figures["queue_queries"] > QUEUE_GOAL_QUERIES  # type: ignore[operator]
    print(figures_line(**figures))
    if too_many or (slow and not args.quick):
        sys.exit(f"bench: the queue misses its goal ({QUEUE_GOAL_MS} ms, {QUEUE_GOAL_QUERIES} q)")


if __name__ == "__main__":
    main()
