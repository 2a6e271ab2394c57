"""Fixtures of the webhook tests: a loopback receiver, a DNS server the test answers, and the
production guard (https, public addresses only)."""

from __future__ import annotations

import pytest

from tests.leads.conftest import (  # noqa: F401  the sandbox internet and the real workers
    _fresh_process_caches,
    prefix,
    sandbox,
    workers,
)

from .dns_server import TestDNS
from .receiver import Receiver


@pytest.fixture
def receiver():
    """receiver(script) -> a started Receiver on 127.0.0.1; stopped after the test."""
    started: list[Receiver] = []

    def start(script=None) -> Receiver:
        r = Receiver(script).__enter__()
        started.append(r)
        return r

    yield start
    for r in started:
        r.__exit__()


@pytest.fixture
def production_guard(settings):
    """The guard as the production settings set it."""
    settings.LEADPILOT_WEBHOOKS_ALLOW_PRIVATE = False
    settings.LEADPILOT_WEBHOOKS_REQUIRE_HTTPS = True
    return settings


@pytest.fixture
def test_dns(settings):
    with TestDNS() as dns:
        settings.LEADPILOT_DNS_NAMESERVER = dns.nameserver
        yield dns
