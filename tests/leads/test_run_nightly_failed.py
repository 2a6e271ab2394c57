"""`manage.py run_nightly` says when a run failed, why, and when it is tried again (issue 15: with
the demo's DNS/SMTP peers stopped it printed a green "Finished" for a run that verified nobody)."""

from __future__ import annotations

import socket

import pytest
from django.core.management import call_command

from leads.models import SearchRun

from .test_blind_night import closed_port
from .world import segment_for, world_build


@pytest.fixture
def resolver_down(settings):
    """The resolver on a closed port, short time-outs, nobody to mail about it."""
    settings.LEADPILOT_SEARCH_DNS_TIMEOUT = 0.5
    settings.LEADPILOT_SEARCH_SMTP_TIMEOUT = 0.5
    settings.LEADPILOT_ADMINS = settings.ADMINS = []
    return settings


def test_run_nightly_prints_a_blind_runs_reason_and_retry_time(
    sandbox, prefix, tenant_a, tenant_b, resolver_down, capsys
):
    world = world_build(prefix=f"{prefix}cmd", size=6)
    sandbox(world.domains)
    segment_for(world, tenant_a.org)
    segment_for(world, tenant_b.org)
    resolver_down.LEADPILOT_DNS_NAMESERVER = f"127.0.0.1:{closed_port(socket.SOCK_DGRAM)}"

    call_command("run_nightly", "--org", tenant_a.org.slug, "--date", "2026-11-26")
    out = capsys.readouterr().out
    run = SearchRun.objects.for_org(tenant_a.org).get()
    assert (run.status, run.stop_reason) == ("failed", "outage") and run.retry_at is not None
    assert ": failed (" in out and "leads=0 charged=0" in out
    assert f"  failed: {run.failure_reason}" in out
    assert "Verification was blind: 6 of 6 contacts" in out
    assert f"  retry at {run.retry_at:%Y-%m-%d %H:%M} UTC" in out
    assert not SearchRun.objects.for_org(tenant_b.org).exists()  # only --org's runs


def test_run_nightly_says_when_a_failed_run_has_no_retry_left(
    sandbox, prefix, tenant_a, resolver_down, capsys
):
    world = world_build(prefix=f"{prefix}cmd2", size=6)
    sandbox(world.domains)
    segment_for(world, tenant_a.org)
    resolver_down.LEADPILOT_DNS_NAMESERVER = f"127.0.0.1:{closed_port(socket.SOCK_DGRAM)}"
    resolver_down.LEADPILOT_BLIND_RUN_MAX_RETRIES = 0

    call_command("run_nightly", "--org", tenant_a.org.slug, "--date", "2026-11-26")
    assert "  no retry scheduled" in capsys.readouterr().out
    # Asked again: reported with its reason, not repeated.
    call_command("run_nightly", "--org", tenant_a.org.slug, "--date", "2026-11-26")
    again = capsys.readouterr().out
    assert "already failed (0 leads)" in again and "  failed: Verification was blind" in again
