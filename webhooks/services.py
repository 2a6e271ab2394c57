"""Writes of webhooks: endpoints (create, edit, rotate, delete) and the delivery of a message.

Delivery contract: `delivery_attempt` claims a pending delivery (a row lock, then a short lease
in `claimed_until`, so two workers never send one delivery at once and a crashed worker's claim
runs out), sends one signed POST outside any transaction, with the connection pinned to the
address the SSRF guard approved, no redirects followed and small timeouts, then records the
attempt. A failure schedules the next try by the back-off table until the message is
LEADPILOT_WEBHOOKS_RETRY_HOURS old; then the delivery fails, and if the endpoint had no success
since, the endpoint is disabled and the organisation's admins get an e-mail. Each attempt is a
`WebhookAttempt` row, kept LEADPILOT_WEBHOOKS_LOG_RETENTION_DAYS days.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import logging
import secrets
import ssl
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from organizations.language import mail_per_language
from organizations.models import Membership, Organization, Role, User

from .events import EVENT_TYPES, message_payload, new_msg_id
from .guard import UnsafeURL, url_check
from .models import (
    TEST_EVENT,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)

log = logging.getLogger(__name__)

EXCERPT_CHARS = 1000
CLAIM_SECONDS = 60
# Seconds after a failed attempt before the next (the last one repeats), as Standard Webhooks'
# reference implementation spaces them; overridable (LEADPILOT_WEBHOOKS_RETRY_DELAYS).
RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 36000, 43200)


# --- endpoints ------------------------------------------------------------------------------


def secret_new() -> str:
    """A Standard Webhooks secret: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _events_clean(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - EVENT_TYPES)
    if unknown:
        raise ValidationError(
            {"events": _("Unknown event type: %(types)s.") % {"types": ", ".join(unknown)}}
        )
    if not events:
        raise ValidationError({"events": _("Choose at least one event.")})
    return sorted(set(events))


def _url_clean(url: str) -> str:
    url = (url or "").strip()
    if len(url) > 2000:
        raise ValidationError({"url": _("The URL is longer than 2000 characters.")})
    try:
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ValidationError(
            {"url": _("The URL is not valid: %(error)s") % {"error": exc}}
        ) from exc
    try:
        url_check(url)
    except UnsafeURL as exc:
        raise ValidationError({"url": str(exc)}) from exc
    return url


def endpoint_create(
    *,
    organization: Organization,
    url: str,
    events: list[str],
    description: str = "",
    created_by: User | None = None,
) -> WebhookEndpoint:
    """A new active endpoint with a fresh secret. The URL must pass the SSRF guard (a
    ValidationError naming the field otherwise)."""
    endpoint = WebhookEndpoint(
        organization=organization,
        url=_url_clean(url),
        events=_events_clean(events),
        description=description.strip()[:200],
        secret=secret_new(),
        created_by=created_by,
    )
    endpoint.save()
    return endpoint


def endpoint_update(
    *,
    organization: Organization,
    endpoint_id: int,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given. Enabling a disabled endpoint clears its reason; its failed
    deliveries stay failed (redeliver them from the log)."""
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.for_org(organization).select_for_update().get(pk=endpoint_id)
        )
        fields = ["updated_at"]
        if url is not None:
            endpoint.url = _url_clean(url)
            fields.append("url")
        if events is not None:
            endpoint.events = _events_clean(events)
            fields.append("events")
        if description is not None:
            endpoint.description = description.strip()[:200]
            fields.append("description")
        if is_active is not None and is_active != endpoint.is_active:
            endpoint.is_active = is_active
            endpoint.disabled_at = None if is_active else timezone.now()
            endpoint.disabled_reason = "" if is_active else _("Disabled by a person.")
            fields += ["is_active", "disabled_at", "disabled_reason"]
        endpoint.save(update_fields=fields)
    return endpoint


def endpoint_delete(*, organization: Organization, endpoint_id: int) -> None:
    """Delete the endpoint with its deliveries and their log (messages stay for other
    endpoints until the retention sweep)."""
    WebhookEndpoint.objects.for_org(organization).get(pk=endpoint_id).delete()


def endpoint_secret_rotate(*, organization: Organization, endpoint_id: int) -> WebhookEndpoint:
    """A new secret; the old one keeps signing (a second signature) for
    LEADPILOT_WEBHOOKS_SECRET_OVERLAP_HOURS, so receivers can switch without losing events."""
    hours = getattr(settings, "LEADPILOT_WEBHOOKS_SECRET_OVERLAP_HOURS", 24)
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.for_org(organization).select_for_update().get(pk=endpoint_id)
        )
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + dt.timedelta(hours=hours)
        endpoint.secret = secret_new()
        endpoint.save(
            update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
        )
    return endpoint


def endpoint_secrets(endpoint: WebhookEndpoint, *, now: dt.datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its overlap."""
    found = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > now
    ):
        found.append(endpoint.previous_secret)
    return found


