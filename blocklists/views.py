"""Dashboard pages of the block list: list/search, add, import, remove, export."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from organizations.models import Role
from organizations.views_base import OrgViewMixin

from . import selectors, services
from .csv_io import (
    MAX_BYTES,
    BlockImportError,
    block_entries_export_response,
    block_entries_import,
)
from .forms import BlockEntryForm, BlockImportForm
from .models import BlockKind

PAGE_SIZE = 100


class BlockListView(OrgViewMixin, View):
    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        return self.render_page()

    def render_page(self, *, status: int = 200, **extra: Any) -> HttpResponse:
        request = self.request
        kind = request.GET.get("kind", "")
        search = request.GET.get("q", "").strip()
        qs = selectors.block_entries_of_organization(
            organization=self.organization,
            kind=kind if kind in BlockKind.values else None,
            search=search,
        )
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            "organization": self.organization,
            "membership": self.membership,
            "page": page,
            "entries": list(page.object_list),
            "kinds": BlockKind.choices,
            "kind": kind,
            "q": search,
            "can_manage": self.membership.has_role(Role.ADMIN),
            "form": extra.pop("form", None) or BlockEntryForm(),
            "import_form": extra.pop("import_form", None) or BlockImportForm(),
            **extra,
        }
        return render(request, "blocklists/list.html", context, status=status)


class BlockAddView(BlockListView):
    required_role = Role.ADMIN

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        return redirect("blocklists:list", org_slug=org_slug)

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        form = BlockEntryForm(request.POST)
        if not form.is_valid():
            return self.render_page(form=form, status=400)
        try:
            entry, created = services.block_entry_add(
                organization=self.organization, created_by=request.user, **form.cleaned_data
            )
        except services.BlockEntryError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self.render_page(form=form, status=400)
        if created:
            messages.success(
                request,
                _("Blocked %(kind)s %(value)s.")
                % {"kind": entry.get_kind_display().lower(), "value": entry.value},
            )
        else:
            messages.info(
                request, _("%(value)s was already on the block list.") % {"value": entry.value}
            )
        return redirect("blocklists:list", org_slug=org_slug)


class BlockImportView(BlockListView):
    required_role = Role.ADMIN

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        return redirect("blocklists:list", org_slug=org_slug)

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        form = BlockImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_page(import_form=form, status=400)
        try:
            result = block_entries_import(
                organization=self.organization,
                data=form.cleaned_data["file"].read(MAX_BYTES + 1),  # a bigger file: refused unread
                created_by=request.user,
            )
        except BlockImportError as exc:
            return self.render_page(
                import_form=form,
                import_errors=exc.errors,
                import_truncated=exc.truncated,
                status=400,
            )
        messages.success(
            request,
            ngettext(
                "Imported %(rows)d row: %(new)d new, %(skipped)d already listed.",
                "Imported %(rows)d rows: %(new)d new, %(skipped)d already listed.",
                result.rows,
            )
            % {"rows": result.rows, "new": result.created, "skipped": result.skipped},
        )
        return redirect("blocklists:list", org_slug=org_slug)


class BlockRemoveView(OrgViewMixin, View):
    required_role = Role.ADMIN

    def post(self, request: HttpRequest, org_slug: str, entry_id: int) -> HttpResponse:
        try:
            entry = selectors.block_entry_get(organization=self.organization, entry_id=entry_id)
            services.block_entry_remove(organization=self.organization, entry_id=entry.pk)
        except ObjectDoesNotExist:
            raise Http404("No such block entry") from None
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponse("")
        messages.success(request, _("Unblocked %(value)s.") % {"value": entry.value})
        return redirect("blocklists:list", org_slug=org_slug)


class BlockExportView(OrgViewMixin, View):
    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        return block_entries_export_response(organization=self.organization)
