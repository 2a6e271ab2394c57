from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from organizations.admin import TenantAdmin

from .disputes import DisputeStateError, dispute_accept, dispute_reject
from .models import (
    BillingPeriod,
    Dispute,
    Invoice,
    LedgerEntry,
    Plan,
    StripeEvent,
    StripeOutbox,
    Subscription,
    UsageEvent,
)


class _ReadOnlyAdmin(TenantAdmin):
    """The ledger is append-only (a database trigger enforces it): the admin only reads."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BillingPeriod)
class BillingPeriodAdmin(_ReadOnlyAdmin):
    list_display = [
        "organization",
        "period_start",
        "quota_included",
        "units_charged",
        "units_credited",
        "hard_cap",
        "status",
    ]
    list_filter = ["status", "period_start"]
    search_fields = ["organization__slug"]


@admin.register(UsageEvent)
class UsageEventAdmin(_ReadOnlyAdmin):
    list_display = ["id", "organization", "lead_id", "kind", "period_start", "occurred_at"]
    list_filter = ["kind", "period_start"]
    search_fields = ["organization__slug", "lead_id"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(_ReadOnlyAdmin):
    list_display = ["organization", "kind", "units", "usage_event", "idempotency_key", "created_at"]
    list_filter = ["kind"]
    search_fields = ["organization__slug", "idempotency_key"]


# --- disputes: the staff review queue -------------------------------------------------------

DISPUTE_OVERDUE = dt.timedelta(hours=48)
# An organisation disputing more than this share of its charges (last 90 days) is "high".
DISPUTE_RATE_HIGH = 0.10
DISPUTE_RATE_WINDOW = dt.timedelta(days=90)


class DisputeAgeFilter(admin.SimpleListFilter):
    title = _("age")
    parameter_name = "age"

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return [
            ("lt24", _("under 24 hours")),
            ("24to48", _("24 to 48 hours")),
            ("gt48", _("over 48 hours")),
        ]

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        now = timezone.now()
        day, two_days = now - dt.timedelta(hours=24), now - DISPUTE_OVERDUE
        if self.value() == "lt24":
            return queryset.filter(created_at__gte=day)
        if self.value() == "24to48":
            return queryset.filter(created_at__lt=day, created_at__gte=two_days)
        if self.value() == "gt48":
            return queryset.filter(created_at__lt=two_days)
        return queryset


def organizations_with_high_dispute_rate(*, now: dt.datetime) -> set[int]:
    """Organisation ids whose disputes exceed DISPUTE_RATE_HIGH of their charges (90 days).
    Staff-wide, hence the unscoped managers (admin only)."""
    since = now - DISPUTE_RATE_WINDOW
    charged = dict(
        UsageEvent.all_orgs.filter(occurred_at__gte=since)
        .values("organization_id")
        .annotate(n=Count("id"))
        .values_list("organization_id", "n")
    )
    disputed = (
        Dispute.all_orgs.filter(created_at__gte=since)
        .values("organization_id")
        .annotate(n=Count("id"))
        .values_list("organization_id", "n")
    )
    return {
        org_id
        for org_id, n in disputed
        if not charged.get(org_id) or n / charged[org_id] > DISPUTE_RATE_HIGH
    }


class DisputeRateFilter(admin.SimpleListFilter):
    title = _("organisation's dispute rate")
    parameter_name = "rate"

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return [
            ("high", _("high (over %d %% of charges)") % int(DISPUTE_RATE_HIGH * 100)),
            ("normal", _("normal")),
        ]

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        if self.value() not in ("high", "normal"):
            return queryset
        high = organizations_with_high_dispute_rate(now=timezone.now())
        if self.value() == "high":
            return queryset.filter(organization_id__in=high)
        return queryset.exclude(organization_id__in=high)


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Note to the customer"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        required=False,
        max_length=2000,
    )


@admin.register(Dispute)
class DisputeAdmin(TenantAdmin):
    list_display = [
        "id",
        "organization",
        "lead_id",
        "reason",
        "status",
        "recheck_outcome",
        "age",
        "overdue",
        "created_at",
    ]
    list_filter = [
        "status",
        "reason",
        DisputeAgeFilter,
        "organization",
        DisputeRateFilter,
    ]
    list_select_related = ["organization"]
    search_fields = ["organization__slug", "lead_id"]
    ordering = ["created_at"]
    actions = ["accept_selected", "reject_selected"]
    readonly_fields = [
        "organization",
        "lead_id",
        "usage_event",
        "reason",
        "note",
        "status",
        "age",
        "charged_contact",
        "evidence",
        "recheck_text",
        "recheck_result_json",
        "rechecked_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "created_by",
        "created_at",
    ]
    fieldsets = [
        (
            _("The dispute"),
            {
                "fields": [
                    "organization",
                    "lead_id",
                    "reason",
                    "note",
                    "status",
                    "age",
                    "created_by",
                ]
            },
        ),
        (
            _("The lead's evidence (what was charged)"),
            {"fields": ["usage_event", "charged_contact", "evidence"]},
        ),
        (
            _("Automatic re-check"),
            {"fields": ["recheck_text", "recheck_result_json", "rechecked_at"]},
        ),
        (_("Decision"), {"fields": ["decided_by", "decided_at", "decision_note"]}),
    ]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).select_related("organization", "usage_event")

    @admin.display(description=_("age"))
    def age(self, obj: Dispute) -> str:
        return timesince(obj.created_at)

    @admin.display(description=_("> 48 h"), boolean=True)
    def overdue(self, obj: Dispute) -> bool:
        return obj.is_undecided and timezone.now() - obj.created_at > DISPUTE_OVERDUE

    @admin.display(description=_("re-check"))
    def recheck_outcome(self, obj: Dispute) -> str:
        return (obj.recheck_result or {}).get("outcome", "-")

    @admin.display(description=_("charged contact"))
    def charged_contact(self, obj: Dispute) -> str:
        snapshot = obj.usage_event.verification_snapshot
        return (
            f"{snapshot.get('kind', '')} {snapshot.get('value', '')} · "
            f"{snapshot.get('status', '')} {snapshot.get('reason') or ''} · "
            f"checked {snapshot.get('checked_at', '')} · charged {obj.usage_event.occurred_at:%Y-%m-%d %H:%M}"
        )

    @admin.display(description=_("verification snapshot"))
    def evidence(self, obj: Dispute) -> str:
        return format_html("<pre>{}</pre>", _pretty(obj.usage_event.verification_snapshot))

    @admin.display(description=_("re-check result"))
    def recheck_result_json(self, obj: Dispute) -> str:
        return format_html("<pre>{}</pre>", _pretty(obj.recheck_result))

    # -- actions: an intermediate page asks for the note, then each dispute is decided by the
    # billing services (audited, the customer e-mailed), one transaction each.

    @admin.action(description=_("Accept selected disputes (credit)"))
    def accept_selected(self, request, queryset):  # type: ignore[no-untyped-def]
        return self._decide(request, queryset, accept=True)

    @admin.action(description=_("Reject selected disputes"))
    def reject_selected(self, request, queryset):  # type: ignore[no-untyped-def]
        return self._decide(request, queryset, accept=False)

    def _decide(self, request, queryset, *, accept: bool):  # type: ignore[no-untyped-def]
        form = DecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            note = form.cleaned_data["note"]
            if not accept and not note.strip():
                form.add_error("note", _("Say why: the customer reads it."))
            else:
                done, errors = 0, []
                for dispute in queryset.select_related("organization"):
                    try:
                        if accept:
                            dispute_accept(
                                organization=dispute.organization,
                                dispute_id=dispute.pk,
                                decided_by=request.user,
                                note=note,
                            )
                        else:
                            dispute_reject(
                                organization=dispute.organization,
                                dispute_id=dispute.pk,
                                decided_by=request.user,
                                note=note,
                            )
                        done += 1
                    except DisputeStateError as exc:
                        errors.append(f"#{dispute.pk}: {exc}")
                verb = _("Accepted") if accept else _("Rejected")
                self.message_user(request, f"{verb}: {done}.", messages.SUCCESS)
                for error in errors:
                    self.message_user(request, error, messages.WARNING)
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Accept disputes") if accept else _("Reject disputes"),
            "opts": self.model._meta,
            "disputes": queryset.select_related("organization", "usage_event"),
            "form": form,
            "action": "accept_selected" if accept else "reject_selected",
            "accept": accept,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/billing/dispute/decide.html", context)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@admin.register(StripeOutbox)
class StripeOutboxAdmin(_ReadOnlyAdmin):
    """The Stripe outbox: dead rows (a 4xx from Stripe, or too many failures) wait here for staff;
    "retry" makes them pending again with the same idempotency key."""

    list_display = [
        "idempotency_key",
        "organization",
        "kind",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error_short",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["idempotency_key", "organization__slug"]
    actions = ["retry_dead"]

    @admin.display(description="last error")
    def last_error_short(self, obj: StripeOutbox) -> str:
        return obj.last_error[:120]

    @admin.action(description="Retry the selected dead rows")
    def retry_dead(self, request, queryset) -> None:
        from .stripe_sync import stripe_outbox_retry

        count = stripe_outbox_retry(ids=queryset.values_list("id", flat=True))
        self.message_user(request, f"{count} dead row(s) will be sent again.", messages.SUCCESS)


# --- plans and subscriptions ----------------------------------------------------------------------


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    """Plans are data: staff edit prices and quotas here. A plan in use is deactivated, never
    deleted (the subscriptions protect it)."""

    list_display = [
        "code",
        "name",
        "kind",
        "currency",
        "monthly_quota",
        "price_per_month",
        "price_per_extra_lead",
        "hard_cap",
        "free_trial_leads",
        "is_active",
        "is_public",
    ]
    list_filter = ["kind", "currency", "is_active", "is_public", "hard_cap"]
    list_editable = ["is_active", "is_public"]
    search_fields = ["code", "name"]


@admin.register(Subscription)
class SubscriptionAdmin(TenantAdmin):
    """Staff set agreement terms here (plan "Agreement" with the organisation's own quota and
    prices); the status and Stripe ids follow Stripe's webhooks."""

    list_display = [
        "organization",
        "plan",
        "status",
        "pending_plan",
        "pending_from",
        "past_due_since",
        "current_period_end",
    ]
    list_filter = ["status", "plan"]
    search_fields = ["organization__slug", "stripe_customer_id", "stripe_subscription_id"]
    raw_id_fields = ["organization"]
    readonly_fields = [
        "stripe_customer_id",
        "stripe_subscription_id",
        "current_period_start",
        "current_period_end",
        "past_due_since",
        "pause_notified_at",
        "created_at",
        "updated_at",
    ]


@admin.register(Invoice)
class InvoiceAdmin(_ReadOnlyAdmin):
    list_display = ["number", "organization", "status", "amount_due", "currency", "issued_at"]
    list_filter = ["status", "currency"]
    search_fields = ["number", "stripe_invoice_id", "organization__slug"]


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    """The webhook inbox: each Stripe event once, with its processing state."""

    list_display = ["id", "type", "status", "attempts", "organization", "received_at"]
    list_filter = ["status", "type"]
    search_fields = ["id", "type"]
    readonly_fields = [f.name for f in StripeEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
