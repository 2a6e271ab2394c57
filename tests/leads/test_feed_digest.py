"""ICS feeds (a secret token per member and organisation) and the morning digest e-mail."""

from __future__ import annotations

import datetime as dt
import re

import icalendar
import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from leads.models import DigestLog, Lead, SearchRun
from leads.services import calendar_feed_reset, digest_due, digest_send, leads_approve
from organizations.models import Membership


@pytest.fixture
def approved(night, tenant_a, tenant_b):
    night(tenant_a, size=3)
    night(tenant_b, size=2)
    for tenant in (tenant_a, tenant_b):
        ids = list(Lead.objects.for_org(tenant.org).values_list("id", flat=True))
        leads_approve(organization=tenant.org, lead_ids=ids, approved_by=None)
    return (
        list(Lead.objects.for_org(tenant_a.org).order_by("id")),
        list(Lead.objects.for_org(tenant_b.org).order_by("id")),
    )


def feed_path(token: str) -> str:
    return reverse("calendar-feed", kwargs={"feed_token": f"{token}.ics"})


def events(response) -> list:
    return icalendar.Calendar.from_ical(response.content).walk("VEVENT")


def test_the_feed_needs_its_token_and_shows_only_its_organisation(approved, tenant_a, tenant_b):
    a, b = approved
    anonymous = Client()
    token_a = calendar_feed_reset(organization=tenant_a.org, user=tenant_a.member)
    token_b = calendar_feed_reset(organization=tenant_b.org, user=tenant_b.member)
    response = anonymous.get(feed_path(token_a))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    got = {str(e["SUMMARY"]) for e in events(response)}
    assert got == {f"{lead.person_name} ({lead.company_name})" for lead in a}
    starts = sorted(e.decoded("DTSTART") for e in events(response))
    assert starts == sorted(lead.scheduled_date for lead in a)
    b_events = events(anonymous.get(feed_path(token_b)))
    assert {str(e["SUMMARY"]) for e in b_events} == {
        f"{lead.person_name} ({lead.company_name})" for lead in b
    }
    assert anonymous.get(feed_path("not-a-token")).status_code == 404
    assert anonymous.get(feed_path(token_a[:-1] + "x")).status_code == 404


def test_a_new_address_retires_the_old_one_and_leaving_retires_all(approved, tenant_a):
    old = calendar_feed_reset(organization=tenant_a.org, user=tenant_a.member)
    new = calendar_feed_reset(organization=tenant_a.org, user=tenant_a.member)
    assert Client().get(feed_path(old)).status_code == 404
    assert Client().get(feed_path(new)).status_code == 200
    Membership.objects.for_org(tenant_a.org).filter(user=tenant_a.member).delete()
    assert Client().get(feed_path(new)).status_code == 404


def test_the_calendar_page_shows_the_new_address_once(approved, tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    response = client.post(
        reverse("leads:calendar-feed-reset", kwargs={"org_slug": tenant_a.org.slug})
    )
    body = response.content.decode()
    (address,) = re.findall(r"http://[^<\s\"]+/calendar-feeds/[^<\s\"]+\.ics", body)
    token = address.rsplit("/", 1)[1].removesuffix(".ics")
    assert Client().get(feed_path(token)).status_code == 200
    page = client.get(reverse("leads:calendar", kwargs={"org_slug": tenant_a.org.slug}))
    assert address not in page.content.decode()


def test_the_digest_tells_members_who_want_it(night, tenant_a, tenant_b):
    night(tenant_a, size=3)
    tenant_a.admin.wants_digest = False
    tenant_a.admin.save()
    log = digest_send(organization=tenant_a.org, on=dt.date(2026, 11, 26))
    assert log is not None and log.pending_leads == 3
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["member@alpha.example", "owner@alpha.example"]
    message = mail.outbox[0]
    assert "3 new leads await approval" in message.subject
    assert "/o/alpha/queue/" in message.body
    assert "/accounts/profile/" in message.body  # where to turn it off
    # Once per day; and organisation B, with nothing waiting, gets nothing.
    assert digest_send(organization=tenant_a.org, on=dt.date(2026, 11, 26)) is None
    assert digest_send(organization=tenant_b.org, on=dt.date(2026, 11, 26)) is None
    assert len(mail.outbox) == 2
    assert not DigestLog.objects.for_org(tenant_b.org).exists()


def test_the_digest_is_due_at_the_local_morning_hour(tenant_a, tenant_b):
    tenant_a.org.timezone = "Asia/Tokyo"
    tenant_a.org.save()
    at = dt.datetime(2026, 11, 26, 23, 0, tzinfo=dt.UTC)  # 08:00 in Tokyo, 23:00 in London
    due = digest_due(now=at)
    assert [(org.id, day) for org, day in due] == [(tenant_a.org.id, dt.date(2026, 11, 27))]


def test_run_nightly_runs_the_night_in_process(sandbox, prefix, tenant_a, tenant_b, capsys):
    from .world import segment_for, world_build

    world = world_build(prefix=prefix, size=3, verifiable=lambda i: i != 0)
    sandbox(world.domains)
    segment_for(world, tenant_a.org)
    call_command("run_nightly", "--org", tenant_a.org.slug, "--date", "2026-11-20")
    out = capsys.readouterr().out
    assert "leads=2 charged=2" in out
    run = SearchRun.objects.for_org(tenant_a.org).get()
    assert run.run_date == dt.date(2026, 11, 20) and run.status == "succeeded"
    call_command("run_nightly", "--org", tenant_a.org.slug, "--date", "2026-11-20")
    assert "already succeeded" in capsys.readouterr().out
    assert Lead.objects.for_org(tenant_a.org).count() == 2
    assert not SearchRun.objects.for_org(tenant_b.org).exists()
    with pytest.raises(CommandError, match="--org"):
        call_command("run_nightly", "--org", "nobody")
    with pytest.raises(CommandError, match="--date"):
        call_command("run_nightly", "--date", "26/11/2026")


def test_the_calendar_page_says_an_address_exists_and_asks_before_replacing_it(
    tenant_a, tenant_b, django_assert_max_num_queries
):
    calendar = reverse("leads:calendar", kwargs={"org_slug": tenant_a.org.slug})
    client = tenant_a.client_for(tenant_a.member)
    calendar_feed_reset(organization=tenant_b.org, user=tenant_b.member)
    calendar_feed_reset(organization=tenant_a.org, user=tenant_a.admin)
    body = client.get(calendar).content.decode()
    assert "Create my calendar address" in body and "data-confirm" not in body

    calendar_feed_reset(organization=tenant_a.org, user=tenant_a.member)
    with django_assert_max_num_queries(12):
        body = client.get(calendar).content.decode()
    assert "You created your private ICS address on" in body
    assert "no calendar app has read it yet" in body
    assert 'data-confirm="Create a new calendar address?' in body
    assert "Create another address" in body
