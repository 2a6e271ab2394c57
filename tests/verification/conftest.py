import asyncio

import pytest

from enrichment.verification import CatchAllCache, Timeouts, VerificationConfig, Verifier
from sandbox.servers import Sandbox
from tests.sandbox_fixtures import _fresh_process_caches, clock, sandbox_factory  # noqa: F401

# Short client timeouts keep the suite fast (a loaded CI box still answers loopback in well
# under a second); the sandbox tarpit holds replies for 5 s.
FAST = Timeouts(dns=1.0, smtp_connect=1.0, smtp_command=1.0, http=2.0)


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
