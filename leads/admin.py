from django.contrib import admin

from organizations.admin import TenantAdmin

from .models import Lead, SearchRun


@admin.register(SearchRun)
class SearchRunAdmin(TenantAdmin):
    list_display = [
        "run_date",
        "organization",
        "segment",
        "status",
        "stop_reason",
        "leads_created",
        "charged",
        "unverified",
        "errors",
        "attempts",
    ]
    list_filter = ["status", "stop_reason", "run_date"]
    search_fields = ["organization__slug", "segment__name"]
    # Runs are written by the nightly search only.
    readonly_fields = [f.name for f in SearchRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Lead)
class LeadAdmin(TenantAdmin):
    list_display = [
        "person_name",
        "company_name",
        "organization",
        "status",
        "scheduled_date",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["person_name", "company_name", "contact_value", "organization__slug"]
    # The snapshot and evidence are what the customer was charged for: never edited here.
    readonly_fields = [f.name for f in Lead._meta.fields if f.name != "notes"]

    def has_add_permission(self, request) -> bool:
        return False
