"""Fixtures of the nightly-search tests: a sandbox internet on loopback for the real engine."""

from __future__ import annotations

import itertools

import pytest

from enrichment.verification import verification_caches_clear
from sandbox.servers import Sandbox

_prefixes = itertools.count()


@pytest.fixture
def prefix() -> str:
    """A fresh name for a test's world (the engine's per-process DNS cache keys on names)."""
    return f"nl{next(_prefixes)}x"


@pytest.fixture
def sandbox(settings):
    """start(domains, **kwargs) -> Sandbox, with the engine's settings pointed at it."""
    started: list[Sandbox] = []

    def start(domains, **kwargs) -> Sandbox:
        kwargs.setdefault("tarpit_seconds", 5.0)
        sb = Sandbox(domains, **kwargs).start()
        started.append(sb)
        settings.LEADPILOT_DNS_NAMESERVER = f"127.0.0.1:{sb.dns_port}"
        settings.LEADPILOT_SMTP_PORT = sb.smtp_port
        settings.LEADPILOT_HTTP_PORT = sb.http_port
        return sb

    yield start
    for sb in started:
        sb.stop()


@pytest.fixture
def night(sandbox, prefix, django_capture_on_commit_callbacks):
    """night(tenant, size=.., verifiable=.., **segment_kwargs) -> (world, segment, run): builds a
    world, serves it, and runs one segment's nightly search in-process with the real engine."""
    import datetime as dt

    from leads.services import nightly_dispatch, search_run_execute

    from .world import segment_for, world_build

    counter = itertools.count()

    def run(tenant, *, size=6, verifiable=lambda i: True, run_date=None, **segment_kwargs):
        world = world_build(prefix=f"{prefix}{next(counter)}w", size=size, verifiable=verifiable)
        sandbox(world.domains)
        segment = segment_for(world, tenant.org, **segment_kwargs)
        day = run_date or dt.date(2026, 11, 26)
        enqueued = []
        with django_capture_on_commit_callbacks(execute=True):
            nightly_dispatch(organization=tenant.org, run_date=day, enqueue=enqueued.append)
        (search_run,) = [r for r in enqueued if r.segment_id == segment.id]
        search_run = search_run_execute(organization=tenant.org, run_id=search_run.id)
        return world, segment, search_run

    return run


@pytest.fixture
def workers(transactional_db, tmp_path):
    """Start real Celery workers (`workers.start(concurrency=.., env=..)`); the test process
    publishes to the broker instead of running tasks eagerly while this fixture is active."""
    from leadpilot.celery import app

    from .workers import Workers

    pool = Workers(tmp_path)
    pool.flush_broker()
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield pool
    finally:
        app.conf.task_always_eager = eager
        pool.stop_all()
        pool.flush_broker()


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """The engine's caches are per process and keyed by nameserver/ports; a later test's sandbox
    can reuse a port, so each test starts with empty caches."""
    verification_caches_clear()
    yield