def endpoint_test_send(*, organization: Organization, endpoint_id: int) -> WebhookDelivery:
    """Send a `webhook.test` event to this endpoint (whatever it subscribes to), through the
    same queue, signing and log as real events; one attempt, no retries."""
    from .tasks import webhook_deliver

    endpoint = WebhookEndpoint.objects.for_org(organization).get(pk=endpoint_id)
    now = timezone.now()
    with transaction.atomic():
        message = WebhookMessage.objects.create(
            organization=organization,
            msg_id=new_msg_id(),
            event_type=TEST_EVENT,
            payload=message_payload(
                type=TEST_EVENT,
                data={"endpoint_id": endpoint.pk, "organization": organization.slug},
                at=now,
            ),
        )
        delivery = WebhookDelivery.objects.create(
            organization=organization, message=message, endpoint=endpoint, next_attempt_at=now
        )
        # A person's action: sent even to a disabled endpoint (to check it before enabling).
        transaction.on_commit(
            lambda: webhook_deliver.delay(delivery_id=delivery.pk, manual=True)  # type: ignore[call-arg]
        )
    return delivery


def delivery_redeliver(*, organization: Organization, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again now, same `webhook-id` and body (a fresh timestamp and signature).
    A manual attempt: it does not disable the endpoint, and a pending delivery keeps its own
    schedule of retries."""
    from .tasks import webhook_deliver

    delivery = WebhookDelivery.objects.for_org(organization).get(pk=delivery_id)
    transaction.on_commit(
        lambda: webhook_deliver.delay(delivery_id=delivery.pk, manual=True)  # type: ignore[call-arg]
    )
    return delivery


# --- delivery -------------------------------------------------------------------------------


@dataclass
class AttemptResult:
    succeeded: bool
    status_code: int | None = None
    response_ms: int | None = None
    excerpt: str = ""
    error: str = ""


def _timeouts() -> tuple[float, float]:
    return (
        float(getattr(settings, "LEADPILOT_WEBHOOKS_CONNECT_TIMEOUT", 5.0)),
        float(getattr(settings, "LEADPILOT_WEBHOOKS_TIMEOUT", 10.0)),
    )


def request_build(
    *, endpoint: WebhookEndpoint, message: WebhookMessage, now: dt.datetime
) -> tuple[bytes, dict[str, str]]:
    """The body and the Standard Webhooks headers of one attempt."""
    body = json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False)
    signatures = [
        Webhook(secret).sign(msg_id=message.msg_id, timestamp=now, data=body)
        for secret in endpoint_secrets(endpoint, now=now)
    ]
    headers = {
        "content-type": "application/json",
        "user-agent": "LeadPilot-Webhooks/1.0",
        "webhook-id": message.msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
    return body.encode(), headers


@functools.lru_cache(maxsize=4)
def _http_client(*, ca_file: str, connect_timeout: float, total: float) -> httpx.Client:
    """One client per process (an SSL context costs ~50 ms to build), shared by threads, with no
    kept-alive connections: each attempt connects anew to the address it was pinned to, so a
    connection made for one host name is never reused for another on the same address. The
    sandbox's (tests') CA when set, else the system's trust store."""
    return httpx.Client(
        timeout=httpx.Timeout(total, connect=connect_timeout),
        limits=httpx.Limits(max_keepalive_connections=0),
        follow_redirects=False,
        verify=ssl.create_default_context(cafile=ca_file or None),
        trust_env=False,
    )


