"""Disputes and credits on the ledger: one credit per charge whatever the concurrency, the window,
one undecided dispute per lead, credits of closed months, the audit and the members' e-mail."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import close_old_connections, transaction

from billing.disputes import (
    DisputeConflict,
    DisputeStateError,
    dispute_accept,
    dispute_open,
    dispute_reject,
)
from billing.models import BillingPeriod, Dispute, LedgerEntry
from billing.selectors import (
    billing_invariant_violations,
    dispute_eligibility,
    disputes_of_organization,
    usage_counts,
    usage_month,
)
from billing.services import QuotaExhausted, usage_event_record
from organizations.models import AuditEvent

SNAPSHOT = {
    "verified": True,
    "kind": "email",
    "value": "kari.nordmann@example.no",
    "status": "valid",
}


def charge(org, lead_id, *, at=None, snapshot=SNAPSHOT):
    with transaction.atomic():
        event, _ = usage_event_record(
            organization=org,
            lead_id=lead_id,
            verification_snapshot=snapshot,
            occurred_at=at,
        )
    return event


def open_dispute(tenant, lead_id, reason="wrong_person", **kwargs):
    return dispute_open(
        organization=tenant.org,
        lead_id=lead_id,
        reason=reason,
        note=kwargs.pop("note", "Left the company in 2024."),
        created_by=kwargs.pop("created_by", tenant.member),
        **kwargs,
    )


def test_accepting_writes_one_credit_and_gives_the_unit_back(
    tenant_a, tenant_b, mailoutbox, django_capture_on_commit_callbacks
):
    tenant_a.org.monthly_lead_quota = 2
    tenant_a.org.save()
    charge(tenant_a.org, 1)
    charge(tenant_a.org, 2)
    with pytest.raises(QuotaExhausted):
        charge(tenant_a.org, 3)
    dispute = open_dispute(tenant_a, 1)
    assert dispute.status == "awaiting_staff"  # not an objective reason: staff decide
    with django_capture_on_commit_callbacks(execute=True):
        dispute, credited = dispute_accept(
            organization=tenant_a.org,
            dispute_id=dispute.pk,
            decided_by=tenant_a.owner,
            note="Fair.",
        )
    assert credited and dispute.status == "accepted" and dispute.decided_at is not None
    credit = LedgerEntry.objects.for_org(tenant_a.org).get(kind="credit")
    assert (credit.units, credit.usage_event_id) == (-1, dispute.usage_event_id)
    assert credit.idempotency_key == f"credit:{dispute.usage_event_id}"
    period = BillingPeriod.objects.for_org(tenant_a.org).get()
    assert (period.units_charged, period.units_credited, period.units_net) == (2, 1, 1)
    # The unit is back: the month takes one more charge.
    charge(tenant_a.org, 3)
    # Accepting again credits nothing.
    with django_capture_on_commit_callbacks(execute=True):
        again, credited_again = dispute_accept(
            organization=tenant_a.org, dispute_id=dispute.pk, decided_by=tenant_a.owner
        )
    assert (again.status, credited_again) == ("accepted", False)
    assert usage_counts(organization=tenant_a.org)["credits"] == 1
    assert billing_invariant_violations(organization=tenant_a.org) == []
    # Audited, and the members were told (once: the second acceptance changed nothing).
    actions = list(
        AuditEvent.objects.for_org(tenant_a.org)
        .filter(action__startswith="dispute.")
        .values_list("action", flat=True)
    )
    assert sorted(actions) == ["dispute.accept", "dispute.open"]
    assert len(mailoutbox) == 3  # owner, admin, member of Alpha
    assert {m.to[0] for m in mailoutbox} == {
        "owner@alpha.example",
        "admin@alpha.example",
        "member@alpha.example",
    }
    assert "accepted" in mailoutbox[0].subject.lower()
    assert "Fair." in mailoutbox[0].body
    assert "/o/alpha/disputes/" in mailoutbox[0].body
    # Organisation B sees none of it.
    assert not disputes_of_organization(organization=tenant_b.org).exists()
    assert usage_counts(organization=tenant_b.org) == {"events": 0, "charges": 0, "credits": 0}
    assert (
        not AuditEvent.objects.for_org(tenant_b.org).filter(action__startswith="dispute").exists()
    )


def test_one_undecided_dispute_per_lead_and_none_after_a_credit(tenant_a, tenant_b):
    charge(tenant_a.org, 5)
    charge(tenant_b.org, 5)  # the same lead id in B is B's own charge
    first = open_dispute(tenant_a, 5)
    with pytest.raises(DisputeConflict) as exc:
        open_dispute(tenant_a, 5)
    assert exc.value.code == "open"
    assert dispute_eligibility(organization=tenant_a.org, lead_id=5).why_not == "open"
    # B can dispute its own lead 5 independently.
    assert open_dispute(tenant_b, 5).organization_id == tenant_b.org.id
    dispute_reject(
        organization=tenant_a.org, dispute_id=first.pk, decided_by=tenant_a.owner, note="Checked."
    )
    # After a rejection the member may dispute again (with new facts) ...
    second = open_dispute(tenant_a, 5, reason="other", note="He told us he left in May.")
    dispute_accept(organization=tenant_a.org, dispute_id=second.pk, decided_by=tenant_a.owner)
    # ... but never after an acceptance.
    with pytest.raises(DisputeConflict) as exc:
        open_dispute(tenant_a, 5)
    assert exc.value.code == "accepted"
    with pytest.raises(DisputeStateError):
        dispute_accept(organization=tenant_a.org, dispute_id=first.pk, decided_by=tenant_a.owner)
    with pytest.raises(DisputeStateError):
        dispute_reject(
            organization=tenant_a.org, dispute_id=second.pk, decided_by=tenant_a.owner, note="x"
        )
    # A's disputes are not reachable through B.
    with pytest.raises(Dispute.DoesNotExist):
        dispute_accept(organization=tenant_b.org, dispute_id=second.pk, decided_by=tenant_b.owner)
    assert billing_invariant_violations(organization=tenant_a.org) == []
    assert billing_invariant_violations(organization=tenant_b.org) == []


def test_other_needs_a_note_and_the_window_closes(tenant_a, tenant_b, settings):
    settings.LEADPILOT_DISPUTE_WINDOW_DAYS = 30
    delivered = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)
    charge(tenant_a.org, 9, at=delivered)
    with pytest.raises(ValueError, match="note"):
        open_dispute(tenant_a, 9, reason="other", note="  ")
    late = delivered + dt.timedelta(days=31)
    with pytest.raises(DisputeConflict) as exc:
        open_dispute(tenant_a, 9, now=late)
    assert exc.value.code == "window"
    assert dispute_eligibility(organization=tenant_a.org, lead_id=9, now=late).why_not == "window"
    assert open_dispute(tenant_a, 9, now=delivered + dt.timedelta(days=29)).pk
    # A lead A was never charged for (B's) is not found.
    charge(tenant_b.org, 10)
    from billing.models import UsageEvent

    with pytest.raises(UsageEvent.DoesNotExist):
        open_dispute(tenant_a, 10)


def test_a_credit_after_the_month_lands_in_the_open_month(tenant_a, tenant_b):
    october = dt.datetime(2026, 10, 20, 8, 0, tzinfo=dt.UTC)
    november = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC)
    event = charge(tenant_a.org, 1, at=october)
    charge(tenant_a.org, 2, at=november)
    dispute = open_dispute(tenant_a, 1, now=november)
    dispute_accept(
        organization=tenant_a.org, dispute_id=dispute.pk, decided_by=tenant_a.owner, now=november
    )
    periods = {p.period_start.month: p for p in BillingPeriod.objects.for_org(tenant_a.org)}
    assert (periods[10].units_charged, periods[10].units_credited) == (1, 0)
    assert (periods[11].units_charged, periods[11].units_credited) == (1, 1)
    credit = LedgerEntry.objects.for_org(tenant_a.org).get(kind="credit")
    assert credit.period_id == periods[11].pk
    assert credit.usage_event_id == event.id  # names the charge it reverses
    assert "2026-10" in credit.reason
    month = usage_month(organization=tenant_a.org, month=dt.date(2026, 11, 1))
    assert (month.charged, month.credited, month.net) == (1, 1, 0)
    assert billing_invariant_violations(organization=tenant_a.org) == []
    assert usage_month(organization=tenant_b.org, month=dt.date(2026, 11, 1)).charged == 0


@pytest.mark.django_db(transaction=True)
def test_the_same_dispute_accepted_three_times_at_once_credits_once(tenant_a, tenant_b):
    charge(tenant_a.org, 1)
    dispute = open_dispute(tenant_a, 1)
    barrier = threading.Barrier(3)
    results, errors = [], []

    def accept() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(
                dispute_accept(
                    organization=tenant_a.org, dispute_id=dispute.pk, decided_by=tenant_a.owner
                )[1]
            )
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=accept) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sorted(results) == [False, False, True]
    assert usage_counts(organization=tenant_a.org)["credits"] == 1
    assert BillingPeriod.objects.for_org(tenant_a.org).get().units_credited == 1
    assert billing_invariant_violations(organization=tenant_a.org) == []
    assert usage_counts(organization=tenant_b.org)["credits"] == 0


@pytest.mark.django_db(transaction=True)
def test_accepting_disputes_while_a_nightly_run_charges_keeps_the_cap_and_every_invariant(
    tenant_a, tenant_b
):
    """The nightly search's charging path (period lock, then a chunk of new leads charged under
    it, until the quota stops it) races staff accepting disputes of the same organisation."""
    from django.core.management import call_command

    from billing.services import billing_month_of, billing_period_lock, usage_events_record

    org = tenant_a.org
    org.monthly_lead_quota = 20
    org.save()
    for lead_id in range(1, 11):
        charge(org, lead_id)
    disputes = [open_dispute(tenant_a, lead_id) for lead_id in range(1, 7)]
    charge(tenant_b.org, 1)
    barrier = threading.Barrier(4)
    errors: list[Exception] = []
    stopped = []

    def nightly() -> None:
        try:
            barrier.wait(timeout=10)
            next_lead = 100
            while True:
                try:
                    with transaction.atomic():
                        now = dt.datetime.now(dt.UTC)
                        period = billing_period_lock(
                            organization=org,
                            period_start=billing_month_of(organization=org, at=now),
                        )
                        usage_events_record(
                            organization=org,
                            charges=[(next_lead + i, SNAPSHOT) for i in range(2)],
                            occurred_at=now,
                            locked_period=period,
                            new_leads=True,
                        )
                    next_lead += 2
                except QuotaExhausted:
                    stopped.append(next_lead)
                    return
        except Exception as exc:
            errors.append(exc)
        finally:
            close_old_connections()

    def staff(chunk) -> None:
        try:
            barrier.wait(timeout=10)
            for dispute in chunk:
                dispute_accept(organization=org, dispute_id=dispute.pk, decided_by=tenant_a.owner)
        except Exception as exc:
            errors.append(exc)
        finally:
            close_old_connections()

    # Three reviewers; two of them work on the same disputes at once.
    threads = [
        threading.Thread(target=nightly),
        threading.Thread(target=staff, args=(disputes[:3],)),
        threading.Thread(target=staff, args=(disputes[3:],)),
        threading.Thread(target=staff, args=(disputes[::-1],)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert stopped, "the run stopped at the quota"
    period = BillingPeriod.objects.for_org(org).get()
    assert period.units_credited == 6
    assert period.units_net <= period.quota_included  # the hard cap held
    assert usage_counts(organization=org)["credits"] == 6
    assert billing_invariant_violations(organization=org) == []
    # billing_audit agrees, for every organisation.
    import io
    import json

    out = io.StringIO()
    call_command("billing_audit", stdout=out)
    assert json.loads(out.getvalue()) == {"organizations": 2, "violations": []}
    assert usage_counts(organization=tenant_b.org) == {"events": 1, "charges": 1, "credits": 0}


def test_billing_audit_names_a_violation_and_exits_1(tenant_a, tenant_b):
    import io
    import json

    from django.core.management import call_command

    charge(tenant_a.org, 1)
    out = io.StringIO()
    call_command("billing_audit", "--org", "alpha", stdout=out)
    assert json.loads(out.getvalue()) == {"organizations": 1, "violations": []}
    # A counter that disagrees with the ledger (written behind the services' back).
    BillingPeriod.objects.for_org(tenant_b.org).update(units_credited=0)  # B has none: no-op
    charge(tenant_b.org, 1)
    BillingPeriod.objects.for_org(tenant_b.org).update(units_credited=1)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("billing_audit", stdout=out)
    assert exit_.value.code == 1
    report = json.loads(out.getvalue())
    assert report["organizations"] == 2
    problems = {(v["organization"], v["problem"].split(":")[0]) for v in report["violations"]}
    assert problems == {("bravo", "I3"), ("bravo", "C4")}


def test_staff_accept_and_reject_in_the_admin_with_a_note(
    tenant_a, tenant_b, client, django_capture_on_commit_callbacks, mailoutbox
):
    from organizations.models import User

    staff = User.objects.create_superuser("staff@example.com", "pw-staff-1234")
    client.force_login(staff)
    for lead_id in (1, 2):
        charge(tenant_a.org, lead_id)
    charge(tenant_b.org, 3)
    one, two = open_dispute(tenant_a, 1), open_dispute(tenant_a, 2)
    three = open_dispute(tenant_b, 3)
    listing = client.get("/admin/billing/dispute/?status__exact=awaiting_staff&age=lt24")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "alpha" in html.lower() and "bravo" in html.lower()  # staff see every organisation
    high = client.get("/admin/billing/dispute/?rate=high").content.decode()
    assert f"/admin/billing/dispute/{one.pk}/change/" in high  # 2 disputes of 2 charges
    detail = client.get(f"/admin/billing/dispute/{one.pk}/change/").content.decode()
    assert SNAPSHOT["value"] in detail
    # The action asks for a note first ...
    ask = client.post(
        "/admin/billing/dispute/",
        {"action": "reject_selected", "_selected_action": [one.pk]},
    )
    assert ask.status_code == 200 and "Note to the customer" in ask.content.decode()
    # ... refuses a rejection without one ...
    client.post(
        "/admin/billing/dispute/",
        {"action": "reject_selected", "_selected_action": [one.pk], "apply": "1", "note": ""},
    )
    assert Dispute.objects.for_org(tenant_a.org).get(pk=one.pk).status == "awaiting_staff"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/billing/dispute/",
            {
                "action": "reject_selected",
                "_selected_action": [one.pk],
                "apply": "1",
                "note": "The address verified again today.",
            },
        )
        client.post(
            "/admin/billing/dispute/",
            {
                "action": "accept_selected",
                "_selected_action": [two.pk, three.pk],
                "apply": "1",
                "note": "",
            },
        )
    one.refresh_from_db()
    assert (one.status, one.decision_note, one.decided_by) == (
        "rejected",
        "The address verified again today.",
        staff,
    )
    assert Dispute.objects.for_org(tenant_a.org).get(pk=two.pk).status == "accepted"
    assert Dispute.objects.for_org(tenant_b.org).get(pk=three.pk).status == "accepted"
    assert usage_counts(organization=tenant_a.org)["credits"] == 1
    assert usage_counts(organization=tenant_b.org)["credits"] == 1
    audited = AuditEvent.objects.for_org(tenant_a.org).filter(
        action__in=["dispute.accept", "dispute.reject"]
    )
    assert {(e.action, e.actor_id) for e in audited} == {
        ("dispute.reject", staff.pk),
        ("dispute.accept", staff.pk),
    }
    # Alpha's 3 members got 2 e-mails each, Bravo's 3 one each.
    assert len(mailoutbox) == 9
    assert any("verified again today" in m.body for m in mailoutbox if "alpha" in m.to[0])
