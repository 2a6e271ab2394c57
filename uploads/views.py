"""Dashboard pages of own-list uploads under /o/<slug>/uploads/: the list and the upload form,
one upload (mapping and roles, validation report, start, progress polled by htmx, cancel,
results and their CSV)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from organizations.models import Role
from organizations.views_base import OrgViewMixin

from . import selectors, services
from .exports import upload_results_response
from .forms import FIELD_LABELS, OptionsForm, UploadForm
from .models import RowOutcome, Upload, UploadStatus
from .parsing import fields_of

RESULTS_PAGE = 100


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{m}" for messages_ in exc.message_dict.values() for m in messages_]
    return list(exc.messages)


class _UploadViewMixin(OrgViewMixin):
    """Another organisation's upload, or none, is a 404 (never a 500)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().dispatch(request, *args, **kwargs)
        except Upload.DoesNotExist:
            raise Http404(_("No such upload")) from None


class UploadListView(OrgViewMixin, View):
    required_role_for_write = Role.ADMIN

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        return self.render_page(form=UploadForm())

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_page(form=form, status=400)
        file = form.cleaned_data["file"]
        try:
            upload = services.upload_create(
                organization=self.organization,
                created_by=request.user,
                data=services.UploadInput(
                    file=file,
                    filename=file.name or "upload",
                    size=file.size or 0,
                    kind=form.cleaned_data["kind"],
                    roles=form.cleaned_data["roles"],
                ),
            )
        except ValidationError as exc:
            return self.render_page(form=form, status=400, refused=_errors(exc))
        return redirect("uploads:detail", org_slug=org_slug, upload_id=upload.id)

    def render_page(self, *, form: UploadForm, status: int = 200, **extra: Any) -> HttpResponse:
        uploads = selectors.uploads_of_organization(organization=self.organization)
        page = Paginator(uploads, 50).get_page(self.request.GET.get("page"))
        context = {
            "organization": self.organization,
            "membership": self.membership,
            "can_manage": self.membership.has_role(Role.ADMIN),
            "form": form,
            "page": page,
            "uploads": list(page.object_list),
            **extra,
        }
        return render(self.request, "uploads/list.html", context, status=status)


class UploadDetailView(_UploadViewMixin, View):
    required_role_for_write = Role.ADMIN

    def get(self, request: HttpRequest, org_slug: str, upload_id: int) -> HttpResponse:
        return self.render_page(upload_id=upload_id)

    def post(self, request: HttpRequest, org_slug: str, upload_id: int) -> HttpResponse:
        upload = selectors.upload_get(organization=self.organization, upload_id=upload_id)
        form = OptionsForm(request.POST, fields=fields_of(upload.kind), header=upload.header)
        if not form.is_valid():
            return self.render_page(upload_id=upload_id, form=form, status=400)
        try:
            services.upload_options_set(
                organization=self.organization,
                upload_id=upload_id,
                mapping=form.mapping(),
                roles=form.cleaned_data["roles"] or None,
            )
        except ValidationError as exc:
            for message in _errors(exc):
                form.add_error(None, message)
            return self.render_page(upload_id=upload_id, form=form, status=400)
        messages.success(request, _("The mapping is saved and every row was checked again."))
        return redirect("uploads:detail", org_slug=org_slug, upload_id=upload_id)

    def render_page(
        self, *, upload_id: int, form: OptionsForm | None = None, status: int = 200
    ) -> HttpResponse:
        upload = selectors.upload_get(organization=self.organization, upload_id=upload_id)
        report = selectors.upload_report(organization=self.organization, upload=upload)
        if form is None:
            initial: dict[str, Any] = {f"map_{k}": str(v) for k, v in upload.mapping.items()}
            initial["roles"] = upload.roles
            form = OptionsForm(initial=initial, fields=fields_of(upload.kind), header=upload.header)
        rows = selectors.upload_rows(organization=self.organization, upload=upload).exclude(
            outcome__in=(RowOutcome.PENDING, RowOutcome.INVALID)
        )
        page = Paginator(rows, RESULTS_PAGE).get_page(self.request.GET.get("page"))
        context = {
            "organization": self.organization,
            "membership": self.membership,
            "can_manage": self.membership.has_role(Role.ADMIN),
            "upload": upload,
            "report": report,
            "form": form,
            "mapping_labels": [
                (FIELD_LABELS.get(k, k), upload.header[v] if v < len(upload.header) else "")
                for k, v in upload.mapping.items()
            ],
            "editable": upload.status == UploadStatus.VALIDATED,
            "page": page,
            "results": list(page.object_list),
        }
        return render(self.request, "uploads/detail.html", context, status=status)


class UploadProgressView(_UploadViewMixin, View):
    """The progress panel alone (htmx polls it); once the job has finished a poll from a page
    that showed it running reloads the page, so the results appear."""

    def get(self, request: HttpRequest, org_slug: str, upload_id: int) -> HttpResponse:
        upload = selectors.upload_get(organization=self.organization, upload_id=upload_id)
        response = render(
            request,
            "uploads/_progress.html",
            {"organization": self.organization, "upload": upload, "can_manage": False},
        )
        if upload.is_finished and request.GET.get("was") == "active":
            response["HX-Refresh"] = "true"
        return response


class UploadStartView(_UploadViewMixin, View):
    required_role = Role.ADMIN

    def post(self, request: HttpRequest, org_slug: str, upload_id: int) -> HttpResponse:
        try:
            services.upload_start(organization=self.organization, upload_id=upload_id)
        except ValidationError as exc:
            for message in _errors(exc):
                messages.error(request, message)
        return redirect("uploads:detail", org_slug=org_slug, upload_id=upload_id)


class UploadCancelView(_UploadViewMixin, View):
    required_role = Role.ADMIN

    def post(self, request: HttpRequest, org_slug: str, upload_id: int) -> HttpResponse:
        services.upload_cancel(organization=self.organization, upload_id=upload_id)
        messages.info(request, _("The upload is cancelled: rows not yet processed never will be."))
        return redirect("uploads:detail", org_slug=org_slug, upload_id=upload_id)


class UploadResultsCSVView(_UploadViewMixin, View):
    def get(self, request: HttpRequest, org_slug: str, upload_id: int) -> HttpResponse:
        upload = selectors.upload_get(organization=self.organization, upload_id=upload_id)
        return upload_results_response(organization=self.organization, upload=upload)
