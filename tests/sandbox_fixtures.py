"""Sandbox fixtures shared by the verification and sandbox-server tests (imported by their
conftest modules)."""

import pytest

from enrichment.verification import FakeClock, verification_caches_clear
from sandbox.servers import Sandbox


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def sandbox_factory(clock, settings):
    """start(domains, **kwargs) -> a started Sandbox; the crawler's HTTPS port and trusted CA
    (settings) point at the last one started."""
    started: list[Sandbox] = []

    def start(domains, **kwargs) -> Sandbox:
        kwargs.setdefault("tarpit_seconds", 5.0)
        kwargs.setdefault("time_fn", clock.timestamp)
        sb = Sandbox(domains, **kwargs).start()
        started.append(sb)
        settings.LEADPILOT_HTTPS_PORT = sb.https_port
        settings.LEADPILOT_HTTP_CA_FILE = sb.ca_file
        return sb

    yield start
    for sb in started:
        sb.stop()


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """The engine's caches are per process and keyed by nameserver/ports; a later test's sandbox
    can get a port an earlier one used, so each test starts with empty caches."""
    verification_caches_clear()
    yield
