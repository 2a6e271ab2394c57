"""Writes to the usage ledger. See the contract in billing/models.py and docs/billing.md.

Lock order, everywhere: the organisation's BillingPeriod row first (`billing_period_lock`), then
anything else the transaction writes. The nightly search takes it before creating the lead, so two
runs of one organisation never wait on each other's delivery-record rows while holding the lock.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from leadpilot.db import bulk_create_values
from organizations.models import Organization
from webhooks.events import events_emit

from .models import (
    BillingPeriod,
    BillingPeriodStatus,
    LedgerEntry,
    LedgerEntryKind,
    UsageEvent,
    UsageEventKind,
    usage_event_uuid,
)
from .outbox import stripe_outbox_write
from .plans import plan_terms_of


class QuotaExhausted(Exception):
    """The organisation's hard-capped month has no units left. Roll the transaction back."""

    def __init__(self, period: BillingPeriod) -> None:
        super().__init__(
            f"Monthly lead quota of {period.quota_included} reached for "
            f"{period.period_start:%Y-%m} (organisation {period.organization_id})."
        )
        self.period = period


def billing_quota_of(*, organization: Organization) -> int:
    """The organisation's charged-lead quota of the current month, from its plan (billing/plans.py:
    the free plan without a subscription, an agreement's own quota, staff's override)."""
    period_start = billing_month_of(organization=organization, at=timezone.now())
    return plan_terms_of(organization=organization, period_start=period_start).quota


def billing_month_of(*, organization: Organization, at: dt.datetime) -> dt.date:
    """First day of the month that `at` falls in, in the organisation's timezone."""
    if timezone.is_naive(at):
        raise ValueError("billing_month_of() needs an aware datetime")
    local = at.astimezone(organization.tz)
    return local.date().replace(day=1)


def _month_end(period_start: dt.date) -> dt.date:
    return period_start.replace(day=calendar.monthrange(period_start.year, period_start.month)[1])


