"""Plans: what an organisation's billing month includes and costs (reads only).

Contract (docs/billing.md, "Plans and subscriptions"):

- An organisation without a Subscription row is on the free plan. Billing resolves this lazily
  instead of `organization_create` creating a row: `organizations` depends on no feature app, so
  it cannot call billing, and a signal would hide a business rule. Every reader goes through
  `plan_terms_of`, so "no row" and "a row on the free plan" cannot differ.
- The terms of a month: the subscription's plan, or its `pending_plan` from `pending_from` on (a
  downgrade waits for the next month); a canceled subscription is the free plan; an agreement
  plan takes the organisation's own quota and prices from its subscription. A subscription's
  first month includes the plan's free-trial leads on top of the quota.
- `Organization.monthly_lead_quota`, when staff set it, overrides the plan's quota (a support
  tool that predates plans); the cap and the prices still follow the plan.
- Past due: the nightly search goes on for LEADPILOT_PAST_DUE_GRACE_DAYS after Stripe marked the
  subscription past due, then pauses (`billing_search_paused`) until Stripe says it is paid.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import environ
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from organizations.models import Organization

from .models import (
    FREE_PLAN_CODE,
    Invoice,
    Plan,
    PlanKind,
    Subscription,
    SubscriptionStatus,
)

# The seeded free plan (migration 0005), for a database whose rows were flushed (tests) or
# deleted by staff: "no subscription = free" must never depend on a row existing.
FREE_PLAN_DEFAULTS = {
    "code": FREE_PLAN_CODE,
    "name": "Free",
    "kind": PlanKind.FREE,
    "currency": "EUR",
    "monthly_quota": 25,
    "price_per_month": Decimal("0"),
    "price_per_extra_lead": Decimal("0"),
    "hard_cap": True,
    "free_trial_leads": 0,
    "is_public": True,
}


_env = environ.Env()
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,40}")


def billing_setting(name: str, default: str) -> str:
    """A billing setting: Django's when settings define it (tests override it), else the
    environment's (.env.example documents each)."""
    if hasattr(settings, name):
        return str(getattr(settings, name))
    return str(_env.str(name, default=default))


def past_due_grace() -> dt.timedelta:
    return dt.timedelta(days=float(billing_setting("LEADPILOT_PAST_DUE_GRACE_DAYS", "7")))


def stripe_enabled() -> bool:
    """Stripe is on when STRIPE_API_KEY is set (docs/billing.md)."""
    return bool(billing_setting("STRIPE_API_KEY", ""))


def plan_free() -> Plan:
    return Plan.objects.filter(code=FREE_PLAN_CODE).first() or Plan(**FREE_PLAN_DEFAULTS)


def plans_offered(*, currency: str | None = None) -> QuerySet[Plan]:
    """The plans an owner may pick on the Billing page (active and public)."""
    plans = Plan.objects.filter(is_active=True, is_public=True)
    if currency:
        plans = plans.filter(currency=currency) | plans.filter(kind=PlanKind.FREE)
    return plans.order_by("sort_order", "price_per_month", "code")


def plan_offered_get(*, code: str) -> Plan:
    """An offered plan by code (Plan.DoesNotExist otherwise, also for a code that is no slug)."""
    if not _SLUG.fullmatch(code):
        raise Plan.DoesNotExist(f"No plan {code!r}")
    return Plan.objects.get(code=code, is_active=True, is_public=True)


def subscription_of(*, organization: Organization) -> Subscription | None:
    return Subscription.objects.for_org(organization).select_related("plan", "pending_plan").first()


@dataclass(frozen=True)
class PlanTerms:
    """A month's plan as billing applies it."""

    plan: Plan
    quota: int
    hard_cap: bool
    currency: str
    price_per_month: Decimal
    price_per_extra_lead: Decimal
    trial_leads: int = 0

    def expected_cost(self, *, net_units: int) -> Decimal:
        """The month's fee plus the leads beyond the quota at the overage price (soft cap)."""
        return self.price_per_month + self.overage(net_units=net_units) * self.price_per_extra_lead

    def overage(self, *, net_units: int) -> int:
        return 0 if self.hard_cap else max(0, net_units - self.quota)


