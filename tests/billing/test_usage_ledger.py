"""The usage ledger: one charge per lead, never past the quota, append-only, tenant-scoped."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import (
    DatabaseError,
    IntegrityError,
    close_old_connections,
    connection,
    transaction,
)

from billing.models import BillingPeriod, LedgerEntry, UsageEvent, usage_event_uuid
from billing.selectors import (
    billing_invariant_violations,
    billing_quota_remaining,
    usage_counts,
)
from billing.services import (
    QuotaExhausted,
    billing_month_of,
    billing_period_lock,
    usage_event_record,
    usage_events_record,
)

SNAPSHOT = {"verified": True, "kind": "email", "value": "kari.nordmann@example.no"}
NOW = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)


def charge(org, lead_id, **kwargs):
    with transaction.atomic():
        return usage_event_record(
            organization=org,
            lead_id=lead_id,
            verification_snapshot=kwargs.pop("snapshot", SNAPSHOT),
            occurred_at=kwargs.pop("occurred_at", NOW),
            **kwargs,
        )


def test_a_charge_writes_event_ledger_entry_and_counter(tenant_a, tenant_b):
    event, charged = charge(tenant_a.org, 101, segment_id=7, search_run_id=9)
    assert charged
    assert event.period_start == dt.date(2026, 11, 1)
    assert event.verification_snapshot == SNAPSHOT
    entry = LedgerEntry.objects.for_org(tenant_a.org).get()
    assert (entry.kind, entry.units, entry.usage_event_id) == ("charge", 1, event.id)
    assert entry.idempotency_key == f"charge:{event.id}"
    period = BillingPeriod.objects.for_org(tenant_a.org).get()
    assert period.units_charged == 1
    assert billing_invariant_violations(organization=tenant_a.org) == []
    # Organisation B sees none of it.
    assert usage_counts(organization=tenant_b.org) == {"events": 0, "charges": 0, "credits": 0}
    assert not BillingPeriod.objects.for_org(tenant_b.org).exists()


def test_charging_a_lead_twice_charges_once(tenant_a):
    first, charged_first = charge(tenant_a.org, 5)
    again, charged_again = charge(tenant_a.org, 5)
    assert (charged_first, charged_again) == (True, False)
    assert again.id == first.id
    assert usage_counts(organization=tenant_a.org) == {"events": 1, "charges": 1, "credits": 0}
    assert BillingPeriod.objects.for_org(tenant_a.org).get().units_charged == 1


def test_a_caller_that_holds_the_period_lock_still_charges_each_lead_once(tenant_a, tenant_b):
    """The delivery's path: the period locked once, the leads new in this transaction."""
    charge(tenant_a.org, 5)
    with transaction.atomic():
        period = billing_period_lock(
            organization=tenant_a.org,
            period_start=billing_month_of(organization=tenant_a.org, at=NOW),
        )
        created = usage_events_record(
            organization=tenant_a.org,
            charges=[(6, SNAPSHOT), (7, SNAPSHOT)],
            occurred_at=NOW,
            locked_period=period,
            new_leads=True,
        )
    assert [c for _, c in created] == [True, True]
    # The events come back, and are stored, with their snapshots as given (plain dicts).
    assert [event.verification_snapshot for event, _ in created] == [SNAPSHOT, SNAPSHOT]
    stored = UsageEvent.objects.for_org(tenant_a.org).filter(lead_id__in=[6, 7])
    assert [e.verification_snapshot for e in stored] == [SNAPSHOT, SNAPSHOT]
    assert {e.reason for e in LedgerEntry.objects.for_org(tenant_a.org)} == {
        "found lead 5",
        "found lead 6",
        "found lead 7",
    }
    assert BillingPeriod.objects.for_org(tenant_a.org).get().units_charged == 3
    # A lead that was charged after all (a caller wrong about "new") is refused by the database,
    # and the whole transaction with it.
    with pytest.raises(IntegrityError), transaction.atomic():
        period = billing_period_lock(organization=tenant_a.org, period_start=period.period_start)
        usage_events_record(
            organization=tenant_a.org,
            charges=[(8, SNAPSHOT), (5, SNAPSHOT)],
            occurred_at=NOW,
            locked_period=period,
            new_leads=True,
        )
    assert usage_counts(organization=tenant_a.org) == {"events": 3, "charges": 3, "credits": 0}
    assert billing_invariant_violations(organization=tenant_a.org) == []
    # Another organisation's period, or another month's, is refused before anything is written.
    with transaction.atomic():
        other = billing_period_lock(organization=tenant_b.org, period_start=period.period_start)
        for wrong in (other, period):
            at = NOW if wrong is other else NOW + dt.timedelta(days=10)
            with pytest.raises(ValueError, match="locked_period"):
                usage_events_record(
                    organization=tenant_a.org,
                    charges=[(9, SNAPSHOT)],
                    occurred_at=at,
                    locked_period=wrong,
                    new_leads=True,
                )
    assert usage_counts(organization=tenant_a.org)["events"] == 3
    assert usage_counts(organization=tenant_b.org)["events"] == 0


def test_the_usage_event_id_is_derived_from_our_ids(tenant_a, tenant_b):
    """The future Stripe identifier: the same lead gives the same id on every attempt."""
    event, _ = charge(tenant_a.org, 77)
    assert event.id == usage_event_uuid(organization_id=tenant_a.org.id, lead_id=77)
    other, _ = charge(tenant_b.org, 77)
    assert other.id != event.id  # same lead id in another organisation: another event
    with pytest.raises(IntegrityError), transaction.atomic():
        UsageEvent.objects.create(
            id=event.id,
            organization=tenant_a.org,
            lead_id=78,
            kind="verified",
            period=event.period,
            period_start=event.period_start,
            occurred_at=NOW,
            verification_snapshot=SNAPSHOT,
        )


