"""Dashboard pages: approval queue, leads list and detail, calendar (month/week) with the ICS feed,
and the run history. Organisation and membership come from OrgViewMixin; every lead id resolves
through for_org, so another organisation's lead answers 404 like a missing one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from billing.disputes import EXPECTED_ANSWER
from billing.selectors import dispute_eligibility
from organizations.views_base import OrgViewMixin

from . import selectors, services
from .exports import CRM_CHOICES, leads_crm_export_response
from .forms import BulkActionForm, LeadFilterForm, MoveForm, NotesForm, RejectForm
from .models import Lead, LeadStatus, RejectionReason, SearchRun
from .services.disputes import REJECTION_DISPUTE_REASONS, lead_reject_and_dispute

PAGE_SIZE = 50


def _lead_or_404(organization: Any, lead_id: int) -> Lead:
    try:
        return selectors.lead_get(organization=organization, lead_id=lead_id)
    except Lead.DoesNotExist:
        raise Http404("No such lead") from None


class _LeadActionView(OrgViewMixin, View):
    """POST-only action on leads; answers htmx with a fragment, browsers with a redirect."""

    http_method_names = ["post"]

    def back(self, fallback: str) -> HttpResponseRedirect:
        target = self.request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={self.request.get_host()}):
            target = fallback
        return HttpResponseRedirect(target or fallback)

    def url(self, name: str, **kwargs: Any) -> str:
        return reverse(f"leads:{name}", kwargs={"org_slug": self.organization.slug, **kwargs})

    def _row_done(self, *, lead: Lead, **extra: Any) -> dict[str, Any]:
        """A queue row's answer to Approve/Reject: the row in its new state, and the queue's
        counts (menu badge, summary line) sent again out of band so none goes stale."""
        return {
            "organization": self.organization,
            "lead": lead,
            "awaiting": selectors.leads_awaiting_count(organization=self.organization),
            **extra,
        }


# --- approval queue -----------------------------------------------------------------------------


class QueueView(OrgViewMixin, TemplateView):
    template_name = "leads/queue.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        leads = selectors.leads_awaiting_approval(organization=self.organization)
        number = self.request.POST.get("page") or self.request.GET.get("page")
        page = Paginator(leads, PAGE_SIZE).get_page(number)
        # Rendered once per page, not once per row (50 rows times every reason's two buttons):
        # each row puts its own id into the URLs (lead_format.for_lead).
        reasons_menu = [
            (
                value,
                str(label),
                _("%(label)s: reject and dispute the charge") % {"label": label}
                if value in REJECTION_DISPUTE_REASONS
                else "",
            )
            for value, label in RejectionReason.choices
        ]
        reject_buttons = render_to_string(
            "leads/_reject_buttons.html",
            {
                "reasons_menu": reasons_menu,
                "leads_url": reverse("leads:list", kwargs={"org_slug": self.organization.slug}),
            },
        )
        context.update(
            page=page,
            leads=page.object_list,
            awaiting=page.paginator.count,
            reject_buttons=reject_buttons,
            texts={"approve": _("Approve"), "reject": _("Reject"), "select": _("Select")},
            reasons=RejectionReason.choices,
            dispute_reasons=REJECTION_DISPUTE_REASONS,
            withdrawn=selectors.leads_recently_withdrawn(organization=self.organization),
        )
        return context


def _dispute_messages(
    request: HttpRequest, data: dict[str, Any], disputes: list[Any], problems: list[str]
) -> None:
    """What became of "and dispute the charge" on a rejection (queue rows, bulk, lead page)."""
    if not data["dispute"]:
        return
    if data["reason"] not in REJECTION_DISPUTE_REASONS:
        messages.info(
            request,
            _("Only “Wrong person” and “Contact data wrong” rejections dispute the charge."),
        )
        return
    if disputes:
        messages.success(
            request,
            ngettext(
                "Disputed the charge. %(when)s",
                "Disputed %(n)d charges. %(when)s",
                len(disputes),
            )
            % {"n": len(disputes), "when": EXPECTED_ANSWER},
        )
    for problem in problems:
        messages.warning(request, _("Not disputed: %(why)s") % {"why": problem})


class BulkActionView(_LeadActionView):
    """Approve or reject many leads at once (the queue's checkboxes)."""

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        form = BulkActionForm({**request.POST.dict(), "lead_ids": request.POST.getlist("lead_ids")})
        queue = self.url("queue")
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return self._answer(queue)
        ids = form.cleaned_data["lead_ids"]
        try:
            if form.cleaned_data["action"] == "approve":
                result = services.leads_approve(
                    organization=self.organization, lead_ids=ids, approved_by=request.user
                )
                messages.success(
                    request,
                    ngettext("Approved %(n)d lead.", "Approved %(n)d leads.", len(result.approved))
                    % {"n": len(result.approved)},
                )
                if result.failed_reverification:
                    messages.warning(
                        request,
                        ngettext(
                            "%(n)d lead no longer verifies and stays in the queue.",
                            "%(n)d leads no longer verify and stay in the queue.",
                            len(result.failed_reverification),
                        )
                        % {"n": len(result.failed_reverification)},
                    )
            else:
                leads, disputes, problems = lead_reject_and_dispute(
                    organization=self.organization,
                    lead_ids=ids,
                    rejected_by=request.user,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                    dispute=form.cleaned_data["dispute"],
                )
                messages.success(
                    request,
                    ngettext("Rejected %(n)d lead.", "Rejected %(n)d leads.", len(leads))
                    % {"n": len(leads)},
                )
                _dispute_messages(request, form.cleaned_data, disputes, problems)
        except Lead.DoesNotExist:
            raise Http404("No such lead") from None
        except services.LeadStateError as exc:
            messages.error(request, str(exc))
        return self._answer(queue)

    def _answer(self, queue: str) -> HttpResponse:
        if self.request.htmx:
            view = QueueView()
            view.setup(self.request, org_slug=self.organization.slug)
            view.organization, view.membership = self.organization, self.membership
            context = view.get_context_data(oob_counts=True)
            return render(self.request, "leads/_queue_table.html", context)
        return self.back(queue)


class LeadApproveView(_LeadActionView):
    def post(self, request: HttpRequest, org_slug: str, lead_id: int) -> HttpResponse:
        try:
            result = services.lead_approve(
                organization=self.organization, lead_id=lead_id, approved_by=request.user
            )
        except Lead.DoesNotExist:
            raise Http404("No such lead") from None
        except services.LeadStateError as exc:
            messages.error(request, str(exc))
            return self.back(self.url("detail", lead_id=lead_id))
        if result.failed_reverification:
            messages.warning(request, _("The contact no longer verifies; the lead stays queued."))
        elif request.htmx:
            lead = result.approved[0]
            return render(request, "leads/_queue_row_done.html", self._row_done(lead=lead))
        return self.back(self.url("detail", lead_id=lead_id))


class LeadRejectView(_LeadActionView):
    def post(self, request: HttpRequest, org_slug: str, lead_id: int) -> HttpResponse:
        form = RejectForm(request.POST)
        _lead_or_404(self.organization, lead_id)
        if not form.is_valid():
            messages.error(request, _("Pick a reason for rejecting."))
            return self.back(self.url("detail", lead_id=lead_id))
        try:
            leads, disputes, problems = lead_reject_and_dispute(
                organization=self.organization,
                lead_ids=[lead_id],
                rejected_by=request.user,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                dispute=form.cleaned_data["dispute"],
            )
        except services.LeadStateError as exc:
            messages.error(request, str(exc))
            return self.back(self.url("detail", lead_id=lead_id))
        if request.htmx:
            # The row says it in place: the queue's messages are not part of the swap.
            return render(
                request,
                "leads/_queue_row_done.html",
                self._row_done(lead=leads[0], disputed=bool(disputes), not_disputed=problems),
            )
        _dispute_messages(request, form.cleaned_data, disputes, problems)
        return self.back(self.url("detail", lead_id=lead_id))


class LeadMoveView(_LeadActionView):
    def post(self, request: HttpRequest, org_slug: str, lead_id: int) -> HttpResponse:
        lead = _lead_or_404(self.organization, lead_id)
        form = MoveForm(request.POST)
        fallback = self.url("calendar")
        if not form.is_valid():
            messages.error(request, _("Pick a valid date."))
            return self.back(fallback)
        try:
            lead = services.lead_move(
                organization=self.organization, lead_id=lead.id, to_date=form.cleaned_data["date"]
            )
            messages.success(
                request,
                _("Moved %(name)s to %(date)s.")
                % {"name": lead.person_name, "date": date_format(lead.scheduled_date)},
            )
        except (ValueError, services.LeadStateError) as exc:
            messages.error(request, str(exc))
        return self.back(fallback)


class LeadContactedView(_LeadActionView):
    def post(self, request: HttpRequest, org_slug: str, lead_id: int) -> HttpResponse:
        _lead_or_404(self.organization, lead_id)
        try:
            services.lead_mark_contacted(organization=self.organization, lead_id=lead_id)
        except services.LeadStateError as exc:
            messages.error(request, str(exc))
        return self.back(self.url("detail", lead_id=lead_id))


class LeadNotesView(_LeadActionView):
    def post(self, request: HttpRequest, org_slug: str, lead_id: int) -> HttpResponse:
        _lead_or_404(self.organization, lead_id)
        form = NotesForm(request.POST)
        if form.is_valid():
            try:
                services.lead_notes_update(
                    organization=self.organization,
                    lead_id=lead_id,
                    notes=form.cleaned_data["notes"],
                )
                messages.success(request, _("Notes saved."))
            except ValueError as exc:
                messages.error(request, str(exc))
        return self.back(self.url("detail", lead_id=lead_id))


# --- leads list and detail ----------------------------------------------------------------------


class LeadListView(OrgViewMixin, TemplateView):
    template_name = "leads/list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = LeadFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        leads = selectors.leads_of_organization(
            organization=self.organization,
            status=filters.get("status") or None,
            search=filters.get("q") or "",
        )
        page = Paginator(leads, PAGE_SIZE).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(form=form, page=page, leads=page.object_list, query=query.urlencode())
        return context