def _send(*, endpoint: WebhookEndpoint, message: WebhookMessage) -> AttemptResult:
    try:
        target = url_check(endpoint.url)  # again at each delivery: DNS may have changed
    except UnsafeURL as exc:
        return AttemptResult(succeeded=False, error=str(exc)[:300])
    body, headers = request_build(endpoint=endpoint, message=message, now=timezone.now())
    url = httpx.URL(endpoint.url)
    default_port = 443 if target.scheme == "https" else 80
    headers["host"] = target.host if target.port == default_port else f"{target.host}:{target.port}"
    pinned = url.copy_with(host=target.address, port=target.port)
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    connect_timeout, total = _timeouts()
    client = _http_client(
        ca_file=getattr(settings, "LEADPILOT_HTTP_CA_FILE", "") or "",
        connect_timeout=connect_timeout,
        total=total,
    )
    started = time.monotonic()
    try:
        with (
            client.stream(
                "POST", pinned, content=body, headers=headers, extensions=extensions
            ) as response,
        ):
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_raw():
                chunks.append(chunk)
                size += len(chunk)
                if size >= EXCERPT_CHARS * 4 or time.monotonic() - started > total:
                    break
            elapsed_ms = int((time.monotonic() - started) * 1000)
            excerpt = b"".join(chunks).decode("utf-8", errors="replace")[:EXCERPT_CHARS]
            code = response.status_code
    except httpx.TimeoutException:
        return AttemptResult(
            succeeded=False,
            response_ms=int((time.monotonic() - started) * 1000),
            error=_("The receiver did not answer in time."),
        )
    except httpx.HTTPError as exc:
        return AttemptResult(
            succeeded=False,
            response_ms=int((time.monotonic() - started) * 1000),
            error=(_("Could not connect: %(error)s") % {"error": exc or type(exc).__name__})[:300],
        )
    result = AttemptResult(
        succeeded=200 <= code < 300, status_code=code, response_ms=elapsed_ms, excerpt=excerpt
    )
    if 300 <= code < 400:
        result.error = (
            _("Redirect refused: webhooks do not follow redirects (Location: %(location)s).")
            % {"location": response.headers.get("location", "")}
        )[:300]
    elif not result.succeeded:
        result.error = _("The receiver answered %(code)d.") % {"code": code}
    return result


def _retry_delay(attempts: int) -> int:
    delays = getattr(settings, "LEADPILOT_WEBHOOKS_RETRY_DELAYS", None) or RETRY_DELAYS
    return int(delays[min(attempts - 1, len(delays) - 1)])


def _claim(*, delivery_id: int, manual: bool, now: dt.datetime) -> WebhookDelivery | None:
    with transaction.atomic():
        # all_orgs: a task knows only the delivery's id; the organisation comes from the row.
        delivery = (
            WebhookDelivery.all_orgs.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "message")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return None
        if delivery.claimed_until and delivery.claimed_until > now:
            return None
        if not manual and (
            delivery.status != DeliveryStatus.PENDING
            or not delivery.endpoint.is_active
            or (
                delivery.next_attempt_at
                and delivery.next_attempt_at > now + dt.timedelta(seconds=1)
            )
        ):
            return None
        delivery.claimed_until = now + dt.timedelta(seconds=CLAIM_SECONDS)
        delivery.save(update_fields=["claimed_until"])
        return delivery


def delivery_attempt(*, delivery_id: int, manual: bool = False) -> WebhookAttempt | None:
    """One attempt of a delivery (see the module's contract). Idempotent for a delivery that is
    not due, already delivered or claimed by another worker: it returns None and sends nothing."""
    from .tasks import webhook_deliver

    delivery = _claim(delivery_id=delivery_id, manual=manual, now=timezone.now())
    if delivery is None:
        return None
    endpoint, message = delivery.endpoint, delivery.message
    attempted_at = timezone.now()
    result = _send(endpoint=endpoint, message=message)
    now = timezone.now()
    retry_in: int | None = None
    disable = False
    with transaction.atomic():
        locked = WebhookDelivery.all_orgs.select_for_update().get(pk=delivery.pk)
        attempt = WebhookAttempt.objects.create(
            organization_id=delivery.organization_id,
            delivery=locked,
            attempted_at=attempted_at,
            status_code=result.status_code,
            response_ms=result.response_ms,
            response_excerpt=result.excerpt,
            error=result.error,
            succeeded=result.succeeded,
            manual=manual,
        )
        locked.attempts += 1
        locked.last_attempt_at = attempted_at
        locked.claimed_until = None
        fields = ["attempts", "last_attempt_at", "claimed_until"]
        if result.succeeded:
            locked.status = DeliveryStatus.SUCCEEDED
            locked.succeeded_at = now
            locked.next_attempt_at = None
            fields += ["status", "succeeded_at", "next_attempt_at"]
        elif locked.status == DeliveryStatus.PENDING and message.event_type != TEST_EVENT:
            window = dt.timedelta(hours=getattr(settings, "LEADPILOT_WEBHOOKS_RETRY_HOURS", 72))
            delay = _retry_delay(locked.attempts)
            if now + dt.timedelta(seconds=delay) > message.created_at + window:
                locked.status = DeliveryStatus.FAILED
                locked.next_attempt_at = None
                disable = not manual
            else:
                locked.next_attempt_at = now + dt.timedelta(seconds=delay)
                retry_in = delay
            fields += ["status", "next_attempt_at"]
        elif locked.status == DeliveryStatus.PENDING:  # a test event: one attempt only
            locked.status = DeliveryStatus.FAILED
            locked.next_attempt_at = None
            fields += ["status", "next_attempt_at"]
        locked.save(update_fields=fields)
        if disable:
            _endpoint_disable_if_dead(endpoint_id=endpoint.pk, since=message.created_at, now=now)
        if retry_in is not None:
            delay_s = retry_in

            def schedule() -> None:
                # Eager mode (no broker) would retry at once, in this process: leave it to the
                # sweep (webhooks.deliver_due) there.
                if settings.CELERY_TASK_ALWAYS_EAGER and delay_s > 0:
                    return
                webhook_deliver.apply_async(kwargs={"delivery_id": delivery.pk}, countdown=delay_s)

            transaction.on_commit(schedule)
    log.info(
        "webhook attempt",
        extra={
            "delivery_id": delivery.pk,
            "status_code": result.status_code,
            "succeeded": result.succeeded,
        },
    )
    return attempt


