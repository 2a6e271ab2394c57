"""Reconciliation: Stripe's usage against the ledger, per organisation and month (docs/billing.md,
"Reconciliation"). Reads only, in PostgreSQL and in Stripe."""

from __future__ import annotations

import dataclasses
import datetime as dt

import stripe
from django.conf import settings
from django.db.models import Count, Sum

from organizations.models import Organization

from .models import (
    LedgerEntry,
    LedgerEntryKind,
    StripeCustomer,
    StripeOutbox,
    StripeOutboxKind,
    StripeOutboxStatus,
    Subscription,
)
from .outbox_settings import StripeSettings, stripe_settings
from .stripe_sync import stripe_client


@dataclasses.dataclass(frozen=True)
class MonthDifference:
    organization: str
    month: str
    ledger: int
    stripe: int
    pending_outbox: int
    note: str = ""


def _month_bounds(organization: Organization, month: dt.date) -> tuple[int, int]:
    """The month in the organisation's timezone as [start, end) epoch seconds (as charged)."""
    tz = organization.tz
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    start = dt.datetime.combine(month, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(nxt, dt.time(), tzinfo=tz)
    return int(start.timestamp()), int(end.timestamp())


def _meter_id(client: stripe.StripeClient, event_name: str) -> str | None:
    for meter in client.v1.billing.meters.list({"limit": 100}).auto_paging_iter():
        if meter.event_name == event_name:
            return str(meter.id)
    return None


def billing_reconcile(
    *,
    organization: Organization | None = None,
    month: dt.date | None = None,
    client: stripe.StripeClient | None = None,
    conf: StripeSettings | None = None,
) -> list[MonthDifference]:
    """Compare the ledger's net units per organisation and month (charges less credits, by the
    month of the charge) with Stripe's: the meter event summary of the organisation's customer
    for that month, less the units of the balance credits sent for it. Reads only. Returns the
    months that differ (outbox rows still pending explain a difference; they are counted)."""
    conf = conf or stripe_settings()
    client = client or stripe_client(conf)
    entries = LedgerEntry.all_orgs.filter(
        kind__in=[LedgerEntryKind.CHARGE, LedgerEntryKind.CREDIT], usage_event__isnull=False
    )
    if organization is not None:
        entries = entries.filter(organization=organization)
    if month is not None:
        entries = entries.filter(usage_event__period_start=month)
    ledger = {
        (row["organization_id"], row["usage_event__period_start"]): row["units"]
        for row in entries.values("organization_id", "usage_event__period_start").annotate(
            units=Sum("units")
        )
    }
    pending = {
        (row["organization_id"], row["usage_event__period_start"]): row["n"]
        for row in StripeOutbox.all_orgs.filter(status=StripeOutboxStatus.PENDING)
        .values("organization_id", "usage_event__period_start")
        .annotate(n=Count("id"))
    }
    quota_only = {
        (row["organization_id"], row["usage_event__period_start"]): row["n"]
        for row in StripeOutbox.all_orgs.filter(
            status=StripeOutboxStatus.SENT,
            kind=StripeOutboxKind.BALANCE_CREDIT,
            response__quota_only=True,
        )
        .values("organization_id", "usage_event__period_start")
        .annotate(n=Count("id"))
    }
    organizations = Organization.objects.in_bulk({org_id for org_id, _ in ledger})
    meter = _meter_id(client, conf.meter_event_name)
    balance_units: dict[str, dict[str, int]] = {}
    differences = []
    for (org_id, period), units in sorted(ledger.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        org = organizations[org_id]
        customer = _known_customer(org)
        stripe_units, note = 0, ""
        if customer is None:
            note = "no Stripe customer yet"
        elif meter is None:
            note = f"no Stripe meter for {conf.meter_event_name!r}"
        else:
            start, end = _month_bounds(org, period)
            summaries = client.v1.billing.meters.event_summaries.list(
                meter, {"customer": customer, "start_time": start, "end_time": end}
            )
            metered = sum(float(s.aggregated_value) for s in summaries.auto_paging_iter())
            if customer not in balance_units:
                balance_units[customer] = _balance_units(client, customer)
            credited = balance_units[customer].get(f"{period:%Y-%m}", 0)
            stripe_units = round(metered) + credited - quota_only.get((org_id, period), 0)
        if stripe_units != units:
            differences.append(
                MonthDifference(
                    organization=org.slug,
                    month=f"{period:%Y-%m}",
                    ledger=units,
                    stripe=stripe_units,
                    pending_outbox=pending.get((org_id, period), 0),
                    note=note,
                )
            )
    return differences


def _known_customer(organization: Organization) -> str | None:
    subscribed = (
        Subscription.objects.for_org(organization)
        .exclude(stripe_customer_id="")
        .values_list("stripe_customer_id", flat=True)
        .first()
    )
    stored = StripeCustomer.objects.for_org(organization).values_list("customer_id", flat=True)
    return subscribed or stored.first()


def _balance_units(client: stripe.StripeClient, customer: str) -> dict[str, int]:
    """Units credited through the customer balance, per month of the credited charge."""
    units: dict[str, int] = {}
    listing = client.v1.customers.balance_transactions.list(customer, {"limit": 100})
    for txn in listing.auto_paging_iter():
        metadata = txn.metadata.to_dict() if txn.metadata else {}
        if "leadpilot_period" in metadata:
            month = metadata["leadpilot_period"]
            units[month] = units.get(month, 0) + int(metadata.get("leadpilot_units", 0))
    return units


def billing_reconcile_notify(*, differences: list[MonthDifference]) -> int:
    """Mail settings.ADMINS and the active staff users the differences; returns the number of
    staff addresses written to. Nothing when there is none."""
    from django.core.mail import mail_admins, send_mail

    from organizations.models import User

    if not differences:
        return 0
    subject = f"Billing reconciliation: {len(differences)} month(s) differ from Stripe"
    lines = [
        f"{d.organization} {d.month}: ledger {d.ledger}, Stripe {d.stripe}, "
        f"outbox pending {d.pending_outbox} {d.note}".rstrip()
        for d in differences
    ]
    body = "\n".join(lines) + "\n\nSee docs/billing.md, 'Reconciliation'."
    mail_admins(subject, body, fail_silently=True)
    staff = list(
        User.objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if staff:
        send_mail(f"{settings.EMAIL_SUBJECT_PREFIX}{subject}", body, None, staff)
    return len(staff)
