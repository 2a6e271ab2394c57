"""Sending reputation against sandbox DNS/SMTP on loopback: a token bucket per MX domain, a daily
cap per sending IP (`unknown` / `rate_limited`, nothing asked, the nightly run stops without
recording or charging those people), and `smtp_unclassified` for an error we cannot classify."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from django.core.cache.backends.locmem import LocMemCache

from enrichment.verification import CatchAllCache, Verifier
from enrichment.verification.smtp_limits import DailyCap, DomainRate, SendingLimits, mx_domain
from sandbox.servers.worlds import domain_entry

BOXES = ["kari.nordmann", "ola.hansen", "per.olsen", "anne.berg", "post"]


def verify_all(config, addresses, limits):
    verifier = Verifier(config, catch_all_cache=CatchAllCache(), limits=limits)

    async def go():
        return await verifier.verify_many(addresses)

    return {r.address: r for r in asyncio.run(go())}


def test_mx_domain_is_the_mx_hosts_parent():
    assert mx_domain("mx1.nordlys.no") == "nordlys.no"
    assert mx_domain("aspmx.l.google.com.") == "l.google.com"
    assert mx_domain("a-b.mail.protection.outlook.com") == "mail.protection.outlook.com"
    assert mx_domain("localhost") == "localhost"
    assert mx_domain("mail.no") == "mail.no"  # never a bare TLD


def test_the_daily_cap_answers_rate_limited_without_asking(sandbox_factory, config_for):
    sb = sandbox_factory([domain_entry("nordlys.no", mailboxes=BOXES)])
    cache = LocMemCache("cap-test", {})
    daily = DailyCap(cap=3, block=1, cache=cache, sending_ip="192.0.2.7")
    limits = SendingLimits(daily=daily)
    addresses = [f"{b}@nordlys.no" for b in BOXES[:4]] + ["nobody@nordlys.no", "x@nordlys.no"]
    got = verify_all(config_for(sb, per_mx_concurrency=1), addresses, limits)

    limited = [a for a, v in got.items() if v.reason == "rate_limited"]
    assert len(limited) == 3
    for address in limited:
        assert got[address].status == "unknown" and not got[address].is_chargeable
        assert sb.smtp.stats.rcpts_to(address) == []  # never asked
    asked = [a for a in addresses if a not in limited]
    assert all(got[a].status in ("valid", "invalid") for a in asked)
    assert daily.used() == 3
    assert cache.get(f"leadpilot:smtp-sent:192.0.2.7:{dt.datetime.now(dt.UTC).date()}") == 3
    # Another sending IP has its own count.
    other = DailyCap(cap=3, block=1, cache=cache, sending_ip="192.0.2.8")
    assert other.take()


def test_the_cap_is_shared_by_processes_through_the_cache_in_blocks():
    cache = LocMemCache("cap-blocks", {})
    a = DailyCap(cap=50, block=20, cache=cache)
    b = DailyCap(cap=50, block=20, cache=cache)
    taken = 0
    while a.take() or b.take():
        taken += 1
    assert taken == 50  # never over the cap, whatever the blocks
    assert not a.take() and not b.take()


def test_a_token_bucket_spaces_transactions_per_mx_domain(sandbox_factory, config_for):
    sb = sandbox_factory(
        [
            domain_entry("nordlys.no", mailboxes=BOXES),
            domain_entry("fjell.no", mailboxes=BOXES),
        ]
    )
    limits = SendingLimits(rate=DomainRate(rate=4.0, burst=1))
    addresses = [f"{b}@nordlys.no" for b in BOXES[:4]] + ["kari.nordmann@fjell.no"]
    started = time.monotonic()
    got = verify_all(config_for(sb), addresses, limits)
    elapsed = time.monotonic() - started
    assert got["kari.nordmann@nordlys.no"].status == "valid"
    # Four transactions on nordlys.no at 4 a second with no burst: at least 0.75 s; fjell.no's
    # bucket is its own.
    assert elapsed >= 0.7
    bucket = DomainRate(rate=4.0, burst=1, monotonic=lambda: 100.0)
    assert [bucket.delay("mx1.nordlys.no") for _ in range(3)] == [0.0, 0.25, 0.5]
    assert bucket.delay("mx2.fjell.no") == 0.0


def test_an_error_we_cannot_classify_has_its_own_reason(sandbox_factory, verify):
    # The domain's MX answers, but has no mail service for it: "554 5.7.1 Relay access denied"
    # is about neither the mailbox nor our IP.
    sb = sandbox_factory(
        [domain_entry("fremmed.no", behaviour=None, mx=[[10, "mx1.fremmed.no"]], a=["127.0.0.1"])]
    )
    got, _ = verify(sb, "kari.nordmann@fremmed.no")
    v = got["kari.nordmann@fremmed.no"]
    assert (v.status, v.reason) == ("unknown", "smtp_unclassified")
    assert "blocked" not in v.flags and not v.is_chargeable
    assert any("Relay access denied" in line for line in v.evidence["smtp"][-1]["lines"])


@pytest.mark.django_db(transaction=True)
def test_a_run_that_hits_the_cap_stops_uncharged_and_the_next_run_asks_the_rest(
    sandbox_factory, settings, tenant_a, django_capture_on_commit_callbacks
):
    from enrichment.verification.smtp_limits import PROCESS_SENDING_LIMITS
    from leads.models import SearchCandidate
    from leads.services import nightly_dispatch, search_run_execute
    from tests.leads.world import segment_for, world_build

    world = world_build(prefix="capx", size=8)
    sb = sandbox_factory(world.domains)
    settings.LEADPILOT_DNS_NAMESERVER = f"127.0.0.1:{sb.dns_port}"
    settings.LEADPILOT_SMTP_PORT = sb.smtp_port
    settings.LEADPILOT_HTTP_PORT = sb.http_port
    settings.LEADPILOT_SEARCH_CHUNK = 1
    settings.LEADPILOT_SEARCH_THREADS = 1
    settings.LEADPILOT_SMTP_DAILY_CAP = 3
    settings.LEADPILOT_SMTP_CAP_BLOCK = 1
    settings.LEADPILOT_SMTP_SENDING_IP = f"cap-{time.time_ns()}"
    PROCESS_SENDING_LIMITS.clear()
    segment_for(world, tenant_a.org)

    def night(day):
        enqueued = []
        with django_capture_on_commit_callbacks(execute=True):
            nightly_dispatch(organization=tenant_a.org, run_date=day, enqueue=enqueued.append)
        (run,) = enqueued
        return search_run_execute(organization=tenant_a.org, run_id=run.id)

    run = night(dt.date(2026, 11, 26))
    assert (run.status, run.stop_reason) == ("succeeded", "sending_cap")
    rows = SearchCandidate.objects.for_org(tenant_a.org).filter(run=run)
    assert 1 <= run.leads_created <= 3 and run.charged == run.leads_created
    assert not rows.filter(reason="rate_limited").exists()  # nobody recorded as unreachable
    first = set(rows.values_list("person_id", flat=True))

    # A new day (the cap is per day): the next night asks the people the cap left unasked.
    settings.LEADPILOT_SMTP_SENDING_IP += "-next-day"
    settings.LEADPILOT_SMTP_DAILY_CAP = 0
    PROCESS_SENDING_LIMITS.clear()
    run = night(dt.date(2026, 11, 27))
    assert (run.status, run.stop_reason) == ("succeeded", "exhausted")
    later = set(
        SearchCandidate.objects.for_org(tenant_a.org)
        .filter(run=run)
        .values_list("person_id", flat=True)
    )
    assert first | later == {p.id for p in world.people}
