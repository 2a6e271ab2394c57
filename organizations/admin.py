from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import AuditEvent, Invitation, Membership, Organization, OrganizationAPIKey, User


class TenantAdmin(admin.ModelAdmin):
    """Admin of a tenant model: staff see every organisation through the unscoped manager."""

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        qs = self.model.all_orgs.get_queryset()
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name", "wants_digest")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "delivery_mode", "timezone", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]


@admin.register(Invitation)
class InvitationAdmin(TenantAdmin):
    list_display = ["email", "organization", "role", "created_at", "accepted_at", "revoked_at"]
    exclude = ["token_hash"]


@admin.register(OrganizationAPIKey)
class OrganizationAPIKeyAdmin(TenantAdmin):
    list_display = [
        "name",
        "prefix",
        "organization",
        "scopes",
        "revoked",
        "created",
        "last_used_at",
        "request_count",
    ]
    readonly_fields = ["prefix", "hashed_key", "created", "last_used_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(TenantAdmin):
    """Read-only: the audit trail is written by services and never edited."""

    list_display = ["created_at", "organization", "actor_label", "action", "target"]
    list_filter = ["action"]
    search_fields = ["actor_label", "target", "organization__slug"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
