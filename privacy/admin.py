"""Staff: opt-out requests (confirm a phone objection), the privacy audit, and the directory's
people with the erasure and access-request actions. Every action calls one service or selector
and is recorded (PrivacyAction)."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from enrichment.models import Person

from . import selectors, services
from .models import ConsentRecord, OptOutRequest, OptOutStatus, PrivacyAction


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    """Proof of cookie consent (privacy/consent.py): read-only, never edited or deleted here."""

    list_display = ("created_at", "policy_version", "action", "categories", "user")
    list_filter = ("policy_version", "action")
    search_fields = ("user__email",)
    readonly_fields = [f.name for f in ConsentRecord._meta.fields]
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OptOutRequest)
class OptOutRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "created_at", "confirmed_at", "confirmed_by")
    list_filter = ("status", "kind")
    readonly_fields = [f.name for f in OptOutRequest._meta.fields]
    actions = ["confirm"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Confirm selected objections (suppress, withdraw pending leads)"))
    def confirm(self, request: HttpRequest, queryset: QuerySet[OptOutRequest]) -> None:
        done = 0
        for pk in queryset.filter(status=OptOutStatus.PENDING).values_list("pk", flat=True):
            services.optout_confirm_by_staff(request_id=pk, actor=request.user)  # type: ignore[arg-type]
            done += 1
        self.message_user(request, _("%(n)d objections confirmed.") % {"n": done})


@admin.register(PrivacyAction)
class PrivacyActionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "person_id", "actor_label")
    list_filter = ("action",)
    readonly_fields = [f.name for f in PrivacyAction._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Person)
class PersonPrivacyAdmin(admin.ModelAdmin):
    """The directory's people, for privacy requests (the directory itself is built by imports)."""

    list_display = ("id", "full_name", "country", "created_at")
    search_fields = ("=id", "full_name")
    readonly_fields = [f.name for f in Person._meta.fields]
    actions = ["access_json", "access_html", "erase"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # erasure, not deletion: delivery records and leads point at the row

    def _reports(self, request: HttpRequest, queryset: QuerySet[Person]) -> list[dict]:
        reports = []
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            reports.append(selectors.person_access_report(person_id=pk))
            services.privacy_action_record(
                action="person.access",
                actor=request.user,
                person_id=pk,  # type: ignore[arg-type]
            )
        return reports

    @admin.action(description=_("Access request: export as JSON"))
    def access_json(self, request: HttpRequest, queryset: QuerySet[Person]) -> HttpResponse:
        reports = self._reports(request, queryset)
        body = json.dumps(reports[0] if len(reports) == 1 else reports, indent=2, default=str)
        response = HttpResponse(body, content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="access-report.json"'
        return response

    @admin.action(description=_("Access request: readable report"))
    def access_html(self, request: HttpRequest, queryset: QuerySet[Person]) -> HttpResponse:
        reports = [
            {"report": r, "values": selectors.access_report_values(r)}
            for r in self._reports(request, queryset)
        ]
        return TemplateResponse(request, "privacy/access_report.html", {"reports": reports})

    @admin.action(description=_("Erase selected people (names and contact data)"))
    def erase(self, request: HttpRequest, queryset: QuerySet[Person]) -> HttpResponse | None:
        # Irreversible: a page says what happens and asks again before anything is erased.
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "privacy/erase_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "people": list(queryset.order_by("pk")),
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                    "title": _("Erase people"),
                },
            )
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            result = services.person_erase(person_id=pk, actor=request.user)  # type: ignore[arg-type]
            self.message_user(
                request,
                _(
                    "Person %(id)d erased: %(contacts)d contact points, %(roles)d roles deleted; "
                    "%(events)d usage events keep their snapshot as billing evidence."
                )
                % {
                    "id": pk,
                    "contacts": result.contact_points_deleted,
                    "roles": result.roles_deleted,
                    "events": result.usage_events_kept,
                },
                messages.SUCCESS,
            )
        return None
