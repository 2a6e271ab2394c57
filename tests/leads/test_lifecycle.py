"""Approve (places on the calendar), reject with a reason, move, mark contacted, notes; the
calendar's capacity, working days and time zone; re-verification of stale evidence."""

from __future__ import annotations

import datetime as dt

import pytest

from leads.models import Lead, LeadStatus
from leads.services import (
    LeadStateError,
    calendar_slots_take,
    calendar_today,
    lead_mark_contacted,
    lead_move,
    lead_notes_update,
    lead_reject,
    leads_approve,
    leads_reject,
)


def pending(org) -> list[Lead]:
    return list(Lead.objects.for_org(org).filter(status=LeadStatus.PENDING_APPROVAL).order_by("id"))


@pytest.fixture
def five_pending(night, tenant_a):
    org = tenant_a.org
    org.leads_per_day = 2
    org.working_days = [0, 1, 2, 3, 4]
    org.save()
    night(tenant_a, size=5)
    return pending(org)


def test_approving_many_places_them_on_the_next_working_days_by_capacity(five_pending, tenant_a):
    org = tenant_a.org
    now = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)  # a Friday
    result = leads_approve(
        organization=org,
        lead_ids=[lead.id for lead in five_pending],
        approved_by=tenant_a.member,
        now=now,
    )
    assert result.failed_reverification == []
    days = sorted(lead.scheduled_date for lead in result.approved)
    friday, monday, tuesday = dt.date(2026, 11, 27), dt.date(2026, 11, 30), dt.date(2026, 12, 1)
    assert days == [friday, friday, monday, monday, tuesday]
    stored = Lead.objects.for_org(org).get(pk=five_pending[0].pk)
    assert stored.status == LeadStatus.APPROVED
    assert stored.decided_by == tenant_a.member
    # Approving again changes nothing (idempotent).
    again = leads_approve(
        organization=org, lead_ids=[five_pending[0].id], approved_by=tenant_a.owner, now=now
    )
    assert again.approved[0].scheduled_date == stored.scheduled_date
    assert Lead.objects.for_org(org).get(pk=five_pending[0].pk).decided_by == tenant_a.member


def test_the_calendar_uses_the_organisations_time_zone(tenant_a):
    org = tenant_a.org
    org.timezone = "Pacific/Auckland"
    org.save()
    utc_evening = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)  # Sat 28 Nov 01:00 Auckland
    assert calendar_today(organization=org, now=utc_evening) == dt.date(2026, 11, 28)
    org.timezone = "America/Los_Angeles"
    assert calendar_today(organization=org, now=utc_evening) == dt.date(2026, 11, 27)


def test_slots_skip_non_working_days_and_full_days(tenant_a):
    org = tenant_a.org
    org.working_days = [1, 3]  # Tuesday, Thursday
    org.leads_per_day = 3
    slots = calendar_slots_take(organization=org, count=7, start=dt.date(2026, 11, 26))
    assert slots == [dt.date(2026, 11, 26)] * 3 + [dt.date(2026, 12, 1)] * 3 + [
        dt.date(2026, 12, 3)
    ]


def test_approval_fills_around_leads_already_on_the_calendar(five_pending, tenant_a):
    org = tenant_a.org
    now = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)  # Monday
    first = five_pending[0]
    leads_approve(organization=org, lead_ids=[first.id], approved_by=None, now=now)
    lead_move(organization=org, lead_id=first.id, to_date=dt.date(2026, 12, 1), now=now)
    result = leads_approve(
        organization=org,
        lead_ids=[lead.id for lead in five_pending[1:]],
        approved_by=None,
        now=now,
    )
    days = sorted(lead.scheduled_date for lead in result.approved)
    assert days == [dt.date(2026, 11, 30)] * 2 + [dt.date(2026, 12, 1), dt.date(2026, 12, 2)]


def test_reject_needs_a_known_reason_and_frees_the_day(five_pending, tenant_a):
    org = tenant_a.org
    lead = five_pending[0]
    with pytest.raises(ValueError, match="reason"):
        lead_reject(organization=org, lead_id=lead.id, rejected_by=None, reason="meh")
    leads_approve(organization=org, lead_ids=[lead.id], approved_by=None)
    rejected = lead_reject(
        organization=org,
        lead_id=lead.id,
        rejected_by=tenant_a.member,
        reason="wrong_person",
        note="Left the company",
    )
    assert (rejected.status, rejected.scheduled_date) == (LeadStatus.REJECTED, None)
    assert (rejected.rejection_reason, rejected.rejection_note) == (
        "wrong_person",
        "Left the company",
    )
    with pytest.raises(LeadStateError):
        leads_approve(organization=org, lead_ids=[lead.id], approved_by=None)


def test_bulk_reject_and_contacted_leads_cannot_be_rejected(five_pending, tenant_a):
    org = tenant_a.org
    a, b, c = five_pending[:3]
    leads_approve(organization=org, lead_ids=[c.id], approved_by=None)
    lead_mark_contacted(organization=org, lead_id=c.id)
    rejected = leads_reject(
        organization=org, lead_ids=[a.id, b.id], rejected_by=None, reason="not_a_fit"
    )
    assert {lead.status for lead in rejected} == {LeadStatus.REJECTED}
    with pytest.raises(LeadStateError, match="Contacted"):
        leads_reject(organization=org, lead_ids=[c.id], rejected_by=None, reason="other")
    assert Lead.objects.for_org(org).get(pk=c.pk).status == LeadStatus.CONTACTED


