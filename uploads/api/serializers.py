from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from segments.criteria import WANTABLE_ROLES

from ..models import Upload, UploadKind, UploadRow


@extend_schema_field(
    {"type": "object", "additionalProperties": {"oneOf": [{"type": "integer"}, {"type": "string"}]}}
)
class _JSONOrListField(serializers.Field):
    """A JSON document in a multipart form field (or a list/object in a JSON body)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            try:
                return json.loads(data)
            except ValueError:
                raise serializers.ValidationError(_("is not valid JSON")) from None
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class UploadCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV or XLSX, at most 50 MB and 100,000 rows.")
    kind = serializers.ChoiceField(choices=UploadKind.choices)
    mapping = _JSONOrListField(
        required=False,
        help_text='Optional: {"field": column index or header name}, e.g. {"registry_id": 0, '
        '"country": "Land"}. Company fields: registry_id, country, domain, name, city, '
        "postcode; contact fields: email, phone, full_name, first_name, last_name, company, "
        "country. Detected from the header when left out.",
    )
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=WANTABLE_ROLES),
        required=False,
        help_text="Wanted decision-maker roles, most wanted first (companies; default ceo).",
    )

    def validate_mapping(self, value: Any) -> dict:
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("must be an object of field: column"))
        return value


class UploadOptionsSerializer(serializers.Serializer):
    mapping = _JSONOrListField(required=False)
    roles = serializers.ListField(child=serializers.CharField(), required=False)


class UploadProblemSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class UploadReportSerializer(serializers.Serializer):
    mapping_problems = serializers.ListField(
        child=serializers.CharField(),
        help_text="What is wrong with the column mapping as a whole (e.g. no key column); "
        "PATCH a mapping to fix it.",
    )
    rows_total = serializers.IntegerField()
    rows_valid = serializers.IntegerField()
    rows_invalid = serializers.IntegerField()
    header = serializers.ListField(child=serializers.CharField())
    mapping = serializers.DictField(child=serializers.IntegerField())
    problems = UploadProblemSerializer(many=True)
    problems_total = serializers.IntegerField()


class UploadSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(source="progress_percent")

    class Meta:
        model = Upload
        fields = [
            "id",
            "kind",
            "status",
            "filename",
            "file_format",
            "roles",
            "rows_total",
            "rows_valid",
            "rows_done",
            "rows_found",
            "rows_charged",
            "progress",
            "stop_reason",
            "created_at",
            "started_at",
            "first_result_at",
            "finished_at",
        ]


class UploadDetailSerializer(UploadSerializer):
    report = serializers.SerializerMethodField(help_text="The validation report.")

    class Meta(UploadSerializer.Meta):
        fields = [*UploadSerializer.Meta.fields, "report"]

    @extend_schema_field(UploadReportSerializer)
    def get_report(self, upload: Upload) -> dict:
        return self.context["report"]


class UploadRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = UploadRow
        fields = ["line", "outcome", "reason", "problems", "match_method", "confidence", "charged"]