def _endpoint_disable_if_dead(*, endpoint_id: int, since: dt.datetime, now: dt.datetime) -> None:
    """Disable an endpoint whose delivery ran out of time, unless it succeeded meanwhile (then
    it is up and only that one message was refused); e-mail the admins once, after commit."""
    endpoint = WebhookEndpoint.all_orgs.select_for_update().get(pk=endpoint_id)
    if not endpoint.is_active:
        return
    if WebhookAttempt.objects.filter(
        organization_id=endpoint.organization_id,
        delivery__endpoint_id=endpoint_id,
        succeeded=True,
        attempted_at__gte=since,
    ).exists():
        return
    hours = getattr(settings, "LEADPILOT_WEBHOOKS_RETRY_HOURS", 72)
    endpoint.is_active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = _(
        "Disabled automatically: every delivery failed for %(hours)d hours."
    ) % {"hours": hours}
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    org_id = endpoint.organization_id
    transaction.on_commit(
        lambda: endpoint_disabled_notify(organization_id=org_id, endpoint_id=endpoint_id)
    )


def endpoint_disabled_notify(*, organization_id: int, endpoint_id: int) -> int:
    """E-mail the organisation's owners and admins that an endpoint was disabled. Returns the
    number of e-mails sent."""
    organization = Organization.objects.get(pk=organization_id)
    endpoint = WebhookEndpoint.objects.for_org(organization).get(pk=endpoint_id)
    recipients = list(
        Membership.objects.for_org(organization)
        .filter(user__is_active=True, role__in=[Role.OWNER, Role.ADMIN])
        .values_list("user__email", "user__language")
        .order_by("user__email")
    )
    if not recipients:
        return 0
    context: dict[str, Any] = {
        "organization": organization,
        "endpoint": endpoint,
        "hours": getattr(settings, "LEADPILOT_WEBHOOKS_RETRY_HOURS", 72),
        "base_url": settings.SITE_URL.rstrip("/"),
    }
    # Each owner and admin reads it in their profile's language.
    send_mass_mail(
        mail_per_language(
            recipients,
            lambda: (
                render_to_string("webhooks/emails/endpoint_disabled_subject.txt", context),
                render_to_string("webhooks/emails/endpoint_disabled.txt", context),
            ),
        ),
        fail_silently=False,
    )
    return len(recipients)


def deliveries_due_enqueue(*, limit: int = 1000) -> int:
    """Hand the worker every pending delivery whose time has come and that no worker holds (a
    task lost with a flushed broker, or eager mode's retries). Returns how many."""
    from .tasks import webhook_deliver

    now = timezone.now()
    ids = list(
        WebhookDelivery.all_orgs.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__is_active=True
        )
        .exclude(claimed_until__gt=now)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    for delivery_id in ids:
        webhook_deliver.delay(delivery_id=delivery_id)
    return len(ids)


def webhook_log_purge(*, now: dt.datetime | None = None) -> int:
    """Delete messages (with their deliveries and attempts) older than the retention period,
    unless still pending. Returns the number of messages deleted."""
    now = now or timezone.now()
    days = getattr(settings, "LEADPILOT_WEBHOOKS_LOG_RETENTION_DAYS", 30)
    cutoff = now - dt.timedelta(days=days)
    old = WebhookMessage.all_orgs.filter(created_at__lt=cutoff).exclude(
        deliveries__status=DeliveryStatus.PENDING
    )
    _deleted, per_model = old.delete()
    return per_model.get("webhooks.WebhookMessage", 0)
