"""Subscriptions: an owner's plan choice, Stripe Checkout and portal, and Stripe's webhooks.

Contract (docs/billing.md, "Plans and subscriptions"):

- `subscription_plan_change` is the only way an owner changes plan. An upgrade (a dearer plan,
  or any paid plan from free) applies to the current month at once (Stripe prorates it); a
  downgrade is `pending_plan` from the first day of the next month. A paid plan without a Stripe
  subscription goes through Stripe Checkout: nothing changes here until Stripe's webhook says
  the subscription exists. With Stripe off (no STRIPE_API_KEY) paid plans raise
  BillingNotConfigured and the free plan still works.
- Webhooks (I7): `stripe_event_receive` verifies the signature (`stripe.Webhook.construct_event`
  with STRIPE_WEBHOOK_SECRET, 300 s tolerance), stores the event once by its id and enqueues
  `billing.stripe_event_process` after commit; a repeated delivery stores and enqueues nothing.
  `stripe_event_process` locks the event row, skips it when already processed, and re-fetches the
  object from Stripe (events arrive out of order and more than once): the subscription, invoice
  or checkout session as Stripe has it now decides our state, never the event's copy.
- Past due: `past_due_since` is set when Stripe first reports the subscription past due and
  cleared when it is active again. The nightly search pauses after the grace period
  (billing/plans.py); `subscription_pause_notify` e-mails the owners once per episode. Nothing
  charged is touched: the ledger is append-only.
- Stripe's customer is the organisation's StripeCustomer row (shared with the outbox sender),
  created once with the idempotency key `customer:{organization_id}`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from organizations.language import mail_per_language
from organizations.models import Membership, Organization, Role

from .models import (
    Invoice,
    InvoiceStatus,
    Plan,
    PlanKind,
    StripeCustomer,
    StripeEvent,
    StripeEventStatus,
    Subscription,
    SubscriptionStatus,
)
from .plans import (
    billing_setting,
    past_due_grace,
    plan_free,
    plan_of_month,
    plan_offered_get,
    stripe_enabled,
)
from .services import billing_month_of

logger = logging.getLogger(__name__)


class BillingNotConfigured(Exception):
    """Stripe is off on this installation (or the plan has no price at Stripe)."""


class WebhookRejected(Exception):
    """The webhook's signature is missing, wrong or stale, or its body is not an event."""


# --- Stripe ---------------------------------------------------------------------------------------


def stripe_client() -> stripe.StripeClient:
    """A client of Stripe, or of the API at STRIPE_API_BASE (the fake Stripe on loopback)."""
    key = billing_setting("STRIPE_API_KEY", "")
    if not key:
        raise BillingNotConfigured("Billing is not configured on this installation.")
    base = billing_setting("STRIPE_API_BASE", "")
    return stripe.StripeClient(
        key,
        base_addresses={"api": base} if base else None,  # type: ignore[typeddict-item]
        max_network_retries=int(billing_setting("STRIPE_NETWORK_RETRIES", "2")),
    )