def plan_of_month(*, subscription: Subscription | None, period_start: dt.date) -> Plan:
    """The plan that applies to the month starting `period_start`."""
    if subscription is None or subscription.status == SubscriptionStatus.CANCELED:
        return plan_free()
    pending = subscription.pending_plan
    if (
        pending is not None
        and subscription.pending_from
        and period_start >= subscription.pending_from
    ):
        return pending
    return subscription.plan


def plan_terms_of(
    *,
    organization: Organization,
    period_start: dt.date,
    subscription: Subscription | bool | None = True,
    quota_override: int | bool | None = True,
) -> PlanTerms:
    """The terms of the organisation's month starting `period_start` (see the module contract).

    `subscription` and `quota_override` default to reading them (True); callers that already hold
    them pass them (None meaning none) to save a query."""
    sub = subscription_of(organization=organization) if subscription is True else subscription
    assert sub is None or isinstance(sub, Subscription)
    override = organization.monthly_lead_quota if quota_override is True else quota_override
    plan = plan_of_month(subscription=sub, period_start=period_start)
    quota, per_month, per_lead = plan.monthly_quota, plan.price_per_month, plan.price_per_extra_lead
    if plan.kind == PlanKind.AGREEMENT and sub is not None:
        quota = sub.agreement_quota if sub.agreement_quota is not None else quota
        if sub.agreement_price_per_month is not None:
            per_month = sub.agreement_price_per_month
        if sub.agreement_price_per_extra_lead is not None:
            per_lead = sub.agreement_price_per_extra_lead
    trial = 0
    if sub is not None and plan.free_trial_leads and plan.pk == sub.plan_id:
        started = timezone.localtime(sub.started_at, organization.tz).date().replace(day=1)
        if started == period_start:
            trial = plan.free_trial_leads
    if isinstance(override, int) and not isinstance(override, bool):
        quota, trial = override, 0
    return PlanTerms(
        plan=plan,
        quota=quota + trial,
        hard_cap=plan.hard_cap,
        currency=plan.currency,
        price_per_month=per_month,
        price_per_extra_lead=per_lead,
        trial_leads=trial,
    )


# Minor units per unit of the plans' currencies (Stripe counts all three in hundredths).
MINOR_UNITS = {"SEK": 100, "EUR": 100, "GBP": 100}


@dataclass(frozen=True)
class CreditValue:
    """Money a late credit gives back: `amount` in minor units (positive), `currency` as Stripe
    writes it (lower case)."""

    amount: int
    currency: str


def plan_credit_value(
    *,
    organization: Organization,
    period_start: dt.date,
    subscription: Subscription | bool | None = True,
) -> CreditValue | None:
    """What a credit that Stripe's meter can no longer cancel (a customer balance credit) is
    worth: the price per extra lead of the plan of the charge's month (an agreement's own price),
    in that plan's currency, in exact minor units (the prices have two decimals).

    None when the charged lead had no money value of its own: on a hard cap (the free plan
    included) a lead is never billed as overage, and a price of 0 bills nothing. Such a credit
    gives the unit back to the month's quota only; nothing goes to Stripe's balance.

    The plan of a past month is the subscription's as `plan_terms_of` reads it (a pending
    downgrade from its month on); billing keeps no history of earlier plans."""
    terms = plan_terms_of(
        organization=organization, period_start=period_start, subscription=subscription
    )
    if terms.hard_cap or terms.price_per_extra_lead <= 0:
        return None
    minor = (terms.price_per_extra_lead * MINOR_UNITS[terms.currency]).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    return CreditValue(amount=int(minor), currency=terms.currency.lower())


def billing_search_paused(*, organization: Organization, at: dt.datetime | None = None) -> bool:
    """Whether the nightly search is paused: past due for longer than the grace period."""
    sub = Subscription.objects.for_org(organization).only("status", "past_due_since").first()
    return _paused(sub, at or timezone.now())


def _paused(sub: Subscription | None, at: dt.datetime) -> bool:
    return (
        sub is not None
        and sub.status == SubscriptionStatus.PAST_DUE
        and sub.past_due_since is not None
        and sub.past_due_since + past_due_grace() <= at
    )


def billing_paused_organization_ids(
    *, organization_ids: Iterable[int], at: dt.datetime | None = None
) -> set[int]:
    """Of these organisations, those whose nightly search is paused (one query). For the nightly
    dispatcher, the one place that reads every tenant: hence the unscoped manager."""
    cutoff = (at or timezone.now()) - past_due_grace()
    return set(
        Subscription.all_orgs.filter(
            organization_id__in=list(organization_ids),
            status=SubscriptionStatus.PAST_DUE,
            past_due_since__lte=cutoff,
        ).values_list("organization_id", flat=True)
    )


