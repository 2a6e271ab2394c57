"""Dashboard pages of segments: list, editor with live preview (htmx), lifecycle actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from organizations.models import Role
from organizations.views_base import OrgViewMixin

from . import pickers, selectors, services
from .counting import PreviewTimeout
from .criteria import CriteriaError
from .forms import SegmentForm
from .models import Segment, SegmentStatus


def _get(view: OrgViewMixin, segment_id: int) -> Segment:
    try:
        return selectors.segment_get(organization=view.organization, segment_id=segment_id)
    except ObjectDoesNotExist:
        raise Http404("No such segment") from None


class SegmentListView(OrgViewMixin, TemplateView):
    template_name = "segments/list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        show_archived = self.request.GET.get("archived") == "1"
        context["segments"] = list(
            selectors.segments_of_organization(
                organization=self.organization, include_archived=show_archived
            )
        )
        context["show_archived"] = show_archived
        context["can_manage"] = self.membership.has_role(Role.ADMIN)
        return context


class _EditorMixin(OrgViewMixin):
    required_role_for_write = Role.ADMIN
    segment: Segment | None = None

    def render_editor(self, form: SegmentForm, status: int = 200) -> HttpResponse:
        context = {
            "organization": self.organization,
            "membership": self.membership,
            "form": form,
            "segment": self.segment,
            "can_manage": self.membership.has_role(Role.ADMIN),
            "role_fields": [form[f"role_{i}"] for i in range(1, 5)],
        }
        # The preview is fetched by the page itself (htmx, on load and on every change), so a
        # broad segment's counts never hold up the page.
        return render(self.request, "segments/edit.html", context, status=status)

    def save(self, form: SegmentForm) -> HttpResponse:
        assert form.criteria is not None
        fields = {
            "name": form.cleaned_data["name"],
            "criteria": form.criteria.to_dict(),
            "nightly_cap": form.cleaned_data["nightly_cap"],
            "delivery_mode": form.cleaned_data["delivery_mode"] or None,
            "legitimate_interest": form.cleaned_data.get("legitimate_interest") or "",
        }
        try:
            if self.segment is None:
                segment = services.segment_create(
                    organization=self.organization, created_by=self.request.user, **fields
                )
                messages.success(
                    self.request,
                    _("Segment “%(name)s” saved as a draft.") % {"name": segment.name},
                )
            else:
                segment = services.segment_update(
                    organization=self.organization, segment_id=self.segment.pk, **fields
                )
                messages.success(
                    self.request, _("Segment “%(name)s” saved.") % {"name": segment.name}
                )
        except services.SegmentError as exc:
            for key, problems in exc.errors.items():
                target = key.removeprefix("criteria.")
                for problem in problems:
                    form.add_error(target if target in form.fields else None, problem)
            return self.render_editor(form, status=400)
        return redirect("segments:edit", org_slug=self.organization.slug, segment_id=segment.pk)


class SegmentCreateView(_EditorMixin, View):
    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        return self.render_editor(SegmentForm())

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        form = SegmentForm(request.POST)
        if not form.is_valid():
            return self.render_editor(form, status=400)
        return self.save(form)


class SegmentEditView(_EditorMixin, View):
    def get(self, request: HttpRequest, org_slug: str, segment_id: int) -> HttpResponse:
        self.segment = _get(self, segment_id)
        return self.render_editor(SegmentForm(initial=SegmentForm.initial_for(self.segment)))

    def post(self, request: HttpRequest, org_slug: str, segment_id: int) -> HttpResponse:
        self.segment = _get(self, segment_id)
        form = SegmentForm(request.POST)
        if not form.is_valid():
            return self.render_editor(form, status=400)
        return self.save(form)


class SegmentPreviewView(OrgViewMixin, View):
    """htmx: the editor posts its fields on every change; answers the preview fragment."""

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        form = SegmentForm(request.POST, require_name=False)
        context: dict[str, Any] = {"form": form}
        if form.is_valid() and form.criteria is not None:
            try:
                context["preview"] = selectors.segment_preview(
                    organization=self.organization,
                    segment=form.criteria,
                    nightly_cap=form.cleaned_data.get("nightly_cap"),
                )
            except PreviewTimeout:
                context["preview_unavailable"] = True
        return render(request, "segments/_preview.html", context)


class SegmentPickerOptionsView(OrgViewMixin, View):
    """GET ?field=countries|industries|regions|municipalities&q=…: the editor's pickers
    (static/js/picker.js) ask for options as the user types; ?values=a,b names picked codes.
    The directory is global, so the answer is the same for every organisation; membership is
    still checked by OrgViewMixin."""

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        field = request.GET.get("field", "")
        if field not in pickers.PICKER_FIELDS:
            return JsonResponse(
                {
                    "error": _("Unknown picker %(field)r: use one of %(fields)s.")
                    % {"field": field, "fields": ", ".join(pickers.PICKER_FIELDS)}
                },
                status=400,
            )
        if "values" in request.GET:
            values = [v.strip() for v in request.GET["values"].split(",") if v.strip()]
            options = pickers.picker_labels(field=field, values=values[: pickers.PICKER_LIMIT])
        else:
            options = pickers.picker_search(field=field, query=request.GET.get("q", "")[:100])
        response = JsonResponse({"options": [o.as_dict() for o in options]})
        response["Cache-Control"] = "private, max-age=300"
        return response


class SegmentSavedPreviewView(OrgViewMixin, View):
    """htmx: the preview of a saved segment (the editor loads it when it opens)."""

    def get(self, request: HttpRequest, org_slug: str, segment_id: int) -> HttpResponse:
        segment = _get(self, segment_id)
        context: dict[str, Any] = {"form": None}
        try:
            context["preview"] = selectors.segment_preview(
                organization=self.organization, segment=segment
            )
        except CriteriaError as exc:
            context["criteria_errors"] = SegmentForm.error_labels(exc.errors)
        except PreviewTimeout:
            context["preview_unavailable"] = True
        return render(request, "segments/_preview.html", context)


class SegmentTransitionView(OrgViewMixin, View):
    required_role = Role.ADMIN
    transition = ""
    _SERVICES = {
        "activate": (
            services.segment_activate,
            gettext_lazy("“%(name)s” is active: the nightly search will run it."),
        ),
        "pause": (services.segment_pause, gettext_lazy("“%(name)s” is paused.")),
        "archive": (services.segment_archive, gettext_lazy("“%(name)s” is archived.")),
    }

    def post(self, request: HttpRequest, org_slug: str, segment_id: int) -> HttpResponse:
        segment = _get(self, segment_id)
        service, done = self._SERVICES[self.transition]
        kwargs: dict[str, Any] = {}
        if self.transition == "activate":
            confirmed = request.POST.get(services.CONFIRM_NO_DECISION_MAKERS) == "yes"
            kwargs[services.CONFIRM_NO_DECISION_MAKERS] = confirmed
        try:
            segment = service(organization=self.organization, segment_id=segment.pk, **kwargs)
        except services.SegmentNeedsConfirmation:
            # The editor asks: it shows the activation again with the confirmation box.
            messages.warning(
                request,
                _(
                    "No company matching “%(name)s” has a wanted decision-maker: the nightly "
                    "search would deliver nothing. Tick the box to activate it anyway."
                )
                % {"name": segment.name},
            )
            return redirect(
                f"{reverse('segments:edit', kwargs={'org_slug': org_slug, 'segment_id': segment.pk})}"
                "?confirm=activate"
            )
        except services.SegmentEmailUnconfirmed:
            messages.error(
                request,
                _(
                    "“%(name)s” is not active yet: an owner of %(organization)s must first confirm "
                    "their e-mail address with the link we sent them (“Resend confirmation” at "
                    "the top of the page sends a new one)."
                )
                % {"name": segment.name, "organization": self.organization.name},
            )
        except services.SegmentError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, done % {"name": segment.name})
        if segment.status == SegmentStatus.ARCHIVED:
            return redirect("segments:list", org_slug=org_slug)
        return redirect("segments:edit", org_slug=org_slug, segment_id=segment.pk)
