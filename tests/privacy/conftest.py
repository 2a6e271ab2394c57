"""Privacy tests: the nightly-search fixtures (a sandbox internet, the real engine) and a helper
that delivers one world's people to several organisations."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from tests.leads.conftest import (  # noqa: F401 - fixtures
    _fresh_process_caches,
    night,
    prefix,
    sandbox,
)

_worlds = itertools.count()


@pytest.fixture
def shared_night(sandbox, prefix, django_capture_on_commit_callbacks):
    """shared_night(tenants, size=..) -> (world, {org id: run}): one world, served once, searched
    by each tenant's own segment on the same night (every tenant receives the same people)."""
    from leads.services import nightly_dispatch, search_run_execute
    from tests.leads.world import segment_for, world_build

    def run(tenants, *, size=3, day=dt.date(2026, 11, 26)):
        world = world_build(prefix=f"{prefix}{next(_worlds)}p", size=size)
        sandbox(world.domains)
        runs = {}
        for tenant in tenants:
            segment = segment_for(world, tenant.org)
            enqueued = []
            with django_capture_on_commit_callbacks(execute=True):
                nightly_dispatch(organization=tenant.org, run_date=day, enqueue=enqueued.append)
            (search_run,) = [r for r in enqueued if r.segment_id == segment.id]
            runs[tenant.org.id] = search_run_execute(organization=tenant.org, run_id=search_run.id)
        return world, runs

    return run