def billing_pause_of(*, organization: Organization) -> dt.datetime | None:
    """When the search paused (or pauses, within the grace period) for a past-due organisation;
    None when it is not past due. For the banner on every dashboard page."""
    sub = Subscription.objects.for_org(organization).only("status", "past_due_since").first()
    if sub is None or sub.status != SubscriptionStatus.PAST_DUE or sub.past_due_since is None:
        return None
    return sub.past_due_since + past_due_grace()


# --- the Billing page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartBar:
    day: dt.date
    charged: int
    credited: int
    x: int
    y: int
    height: int

    @property
    def net(self) -> int:
        return self.charged - self.credited


CHART_WIDTH, CHART_HEIGHT, CHART_BAR = 620, 160, 20


@dataclass
class BillingOverview:
    terms: PlanTerms
    subscription: Subscription | None
    period_start: dt.date
    period_end: dt.date
    charged: int
    credited: int
    bars: list[ChartBar]
    chart_max: int
    pause_at: dt.datetime | None
    paused: bool

    @property
    def net(self) -> int:
        return self.charged - self.credited

    @property
    def overage(self) -> int:
        return self.terms.overage(net_units=self.net)

    @property
    def included(self) -> int:
        return min(self.net, self.terms.quota)

    @property
    def remaining(self) -> int:
        return max(0, self.terms.quota - self.net)

    @property
    def overage_cost(self) -> Decimal:
        return self.overage * self.terms.price_per_extra_lead

    @property
    def expected_cost(self) -> Decimal:
        return self.terms.expected_cost(net_units=self.net)

    @property
    def status(self) -> str:
        return self.subscription.status if self.subscription else SubscriptionStatus.ACTIVE

    @property
    def status_label(self) -> str:
        return str(SubscriptionStatus(self.status).label)

    @property
    def pending_plan(self) -> Plan | None:
        sub = self.subscription
        if sub is None or sub.pending_from is None or sub.pending_from <= self.period_start:
            return None
        return sub.pending_plan

    @property
    def used_percent(self) -> int:
        """Share of the quota used, 0-100, for the progress meter."""
        if self.terms.quota <= 0:
            return 100 if self.net else 0
        return min(100, round(100 * self.net / self.terms.quota))


def billing_overview(
    *, organization: Organization, now: dt.datetime | None = None
) -> BillingOverview:
    """The current month on the Billing page and `GET …/billing/`: the plan's terms, the ledger's
    charged, credited and net units, expected cost and one bar per day. Five queries."""
    from .selectors import usage_month
    from .services import billing_month_of

    now = now or timezone.now()
    month = billing_month_of(organization=organization, at=now)
    sub = subscription_of(organization=organization)
    terms = plan_terms_of(organization=organization, period_start=month, subscription=sub)
    usage = usage_month(organization=organization, month=month)
    by_day = {d.day: d for d in usage.days}
    days = (usage.period_end - month).days + 1
    chart_max = max([d.net for d in usage.days] + [1])
    step = CHART_WIDTH // days
    bars = []
    for index in range(days):
        day = month + dt.timedelta(days=index)
        found = by_day.get(day)
        charged, credited = (found.charged, found.credited) if found else (0, 0)
        height = round(CHART_HEIGHT * max(0, charged - credited) / chart_max)
        bars.append(
            ChartBar(
                day=day,
                charged=charged,
                credited=credited,
                x=index * step + 2,
                y=CHART_HEIGHT - height,
                height=height,
            )
        )
    pause_at = None
    if sub is not None and sub.status == SubscriptionStatus.PAST_DUE and sub.past_due_since:
        pause_at = sub.past_due_since + past_due_grace()
    return BillingOverview(
        terms=terms,
        subscription=sub,
        period_start=month,
        period_end=usage.period_end,
        charged=usage.charged,
        credited=usage.credited,
        bars=bars,
        chart_max=chart_max,
        pause_at=pause_at,
        paused=_paused(sub, now),
    )


def invoices_of_organization(*, organization: Organization) -> QuerySet[Invoice]:
    return Invoice.objects.for_org(organization).order_by("-issued_at", "-id")
