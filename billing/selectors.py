"""Reads of the usage ledger, disputes and the usage page."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncDate
from django.utils import timezone

from organizations.models import Organization

from .models import (
    UNDECIDED_STATUSES,
    BillingPeriod,
    Dispute,
    DisputeReason,
    DisputeStatus,
    LedgerEntry,
    LedgerEntryKind,
    UsageEvent,
    UsageEventKind,
)
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
        events.filter(lead_id__isnull=False)
        .values("lead_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("lead_id")
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
    per_period = {
        row["period_id"]: row
        for row in entries.values("period_id").annotate(
            net=Sum("units"),
            charges=Count("id", filter=Q(kind=LedgerEntryKind.CHARGE)),
            credits=Count("id", filter=Q(kind=LedgerEntryKind.CREDIT)),
        )
    }
    for period in BillingPeriod.objects.for_org(organization):
        row = per_period.get(period.pk, {"net": 0, "charges": 0, "credits": 0})
        month = f"{period.period_start:%Y-%m}"
        if period.units_net != row["net"]:
            problems.append(f"I3: period {month} counter {period.units_net} != ledger {row['net']}")
        if period.units_credited != row["credits"]:
            problems.append(
                f"C4: period {month} units_credited {period.units_credited} "
                f"!= {row['credits']} credit entries"
            )
        if period.hard_cap and period.units_net > period.quota_included:
            problems.append(f"I8: period {month} exceeds its quota")
    problems += _credit_violations(organization=organization, entries=entries)
    return problems


def _credit_violations(*, organization: Organization, entries: QuerySet[LedgerEntry]) -> list[str]:
    """C1 at most one credit per charge; C2 a credit only for an accepted dispute (and C3 every
    accepted dispute credited); C5 the organisation's net units never negative."""
    problems: list[str] = []
    credits = entries.filter(kind=LedgerEntryKind.CREDIT)
    doubled = (
        credits.values("usage_event_id").annotate(n=Count("id")).filter(n__gt=1)
    ).values_list("usage_event_id", flat=True)
    problems += [f"C1: charge {event_id} has more than one credit" for event_id in doubled]
    disputes = Dispute.objects.for_org(organization)
    accepted = disputes.filter(usage_event=OuterRef("usage_event"), status=DisputeStatus.ACCEPTED)
    unbacked = credits.filter(~Exists(accepted)).values_list("usage_event_id", flat=True)
    problems += [
        f"C2: credit of charge {event_id} has no accepted dispute" for event_id in unbacked
    ]
    credited = credits.filter(usage_event=OuterRef("usage_event"))
    uncredited = disputes.filter(status=DisputeStatus.ACCEPTED).filter(~Exists(credited))
    problems += [
        f"C3: accepted dispute {pk} has no credit" for pk in uncredited.values_list("pk", flat=True)
    ]
    total = entries.aggregate(net=Sum("units"))["net"] or 0
    if total < 0:
        problems.append(f"C5: net units {total} are negative")
    return problems


def usage_counts(*, organization: Organization) -> dict[str, int]:
    """Totals for the usage page and benches: events, charges, credits."""
    entries = LedgerEntry.objects.for_org(organization).aggregate(
        charges=Count("id", filter=Q(kind=LedgerEntryKind.CHARGE)),
        credits=Count("id", filter=Q(kind=LedgerEntryKind.CREDIT)),
    )
    return {"events": UsageEvent.objects.for_org(organization).count(), **entries}


# --- disputes -----------------------------------------------------------------------------------


def disputes_of_organization(
    *, organization: Organization, status: str | None = None, reason: str | None = None
) -> QuerySet[Dispute]:
    """Newest first, with the charge each one disputes (no query per row)."""
    disputes = Dispute.objects.for_org(organization).select_related("usage_event")
    if status == "undecided":
        disputes = disputes.filter(status__in=UNDECIDED_STATUSES)
    elif status:
        disputes = disputes.filter(status=status)
    if reason:
        disputes = disputes.filter(reason=reason)
    return disputes.order_by("-created_at", "-id")


def dispute_get(*, organization: Organization, dispute_id: int) -> Dispute:
    return Dispute.objects.for_org(organization).select_related("usage_event").get(pk=dispute_id)


def disputes_of_lead(*, organization: Organization, lead_id: int) -> list[Dispute]:
    return list(
        Dispute.objects.for_org(organization).filter(lead_id=lead_id).order_by("-created_at")
    )


@dataclass(frozen=True)
class DisputeEligibility:
    """Whether a lead can be disputed now, and if not why (for a page's button)."""

    can_dispute: bool
    why_not: str = ""  # not_charged | open | accepted | window
    deadline: dt.datetime | None = None


def dispute_eligibility(
    *, organization: Organization, lead_id: int, now: dt.datetime | None = None
) -> DisputeEligibility:
    from .disputes import dispute_deadline

    event = UsageEvent.objects.for_org(organization).filter(lead_id=lead_id).first()
    if event is None:
        return DisputeEligibility(False, "not_charged")
    deadline = dispute_deadline(usage_event=event)
    disputes = Dispute.objects.for_org(organization).filter(lead_id=lead_id)
    if disputes.filter(status__in=UNDECIDED_STATUSES).exists():
        return DisputeEligibility(False, "open", deadline)
    credited = LedgerEntry.objects.for_org(organization).filter(
        usage_event=event, kind=LedgerEntryKind.CREDIT
    )
    if credited.exists():
        return DisputeEligibility(False, "accepted", deadline)
    if (now or timezone.now()) > deadline:
        return DisputeEligibility(False, "window", deadline)
    return DisputeEligibility(True, "", deadline)


