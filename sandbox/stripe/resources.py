"""The API resources: one handler per route, `(state, params, *path_ids) -> dict`.

Handlers run under the state's lock. Only the fields the billing code and the stripe library
read are filled; ids look like Stripe's (`cus_…`, `price_…`)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from .state import DAY, StripeError, StripeState, no_such

Handler = Callable[..., dict[str, Any]]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []
PUBLIC_BASE = {"url": "http://127.0.0.1"}  # set by the server to its own address


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append((method, re.compile(f"^{pattern}$"), handler))
        return handler

    return register


def _required(params: dict[str, Any], *names: str) -> None:
    for name in names:
        if params.get(name) in (None, ""):
            raise StripeError(f"Missing required param: {name}.", param=name)


def _int(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = params.get(name, default)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(f"Invalid integer: {value}", param=name) from None


def _listing(url: str, items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    items = sorted(items, key=lambda o: (o.get("created", 0), o["id"]), reverse=True)
    if params.get("starting_after"):
        ids = [o["id"] for o in items]
        if params["starting_after"] in ids:
            items = items[ids.index(params["starting_after"]) + 1 :]
    limit = _int(params, "limit", 10) or 10
    return {"object": "list", "url": url, "data": items[:limit], "has_more": len(items) > limit}


def _filtered(items: list[dict[str, Any]], params: dict[str, Any], *fields: str) -> list[dict]:
    for field in fields:
        if params.get(field):
            items = [o for o in items if o.get(field) == params[field]]
    return items


def _metadata(obj: dict[str, Any], params: dict[str, Any]) -> None:
    if isinstance(params.get("metadata"), dict):
        obj.setdefault("metadata", {}).update(params["metadata"])
        obj["metadata"] = {k: v for k, v in obj["metadata"].items() if v != ""}


# -- customers -------------------------------------------------------------------------------
@route("POST", "/v1/customers")
def customer_create(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    customer = {
        "object": "customer",
        "email": params.get("email"),
        "name": params.get("name"),
        "balance": 0,
        "currency": None,
        "metadata": {},
        "invoice_settings": {"default_payment_method": None},
    }
    _metadata(customer, params)
    state.add("cus", customer)
    state.emit("customer.created", customer)
    return customer


@route("GET", "/v1/customers/(cus_[^/]+)")
def customer_retrieve(state: StripeState, params: dict[str, Any], cid: str) -> dict[str, Any]:
    return state.get("customer", cid)


@route("POST", "/v1/customers/(cus_[^/]+)")
def customer_update(state: StripeState, params: dict[str, Any], cid: str) -> dict[str, Any]:
    customer = state.get("customer", cid)
    for field in ("email", "name"):
        if field in params:
            customer[field] = params[field]
    _metadata(customer, params)
    state.emit("customer.updated", customer)
    return customer


@route("GET", "/v1/customers")
def customer_list(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    items = _filtered(state.all("customer"), params, "email")
    return _listing("/v1/customers", items, params)


@route("POST", "/v1/customers/(cus_[^/]+)/balance_transactions")
def balance_transaction_create(
    state: StripeState, params: dict[str, Any], cid: str
) -> dict[str, Any]:
    customer = state.get("customer", cid)
    _required(params, "amount", "currency")
    amount = _int(params, "amount") or 0
    customer["balance"] += amount
    customer["currency"] = customer["currency"] or params["currency"]
    txn = {
        "object": "customer_balance_transaction",
        "customer": cid,
        "amount": amount,
        "currency": params["currency"],
        "description": params.get("description"),
        "ending_balance": customer["balance"],
        "type": "adjustment",
        "metadata": {},
    }
    _metadata(txn, params)
    state.add("cbtxn", txn)
    return txn


@route("GET", "/v1/customers/(cus_[^/]+)/balance_transactions")
def balance_transaction_list(
    state: StripeState, params: dict[str, Any], cid: str
) -> dict[str, Any]:
    state.get("customer", cid)
    items = [t for t in state.all("customer_balance_transaction") if t["customer"] == cid]
    return _listing(f"/v1/customers/{cid}/balance_transactions", items, params)


# -- products and prices ---------------------------------------------------------------------
@route("POST", "/v1/products")
def product_create(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    _required(params, "name")
    product = {"object": "product", "name": params["name"], "active": True, "metadata": {}}
    _metadata(product, params)
    return state.add("prod", product)


@route("GET", "/v1/products/(prod_[^/]+)")
def product_retrieve(state: StripeState, params: dict[str, Any], pid: str) -> dict[str, Any]:
    return state.get("product", pid)


@route("GET", "/v1/products")
def product_list(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    return _listing("/v1/products", state.all("product"), params)


@route("POST", "/v1/prices")
def price_create(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    _required(params, "currency")
    product = params.get("product")
    if isinstance(params.get("product_data"), dict):
        product = product_create(state, params["product_data"])["id"]
    if not product:
        raise StripeError("Missing required param: product.", param="product")
    state.get("product", product)
    recurring = params.get("recurring") or None
    if recurring is not None:
        recurring = {
            "interval": recurring.get("interval", "month"),
            "interval_count": int(recurring.get("interval_count", 1)),
            "usage_type": recurring.get("usage_type", "licensed"),
            "meter": recurring.get("meter"),
        }
    tiers = None
    if params.get("billing_scheme") == "tiered":
        raw = params.get("tiers") or []
        if not raw or params.get("tiers_mode") not in ("graduated", "volume"):
            raise StripeError("Tiered prices need tiers and tiers_mode.", param="tiers")
        tiers = [
            {
                "up_to": None if tier.get("up_to") == "inf" else int(tier["up_to"]),
                "unit_amount": int(tier.get("unit_amount", 0)),
                "flat_amount": int(tier.get("flat_amount", 0)),
            }
            for tier in raw
        ]
        if tiers[-1]["up_to"] is not None:
            raise StripeError("The last tier must have up_to=inf.", param="tiers")
    price = {
        "object": "price",
        "active": True,
        "currency": params["currency"],
        "product": product,
        "unit_amount": _int(params, "unit_amount"),
        "billing_scheme": params.get("billing_scheme", "per_unit"),
        "tiers_mode": params.get("tiers_mode"),
        "tiers": tiers,
        "recurring": recurring,
        "lookup_key": params.get("lookup_key"),
        "nickname": params.get("nickname"),
        "type": "recurring" if recurring else "one_time",
        "metadata": {},
    }
    _metadata(price, params)
    return state.add("price", price)


@route("GET", "/v1/prices/(price_[^/]+)")
def price_retrieve(state: StripeState, params: dict[str, Any], pid: str) -> dict[str, Any]:
    return state.get("price", pid)


@route("GET", "/v1/prices")
def price_list(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    items = _filtered(state.all("price"), params, "product", "currency")
    if params.get("lookup_keys"):
        keys = params["lookup_keys"]
        items = [p for p in items if p.get("lookup_key") in keys]
    return _listing("/v1/prices", items, params)


# -- subscriptions, checkout, portal ---------------------------------------------------------
def _month_after(ts: int) -> int:
    day = dt.datetime.fromtimestamp(ts, dt.UTC)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    last = calendar.monthrange(year, month)[1]
    return int(day.replace(year=year, month=month, day=min(day.day, last)).timestamp())


def subscription_start(
    state: StripeState, *, customer: str, items: list[dict[str, Any]], metadata: dict | None = None
) -> dict[str, Any]:
    state.get("customer", customer)
    start = state.now()
    end = _month_after(start)
    sub_id = state.new_id("sub")
    sub_items = []
    for item in items:
        price = state.get("price", item.get("price", ""))
        sub_items.append(
            {
                "object": "subscription_item",
                "id": state.new_id("si"),
                "price": price,
                "quantity": None if price["recurring"]["usage_type"] == "metered" else 1,
                "subscription": sub_id,
                "current_period_start": start,
                "current_period_end": end,
            }
        )
    sub = state.add(
        "sub",
        {
            "id": sub_id,
            "object": "subscription",
            "customer": customer,
            "status": "active",
            "items": {"object": "list", "data": sub_items, "has_more": False},
            "current_period_start": start,
            "current_period_end": end,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "latest_invoice": None,
            "metadata": metadata or {},
        },
    )
    state.emit("customer.subscription.created", sub)
    invoice_for_period(state, sub, start=start, end=end, usage=False)
    return sub


def invoice_for_period(
    state: StripeState, sub: dict[str, Any], *, start: int, end: int, usage: bool = True
) -> dict[str, Any]:
    """Finalize and pay an invoice: licensed items in advance, metered usage (graduated tiers)
    for the period when `usage`; emits invoice.finalized and invoice.paid."""
    lines = []
    for item in sub["items"]["data"]:
        price = item["price"]
        metered = price["recurring"]["usage_type"] == "metered"
        if metered and not usage:
            continue
        if metered:
            meter = state.objects.get(price["recurring"].get("meter") or "")
            quantity = int(
                state.meter_total(
                    event_name=meter["event_name"],
                    customer_key=meter["customer_mapping"]["event_payload_key"],
                    value_key=meter["value_settings"]["event_payload_key"],
                    customer=sub["customer"],
                    start=start,
                    end=end,
                )
                if meter
                else 0
            )
        else:
            quantity = item.get("quantity") or 1
        lines.append(
            {
                "object": "line_item",
                "price": price,
                "quantity": quantity,
                "amount": _price_amount(price, quantity),
                "period": {"start": start, "end": end},
            }
        )
    total = sum(line["amount"] for line in lines)
    customer = state.get("customer", sub["customer"])
    applied = min(total, -customer["balance"]) if customer["balance"] < 0 else 0
    customer["balance"] += applied
    number = sum(1 for _ in state.all("invoice")) + 1
    invoice = state.add(
        "in",
        {
            "object": "invoice",
            "customer": sub["customer"],
            "subscription": sub["id"],
            "number": f"FAKE-{number:04d}",
            "status": "paid",
            "currency": lines[0]["price"]["currency"] if lines else "eur",
            "subtotal": total,
            "total": total,
            "amount_due": total - applied,
            "amount_paid": total - applied,
            "starting_balance": -applied,
            "period_start": start,
            "period_end": end,
            "lines": {"object": "list", "data": lines, "has_more": False},
        },
    )
    base = PUBLIC_BASE["url"]
    invoice["hosted_invoice_url"] = f"{base}/invoices/{invoice['id']}"
    invoice["invoice_pdf"] = f"{base}/invoices/{invoice['id']}.pdf"
    sub["latest_invoice"] = invoice["id"]
    state.emit("invoice.finalized", invoice)
    state.emit("invoice.paid", invoice)
    return invoice


def _price_amount(price: dict[str, Any], quantity: int) -> int:
    if price["billing_scheme"] != "tiered":
        return (price["unit_amount"] or 0) * quantity
    if price["tiers_mode"] == "volume":
        tier = next(t for t in price["tiers"] if t["up_to"] is None or quantity <= t["up_to"])
        return tier["flat_amount"] + tier["unit_amount"] * quantity
    amount, below = 0, 0
    for tier in price["tiers"]:
        top = quantity if tier["up_to"] is None else min(quantity, tier["up_to"])
        if top > below:
            amount += tier["flat_amount"] + tier["unit_amount"] * (top - below)
        below = tier["up_to"] or below
        if tier["up_to"] is None or quantity <= tier["up_to"]:
            break
    return amount


@route("POST", "/v1/subscriptions")
def subscription_create(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    _required(params, "customer", "items")
    return subscription_start(
        state, customer=params["customer"], items=params["items"], metadata=params.get("metadata")
    )


@route("GET", "/v1/subscriptions/(sub_[^/]+)")
def subscription_retrieve(state: StripeState, params: dict[str, Any], sid: str) -> dict:
    return state.get("subscription", sid)


@route("POST", "/v1/subscriptions/(sub_[^/]+)")
def subscription_update(state: StripeState, params: dict[str, Any], sid: str) -> dict:
    sub = state.get("subscription", sid)
    if "cancel_at_period_end" in params:
        sub["cancel_at_period_end"] = params["cancel_at_period_end"] == "true"
    for change in params.get("items") or []:
        item = next((i for i in sub["items"]["data"] if i["id"] == change.get("id")), None)
        if item is None:
            raise no_such("subscription item", change.get("id", ""), "items")
        if change.get("price"):
            item["price"] = state.get("price", change["price"])
    _metadata(sub, params)
    state.emit("customer.subscription.updated", sub)
    return sub


@route("DELETE", "/v1/subscriptions/(sub_[^/]+)")
def subscription_cancel(state: StripeState, params: dict[str, Any], sid: str) -> dict:
    sub = state.get("subscription", sid)
    sub.update(status="canceled", canceled_at=state.now())
    state.emit("customer.subscription.deleted", sub)
    return sub


@route("GET", "/v1/subscriptions")
def subscription_list(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    items = _filtered(state.all("subscription"), params, "customer", "status")
    return _listing("/v1/subscriptions", items, params)


@route("POST", "/v1/checkout/sessions")
def checkout_create(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    _required(params, "mode", "success_url")
    for item in params.get("line_items") or []:
        state.get("price", item.get("price", ""))
    session = state.add(
        "cs",
        {
            "object": "checkout.session",
            "mode": params["mode"],
            "status": "open",
            "payment_status": "unpaid",
            "customer": params.get("customer"),
            "customer_email": params.get("customer_email"),
            "client_reference_id": params.get("client_reference_id"),
            "line_items": params.get("line_items") or [],
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "subscription": None,
            "metadata": params.get("metadata") or {},
            "subscription_data": params.get("subscription_data") or {},
        },
    )
    session["url"] = f"{PUBLIC_BASE['url']}/checkout/{session['id']}"
    return session


@route("GET", "/v1/checkout/sessions/(cs_[^/]+)")
def checkout_retrieve(state: StripeState, params: dict[str, Any], cid: str) -> dict[str, Any]:
    return state.get("checkout.session", cid)


def checkout_complete(state: StripeState, cid: str) -> dict[str, Any]:
    """What paying on Stripe's page does: a customer if none, the subscription, webhooks."""
    session = state.get("checkout.session", cid)
    if session["status"] != "open":
        raise StripeError("This Checkout Session is no longer open.", code="session_expired")
    if not session["customer"]:
        session["customer"] = customer_create(state, {"email": session["customer_email"]})["id"]
    if session["mode"] == "subscription":
        meta = session["subscription_data"].get("metadata") or {}
        sub = subscription_start(
            state, customer=session["customer"], items=session["line_items"], metadata=meta
        )
        session["subscription"] = sub["id"]
    session.update(status="complete", payment_status="paid")
    state.emit("checkout.session.completed", session)
    return session