def billing_period_lock(*, organization: Organization, period_start: dt.date) -> BillingPeriod:
    """Create the month's period row if missing and lock it FOR UPDATE until the transaction ends.

    Must run inside a transaction. An open period follows the terms of its month as they are now
    (billing/plans.py `plan_terms_of`: the plan's quota and cap; an upgrade raises them at once),
    never below what is already charged on a hard cap, so the hard-cap CHECK holds.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("billing_period_lock() must run inside transaction.atomic()")
    # The terms as they are now, not as the caller's copy of the organisation remembers them (a
    # nightly task loads it once; staff may lower the quota or the plan may change mid-run).
    (current,) = Organization.objects.filter(pk=organization.pk).values_list(
        "monthly_lead_quota", flat=True
    )
    terms = plan_terms_of(
        organization=organization, period_start=period_start, quota_override=current
    )
    quota = terms.quota
    locked = BillingPeriod.objects.for_org(organization).select_for_update()
    period = locked.filter(period_start=period_start).first()
    if period is None:
        # INSERT ... ON CONFLICT DO NOTHING: concurrent first charges of a month create one row.
        BillingPeriod.objects.bulk_create(
            [
                BillingPeriod(
                    organization=organization,
                    period_start=period_start,
                    period_end=_month_end(period_start),
                    quota_included=quota,
                    hard_cap=terms.hard_cap,
                )
            ],
            ignore_conflicts=True,
        )
        period = locked.get(period_start=period_start)
    if period.status == BillingPeriodStatus.OPEN:
        included = max(quota, period.units_net) if terms.hard_cap else quota
        if (period.quota_included, period.hard_cap) != (included, terms.hard_cap):
            period.quota_included, period.hard_cap = included, terms.hard_cap
            period.save(update_fields=["quota_included", "hard_cap", "updated_at"])
    return period


def usage_event_record(
    *,
    organization: Organization,
    lead_id: int,
    verification_snapshot: dict[str, Any],
    kind: str = UsageEventKind.FOUND,
    segment_id: int | None = None,
    search_run_id: int | None = None,
    occurred_at: dt.datetime | None = None,
) -> tuple[UsageEvent, bool]:
    """Charge one lead: a UsageEvent, a +1 LedgerEntry and the month's counter, or nothing.

    Runs inside the caller's (the lead's) transaction, so lead, delivery record and charge commit
    or roll back together; raises RuntimeError outside one. Idempotent: a lead that is already
    charged returns `(existing_event, False)` and charges nothing. Raises QuotaExhausted when the
    hard-capped month is full, and ValueError for an empty or unverified snapshot (only verified
    contacts are charged, invariant I6). Returns `(event, True)` when it charged.
    """
    ((event, created),) = usage_events_record(
        organization=organization,
        charges=[(lead_id, verification_snapshot)],
        kind=kind,
        segment_id=segment_id,
        search_run_id=search_run_id,
        occurred_at=occurred_at,
    )
    return event, created


def usage_events_record(
    *,
    organization: Organization,
    charges: Sequence[tuple[int, dict[str, Any]]],
    kind: str = UsageEventKind.FOUND,
    segment_id: int | None = None,
    search_run_id: int | None = None,
    occurred_at: dt.datetime | None = None,
    locked_period: BillingPeriod | None = None,
    new_leads: bool = False,
    upload_rows: bool = False,
) -> list[tuple[UsageEvent, bool]]:
    """Charge several leads (`charges`: (lead id, verification snapshot) each) of one organisation
    and month under one period lock: one statement per table, whatever their number.

    The rules of usage_event_record, for all of them together: inside the caller's transaction;
    leads already charged are returned with False and charge nothing; QuotaExhausted (nothing
    charged) when the new ones do not all fit in a hard-capped month, so a caller that wants as
    many as fit asks billing_period_lock() for the room first. Returns (event, created) per charge,
    in order.

    `locked_period`: the month's period the caller already locked in this transaction with
    billing_period_lock() (it is not locked again). `new_leads`: the caller created every one of
    these leads in this transaction, so none can have been charged and the lookup of existing
    events is skipped; UNIQUE(organization, lead) still refuses a second event (IntegrityError).

    `upload_rows`: the ids are upload rows' (an uploaded contact verified valid, kind `verified`,
    which makes no lead): the events name the row instead of a lead, with the same rules
    (UNIQUE(organization, upload_row) where there is no lead, ids derived from the row's).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("usage_event_record() must run inside the lead's transaction")
    if kind not in UsageEventKind.values:
        raise ValueError(f"Unknown usage event kind {kind!r}")
    for _, snapshot in charges:
        if not isinstance(snapshot, dict) or not snapshot:
            raise ValueError("verification_snapshot must be a non-empty dict (proof of the charge)")
        if snapshot.get("verified") is not True:
            raise ValueError("Only a lead with a verified contact is charged (snapshot.verified)")
    lead_ids = [lead_id for lead_id, _ in charges]
    if len(set(lead_ids)) != len(lead_ids):
        raise ValueError("A lead is charged once: duplicate lead ids")
    key = "upload_row_id" if upload_rows else "lead_id"
    occurred_at = occurred_at or timezone.now()
    period_start = billing_month_of(organization=organization, at=occurred_at)
    if locked_period is not None:
        if (locked_period.organization_id, locked_period.period_start) != (
            organization.id,
            period_start,
        ):
            raise ValueError("locked_period is not this organisation's period of occurred_at")
        period = locked_period
    else:
        period = billing_period_lock(organization=organization, period_start=period_start)

    # Under the period lock every charge of this organisation and month is serialised, so this
    # read sees any committed charge of the same leads; the UNIQUE constraint backs it anyway.
    charged = UsageEvent.objects.for_org(organization)
    if upload_rows:
        charged = charged.filter(lead_id__isnull=True)
    existing = (
        {}
        if new_leads
        else {getattr(event, key): event for event in charged.filter(**{f"{key}__in": lead_ids})}
    )
    new = [(lead_id, snapshot) for lead_id, snapshot in charges if lead_id not in existing]
    if new and period.hard_cap and period.units_net + len(new) > period.quota_included:
        raise QuotaExhausted(period)
    events = bulk_create_values(
        UsageEvent.objects,
        [
            UsageEvent(
                id=usage_event_uuid(organization_id=organization.id, **{key: lead_id}),
                organization=organization,
                **{key: lead_id},
                segment_id=segment_id,
                search_run_id=search_run_id,
                kind=kind,
                period=period,
                period_start=period_start,
                occurred_at=occurred_at,
                verification_snapshot=snapshot,
            )
            for lead_id, snapshot in new
        ],
        via="verification_snapshot",
    )
    entries = bulk_create_values(
        LedgerEntry.objects,
        [
            LedgerEntry(
                organization=organization,
                period=period,
                usage_event=event,
                kind=LedgerEntryKind.CHARGE,
                units=1,
                reason=(
                    f"{kind} upload row {event.upload_row_id}"
                    if upload_rows
                    else f"{kind} lead {event.lead_id}"
                ),
                idempotency_key=f"charge:{event.id}",
            )
            for event in events
        ],
        via="reason",
    )
    # What Stripe must learn, in this transaction (billing/outbox.py).
    stripe_outbox_write(organization=organization, entries=entries)
    if events:
        BillingPeriod.objects.for_org(organization).filter(pk=period.pk).update(
            units_charged=F("units_charged") + len(events), updated_at=timezone.now()
        )
        # Integrations hear of each charge with it (webhooks/events.py, the same transaction).
        events_emit(
            organization=organization,
            type="usage.recorded",
            items=[
                {
                    "id": str(event.id),
                    "kind": kind,
                    "lead_id": event.lead_id,
                    "upload_row_id": event.upload_row_id,
                    "segment_id": segment_id,
                    "search_run_id": search_run_id,
                    "month": period_start,
                    "occurred_at": occurred_at,
                }
                for event in events
            ],
        )
    created = {getattr(event, key): event for event in events}
    return [
        (existing[lead_id], False) if lead_id in existing else (created[lead_id], True)
        for lead_id in lead_ids
    ]