def _plain(obj: Any) -> dict[str, Any]:
    """A Stripe object as plain data (StripeObject is no dict since stripe-python 15)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def stripe_customer_ensure(*, organization: Organization, email: str = "") -> str:
    """The organisation's Stripe customer id, created at Stripe on first need. Idempotent: the
    key `customer:{id}` makes a retried create return the same customer, and the one-per-
    organisation row keeps the first id if two requests race."""
    existing = StripeCustomer.objects.for_org(organization).first()
    if existing is not None:
        return existing.customer_id
    # The same parameters as the outbox sender's (billing/stripe_sync.py) under the same key:
    # whichever asks first creates the customer, the other gets Stripe's stored answer.
    customer = stripe_client().v1.customers.create(
        {"name": organization.name, "metadata": {"leadpilot_organization": str(organization.id)}},
        {"idempotency_key": f"customer:{organization.id}"},
    )
    StripeCustomer.objects.bulk_create(
        [StripeCustomer(organization=organization, customer_id=customer.id)],
        ignore_conflicts=True,
    )
    return StripeCustomer.objects.for_org(organization).get().customer_id


# --- the organisation's subscription ----------------------------------------------------------------


def _subscription_lock(*, organization: Organization) -> Subscription:
    """The organisation's subscription row, created on the free plan if missing, locked FOR
    UPDATE. Must run inside a transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("_subscription_lock() must run inside transaction.atomic()")
    locked = Subscription.objects.for_org(organization).select_for_update(of=("self",))
    sub = locked.select_related("plan", "pending_plan").first()
    if sub is not None:
        return sub
    free = plan_free()
    if free.pk is None:  # the seeded row is gone (flushed): put it back
        free, _ = Plan.objects.get_or_create(
            code=free.code,
            defaults={f.attname: getattr(free, f.attname) for f in Plan._meta.concrete_fields[1:]},
        )
    Subscription.objects.bulk_create(
        [Subscription(organization=organization, plan=free)], ignore_conflicts=True
    )
    return locked.select_related("plan", "pending_plan").get()


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _promote_pending(sub: Subscription, *, month: dt.date) -> None:
    """A pending plan whose month has come becomes the plan (kept in step lazily)."""
    if sub.pending_plan_id and sub.pending_from and month >= sub.pending_from:
        sub.plan, sub.started_at = sub.pending_plan, timezone.now()  # type: ignore[assignment]
        sub.pending_plan, sub.pending_from = None, None
        if sub.plan.kind == PlanKind.FREE:
            sub.stripe_subscription_id = ""


def plan_is_upgrade(*, current: Plan, target: Plan) -> bool:
    """A dearer plan (or more leads for the same price), or any paid plan after the free one."""
    if current.kind == PlanKind.FREE:
        return target.kind != PlanKind.FREE
    if target.kind == PlanKind.FREE:
        return False
    return (target.price_per_month, target.monthly_quota) > (
        current.price_per_month,
        current.monthly_quota,
    )


@dataclass(frozen=True)
class PlanChange:
    outcome: str  # "now" | "next_period" | "checkout" | "unchanged"
    plan: Plan
    effective_from: dt.date | None = None
    redirect_url: str = ""


def subscription_plan_change(
    *,
    organization: Organization,
    plan_code: str,
    email: str = "",
    success_url: str = "",
    cancel_url: str = "",
    now: dt.datetime | None = None,
) -> PlanChange:
    """Move the organisation to an offered plan (see the module contract for when it applies).

    Side effects: Stripe (Checkout session, subscription price change or cancel at period end)
    before the local row changes, so a Stripe error leaves our state as it was. Raises
    Plan.DoesNotExist for a plan not offered, BillingNotConfigured for a paid plan without
    Stripe, ValueError for a currency change of a running Stripe subscription. Idempotent: the
    current plan again answers "unchanged" (and drops a pending downgrade)."""
    now = now or timezone.now()
    target = plan_offered_get(code=plan_code)
    if target.kind == PlanKind.PAID and not stripe_enabled():
        raise BillingNotConfigured("Billing is not configured on this installation.")
    month = billing_month_of(organization=organization, at=now)
    with transaction.atomic():
        sub = _subscription_lock(organization=organization)
        _promote_pending(sub, month=month)
        current = plan_of_month(subscription=sub, period_start=month)
        on_stripe = bool(sub.stripe_subscription_id) and sub.status != SubscriptionStatus.CANCELED
    if target.pk == current.pk:
        pending = sub.pending_plan_id is not None
        if pending and on_stripe:
            # Undo a scheduled downgrade at Stripe too (its price back, no cancel at period end).
            _stripe_subscription_set(sub, plan=target, prorate=False)
        if pending:
            with transaction.atomic():
                sub = _subscription_lock(organization=organization)
                sub.pending_plan, sub.pending_from = None, None
                sub.save()
        return PlanChange("unchanged", target)
    if target.kind == PlanKind.PAID and not on_stripe:
        url = stripe_checkout_create(
            organization=organization,
            plan=target,
            email=email,
            success_url=success_url,
            cancel_url=cancel_url,
        )
        return PlanChange("checkout", target, redirect_url=url)
    upgrade = plan_is_upgrade(current=current, target=target)
    if on_stripe:
        if target.kind == PlanKind.FREE:
            _stripe_cancel_at_period_end(sub)
        else:
            if target.currency != current.currency:
                raise ValueError(
                    "A subscription keeps its currency: switch to the free plan first."
                )
            _stripe_subscription_set(sub, plan=target, prorate=upgrade)
    with transaction.atomic():
        sub = _subscription_lock(organization=organization)
        _promote_pending(sub, month=month)
        if upgrade:
            sub.plan, sub.started_at = target, now
            sub.pending_plan, sub.pending_from = None, None
            outcome, effective = "now", month
        else:
            sub.pending_plan, sub.pending_from = target, _next_month(month)
            outcome, effective = "next_period", sub.pending_from
        sub.save()
    if upgrade:
        _period_follow_plan(organization=organization, at=now)
    return PlanChange(outcome, target, effective_from=effective)


