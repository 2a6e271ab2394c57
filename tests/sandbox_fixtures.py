"""Sandbox fixtures shared by the verification and sandbox-server tests (imported by their
conftest modules)."""

import pytest

from enrichment.verification import FakeClock
from sandbox.servers import Sandbox


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def sandbox_factory(clock):
    started: list[Sandbox] = []

    def start(domains, **kwargs) -> Sandbox:
        kwargs.setdefault("tarpit_seconds", 5.0)
        kwargs.setdefault("time_fn", clock.timestamp)
        sb = Sandbox(domains, **kwargs).start()
        started.append(sb)
        return sb

    yield start
    for sb in started:
        sb.stop()


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """DNS and catch-all caches are per process and keyed by nameserver/SMTP port; a later test's
    sandbox can get a port an earlier one used, so each test starts with empty caches."""
    from enrichment.verification.dns import dns_cache_clear
    from enrichment.verification.state import (
        PROCESS_CATCH_ALL_CACHE,
        PROCESS_MX_STATES,
        PROCESS_VERDICT_CACHE,
    )

    dns_cache_clear()
    PROCESS_CATCH_ALL_CACHE.clear()
    PROCESS_VERDICT_CACHE.clear()
    PROCESS_MX_STATES.clear()
    yield
