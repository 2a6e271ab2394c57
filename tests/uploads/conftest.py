"""Fixtures of the upload tests: the sandbox internet on loopback for the real engine, and real
Celery workers (the nightly search's, tests/leads/workers.py)."""

from __future__ import annotations

import itertools

import pytest

from enrichment.verification import verification_caches_clear
from sandbox.servers import Sandbox

_prefixes = itertools.count()


@pytest.fixture
def prefix() -> str:
    """A fresh name for a test's world (the engine's per-process DNS cache keys on names)."""
    return f"up{next(_prefixes)}x"


@pytest.fixture
def sandbox(settings):
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
def workers(transactional_db, tmp_path):
    from leadpilot.celery import app
    from tests.leads.workers import Workers

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
    verification_caches_clear()
    yield