def test_the_quota_stops_charges_and_writes_nothing(tenant_a):
    tenant_a.org.monthly_lead_quota = 2
    tenant_a.org.save()
    charge(tenant_a.org, 1)
    charge(tenant_a.org, 2)
    assert billing_quota_remaining(organization=tenant_a.org, at=NOW) == 0
    with pytest.raises(QuotaExhausted):
        charge(tenant_a.org, 3)
    assert usage_counts(organization=tenant_a.org)["events"] == 2
    assert BillingPeriod.objects.for_org(tenant_a.org).get().units_charged == 2
    # Next month has its own quota.
    next_month = NOW + dt.timedelta(days=10)
    assert billing_quota_remaining(organization=tenant_a.org, at=next_month) == 2
    _, charged = charge(tenant_a.org, 3, occurred_at=next_month)
    assert charged


def test_the_database_refuses_a_period_over_its_hard_cap(tenant_a):
    charge(tenant_a.org, 1)
    period = BillingPeriod.objects.for_org(tenant_a.org).get()
    with pytest.raises(IntegrityError), transaction.atomic():
        BillingPeriod.objects.for_org(tenant_a.org).filter(pk=period.pk).update(
            units_charged=period.quota_included + 1
        )


def test_only_verified_snapshots_are_charged(tenant_a):
    with pytest.raises(ValueError, match="verified"):
        charge(tenant_a.org, 1, snapshot={"verified": False, "status": "unknown"})
    with pytest.raises(ValueError, match="non-empty"):
        charge(tenant_a.org, 1, snapshot={})
    assert usage_counts(organization=tenant_a.org)["events"] == 0


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused(tenant_a):
    with pytest.raises(RuntimeError, match="transaction"):
        usage_event_record(organization=tenant_a.org, lead_id=1, verification_snapshot=SNAPSHOT)


def test_events_and_ledger_entries_are_append_only(tenant_a):
    charge(tenant_a.org, 1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        UsageEvent.objects.for_org(tenant_a.org).update(kind="found")
    for table in ("billing_ledgerentry", "billing_usageevent"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.for_org(tenant_a.org).update(units=2)
    assert UsageEvent.objects.for_org(tenant_a.org).get().kind == "found"


def test_the_month_is_the_organisations_local_month(tenant_a):
    tenant_a.org.timezone = "Pacific/Auckland"
    tenant_a.org.save()
    late_utc = dt.datetime(2026, 11, 30, 12, 30, tzinfo=dt.UTC)  # 1 Dec 01:30 in Auckland
    assert billing_month_of(organization=tenant_a.org, at=late_utc) == dt.date(2026, 12, 1)
    event, _ = charge(tenant_a.org, 1, occurred_at=late_utc)
    assert event.period_start == dt.date(2026, 12, 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_charges_never_overshoot_the_quota(tenant_a, tenant_b):
    """8 threads race for a quota of 5: exactly 5 charges, the rest refused, no errors."""
    tenant_a.org.monthly_lead_quota = 5
    tenant_a.org.save()
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def work(lead_id: int) -> None:
        close_old_connections()
        try:
            barrier.wait()
            for offset in range(3):
                try:
                    charge(tenant_a.org, lead_id * 10 + offset)
                    outcomes.append("charged")
                except QuotaExhausted:
                    outcomes.append("quota")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("charged") == 5
    assert outcomes.count("quota") == 19
    assert usage_counts(organization=tenant_a.org)["events"] == 5
    assert BillingPeriod.objects.for_org(tenant_a.org).get().units_charged == 5
    assert billing_invariant_violations(organization=tenant_a.org) == []
    assert usage_counts(organization=tenant_b.org)["events"] == 0


def test_a_quota_lowered_during_a_run_binds_that_run(tenant_a):
    """The nightly task loaded its organisation before staff lowered the quota in the admin: the
    charge decides with the quota as it is now, not as the task's copy remembers it."""
    from organizations.models import Organization

    tenant_a.org.monthly_lead_quota = 100
    tenant_a.org.save()
    task_copy = Organization.objects.get(pk=tenant_a.org.pk)
    charge(task_copy, 1)
    charge(task_copy, 2)
    staff_copy = Organization.objects.get(pk=tenant_a.org.pk)
    staff_copy.monthly_lead_quota = 2
    staff_copy.save()
    with pytest.raises(QuotaExhausted):
        charge(task_copy, 3)
    assert billing_quota_remaining(organization=staff_copy, at=NOW) == 0
    assert BillingPeriod.objects.for_org(tenant_a.org).get().units_charged == 2


def test_an_uploaded_contact_is_charged_once_by_its_upload_row(tenant_a, tenant_b):
    """A contact verified from an uploaded list has no lead: its charge names the upload row,
    once, whatever the retries, and does not collide with the lead of the same number."""
    charge(tenant_a.org, 5)
    for _ in range(2):
        with transaction.atomic():
            ((event, _),) = usage_events_record(
                organization=tenant_a.org,
                charges=[(5, SNAPSHOT)],
                kind="verified",
                occurred_at=NOW,
                upload_rows=True,
            )
    assert (event.lead_id, event.upload_row_id, event.kind) == (None, 5, "verified")
    assert event.id == usage_event_uuid(organization_id=tenant_a.org.id, upload_row_id=5)
    assert usage_counts(organization=tenant_a.org)["events"] == 2
    assert BillingPeriod.objects.for_org(tenant_a.org).get().units_charged == 2
    assert not UsageEvent.objects.for_org(tenant_b.org).exists()
