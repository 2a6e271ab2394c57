from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from organizations.admin import TenantAdmin

from .models import BlockEntry, DeliveryRecord, Suppression
from .normalize import InvalidIdentifier, normalize_email, normalize_phone
from .services import suppression_add


@admin.register(BlockEntry)
class BlockEntryAdmin(TenantAdmin):
    list_display = ["kind", "value", "organization", "created_at"]
    list_filter = ["kind"]
    search_fields = ["value", "organization__slug"]
    readonly_fields = ["organization", "kind", "value", "raw", "person", "created_by"]


@admin.register(DeliveryRecord)
class DeliveryRecordAdmin(TenantAdmin):
    list_display = ["organization", "company", "person", "lead_id", "delivered_at"]
    raw_id_fields = ["company", "person"]
    readonly_fields = ["organization", "company", "person", "lead_id", "delivered_at"]


class SuppressionAddForm(forms.ModelForm):
    value = forms.CharField(
        max_length=320, help_text="The e-mail or phone (+country code); only its hash is stored."
    )

    class Meta:
        model = Suppression
        fields = ["kind", "reason"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if kind and value:
            try:
                cleaned["value"] = (
                    normalize_email(value) if kind == "email" else normalize_phone(value)
                )
            except InvalidIdentifier as exc:
                self.add_error("value", str(exc))
        return cleaned


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Objections to contact, for every organisation. Added here by staff; only hashes are kept."""

    list_display = ["kind", "identifier_hash", "reason", "created_at"]
    list_filter = ["kind"]
    search_fields = ["identifier_hash", "reason"]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = SuppressionAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["kind", "identifier_hash", "created_at"] if obj else []

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        entry, created = suppression_add(
            kind=form.cleaned_data["kind"],
            value=form.cleaned_data["value"],
            reason=form.cleaned_data.get("reason", ""),
        )
        obj.pk = entry.pk
        if not created:
            messages.info(request, "This identifier was already suppressed.")
