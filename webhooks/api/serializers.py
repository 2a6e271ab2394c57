"""Serializers of the webhooks API: one per direction and endpoint."""

from __future__ import annotations

from rest_framework import serializers

from ..models import EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint


class EndpointSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The Standard Webhooks signing secret (whsec_ + base64)."
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "secret",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "events": {"help_text": "Event types this endpoint receives."},
            "previous_secret_expires_at": {
                "help_text": "Until then the previous secret also signs (after a rotation)."
            },
        }


class EndpointCreateSerializer(serializers.Serializer):
    url = serializers.CharField(
        max_length=2000, help_text="https:// URL on a public address (no redirects followed)."
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), min_length=1, max_length=20
    )


class EndpointUpdateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        min_length=1,
        max_length=20,
        required=False,
    )
    is_active = serializers.BooleanField(
        required=False, help_text="false disables the endpoint; true enables it again."
    )


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "id",
            "attempted_at",
            "status_code",
            "response_ms",
            "response_excerpt",
            "error",
            "succeeded",
            "manual",
        ]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    msg_id = serializers.CharField(
        source="message.msg_id", read_only=True, help_text="The webhook-id header."
    )
    event_type = serializers.CharField(source="message.event_type", read_only=True)
    payload = serializers.JSONField(source="message.payload", read_only=True)
    attempt_log = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "msg_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "succeeded_at",
            "created_at",
            "payload",
            "attempt_log",
        ]
        read_only_fields = fields
