"""One serializer per endpoint and direction (STYLE.md): output shapes never double as input."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..disputes import BOUNCE_REPORT_MAX, EXPECTED_ANSWER, BounceOutcome, RecheckOutcome
from ..models import Dispute, DisputeReason, UsageEventKind


class DisputeSerializer(serializers.ModelSerializer):
    usage_event_id = serializers.UUIDField(read_only=True, help_text="The charge disputed.")
    recheck_outcome = serializers.SerializerMethodField(
        help_text="What the automatic re-check found: agrees (accepted at once), disagrees or "
        "could_not_run (staff decide), manual (not checked automatically), null (not yet)."
    )
    expected_answer = serializers.SerializerMethodField()

    class Meta:
        model = Dispute
        fields = [
            "id",
            "lead_id",
            "usage_event_id",
            "reason",
            "note",
            "status",
            "recheck_outcome",
            "recheck_text",
            "rechecked_at",
            "decision_note",
            "decided_at",
            "created_at",
            "expected_answer",
        ]
        read_only_fields = fields

    def get_recheck_outcome(self, obj: Dispute) -> str | None:
        outcome = (obj.recheck_result or {}).get("outcome")
        return outcome if outcome in RecheckOutcome.ALL else None

    def get_expected_answer(self, obj: Dispute) -> str:
        return "" if not obj.is_undecided else str(EXPECTED_ANSWER)


class DisputeCreateSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=DisputeReason.choices)
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="What is wrong with the lead; required when the reason is `other`.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["reason"] == DisputeReason.OTHER and not attrs.get("note", "").strip():
            raise serializers.ValidationError({"note": _("Say what is wrong with the lead.")})
        return attrs


class DisputeListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[("undecided", "undecided"), *Dispute._meta.get_field("status").choices],
        required=False,
        help_text="`undecided` = open, being checked or awaiting staff.",
    )
    reason = serializers.ChoiceField(choices=DisputeReason.choices, required=False)


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.ChoiceField(
        choices=[("open", "open"), ("accepted", "accepted"), ("window", "window")],
        help_text="open: a dispute of this lead is undecided; accepted: already credited; "
        "window: the dispute window has passed.",
    )


class BounceReportSerializer(serializers.Serializer):
    addresses = serializers.ListField(
        child=serializers.CharField(max_length=320, trim_whitespace=True),
        min_length=1,
        max_length=BOUNCE_REPORT_MAX,
        help_text="E-mail addresses that bounced.",
    )
    message = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Optional: the bounce message, kept as the disputes' note.",
    )


class BounceLineSerializer(serializers.Serializer):
    address = serializers.CharField()
    outcome = serializers.ChoiceField(
        choices=[
            (value, value)
            for value in (
                BounceOutcome.OPENED,
                BounceOutcome.NO_MATCH,
                BounceOutcome.ALREADY_DISPUTED,
                BounceOutcome.ALREADY_CREDITED,
                BounceOutcome.WINDOW_PASSED,
                BounceOutcome.INVALID,
            )
        ]
    )
    lead_id = serializers.IntegerField(allow_null=True)
    dispute_id = serializers.IntegerField(allow_null=True)


class BounceReportResultSerializer(serializers.Serializer):
    matched = serializers.IntegerField(help_text="Addresses that are a charged lead's e-mail.")
    opened = serializers.IntegerField(help_text="Bounced disputes opened.")
    lines = BounceLineSerializer(many=True)


class UsageQuerySerializer(serializers.Serializer):
    month = serializers.RegexField(
        r"^(19|20)\d{2}-(0[1-9]|1[0-2])$",
        required=False,
        help_text="YYYY-MM (1900-2099); the organisation's current month when absent.",
    )

    def validated_month(self, default: dt.date) -> dt.date:
        raw = self.validated_data.get("month")
        return dt.date.fromisoformat(f"{raw}-01") if raw else default


class UsageDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    charged = serializers.IntegerField()
    credited = serializers.IntegerField()
    net = serializers.IntegerField()


class UsageKindSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=UsageEventKind.choices)
    charged = serializers.IntegerField()


class BounceRateSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="Verification status of the e-mail when charged.")
    charged = serializers.IntegerField()
    bounced = serializers.IntegerField(help_text="Of them, reported as bounced.")
    rate = serializers.FloatField()


class UsageSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    quota = serializers.IntegerField()
    hard_cap = serializers.BooleanField()
    charged = serializers.IntegerField()
    credited = serializers.IntegerField()
    net = serializers.IntegerField()
    remaining = serializers.IntegerField()
    days = UsageDaySerializer(many=True)
    kinds = UsageKindSerializer(
        many=True,
        help_text="Charges of the month by kind (found, enriched, verified); kinds without "
        "charges are left out.",
    )
    bounce_rates = BounceRateSerializer(many=True)


class BillingPlanSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    currency = serializers.CharField()
    quota = serializers.IntegerField(help_text="Leads included this month (with trial leads).")
    hard_cap = serializers.BooleanField(help_text="True: the search stops at the quota.")
    price_per_month = serializers.DecimalField(max_digits=10, decimal_places=2)
    price_per_extra_lead = serializers.DecimalField(max_digits=10, decimal_places=2)
    trial_leads = serializers.IntegerField()


class BillingDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    charged = serializers.IntegerField()
    credited = serializers.IntegerField()
    net = serializers.IntegerField()


class BillingSerializer(serializers.Serializer):
    plan = BillingPlanSerializer()
    status = serializers.ChoiceField(choices=["active", "trialing", "past_due", "canceled"])
    pending_plan = serializers.CharField(allow_null=True, help_text="Plan code from next month.")
    pending_from = serializers.DateField(allow_null=True)
    search_paused = serializers.BooleanField(help_text="Past due beyond the grace period.")
    search_pauses_at = serializers.DateTimeField(allow_null=True)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    charged = serializers.IntegerField()
    credited = serializers.IntegerField()
    net = serializers.IntegerField()
    included = serializers.IntegerField()
    overage = serializers.IntegerField(help_text="Leads beyond the quota, billed (soft cap).")
    expected_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Plan price + overage x price per extra lead."
    )
    days = BillingDaySerializer(many=True)


class InvoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)
    amount_due = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount_paid = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    status = serializers.CharField()
    hosted_invoice_url = serializers.CharField()
    invoice_pdf = serializers.CharField()
    issued_at = serializers.DateTimeField(allow_null=True)
