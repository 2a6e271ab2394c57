from django.contrib import admin

from organizations.admin import TenantAdmin

from .models import BillingPeriod, LedgerEntry, UsageEvent


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
