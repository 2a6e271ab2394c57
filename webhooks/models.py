"""Outgoing webhooks: an organisation's endpoints, the events it was sent, and every attempt.

The outbox contract: `WebhookMessage` and its `WebhookDelivery` rows are written in the
transaction of the change they announce (webhooks/events.py), so a rolled-back change announces
nothing and a committed one is delivered at least once. A message's `msg_id` is the
`webhook-id` header: the same on every attempt, so receivers deduplicate on it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from organizations.tenancy import TenantModel


class EventType(models.TextChoices):
    LEAD_CREATED = "lead.created", _("A lead was delivered")
    LEAD_APPROVED = "lead.approved", _("A lead was approved")
    LEAD_REJECTED = "lead.rejected", _("A lead was rejected")
    SEARCH_RUN_COMPLETED = "search_run.completed", _("A nightly search run finished")
    # A context: the overview uses the same words with a plural form, a different catalogue entry.
    DISPUTE_RESOLVED = "dispute.resolved", pgettext_lazy("webhook event", "A dispute was decided")
    USAGE_RECORDED = "usage.recorded", _("A lead was charged")
    UPLOAD_COMPLETED = "upload.completed", _("An uploaded company list was processed")


# Sent by "Send test event"; never subscribable, always delivered to the endpoint asked.
TEST_EVENT = "webhook.test"


class WebhookEndpoint(TenantModel):
    """A URL an organisation wants events POSTed to, signed with its secret.

    `secret` is a Standard Webhooks `whsec_<base64>` key. After a rotation the old one stays in
    `previous_secret` until `previous_secret_expires_at`, and both signatures are sent meanwhile.
    """

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)  # EventType values
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        "organizations.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        base_manager_name = "all_orgs"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url


class WebhookMessage(TenantModel):
    """One event, as its JSON body will be sent (`{"type", "timestamp", "data"}`)."""

    msg_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        base_manager_name = "all_orgs"
        indexes = [models.Index(fields=["organization", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.msg_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(TenantModel):
    """A message to one endpoint: retried with back-off until it succeeds or its time is up."""

    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker that claimed the delivery holds it until then (a crashed one loses it after).
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        base_manager_name = "all_orgs"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "endpoint"], name="webhook_delivery_once_per_endpoint"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due",
            ),
            models.Index(fields=["endpoint", "created_at"]),
        ]


class WebhookAttempt(TenantModel):
    """One HTTP request of a delivery, as the receiver answered it (or why it could not)."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=1000, blank=True)
    error = models.CharField(max_length=300, blank=True)
    succeeded = models.BooleanField(default=False)
    manual = models.BooleanField(default=False)  # "Redeliver" or "Send test event"

    class Meta:
        base_manager_name = "all_orgs"
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["attempted_at"])]