def _period_follow_plan(*, organization: Organization, at: dt.datetime) -> None:
    """Bring the open month's quota and cap in line with the plan now (an upgrade's quota is
    usable tonight, not at the next charge)."""
    from .services import billing_period_lock

    with transaction.atomic():
        billing_period_lock(
            organization=organization,
            period_start=billing_month_of(organization=organization, at=at),
        )


def _stripe_items(plan: Plan) -> list[dict[str, Any]]:
    if plan.stripe_price_id:
        fee: dict[str, Any] = {"price": plan.stripe_price_id, "quantity": 1}
    else:
        # No price created at Stripe for this plan: an inline monthly price of the same amount.
        fee = {
            "price_data": {
                "currency": plan.currency.lower(),
                "unit_amount": int(plan.price_per_month * 100),
                "recurring": {"interval": "month"},
                "product_data": {"name": f"LeadPilot {plan.name}"},
            },
            "quantity": 1,
        }
    items = [fee]
    if plan.stripe_overage_price_id:
        items.append({"price": plan.stripe_overage_price_id})
    return items


def stripe_checkout_create(
    *, organization: Organization, plan: Plan, email: str, success_url: str, cancel_url: str
) -> str:
    """A Stripe Checkout session for a subscription to `plan`; returns its URL. The session and
    the subscription carry the organisation and plan in their metadata, which the webhook reads
    back (after re-fetching)."""
    customer = stripe_customer_ensure(organization=organization, email=email)
    metadata = {"organization_id": str(organization.id), "plan": plan.code}
    page = settings.SITE_URL.rstrip("/") + reverse(
        "billing:billing", kwargs={"org_slug": organization.slug}
    )
    success_url = success_url or f"{page}?checkout=success"
    cancel_url = cancel_url or f"{page}?checkout=cancel"
    session = stripe_client().v1.checkout.sessions.create(
        {  # type: ignore[arg-type]
            "mode": "subscription",
            "customer": customer,
            "client_reference_id": str(organization.id),
            "line_items": _stripe_items(plan),
            "success_url": success_url,
            "cancel_url": cancel_url,
            "metadata": metadata,
            "subscription_data": {"metadata": metadata},
        }
    )
    with transaction.atomic():
        sub = _subscription_lock(organization=organization)
        if sub.stripe_customer_id != customer:
            sub.stripe_customer_id = customer
            sub.save(update_fields=["stripe_customer_id", "updated_at"])
    return str(session.url)


def stripe_portal_url(*, organization: Organization, return_url: str) -> str:
    """A Stripe customer portal session (cards, invoices, cancel) for the organisation."""
    customer = stripe_customer_ensure(organization=organization)
    session = stripe_client().v1.billing_portal.sessions.create(
        {"customer": customer, "return_url": return_url}
    )
    return str(session.url)


