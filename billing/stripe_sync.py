"""Sending the Stripe outbox, and reconciling Stripe with the ledger. Contract (docs/billing.md,
"Stripe outbox"):

- `stripe_outbox_drain` claims due pending rows with SELECT ... FOR UPDATE SKIP LOCKED, in
  batches, and sends each batch concurrently (a thread pool; threads only talk HTTP) while the
  claiming transaction holds the rows: a second drainer skips them, and a drainer that dies
  (SIGKILL) releases them with its connection, still pending, to be sent again.
- Every attempt of a row carries the same Idempotency-Key (the row's) and, for a meter event, the
  same identifier (the usage event id): a resend after a lost answer is replayed by Stripe's
  idempotency layer or deduplicated by the identifier, never counted twice.
- 2xx: sent. 429, 5xx, timeouts: back-off (base * 2^attempts, capped), same key. Other 4xx
  (a timestamp older than 35 days, a conflict): dead at once. STRIPE_OUTBOX_MAX_ATTEMPTS
  failures: dead. Dead rows wait for staff in the admin ("retry" makes them pending).
- A credit row is sent after its charge: as a meter event cancel while the charge's first send is
  younger than 24 h (less a margin), else as a customer balance credit. The choice is stored. A
  balance credit is worth the price per extra lead of the plan of the charge's month, in that
  plan's currency (billing/plans.py `plan_credit_value`); on a hard cap or at a price of 0 the
  lead had no money value: nothing is sent, the row is marked sent with `quota_only` and the
  reconciliation counts its unit as credited.
- Nothing is sent unless STRIPE_API_KEY is set.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone

from organizations.models import Organization

from .models import (
    StripeCustomer,
    StripeOutbox,
    StripeOutboxKind,
    StripeOutboxStatus,
    Subscription,
)
from .outbox_settings import StripeSettings, stripe_settings
from .plans import CreditValue, plan_credit_value

logger = logging.getLogger(__name__)
# Errors worth another attempt: rate limits, Stripe's 5xx, connection failures and timeouts.
TRANSIENT = (stripe.RateLimitError, stripe.APIConnectionError, stripe.APIError)
CANCEL_TOO_LATE = "meter_event_adjustment_too_late"
UNCONFIRMED_LIMIT = dt.timedelta(hours=20)


def stripe_client(conf: StripeSettings | None = None) -> stripe.StripeClient:
    conf = conf or stripe_settings()
    if not conf.enabled:
        raise RuntimeError("Stripe is off: set STRIPE_API_KEY (docs/billing.md)")
    bases: Any = (
        {"api": conf.api_base, "meter_events": conf.api_base, "files": conf.api_base}
        if conf.api_base
        else {}
    )
    return stripe.StripeClient(
        conf.api_key,
        base_addresses=bases,
        max_network_retries=conf.network_retries,
        http_client=stripe.RequestsClient(timeout=conf.timeout_s),
    )


def stripe_customer_id(*, organization: Organization, client: stripe.StripeClient) -> str:
    """The organisation's Stripe customer id: its subscription's (set by Checkout), else the one
    the outbox created in Stripe (idempotently, keyed by the organisation) and stored in
    StripeCustomer the first time one was needed."""
    subscribed = (
        Subscription.objects.for_org(organization)
        .exclude(stripe_customer_id="")
        .values_list("stripe_customer_id", flat=True)
        .first()
    )
    if subscribed:
        return subscribed
    stored = StripeCustomer.objects.for_org(organization).values_list("customer_id", flat=True)
    if found := stored.first():
        return found
    customer = client.v1.customers.create(
        {"name": organization.name, "metadata": {"leadpilot_organization": str(organization.id)}},
        {"idempotency_key": f"customer:{organization.id}"},
    )
    StripeCustomer.objects.bulk_create(
        [StripeCustomer(organization=organization, customer_id=customer.id)],
        ignore_conflicts=True,
    )
    return str(stored.get())


@dataclasses.dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0

    def add(self, other: DrainResult) -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


@dataclasses.dataclass
class _Send:
    row: StripeOutbox
    params: dict[str, Any]
    call: Callable[..., Any] | None
    key: str
    outcome: str = ""  # sent | retry | dead; set before sending when nothing is to be sent
    error: str = ""
    response: dict[str, Any] = dataclasses.field(default_factory=dict)
    fallback: bool = False


def stripe_outbox_drain(
    *,
    max_rows: int | None = None,
    client: stripe.StripeClient | None = None,
    conf: StripeSettings | None = None,
    time_budget_s: float | None = None,
) -> DrainResult:
    """Send due outbox rows until none is due, `max_rows` were handled or `time_budget_s` ran out.
    Idempotent and safe to run in any number of processes and threads at once (SKIP LOCKED).
    Returns what happened to the rows it claimed; nothing when Stripe is off."""
    conf = conf or stripe_settings()
    total = DrainResult()
    if not conf.enabled:
        return total
    client = client or stripe_client(conf)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=conf.concurrency) as pool:
        while max_rows is None or total.sent + total.retried + total.dead < max_rows:
            limit = conf.batch_size if max_rows is None else min(conf.batch_size, max_rows)
            result = _drain_batch(client=client, conf=conf, pool=pool, limit=limit)
            total.add(result)
            if (
                result.sent + result.retried + result.dead == 0
            ):  # nothing due, or only waiting credits
                break
            if time_budget_s is not None and time.monotonic() - started > time_budget_s:
                break
    return total


def _drain_batch(
    *, client: stripe.StripeClient, conf: StripeSettings, pool: ThreadPoolExecutor, limit: int
) -> DrainResult:
    result = DrainResult()
    with transaction.atomic():
        now = timezone.now()
        rows = list(
            StripeOutbox.all_orgs.select_for_update(skip_locked=True, of=("self",))
            .filter(status=StripeOutboxStatus.PENDING, next_attempt_at__lte=now)
            .select_related("organization", "usage_event")
            .order_by("next_attempt_at", "id")[:limit]
        )
        if not rows:
            return result
        sends, deferred = _prepare(rows=rows, client=client, conf=conf, now=now)
        for send in pool.map(_send_one, sends):
            del send  # outcomes are written on the _Send objects
        for send in sends:
            row = send.row
            row.attempts += 1
            row.first_attempt_at = row.first_attempt_at or now
            if send.outcome == "sent":
                row.status, row.sent_at, row.last_error = StripeOutboxStatus.SENT, now, ""
                row.response = send.response
                result.sent += 1
            elif send.outcome == "dead" or row.attempts >= conf.max_attempts:
                row.status, row.last_error = StripeOutboxStatus.DEAD, send.error[:2000]
                result.dead += 1
                logger.error("stripe outbox %s is dead: %s", row.idempotency_key, send.error)
            else:
                row.last_error = send.error[:2000]
                row.response = send.response or row.response
                row.next_attempt_at = now + _backoff(conf, row.attempts)
                result.retried += 1
        for row in deferred:
            row.next_attempt_at = now + _backoff(conf, 1)
            result.deferred += 1
        StripeOutbox.all_orgs.bulk_update(
            [s.row for s in sends] + deferred,
            [
                "kind",
                "status",
                "attempts",
                "first_attempt_at",
                "sent_at",
                "last_error",
                "next_attempt_at",
                "response",
            ],
        )
    return result


def _backoff(conf: StripeSettings, attempts: int) -> dt.timedelta:
    delay = min(conf.backoff_max_s, conf.backoff_base_s * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=delay * random.uniform(0.8, 1.0))  # noqa: S311 - jitter only


def _prepare(
    *, rows: list[StripeOutbox], client: stripe.StripeClient, conf: StripeSettings, now: dt.datetime
) -> tuple[list[_Send], list[StripeOutbox]]:
    """The request of each row; credits whose charge has not reached Stripe yet are deferred."""
    customers: dict[int, str] = {}
    values: dict[tuple[int, dt.date], CreditValue | None] = {}
    charges = _charge_rows(rows)
    sends, deferred = [], []
    for row in rows:
        org = row.organization
        if org.id not in customers:
            try:
                customers[org.id] = stripe_customer_id(organization=org, client=client)
            except stripe.StripeError as exc:
                customers[org.id] = ""
                logger.warning("no Stripe customer for organisation %s: %s", org.id, exc)
        customer = customers[org.id]
        if not customer:  # try again later, counted as an attempt
            sends.append(_Send(row, {}, _no_customer, row.idempotency_key))
            continue
        event = row.usage_event
        if row.kind == StripeOutboxKind.METER_EVENT:
            if row.first_attempt_at and now - row.first_attempt_at > UNCONFIRMED_LIMIT:
                # Stripe's identifier dedup lasts ~24 h: past 20 h a blind resend could count
                # twice. Staff compare with reconcile_billing, then retry (or leave it dead).
                sends.append(_Send(row, {}, _unconfirmed, row.idempotency_key))
                continue
            params = {
                "event_name": conf.meter_event_name,
                "identifier": str(event.id),
                "timestamp": int(event.occurred_at.timestamp()),
                "payload": {"stripe_customer_id": customer, "value": "1"},
            }
            sends.append(
                _Send(row, params, client.v1.billing.meter_events.create, row.idempotency_key)
            )
            continue
        charge = charges.get(event.id)
        if row.kind == StripeOutboxKind.CREDIT:
            if charge is None or charge.status != StripeOutboxStatus.SENT:
                deferred.append(row)  # the charge first (a dead charge: staff decide)
                continue
            assert charge.first_attempt_at is not None
            young = now - charge.first_attempt_at < dt.timedelta(
                seconds=86400 - conf.cancel_margin_s
            )
            row.kind = StripeOutboxKind.METER_CANCEL if young else StripeOutboxKind.BALANCE_CREDIT
        value = None
        if row.kind == StripeOutboxKind.BALANCE_CREDIT:
            month = (org.id, event.period_start)
            if month not in values:
                values[month] = plan_credit_value(organization=org, period_start=month[1])
            value = values[month]
            if value is None:  # no money value: the unit went back to the quota, that is all
                response = {**row.response, "quota_only": True}
                sends.append(_Send(row, {}, None, row.idempotency_key, "sent", "", response))
                continue
        sends.append(
            _credit_send(row=row, client=client, conf=conf, customer=customer, value=value)
        )
    return sends, deferred


def _credit_send(
    *,
    row: StripeOutbox,
    client: stripe.StripeClient,
    conf: StripeSettings,
    customer: str,
    value: CreditValue | None,
) -> _Send:
    event = row.usage_event
    params: dict[str, Any]
    if row.kind == StripeOutboxKind.METER_CANCEL:
        params = {
            "event_name": conf.meter_event_name,
            "type": "cancel",
            "cancel": {"identifier": str(event.id)},
        }
        return _Send(
            row, params, client.v1.billing.meter_event_adjustments.create, row.idempotency_key
        )
    assert value is not None, "a balance credit has a money value (plan_credit_value)"
    params = {
        "amount": -value.amount,
        "currency": value.currency,
        "description": f"Credit for lead {event.lead_id} ({event.period_start:%Y-%m})",
        "metadata": {
            "leadpilot_ledger_entry": str(row.ledger_entry_id),
            "leadpilot_usage_event": str(event.id),
            "leadpilot_period": f"{event.period_start:%Y-%m}",
            "leadpilot_units": "-1",
        },
    }
    # A cancel refused as too late falls back to this, under a key of its own.
    refused = row.response.get("cancel_refused")
    key = f"{row.idempotency_key}:balance" if refused else row.idempotency_key

    def create(p: Any, options: Any) -> Any:
        return client.v1.customers.balance_transactions.create(customer, p, options)

    return _Send(row, params, create, key)


def _charge_rows(rows: Iterable[StripeOutbox]) -> dict[Any, StripeOutbox]:
    credited = [r.usage_event_id for r in rows if r.kind != StripeOutboxKind.METER_EVENT]
    if not credited:
        return {}
    return {
        r.usage_event_id: r
        for r in StripeOutbox.all_orgs.filter(
            usage_event_id__in=credited, kind=StripeOutboxKind.METER_EVENT
        )
    }


def _unconfirmed(params: Any, options: Any) -> Any:
    raise stripe.InvalidRequestError(
        "unconfirmed for 20 h: not resent blindly, Stripe's identifier dedup may have lapsed; "
        "check manage.py reconcile_billing, then retry",
        param=None,
        code="leadpilot_unconfirmed",
    )


def _no_customer(params: Any, options: Any) -> Any:
    raise stripe.APIConnectionError("the organisation's Stripe customer could not be created")


def _send_one(send: _Send) -> _Send:
    """One HTTP call (a pool thread; no database here), unless the outcome was decided already."""
    if send.outcome or send.call is None:
        return send
    try:
        obj = send.call(send.params, {"idempotency_key": send.key})
    except TRANSIENT as exc:
        send.outcome, send.error = "retry", f"{type(exc).__name__}: {exc.user_message or exc}"
    except stripe.StripeError as exc:
        code = getattr(exc, "code", "") or ""
        send.error = f"{code or type(exc).__name__}: {exc.user_message or exc}"
        if code == CANCEL_TOO_LATE and send.row.kind == StripeOutboxKind.METER_CANCEL:
            send.row.kind, send.outcome = StripeOutboxKind.BALANCE_CREDIT, "retry"
            send.error = f"{CANCEL_TOO_LATE}: falling back to a balance credit"
            send.response = {"cancel_refused": True}
        else:
            send.outcome = "dead"
    else:
        send.outcome = "sent"
        send.response = {"id": getattr(obj, "id", None) or getattr(obj, "identifier", "")}
    return send


def stripe_outbox_retry(*, ids: Iterable[int]) -> int:
    """Staff's "retry" on dead rows: pending again, due now, attempts from zero and a fresh 20 h
    window (staff checked the reconciliation first). Same idempotency key. Returns the count."""
    return StripeOutbox.all_orgs.filter(id__in=list(ids), status=StripeOutboxStatus.DEAD).update(
        status=StripeOutboxStatus.PENDING,
        attempts=0,
        first_attempt_at=None,
        next_attempt_at=timezone.now(),
    )


def stripe_meter_ensure(*, client: stripe.StripeClient, conf: StripeSettings | None = None) -> str:
    """The id of the billing meter that sums STRIPE_METER_EVENT_NAME events per customer,
    created when missing (the fake and a fresh test account). Idempotent."""
    conf = conf or stripe_settings()
    for meter in client.v1.billing.meters.list({"limit": 100}).auto_paging_iter():
        if meter.event_name == conf.meter_event_name:
            return str(meter.id)
    meter = client.v1.billing.meters.create(
        {
            "display_name": "Charged leads",
            "event_name": conf.meter_event_name,
            "default_aggregation": {"formula": "sum"},
            "customer_mapping": {"type": "by_id", "event_payload_key": "stripe_customer_id"},
            "value_settings": {"event_payload_key": "value"},
        },
        {"idempotency_key": f"meter-create:{conf.meter_event_name}"},
    )
    return str(meter.id)
