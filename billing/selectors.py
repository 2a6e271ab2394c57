"""Reads of the usage ledger."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet, Sum

from organizations.models import Organization

from .models import BillingPeriod, LedgerEntry, LedgerEntryKind, UsageEvent
from .services import billing_month_of, billing_quota_of


def billing_quota_remaining(*, organization: Organization, at: dt.datetime) -> int | None:
    """Units the organisation may still be charged in the month of `at` (no lock: an estimate
    for sizing work; the charge itself decides under the lock). None means no hard cap."""
    period_start = billing_month_of(organization=organization, at=at)
    period = BillingPeriod.objects.for_org(organization).filter(period_start=period_start).first()
    quota = billing_quota_of(organization=organization)
    if period is None:
        return quota
    if not period.hard_cap:
        return None
    return max(0, max(quota, period.units_net) - period.units_net)


def usage_events_of_organization(*, organization: Organization) -> QuerySet[UsageEvent]:
    return UsageEvent.objects.for_org(organization).order_by("-occurred_at", "id")


def billing_periods_of_organization(*, organization: Organization) -> QuerySet[BillingPeriod]:
    return BillingPeriod.objects.for_org(organization).order_by("-period_start")


def billing_invariant_violations(*, organization: Organization) -> list[str]:
    """Reconciliation of invariants I1-I3 for one organisation; an empty list means consistent."""
    problems: list[str] = []
    events = UsageEvent.objects.for_org(organization)
    duplicates = (
        events.values("lead_id").annotate(n=Count("id")).filter(n__gt=1).values_list("lead_id")
    )
    problems += [f"I1: lead {lead_id} has more than one usage event" for (lead_id,) in duplicates]
    entries = LedgerEntry.objects.for_org(organization)
    bad_nets = (
        entries.filter(usage_event__isnull=False)
        .values("usage_event_id")
        .annotate(net=Sum("units"))
        .exclude(net__in=[0, 1])
    )
    problems += [f"I2: usage event {row['usage_event_id']} nets {row['net']}" for row in bad_nets]
    charged_events = set(
        entries.filter(kind=LedgerEntryKind.CHARGE).values_list("usage_event_id", flat=True)
    )
    uncharged = events.exclude(id__in=charged_events).values_list("id", flat=True)
    problems += [f"I2: usage event {event_id} has no charge entry" for event_id in uncharged]
    sums = dict(
        entries.values("period_id").annotate(net=Sum("units")).values_list("period_id", "net")
    )
    for period in BillingPeriod.objects.for_org(organization):
        if period.units_net != sums.get(period.pk, 0):
            problems.append(
                f"I3: period {period.period_start:%Y-%m} counter {period.units_net} "
                f"!= ledger {sums.get(period.pk, 0)}"
            )
        if period.hard_cap and period.units_net > period.quota_included:
            problems.append(f"I8: period {period.period_start:%Y-%m} exceeds its quota")
    return problems


def usage_counts(*, organization: Organization) -> dict[str, int]:
    """Totals for the usage page and benches: events, charges, credits."""
    entries = LedgerEntry.objects.for_org(organization).aggregate(
        charges=Count("id", filter=Q(kind=LedgerEntryKind.CHARGE)),
        credits=Count("id", filter=Q(kind=LedgerEntryKind.CREDIT)),
    )
    return {"events": UsageEvent.objects.for_org(organization).count(), **entries}