def _stripe_subscription_set(sub: Subscription, *, plan: Plan, prorate: bool) -> None:
    client = stripe_client()
    remote = _plain(client.v1.subscriptions.retrieve(sub.stripe_subscription_id))
    items = (remote.get("items") or {}).get("data") or []
    wanted = _stripe_items(plan)
    params_items: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if index < len(wanted):
            params_items.append({"id": item["id"], **wanted[index]})
        else:
            params_items.append({"id": item["id"], "deleted": True})
    params_items += wanted[len(items) :]
    client.v1.subscriptions.update(
        sub.stripe_subscription_id,
        {  # type: ignore[arg-type]
            "items": params_items,
            "proration_behavior": "create_prorations" if prorate else "none",
            "cancel_at_period_end": False,
            "metadata": {"organization_id": str(sub.organization_id), "plan": plan.code},
        },
    )


def _stripe_cancel_at_period_end(sub: Subscription) -> None:
    stripe_client().v1.subscriptions.update(
        sub.stripe_subscription_id, {"cancel_at_period_end": True}
    )


# --- webhooks in ----------------------------------------------------------------------------------


def stripe_event_receive(*, payload: bytes, signature: str) -> tuple[StripeEvent, bool]:
    """Verify and store one webhook delivery; returns (event row, stored now).

    Raises WebhookRejected (the view answers 400) for a bad, stale or missing signature or a body
    that is no event. Idempotent: a delivery of an event already stored returns it with False and
    enqueues nothing (I7)."""
    secret = billing_setting("STRIPE_WEBHOOK_SECRET", "")
    if not secret:
        raise WebhookRejected("STRIPE_WEBHOOK_SECRET is not set")
    try:
        body = json.loads(payload)
    except ValueError:
        raise WebhookRejected("the body is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("id"), str) or "type" not in body:
        raise WebhookRejected("not an event")
    try:
        stripe.Webhook.construct_event(payload, signature, secret)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise WebhookRejected(str(exc)) from None
    try:
        with transaction.atomic():
            event = StripeEvent.objects.create(
                id=body["id"],
                type=str(body["type"])[:100],
                api_version=str(body.get("api_version") or "")[:40],
                livemode=bool(body.get("livemode")),
                payload=body,
            )
            transaction.on_commit(lambda: _enqueue_event(event.id))
    except IntegrityError:
        return StripeEvent.objects.get(pk=body["id"]), False
    return event, True


def _enqueue_event(event_id: str) -> None:
    from .tasks import stripe_event_process as task

    task.delay(event_id=event_id)


HANDLED_PREFIXES = ("customer.subscription.", "invoice.", "checkout.session.completed")


def stripe_event_process(*, event_id: str) -> bool:
    """Process one stored event: re-fetch its object from Stripe and update our copy. Returns
    True when it did the work now, False when the event was already processed (or is being
    processed by another worker). A failure is recorded on the row and raised (the task
    retries); the row stays processable."""
    with transaction.atomic():
        event = (
            StripeEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_id, status__in=[StripeEventStatus.PENDING, StripeEventStatus.FAILED])
            .first()
        )
        if event is None:
            return False
        event.attempts += 1
        try:
            with transaction.atomic():
                organization = _event_apply(event)
        except Exception as exc:
            event.status, event.last_error = StripeEventStatus.FAILED, repr(exc)[:2000]
            event.save(update_fields=["status", "last_error", "attempts"])
            failed = exc
        else:
            handled = event.type.startswith(HANDLED_PREFIXES)
            event.status = StripeEventStatus.SUCCEEDED if handled else StripeEventStatus.IGNORED
            event.organization, event.processed_at, event.last_error = (
                organization,
                timezone.now(),
                "",
            )
            event.save(
                update_fields=["status", "organization", "processed_at", "last_error", "attempts"]
            )
            return True
    raise failed


STRIPE_EVENT_MAX_ATTEMPTS = 8


