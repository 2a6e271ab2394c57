"""Bounded connections: with one connection pool per worker process, concurrent nightly runs on
real Celery workers (as deployed: `--pool threads --concurrency 2`, docker-compose.yml) never
hold more PostgreSQL connections than worker processes x LEADPILOT_DB_POOL_MAX, however many
threads each run keeps busy (before the pool, each run and each of its 8 threads held a
connection of its own: 2 runs per process = 18)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import psycopg
import pytest
from django.db import connection

from leads.models import Lead
from leads.services import nightly_dispatch
from leads.tasks import enqueue_run

from .workers import wait_until
from .world import segment_for, world_build

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

NIGHT = dt.date(2026, 11, 26)


class ConnectionSampler:
    """Counts the test database's backends every 20 ms (besides the test's own and its own)."""

    def __init__(self, *, exclude: set[int]) -> None:
        db = connection.settings_dict
        self.conninfo = psycopg.conninfo.make_conninfo(
            dbname=db["NAME"],
            user=db.get("USER") or "postgres",
            host=db.get("HOST") or "127.0.0.1",
            port=db.get("PORT") or 5432,
        )
        self.exclude, self.peak, self.samples, self.succeeded = exclude, 0, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            me = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            while not self._stop.is_set():
                (n,) = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND NOT (pid = ANY(%s))",
                    [[me, *self.exclude]],
                ).fetchone()
                self.peak, self.samples = max(self.peak, n), self.samples + 1
                # Read here, so the test's own polling opens no connection while it samples.
                (self.succeeded,) = conn.execute(
                    "SELECT count(*) FROM leads_searchrun WHERE status = 'succeeded'"
                ).fetchone()
                time.sleep(0.02)

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def test_concurrent_runs_never_hold_more_connections_than_the_pools_allow(
    workers, sandbox, prefix, tenant_a
):
    org = tenant_a.org
    org.monthly_lead_quota = 1000
    org.save()
    worlds = [world_build(prefix=f"{prefix}{i}p", size=24, latency_ms=20) for i in range(4)]
    sandbox([d for w in worlds for d in w.domains])
    for i, world in enumerate(worlds):
        segment_for(world, org, nightly_cap=24, name=f"pool{i}")
    processes, pool_max = 2, 3
    env = {
        "LEADPILOT_DB_POOL_MIN": "1",
        "LEADPILOT_DB_POOL_MAX": str(pool_max),
        "LEADPILOT_SEARCH_THREADS": "8",
        "LEADPILOT_SEARCH_CHUNK": "2",
    }
    for _ in range(processes):
        workers.start(concurrency=2, env=env, pool="threads")
    nightly_dispatch(organization=org, run_date=NIGHT, enqueue=enqueue_run)
    with connection.cursor() as cursor:  # the test's own connection is not counted
        cursor.execute("SELECT pg_backend_pid()")
        (own,) = cursor.fetchone()
    with ConnectionSampler(exclude={own}) as sampler:
        try:
            wait_until(lambda: sampler.succeeded == 4, timeout=180, what="the four runs")
        except AssertionError:
            raise AssertionError(workers.logs()) from None
    allowed = processes * pool_max
    assert sampler.samples > 10
    assert 2 <= sampler.peak <= allowed, (sampler.peak, allowed)
    assert Lead.objects.for_org(org).count() == 4 * 24
