import asyncio

import pytest

from enrichment.verification import CatchAllCache, FakeClock, Timeouts, VerificationConfig, Verifier
from sandbox.servers import Sandbox

# Short client timeouts keep the suite fast (a loaded CI box still answers loopback in well
# under a second); the sandbox tarpit holds replies for 5 s.
FAST = Timeouts(dns=1.0, smtp_connect=1.0, smtp_command=1.0, http=2.0)


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


@pytest.fixture
def config_for(clock):
    def make(sb: Sandbox, **kwargs) -> VerificationConfig:
        values = {
            "nameserver": sb.nameserver,
            "smtp_port": sb.smtp_port,
            "http_port": sb.http_port,
            "clock": clock,
            "timeouts": FAST,
        }
        values.update(kwargs)
        return VerificationConfig(**values)

    return make


@pytest.fixture
def verify(config_for):
    """verify(sb, *addresses, **config) -> ({address: verdict}, verifier), fresh catch-all cache."""

    def run(sb: Sandbox, *addresses: str, verifier: Verifier | None = None, **kwargs):
        v = verifier or Verifier(config_for(sb, **kwargs), catch_all_cache=CatchAllCache())

        async def go():
            return await v.verify_many(addresses)

        verdicts = asyncio.run(go())
        return {r.address: r for r in verdicts}, v

    return run


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """DNS and catch-all caches are per process and keyed by nameserver/SMTP port; a later test's
    sandbox can get a port an earlier one used, so each test starts with empty caches."""
    from enrichment.verification.dns import dns_cache_clear
    from enrichment.verification.state import PROCESS_CATCH_ALL_CACHE

    dns_cache_clear()
    PROCESS_CATCH_ALL_CACHE.clear()
    yield
