"""Emit webhook events: the transactional outbox's one entry point.

Contract: `event_emit` must be called inside the transaction of the change it announces (it opens
one of its own otherwise). It writes one `WebhookMessage` and one `WebhookDelivery` per active
endpoint of the organisation subscribed to the event type, in that transaction, and schedules the
deliveries with `transaction.on_commit`: a rolled-back change sends nothing, a committed one is
delivered at least once (the `webhook-id` is stable, receivers deduplicate on it). No HTTP request
is ever made here. An organisation without a subscribed endpoint costs one query and no row.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from organizations.models import Organization

from .models import EventType, WebhookDelivery, WebhookEndpoint, WebhookMessage

EVENT_TYPES = frozenset(EventType.values)


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    # Dates, decimals and UUIDs as JSON strings, once, so the stored payload is the sent one.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def new_msg_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def message_payload(*, type: str, data: dict[str, Any], at: Any = None) -> dict[str, Any]:
    """The body Standard Webhooks recommends: the event type, when it happened, its data."""
    at = at or timezone.now()
    return {"type": type, "timestamp": at.isoformat(), "data": _json_safe(data)}


def event_emit(*, organization: Organization, type: str, data: dict[str, Any]) -> None:
    """Announce one event to the organisation's subscribed endpoints (see the module's contract).

    `type` is one of EventType's values (a ValueError otherwise: a typo must not go silent);
    `data` is the event's JSON object (ids as the API shows them). Not idempotent: each call is
    one more message.
    """
    events_emit(organization=organization, type=type, items=[data])


def events_emit(
    *,
    organization: Organization,
    type: str,
    items: Iterable[dict[str, Any]],
) -> None:
    """`event_emit` for many events of one type at once (a night's leads): one endpoint query,
    bulk inserts, one on_commit hook."""
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {type!r}; one of {sorted(EVENT_TYPES)}")
    endpoint_ids = [
        endpoint_id
        for endpoint_id, events in WebhookEndpoint.objects.for_org(organization)
        .filter(is_active=True)
        .values_list("id", "events")
        if type in (events or [])
    ]
    if not endpoint_ids:
        return
    now = timezone.now()
    with transaction.atomic():
        messages = WebhookMessage.objects.bulk_create(
            [
                WebhookMessage(
                    organization=organization,
                    msg_id=new_msg_id(),
                    event_type=type,
                    payload=message_payload(type=type, data=data, at=now),
                )
                for data in items
            ]
        )
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    organization=organization,
                    message=message,
                    endpoint_id=endpoint_id,
                    next_attempt_at=now,
                )
                for message in messages
                for endpoint_id in endpoint_ids
            ]
        )
        delivery_ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=delivery_ids))


def deliveries_enqueue(*, delivery_ids: list[int]) -> None:
    """Hand deliveries to the worker (after commit). In eager mode (`make run` without Redis)
    they run in this process, one after the other."""
    from .tasks import webhook_deliver

    for delivery_id in delivery_ids:
        webhook_deliver.delay(delivery_id=delivery_id)
