"""Staff see endpoints and the delivery log (read-only: the secret is never shown here, and
changes belong to the organisation's admins)."""

from __future__ import annotations

from django.contrib import admin

from organizations.admin import TenantAdmin

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantAdmin):
    list_display = ["url", "organization", "is_active", "disabled_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "organization__slug"]
    exclude = ["secret", "previous_secret"]
    readonly_fields = [
        "organization",
        "url",
        "description",
        "events",
        "is_active",
        "disabled_at",
        "disabled_reason",
        "previous_secret_expires_at",
        "created_by",
    ]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantAdmin):
    list_display = ["message", "endpoint", "organization", "status", "attempts", "created_at"]
    list_filter = ["status"]
    list_select_related = ["message", "endpoint"]
    readonly_fields = [
        "organization",
        "message",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "last_attempt_at",
        "succeeded_at",
    ]


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(TenantAdmin):
    list_display = ["delivery", "organization", "attempted_at", "status_code", "succeeded"]
    list_filter = ["succeeded"]
    readonly_fields = [
        "organization",
        "delivery",
        "attempted_at",
        "status_code",
        "response_ms",
        "response_excerpt",
        "error",
        "succeeded",
        "manual",
    ]
