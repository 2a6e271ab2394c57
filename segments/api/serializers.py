"""Serializers of the segments API: one per endpoint and direction."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from organizations.models import DeliveryMode

from ..models import NIGHTLY_CAP_MAX, Segment

_FIELDS = [
    "id",
    "name",
    "status",
    "criteria",
    "nightly_cap",
    "delivery_mode",
    "created_at",
    "updated_at",
]


class SegmentListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = _FIELDS
        read_only_fields = fields


class SegmentDetailSerializer(serializers.ModelSerializer):
    effective_delivery_mode = serializers.CharField(read_only=True)

    class Meta:
        model = Segment
        fields = [*_FIELDS, "effective_delivery_mode", "activated_at", "archived_at"]
        read_only_fields = fields


class SegmentCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    criteria = serializers.JSONField(required=False, default=dict)
    nightly_cap = serializers.IntegerField(
        min_value=1, max_value=NIGHTLY_CAP_MAX, required=False, default=25
    )
    delivery_mode = serializers.ChoiceField(
        choices=DeliveryMode.choices, allow_null=True, required=False, default=None
    )


class SegmentUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    criteria = serializers.JSONField(required=False)
    nightly_cap = serializers.IntegerField(min_value=1, max_value=NIGHTLY_CAP_MAX, required=False)
    delivery_mode = serializers.ChoiceField(
        choices=DeliveryMode.choices, allow_null=True, required=False
    )


class SegmentStatusSerializer(serializers.ModelSerializer):
    """Response of activate / pause / archive."""

    class Meta:
        model = Segment
        fields = ["id", "name", "status", "activated_at", "archived_at", "updated_at"]
        read_only_fields = fields


class SegmentDraftPreviewSerializer(serializers.Serializer):
    criteria = serializers.JSONField(required=False, default=dict)
    nightly_cap = serializers.IntegerField(
        min_value=1, max_value=NIGHTLY_CAP_MAX, required=False, allow_null=True, default=None
    )


class PreviewSerializer(serializers.Serializer):
    companies = serializers.IntegerField(help_text="companies matching, after exclusions")
    estimated = serializers.BooleanField(
        help_text="companies and with_decision_maker are estimated from a sample of the directory "
        "(rounded to two significant digits), not exact counts: a broad segment's exact count "
        "would take too long"
    )
    with_decision_maker = serializers.IntegerField(
        help_text="of them with a wanted decision-maker who may be contacted"
    )
    estimated_charged = serializers.IntegerField(
        help_text="tonight's estimated charged leads (capped by nightly cap and quota)"
    )
    verification_rate = serializers.FloatField()
    nightly_cap = serializers.IntegerField(allow_null=True)
    quota_remaining = serializers.IntegerField()
    no_decision_makers = serializers.SerializerMethodField(
        help_text="companies match but none has a wanted decision-maker: the nightly search "
        "would deliver nothing (activation needs confirm_no_decision_makers: true)"
    )

    def get_no_decision_makers(self, preview: Any) -> bool:
        return bool(preview.companies and not preview.with_decision_maker)


class SegmentActivateSerializer(serializers.Serializer):
    confirm_no_decision_makers = serializers.BooleanField(
        required=False,
        default=False,
        help_text="activate although no matching company has a wanted decision-maker",
    )