class LeadExportForm(LeadFilterForm):
    """The leads list's filters, plus the CRM whose import columns the file follows."""

    crm = forms.ChoiceField(choices=CRM_CHOICES)
    segment = forms.IntegerField(required=False, min_value=1)


class LeadExportView(OrgViewMixin, View):
    """GET: the leads the list shows for the same filters, as a CSV for HubSpot or Pipedrive."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponseBase:
        form = LeadExportForm(request.GET)
        if not form.is_valid():
            problems = "; ".join(
                f"{name}: {' '.join(str(m) for m in errors)}"
                for name, errors in form.errors.items()
            )
            return HttpResponseBadRequest(problems, content_type="text/plain; charset=utf-8")
        data = form.cleaned_data
        return leads_crm_export_response(
            organization=self.organization,
            crm=data["crm"],
            status=data.get("status") or None,
            segment_id=data.get("segment"),
            search=data.get("q") or "",
        )


class LeadDetailView(OrgViewMixin, TemplateView):
    template_name = "leads/detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        lead = _lead_or_404(self.organization, self.kwargs["lead_id"])
        context.update(
            lead=lead,
            usage_event=selectors.lead_usage_event(organization=self.organization, lead_id=lead.id),
            dispute_eligibility=dispute_eligibility(
                organization=self.organization, lead_id=lead.id
            ),
            reasons=RejectionReason.choices,
            dispute_reasons=REJECTION_DISPUTE_REASONS,
            notes_form=NotesForm(initial={"notes": lead.notes}),
            statuses=LeadStatus,
            person_source=selectors.lead_person_source(organization=self.organization, lead=lead),
        )
        return context


# --- calendar -----------------------------------------------------------------------------------


def _parse_date(value: str | None, default: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default
    return day if selectors.CALENDAR_FIRST_DAY <= day <= selectors.CALENDAR_LAST_DAY else default


class CalendarView(OrgViewMixin, TemplateView):
    """Month view (?month=YYYY-MM) or week view (?view=week&date=YYYY-MM-DD)."""

    template_name = "leads/calendar.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        today = services.calendar_today(organization=self.organization)
        mode = "week" if self.request.GET.get("view") == "week" else "month"
        context.update(
            today=today,
            mode=mode,
            leads_url=reverse("leads:list", kwargs={"org_slug": self.organization.slug}),
            texts={"move": _("Move"), "move_to": _("Move to another day:")},
            feed_url=kwargs.get("feed_url"),
            feed=selectors.calendar_feed_of_user(
                organization=self.organization, user_id=self.request.user.pk
            ),
        )
        if mode == "week":
            day = _parse_date(self.request.GET.get("date"), today)
            days = selectors.calendar_week(organization=self.organization, day=day)
            context.update(
                days=days,
                has_leads=any(d.leads for d in days),
                prev=(days[0].date - dt.timedelta(days=7)).isoformat(),
                next=(days[0].date + dt.timedelta(days=7)).isoformat(),
                title=f"Week of {days[0].date:%d %b %Y}",
            )
        else:
            first = _parse_date((self.request.GET.get("month") or "") + "-01", today).replace(day=1)
            weeks = selectors.calendar_month(
                organization=self.organization, year=first.year, month=first.month
            )
            prev = (first - dt.timedelta(days=1)).replace(day=1)
            nxt = (first + dt.timedelta(days=32)).replace(day=1)
            context.update(
                weeks=weeks,
                has_leads=any(d.leads for week in weeks for d in week if d.in_month),
                prev=f"{prev:%Y-%m}",
                next=f"{nxt:%Y-%m}",
                title=f"{first:%B %Y}",
            )
        return context


class CalendarFeedResetView(OrgViewMixin, TemplateView):
    """POST: a new secret ICS URL for the current user (shown once); the old one stops working."""

    template_name = "leads/calendar.html"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        token = services.calendar_feed_reset(organization=self.organization, user=request.user)
        url = services.calendar_feed_url(token=token)
        view = CalendarView()
        view.setup(request, org_slug=org_slug)
        view.organization, view.membership = self.organization, self.membership
        return render(request, self.template_name, view.get_context_data(feed_url=url))


def calendar_feed(request: HttpRequest, feed_token: str) -> HttpResponse:
    """The ICS feed: no session (calendar apps subscribe by URL); the secret token is the key."""
    feed = services.calendar_feed_resolve(token=feed_token.removesuffix(".ics"))
    if feed is None:
        raise Http404("No such calendar feed")
    organization = feed.organization
    body = services.calendar_feed_ics(
        organization=organization, today=services.calendar_today(organization=organization)
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="leadpilot-leads.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


# --- run history --------------------------------------------------------------------------------


class RunListView(OrgViewMixin, TemplateView):
    template_name = "leads/runs.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        runs = selectors.search_runs_of_organization(organization=self.organization)
        page = Paginator(runs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(page=page, runs=page.object_list)
        return context


class RunDetailView(OrgViewMixin, TemplateView):
    template_name = "leads/run_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        try:
            run = selectors.search_run_get(
                organization=self.organization, run_id=self.kwargs["run_id"]
            )
        except SearchRun.DoesNotExist:
            raise Http404("No such run") from None
        rows, total = selectors.search_run_candidate_rows(organization=self.organization, run=run)
        context.update(run=run, rows=rows, candidates_total=total)
        return context