# --- usage page ---------------------------------------------------------------------------------


@dataclass
class UsageDay:
    day: dt.date
    charged: int = 0
    credited: int = 0

    @property
    def net(self) -> int:
        return self.charged - self.credited


@dataclass(frozen=True)
class UsageKind:
    kind: str
    label: str
    charged: int


@dataclass
class UsageMonth:
    period_start: dt.date
    period_end: dt.date
    quota: int
    hard_cap: bool
    charged: int
    credited: int
    days: list[UsageDay] = field(default_factory=list)
    # Charges by kind (found / enriched / verified), the kinds the month has, in that order.
    kinds: list[UsageKind] = field(default_factory=list)

    @property
    def net(self) -> int:
        return self.charged - self.credited

    @property
    def remaining(self) -> int:
        return max(0, self.quota - self.net)


def usage_month(*, organization: Organization, month: dt.date) -> UsageMonth:
    """Quota, charged, credited and net of one month, per day (the organisation's days) and per
    usage kind. Charges count on the day of the charge; credits on the day they were written.
    Three queries."""
    start = month.replace(day=1)
    period = BillingPeriod.objects.for_org(organization).filter(period_start=start).first()
    tz = organization.tz
    charged_by_day: dict[dt.date, int] = {}
    charged_by_kind: dict[str, int] = {}
    rows = (
        UsageEvent.objects.for_org(organization)
        .filter(period_start=start)
        .annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .values("day", "kind")
        .annotate(n=Count("id"))
        .values_list("day", "kind", "n")
        .order_by()
    )
    for day, kind, n in rows:
        charged_by_day[day] = charged_by_day.get(day, 0) + n
        charged_by_kind[kind] = charged_by_kind.get(kind, 0) + n
    credited_by_day: dict[dt.date, int] = {}
    if period is not None:
        credited_by_day = dict(
            LedgerEntry.objects.for_org(organization)
            .filter(period=period, kind=LedgerEntryKind.CREDIT)
            .annotate(day=TruncDate("created_at", tzinfo=tz))
            .values("day")
            .annotate(n=Count("id"))
            .values_list("day", "n")
        )
    days = [
        UsageDay(day=day, charged=charged_by_day.get(day, 0), credited=credited_by_day.get(day, 0))
        for day in sorted(set(charged_by_day) | set(credited_by_day))
    ]
    kinds = [
        UsageKind(kind=kind, label=str(label), charged=charged_by_kind[kind])
        for kind, label in UsageEventKind.choices
        if charged_by_kind.get(kind)
    ]
    return UsageMonth(
        period_start=start,
        period_end=period.period_end
        if period
        else start.replace(day=calendar.monthrange(start.year, start.month)[1]),
        quota=period.quota_included if period else billing_quota_of(organization=organization),
        hard_cap=period.hard_cap if period else True,
        charged=period.units_charged if period else 0,
        credited=period.units_credited if period else 0,
        days=days,
        kinds=kinds,
    )


@dataclass(frozen=True)
class BounceRate:
    status: str
    charged: int
    bounced: int

    @property
    def rate(self) -> float:
        return self.bounced / self.charged if self.charged else 0.0

    @property
    def percent(self) -> float:
        return 100 * self.rate


def bounce_rates(*, organization: Organization) -> list[BounceRate]:
    """Reported bounces (disputes with reason `bounced`, whatever their outcome) per verification
    status of the e-mail at charge time. One query."""
    bounced = Dispute.objects.for_org(organization).filter(
        usage_event=OuterRef("pk"), reason=DisputeReason.BOUNCED
    )
    rows = (
        UsageEvent.objects.for_org(organization)
        .filter(verification_snapshot__kind="email")
        .annotate(status=KeyTextTransform("status", "verification_snapshot"))
        .values("status")
        .annotate(charged=Count("id"), bounced=Count("id", filter=Exists(bounced)))
        .order_by("status")
    )
    return [
        BounceRate(status=row["status"] or "", charged=row["charged"], bounced=row["bounced"])
        for row in rows
    ]


def dispute_rate(*, organization: Organization, since: dt.datetime) -> float:
    """Disputes opened per charged lead since `since` (the admin's high/normal filter)."""
    charged = UsageEvent.objects.for_org(organization).filter(occurred_at__gte=since).count()
    disputed = Dispute.objects.for_org(organization).filter(created_at__gte=since).count()
    return disputed / charged if charged else 0.0


DECISION_NOTICE_DAYS = 7


def disputes_decided_recently(
    *, organization: Organization, now: dt.datetime | None = None
) -> list[Dispute]:
    """Disputes accepted or rejected in the last DECISION_NOTICE_DAYS days, newest decision first
    (the overview's notice: every member sees what became of the organisation's disputes)."""
    since = (now or timezone.now()) - dt.timedelta(days=DECISION_NOTICE_DAYS)
    return list(
        Dispute.objects.for_org(organization)
        .filter(status__in=(DisputeStatus.ACCEPTED, DisputeStatus.REJECTED), decided_at__gte=since)
        .select_related("usage_event")
        .order_by("-decided_at", "-id")[:10]
    )
