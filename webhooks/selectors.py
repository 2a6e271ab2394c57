"""Reads of webhooks: an organisation's endpoints and their delivery log."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from organizations.models import Organization

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoints_of_organization(*, organization: Organization) -> QuerySet[WebhookEndpoint]:
    """The organisation's endpoints, newest first, with their counts of failing deliveries."""
    return WebhookEndpoint.objects.for_org(organization).annotate(
        pending_count=Count("deliveries", filter=Q(deliveries__status="pending")),
        failed_count=Count("deliveries", filter=Q(deliveries__status="failed")),
    )


def endpoint_get(*, organization: Organization, endpoint_id: int) -> WebhookEndpoint:
    return WebhookEndpoint.objects.for_org(organization).get(pk=endpoint_id)


def deliveries_of_endpoint(
    *, organization: Organization, endpoint_id: int
) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first, with their message and attempts (newest first):
    three queries per page whatever its length."""
    return (
        WebhookDelivery.objects.for_org(organization)
        .filter(endpoint_id=endpoint_id)
        .select_related("message")
        .prefetch_related(
            Prefetch(
                "attempt_log",
                queryset=WebhookAttempt.objects.for_org(organization).order_by(
                    "-attempted_at", "-id"
                ),
            )
        )
        .order_by("-created_at", "-id")
    )


def delivery_get(
    *, organization: Organization, endpoint_id: int, delivery_id: int
) -> WebhookDelivery:
    return deliveries_of_endpoint(organization=organization, endpoint_id=endpoint_id).get(
        pk=delivery_id
    )