@route("POST", "/v1/billing_portal/sessions")
def portal_create(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    _required(params, "customer")
    state.get("customer", params["customer"])
    portal = state.add(
        "bps",
        {
            "object": "billing_portal.session",
            "customer": params["customer"],
            "return_url": params.get("return_url"),
        },
    )
    portal["url"] = f"{PUBLIC_BASE['url']}/portal/{portal['id']}"
    return portal


# -- invoices and events ---------------------------------------------------------------------
@route("GET", "/v1/invoices/(in_[^/]+)")
def invoice_retrieve(state: StripeState, params: dict[str, Any], iid: str) -> dict[str, Any]:
    return state.get("invoice", iid)


@route("GET", "/v1/invoices")
def invoice_list(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    items = _filtered(state.all("invoice"), params, "customer", "subscription", "status")
    return _listing("/v1/invoices", items, params)


@route("GET", "/v1/events/(evt_[^/]+)")
def event_retrieve(state: StripeState, params: dict[str, Any], eid: str) -> dict[str, Any]:
    return state.get("event", eid)


@route("GET", "/v1/events")
def event_list(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    return _listing("/v1/events", _filtered(state.all("event"), params, "type"), params)


# -- billing meters --------------------------------------------------------------------------
@route("POST", "/v1/billing/meters")
def meter_create(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    _required(params, "display_name", "event_name", "default_aggregation")
    if any(m["event_name"] == params["event_name"] for m in state.all("billing.meter")):
        raise StripeError("A meter with this event_name already exists.", param="event_name")
    customer_key = (params.get("customer_mapping") or {}).get("event_payload_key")
    value_key = (params.get("value_settings") or {}).get("event_payload_key")
    return state.add(
        "mtr",
        {
            "object": "billing.meter",
            "display_name": params["display_name"],
            "event_name": params["event_name"],
            "status": "active",
            "default_aggregation": {"formula": params["default_aggregation"].get("formula")},
            "customer_mapping": {
                "type": "by_id",
                "event_payload_key": customer_key or "stripe_customer_id",
            },
            "value_settings": {"event_payload_key": value_key or "value"},
            "event_time_window": None,
        },
    )


@route("GET", "/v1/billing/meters")
def meter_list(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    return _listing("/v1/billing/meters", state.all("billing.meter"), params)


@route("GET", "/v1/billing/meters/(mtr_[^/]+)")
def meter_retrieve(state: StripeState, params: dict[str, Any], mid: str) -> dict[str, Any]:
    return state.get("billing.meter", mid)


@route("POST", "/v1/billing/meter_events")
def meter_event_create(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    """Stripe's rules: timestamp within the past 35 days and at most 5 minutes ahead; an
    identifier seen in the last 24 h is a duplicate (answered with the first event, not counted)."""
    _required(params, "event_name", "payload")
    now = state.now()
    timestamp = _int(params, "timestamp", now)
    assert timestamp is not None
    if timestamp < now - 35 * DAY:
        raise StripeError(
            "Timestamp must be within the past 35 days.",
            code="timestamp_too_far_in_past",
            param="timestamp",
        )
    if timestamp > now + 300:
        raise StripeError(
            "Timestamp must be no more than 5 minutes in the future.",
            code="timestamp_in_future",
            param="timestamp",
        )
    payload = params["payload"]
    if not isinstance(payload, dict) or not _numeric(payload.get("value", "1")):
        raise StripeError("payload[value] must be a number.", param="payload[value]")
    identifier = params.get("identifier") or state.new_id("mev")
    seen = state.identifiers.get(identifier)
    if seen is not None and now - seen["_received"] < DAY:
        state.duplicates += 1
        return seen
    event = {
        "object": "billing.meter_event",
        "event_name": params["event_name"],
        "identifier": identifier,
        "timestamp": timestamp,
        "payload": dict(payload),
        "created": now,
        "livemode": False,
        "_received": now,
        "_cancelled": False,
    }
    state.meter_events.append(event)
    state.identifiers[identifier] = event
    return event


def _numeric(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


@route("POST", "/v1/billing/meter_event_adjustments")
def meter_event_adjustment_create(state: StripeState, params: dict[str, Any]) -> dict:
    """Cancel one event by identifier, only within 24 h of Stripe receiving it."""
    _required(params, "event_name", "cancel")
    if params.get("type", "cancel") != "cancel":
        raise StripeError("Only type=cancel is supported.", param="type")
    identifier = (params["cancel"] or {}).get("identifier", "")
    event = state.identifiers.get(identifier)
    if event is None or event["event_name"] != params["event_name"]:
        raise no_such("meter event", identifier, "cancel[identifier]")
    if state.now() - event["_received"] > DAY:
        raise StripeError(
            "Meter events can only be cancelled within 24 hours of being received.",
            code="meter_event_adjustment_too_late",
            param="cancel[identifier]",
        )
    event["_cancelled"] = True
    return state.add(
        "mea",
        {
            "object": "billing.meter_event_adjustment",
            "event_name": params["event_name"],
            "type": "cancel",
            "cancel": {"identifier": identifier},
            "status": "pending",
        },
    )


@route("GET", "/v1/billing/meters/(mtr_[^/]+)/event_summaries")
def meter_event_summaries(state: StripeState, params: dict[str, Any], mid: str) -> dict:
    """One summary for [start_time, end_time) (minute-aligned), or one per day/hour window."""
    meter = state.get("billing.meter", mid)
    _required(params, "customer", "start_time", "end_time")
    start, end = _int(params, "start_time") or 0, _int(params, "end_time") or 0
    if start % 60 or end % 60 or end <= start:
        raise StripeError("start_time and end_time must be minute-aligned, start < end.")
    step = {"hour": 3600, "day": DAY}.get(params.get("value_grouping_window", ""), end - start)
    summaries = []
    for lo in range(start, end, step):
        hi = min(lo + step, end)
        total = state.meter_total(
            event_name=meter["event_name"],
            customer_key=meter["customer_mapping"]["event_payload_key"],
            value_key=meter["value_settings"]["event_payload_key"],
            customer=params["customer"],
            start=lo,
            end=hi,
            formula=meter["default_aggregation"]["formula"],
        )
        summaries.append(
            {
                "object": "billing.meter_event_summary",
                "id": f"mtrusg_{mid}_{lo}",
                "meter": mid,
                "aggregated_value": total,
                "start_time": lo,
                "end_time": hi,
                "livemode": False,
            }
        )
    return _listing(f"/v1/billing/meters/{mid}/event_summaries", summaries[::-1], params)