def stripe_events_stuck(
    *, older_than: dt.timedelta = dt.timedelta(minutes=10), now: dt.datetime | None = None
) -> list[str]:
    """Ids of events received more than `older_than` ago and still pending or failed (an enqueue
    lost, a worker killed, retries spent), below STRIPE_EVENT_MAX_ATTEMPTS: the sweeper
    (`billing.stripe_events_retry`, every 10 minutes) enqueues them again. Processing is
    idempotent, so an event also in flight elsewhere is skipped there."""
    cutoff = (now or timezone.now()) - older_than
    return list(
        StripeEvent.objects.filter(
            status__in=[StripeEventStatus.PENDING, StripeEventStatus.FAILED],
            received_at__lt=cutoff,
            attempts__lt=STRIPE_EVENT_MAX_ATTEMPTS,
        )
        .order_by("received_at")
        .values_list("id", flat=True)[:500]
    )


def _event_apply(event: StripeEvent) -> Organization | None:
    obj = (event.payload.get("data") or {}).get("object") or {}
    object_id = obj.get("id")
    if not isinstance(object_id, str):
        return None
    client = stripe_client()
    if event.type.startswith("customer.subscription."):
        return _subscription_sync(_plain(client.v1.subscriptions.retrieve(object_id)))
    if event.type.startswith("invoice."):
        return _invoice_sync(_plain(client.v1.invoices.retrieve(object_id)))
    if event.type == "checkout.session.completed":
        session = _plain(client.v1.checkout.sessions.retrieve(object_id))
        subscription_id = _id_of(session.get("subscription"))
        if session.get("mode") != "subscription" or not subscription_id:
            return None
        return _subscription_sync(
            _plain(client.v1.subscriptions.retrieve(subscription_id)),
            organization_id=session.get("client_reference_id"),
        )
    return None


