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
