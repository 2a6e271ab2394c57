from django.contrib import admin

from organizations.admin import TenantAdmin

from .models import Segment


@admin.register(Segment)
class SegmentAdmin(TenantAdmin):
    list_display = ["name", "organization", "status", "nightly_cap", "delivery_mode", "updated_at"]
    list_filter = ["status"]
    search_fields = ["name", "organization__slug"]
    # Criteria and status change through the services (validation, lifecycle), not here.
    readonly_fields = ["organization", "status", "criteria", "activated_at", "archived_at"]