def test_move_refuses_the_past_and_unscheduled_leads(five_pending, tenant_a):
    org = tenant_a.org
    lead = five_pending[0]
    with pytest.raises(LeadStateError, match="approve"):
        lead_move(organization=org, lead_id=lead.id, to_date=dt.date(2099, 1, 5))
    leads_approve(organization=org, lead_ids=[lead.id], approved_by=None)
    today = calendar_today(organization=org)
    with pytest.raises(ValueError, match="past"):
        lead_move(organization=org, lead_id=lead.id, to_date=today - dt.timedelta(days=1))
    with pytest.raises(ValueError, match="more than a year ahead"):  # 2062 for 2026
        lead_move(organization=org, lead_id=lead.id, to_date=today.replace(year=today.year + 36))
    moved = lead_move(organization=org, lead_id=lead.id, to_date=today + dt.timedelta(days=9))
    assert moved.scheduled_date == today + dt.timedelta(days=9)


def test_another_organisations_lead_is_not_found(five_pending, tenant_a, tenant_b):
    lead = five_pending[0]
    for action in (
        lambda: leads_approve(organization=tenant_b.org, lead_ids=[lead.id], approved_by=None),
        lambda: lead_reject(
            organization=tenant_b.org, lead_id=lead.id, rejected_by=None, reason="other"
        ),
        lambda: lead_move(organization=tenant_b.org, lead_id=lead.id, to_date=dt.date(2099, 1, 1)),
        lambda: lead_notes_update(organization=tenant_b.org, lead_id=lead.id, notes="x"),
    ):
        with pytest.raises(Lead.DoesNotExist):
            action()
    # A bulk action with one foreign id does nothing at all.
    mine = five_pending[1]
    with pytest.raises(Lead.DoesNotExist):
        leads_approve(organization=tenant_a.org, lead_ids=[mine.id, 10**9], approved_by=None)
    assert Lead.objects.for_org(tenant_a.org).get(pk=mine.pk).status == LeadStatus.PENDING_APPROVAL


def test_stale_evidence_is_verified_again_before_approval(night, sandbox, tenant_a):
    world, _, _ = night(tenant_a, size=2)
    org = tenant_a.org
    first, second = pending(org)
    later = first.verified_at + dt.timedelta(days=45)  # past LEADPILOT_LEAD_EVIDENCE_MAX_AGE_DAYS
    # The second CEO's mailbox has gone since; the first's is still there.
    domains = [dict(d) for d in world.domains]
    gone = second.company_snapshot["website_domain"]
    for d in domains:
        if d["domain"] == gone:
            d["mail"] = {**d["mail"], "mailboxes": ["post"]}
    sandbox(domains)
    result = leads_approve(
        organization=org, lead_ids=[first.id, second.id], approved_by=None, now=later
    )
    assert [lead.id for lead in result.approved] == [first.id]
    assert [lead.id for lead in result.failed_reverification] == [second.id]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.verified_at > first.created_at and first.status == LeadStatus.APPROVED
    assert second.status == LeadStatus.PENDING_APPROVAL
    assert second.evidence["reverification"]["verified"] is False


def test_a_contact_blocked_or_suppressed_since_the_lead_was_made_is_not_approved(night, tenant_a):
    from blocklists.services import block_entry_add, suppression_add

    night(tenant_a, size=3)
    org = tenant_a.org
    first, second, third = pending(org)
    later = first.verified_at + dt.timedelta(days=45)  # evidence stale: verified again
    block_entry_add(organization=org, kind="email", value=first.contact_value.upper())
    suppression_add(kind="email", value=second.contact_value, reason="objected")
    result = leads_approve(
        organization=org, lead_ids=[first.id, second.id, third.id], approved_by=None, now=later
    )
    assert [lead.id for lead in result.approved] == [third.id]
    assert sorted(lead.id for lead in result.failed_reverification) == [first.id, second.id]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == LeadStatus.PENDING_APPROVAL
    assert first.evidence["reverification"]["reason"] == "email blocked"
    assert second.evidence["reverification"]["reason"] == "email suppressed"


def test_notes_are_kept(five_pending, tenant_a):
    lead = lead_notes_update(
        organization=tenant_a.org, lead_id=five_pending[0].id, notes="Call after 10"
    )
    assert Lead.objects.for_org(tenant_a.org).get(pk=lead.pk).notes == "Call after 10"
    with pytest.raises(ValueError, match="notes"):
        lead_notes_update(organization=tenant_a.org, lead_id=lead.id, notes="x" * 10_001)


def test_on_the_morning_of_delivery_stale_leads_that_no_longer_verify_go_back_to_the_queue(
    night, sandbox, tenant_a
):
    from leads.services import leads_reverify_scheduled

    world, _, _ = night(tenant_a, size=2, delivery_mode="calendar")
    org = tenant_a.org
    first, second = Lead.objects.for_org(org).order_by("id")
    assert first.scheduled_date == second.scheduled_date  # both on the first free day
    day = first.scheduled_date
    domains = [dict(d) for d in world.domains]
    gone = second.company_snapshot["website_domain"]
    for d in domains:
        if d["domain"] == gone:
            d["mail"] = {**d["mail"], "mailboxes": ["post"]}
    sandbox(domains)
    fresh = leads_reverify_scheduled(organization=org, on=day)
    assert fresh == []  # evidence is new: nothing to do
    later = first.verified_at + dt.timedelta(days=45)
    failed = leads_reverify_scheduled(organization=org, on=day, now=later)
    assert [lead.id for lead in failed] == [second.id]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.scheduled_date) == (LeadStatus.APPROVED, day)
    assert (second.status, second.scheduled_date) == (LeadStatus.PENDING_APPROVAL, None)
    assert second.evidence["reverification"]["verified"] is False
