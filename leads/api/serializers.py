"""One serializer per endpoint and direction (STYLE.md): output shapes never double as input."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.api.serializers import DisputeSerializer
from enrichment.evidence import charge_sentences, company_contacts

from ..models import Lead, LeadStatus, RejectionReason, SearchRun
from ..selectors import CALENDAR_FIRST_DAY, CALENDAR_LAST_DAY
from ..services.disputes import REJECTION_DISPUTE_REASONS


class LeadListSerializer(serializers.ModelSerializer):
    segment_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "status",
            "company_name",
            "person_name",
            "role_kind",
            "contact_kind",
            "contact_value",
            "scheduled_date",
            "segment_id",
            "created_at",
        ]
        read_only_fields = fields


class CompanyContactSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[("email", "E-mail"), ("phone", "Phone")])
    value = serializers.CharField()
    label = serializers.CharField(help_text="What it is, in words: 'Company switchboard'.")
    source = serializers.CharField(help_text="'registry' or the URL of the page it is on.")


class LeadDetailSerializer(serializers.ModelSerializer):
    segment_id = serializers.IntegerField(allow_null=True)
    search_run_id = serializers.IntegerField(allow_null=True)
    evidence_summary = serializers.SerializerMethodField(
        help_text=(
            "Why this lead was charged, in sentences: where the address or number came from, "
            "what was checked, when, and the result. `evidence` holds the raw record."
        )
    )
    company_contacts = serializers.SerializerMethodField(
        help_text="The company's own numbers and addresses (switchboard, info@): never charged."
    )
    # Declared so the schema documents "" (not rejected): a read-only model field loses allow_blank.
    rejection_reason = serializers.ChoiceField(
        choices=RejectionReason.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "status",
            "segment_id",
            "search_run_id",
            "company_name",
            "company_snapshot",
            "person_name",
            "role_kind",
            "person_snapshot",
            "contact_kind",
            "contact_value",
            "evidence",
            "evidence_summary",
            "company_contacts",
            "verified_at",
            "scheduled_date",
            "rejection_reason",
            "rejection_note",
            "notes",
            "decided_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_evidence_summary(self, lead: Lead) -> list[str]:
        return charge_sentences(
            evidence=lead.evidence or {},
            person=lead.person_snapshot or {},
            company=lead.company_snapshot or {},
        )

    @extend_schema_field(CompanyContactSerializer(many=True))
    def get_company_contacts(self, lead: Lead) -> list[dict[str, str]]:
        return company_contacts(evidence=lead.evidence or {}, company=lead.company_snapshot or {})


class LeadNotesUpdateSerializer(serializers.Serializer):
    notes = serializers.CharField(allow_blank=True, max_length=10_000, trim_whitespace=False)


class LeadRejectSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=RejectionReason.choices)
    note = serializers.CharField(allow_blank=True, max_length=500, required=False, default="")
    dispute = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also dispute the lead's charge, in the same step: only with the reasons that "
        "say the lead is wrong (wrong_person → a wrong_person dispute, bad_contact → bounced). "
        "409 (nothing rejected) when the charge cannot be disputed.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("dispute") and attrs["reason"] not in REJECTION_DISPUTE_REASONS:
            raise serializers.ValidationError(
                {
                    "dispute": [
                        _("Only the reasons wrong_person and bad_contact dispute the charge.")
                    ]
                }
            )
        return attrs


class LeadRejectedSerializer(LeadDetailSerializer):
    """The rejected lead and, when asked, the dispute opened with it."""

    dispute = serializers.SerializerMethodField()

    class Meta(LeadDetailSerializer.Meta):
        fields = [*LeadDetailSerializer.Meta.fields, "dispute"]
        read_only_fields = fields

    @extend_schema_field(DisputeSerializer(allow_null=True))
    def get_dispute(self, lead: Lead) -> dict[str, Any] | None:
        dispute = self.context.get("dispute")
        return DisputeSerializer(dispute).data if dispute is not None else None


class LeadMoveSerializer(serializers.Serializer):
    date = serializers.DateField()


class LeadBulkActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    lead_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=500
    )
    reason = serializers.ChoiceField(choices=RejectionReason.choices, required=False)
    note = serializers.CharField(allow_blank=True, max_length=500, required=False, default="")

    def validate(self, attrs: dict) -> dict:
        if attrs["action"] == "reject" and not attrs.get("reason"):
            raise serializers.ValidationError({"reason": _("Required when rejecting.")})
        return attrs


class LeadApprovalResultSerializer(serializers.Serializer):
    approved = LeadListSerializer(many=True)
    failed_reverification = LeadListSerializer(many=True)


class LeadBulkResultSerializer(serializers.Serializer):
    action = serializers.CharField()
    leads = LeadListSerializer(many=True)
    failed_reverification = LeadListSerializer(many=True)


class CalendarLeadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = ["id", "status", "company_name", "person_name", "contact_kind", "contact_value"]
        read_only_fields = fields


class CalendarDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    working = serializers.BooleanField()
    leads = CalendarLeadSerializer(many=True)


class CalendarQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def _in_range(self, value: dt.date) -> dt.date:
        if not CALENDAR_FIRST_DAY <= value <= CALENDAR_LAST_DAY:
            raise serializers.ValidationError(
                _("Must be between %(first)s and %(last)s.")
                % {"first": CALENDAR_FIRST_DAY, "last": CALENDAR_LAST_DAY}
            )
        return value

    validate_start = _in_range
    validate_end = _in_range

    def validate(self, attrs: dict) -> dict:
        start, end = attrs.get("start"), attrs.get("end")
        if start and end:
            if end < start:
                raise serializers.ValidationError({"end": _("Must not be before start.")})
            if (end - start).days > 92:
                raise serializers.ValidationError({"end": _("At most 93 days at once.")})
        return attrs


class LeadListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=LeadStatus.choices, required=False)
    segment = serializers.IntegerField(required=False, min_value=1)


class SearchRunListSerializer(serializers.ModelSerializer):
    segment_id = serializers.IntegerField()
    segment_name = serializers.CharField(source="segment.name")
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = SearchRun
        fields = [
            "id",
            "segment_id",
            "segment_name",
            "run_date",
            "status",
            "stop_reason",
            "failure_reason",
            "retry_at",
            "matched",
            "skipped_blocked",
            "skipped_delivered",
            "skipped_suppressed",
            "verified",
            "unverified",
            "leads_created",
            "charged",
            "errors",
            "started_at",
            "finished_at",
            "duration_seconds",
        ]
        read_only_fields = fields

    def get_duration_seconds(self, run: SearchRun) -> float | None:
        return run.duration.total_seconds() if run.duration is not None else None


class SearchRunDetailSerializer(SearchRunListSerializer):
    class Meta(SearchRunListSerializer.Meta):
        fields = [*SearchRunListSerializer.Meta.fields, "attempts", "last_error", "created_at"]
        read_only_fields = fields