def _id_of(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _organization_for(
    *, metadata: dict[str, Any] | None, customer_id: str, organization_id: Any = None
) -> Organization | None:
    metadata = metadata or {}
    candidate = (
        organization_id or metadata.get("organization_id") or metadata.get("leadpilot_organization")
    )
    if candidate and str(candidate).isdigit():
        org = Organization.objects.filter(pk=int(candidate)).first()
        if org is not None:
            return org
    if customer_id:
        # Webhooks arrive before any organisation is known: the customer id names it.
        row = StripeCustomer.all_orgs.filter(customer_id=customer_id).first()
        if row is not None:
            return Organization.objects.get(pk=row.organization_id)
        sub = Subscription.all_orgs.filter(stripe_customer_id=customer_id).first()
        if sub is not None:
            return Organization.objects.get(pk=sub.organization_id)
    return None


def _plan_of_stripe(remote: dict[str, Any]) -> Plan | None:
    code = (remote.get("metadata") or {}).get("plan")
    if code:
        plan = Plan.objects.filter(code=code).first()
        if plan is not None:
            return plan
    prices = [
        _id_of((item or {}).get("price"))
        for item in ((remote.get("items") or {}).get("data") or [])
    ]
    prices = [p for p in prices if p]
    return Plan.objects.filter(stripe_price_id__in=prices).first() if prices else None


_STATUS = {
    "active": SubscriptionStatus.ACTIVE,
    "trialing": SubscriptionStatus.TRIALING,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "canceled": SubscriptionStatus.CANCELED,
    "incomplete_expired": SubscriptionStatus.CANCELED,
}


def _timestamp(value: Any) -> dt.datetime | None:
    if isinstance(value, int | float) and value > 0:
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    return None


def _subscription_sync(
    remote: dict[str, Any], *, organization_id: Any = None
) -> Organization | None:
    """Our subscription row as Stripe has it now (see the module contract)."""
    customer_id = _id_of(remote.get("customer"))
    organization = _organization_for(
        metadata=remote.get("metadata"), customer_id=customer_id, organization_id=organization_id
    )
    if organization is None:
        logger.warning("Stripe subscription %s names no organisation", remote.get("id"))
        return None
    status = _STATUS.get(str(remote.get("status")))
    now = timezone.now()
    month = billing_month_of(organization=organization, at=now)
    plan = _plan_of_stripe(remote)
    items = (remote.get("items") or {}).get("data") or [{}]
    upgraded = False
    with transaction.atomic():
        sub = _subscription_lock(organization=organization)
        _promote_pending(sub, month=month)
        if customer_id:
            sub.stripe_customer_id = customer_id
            StripeCustomer.objects.bulk_create(
                [StripeCustomer(organization=organization, customer_id=customer_id)],
                ignore_conflicts=True,
            )
        if status == SubscriptionStatus.CANCELED:
            if sub.stripe_subscription_id in ("", remote.get("id")):
                sub.status, sub.stripe_subscription_id = SubscriptionStatus.CANCELED, ""
                sub.plan, sub.pending_plan, sub.pending_from = plan_free(), None, None
                sub.past_due_since = sub.pause_notified_at = None
            sub.save()
            return organization
        sub.stripe_subscription_id = str(remote.get("id") or "")
        current = plan_of_month(subscription=sub, period_start=month)
        if sub.status == SubscriptionStatus.CANCELED:
            current = plan_free()
        if plan is not None and plan.pk != current.pk:
            if plan_is_upgrade(current=current, target=plan):
                sub.plan, sub.started_at = plan, now
                sub.pending_plan, sub.pending_from = None, None
                upgraded = True
            elif sub.pending_plan_id != plan.pk:
                sub.pending_plan, sub.pending_from = plan, _next_month(month)
        elif plan is not None and sub.pending_plan_id and not remote.get("cancel_at_period_end"):
            sub.pending_plan, sub.pending_from = None, None  # a pending change was undone
        if remote.get("cancel_at_period_end"):
            sub.pending_plan, sub.pending_from = plan_free(), _next_month(month)
        if status is not None:
            if status == SubscriptionStatus.PAST_DUE:
                sub.past_due_since = sub.past_due_since or now
            else:
                sub.past_due_since = sub.pause_notified_at = None
            sub.status = status
        item = items[0] if isinstance(items[0], dict) else {}
        start = remote.get("current_period_start") or item.get("current_period_start")
        end = remote.get("current_period_end") or item.get("current_period_end")
        sub.current_period_start = _timestamp(start) or sub.current_period_start
        sub.current_period_end = _timestamp(end) or sub.current_period_end
        sub.save()
    if upgraded:
        _period_follow_plan(organization=organization, at=now)
    return organization


def _money(minor: Any) -> Decimal:
    return (Decimal(int(minor or 0)) / 100).quantize(Decimal("0.01"))


def _invoice_sync(remote: dict[str, Any]) -> Organization | None:
    customer_id = _id_of(remote.get("customer"))
    subscription_id = _id_of(remote.get("subscription")) or _id_of(
        ((remote.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    )
    organization = _organization_for(metadata=remote.get("metadata"), customer_id=customer_id)
    if organization is None:
        logger.warning("Stripe invoice %s names no organisation", remote.get("id"))
        return None
    status = str(remote.get("status") or InvoiceStatus.DRAFT)
    Invoice.objects.for_org(organization).update_or_create(
        organization=organization,
        stripe_invoice_id=str(remote["id"]),
        defaults={
            "number": str(remote.get("number") or "")[:64],
            "period_start": _timestamp(remote.get("period_start")),
            "period_end": _timestamp(remote.get("period_end")),
            "amount_due": _money(remote.get("amount_due")),
            "amount_paid": _money(remote.get("amount_paid")),
            "currency": str(remote.get("currency") or "").upper()[:3],
            "status": status if status in InvoiceStatus.values else InvoiceStatus.OPEN,
            "hosted_invoice_url": str(remote.get("hosted_invoice_url") or "")[:500],
            "invoice_pdf": str(remote.get("invoice_pdf") or "")[:500],
            "issued_at": _timestamp(remote.get("created")),
        },
    )
    if subscription_id:
        # A failed or paid invoice moves the subscription (past due / active): ask Stripe.
        _subscription_sync(_plain(stripe_client().v1.subscriptions.retrieve(subscription_id)))
    return organization


# --- past due -------------------------------------------------------------------------------------


def subscription_pause_notify(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """When the organisation's grace period is over, e-mail its owners once (per past-due
    episode) that the nightly search paused. Returns the number of e-mails sent (0 when not
    paused or already told). Idempotent: a conditional update claims the notice."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = (
            Subscription.objects.for_org(organization)
            .filter(
                status=SubscriptionStatus.PAST_DUE,
                past_due_since__lte=now - past_due_grace(),
                pause_notified_at__isnull=True,
            )
            .update(pause_notified_at=now, updated_at=now)
        )
    if not claimed:
        return 0
    owners = list(
        Membership.objects.for_org(organization)
        .filter(role=Role.OWNER, user__is_active=True)
        .values_list("user__email", "user__language")
        .order_by("user__email")
    )
    if not owners:
        return 0
    context = {"organization": organization, "base_url": settings.SITE_URL.rstrip("/")}
    # Each owner reads it in their profile's language.
    messages = mail_per_language(
        owners,
        lambda: (
            render_to_string("billing/emails/search_paused_subject.txt", context),
            render_to_string("billing/emails/search_paused.txt", context),
        ),
    )
    transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=False))
    return len(owners)


# --- plans at Stripe ------------------------------------------------------------------------------


def stripe_plans_sync(*, meter_event_name: str = "") -> list[str]:
    """Create at Stripe the prices of the active paid plans that have none: a product, a monthly
    fee, and the lead meter's graduated price (the quota free, then the overage price per lead,
    so Stripe's usage equals our ledger). Returns the codes of the plans it priced. Idempotent:
    keys derived from the plan code, and priced plans are skipped."""
    client = stripe_client()
    event_name = meter_event_name or billing_setting("STRIPE_METER_EVENT_NAME", "leadpilot_lead")
    meter_id = ""
    for meter in client.v1.billing.meters.list({"limit": 100}).data:
        if _plain(meter).get("event_name") == event_name:
            meter_id = str(meter.id)
    if not meter_id:
        meter_id = str(
            client.v1.billing.meters.create(
                {
                    "display_name": "LeadPilot charged leads",
                    "event_name": event_name,
                    "default_aggregation": {"formula": "sum"},
                },
                {"idempotency_key": f"meter:{event_name}"},
            ).id
        )
    priced = []
    for plan in Plan.objects.filter(kind=PlanKind.PAID, is_active=True, stripe_price_id=""):
        product = client.v1.products.create(
            {"name": f"LeadPilot {plan.name} ({plan.currency})", "metadata": {"plan": plan.code}},
            {"idempotency_key": f"plan-product:{plan.code}"},
        )
        currency = plan.currency.lower()
        fee = client.v1.prices.create(
            {
                "product": product.id,
                "currency": currency,
                "unit_amount": int(plan.price_per_month * 100),
                "recurring": {"interval": "month"},
                "metadata": {"plan": plan.code},
            },
            {"idempotency_key": f"plan-price:{plan.code}"},
        )
        overage = client.v1.prices.create(
            {
                "product": product.id,
                "currency": currency,
                "billing_scheme": "tiered",
                "tiers_mode": "graduated",
                "tiers": [
                    {"up_to": plan.monthly_quota, "unit_amount": 0},
                    {"up_to": "inf", "unit_amount": int(plan.price_per_extra_lead * 100)},
                ],
                "recurring": {"interval": "month", "usage_type": "metered", "meter": meter_id},
                "metadata": {"plan": plan.code},
            },
            {"idempotency_key": f"plan-overage:{plan.code}"},
        )
        Plan.objects.filter(pk=plan.pk).update(
            stripe_price_id=fee.id, stripe_overage_price_id=overage.id
        )
        priced.append(plan.code)
    return priced
