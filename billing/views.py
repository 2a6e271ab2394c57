"""Dashboard pages of billing: the month's usage, disputes (with the bounce report) and the form
that disputes one lead. Organisation and membership come from OrgViewMixin; ids resolve through
for_org, so another organisation's lead or dispute answers 404 like a missing one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from organizations.views_base import OrgViewMixin

from . import selectors
from .disputes import EXPECTED_ANSWER, BounceOutcome, DisputeConflict, bounces_report, dispute_open
from .forms import BounceReportForm, DisputeFilterForm, DisputeForm
from .models import UsageEvent
from .services import billing_month_of

PAGE_SIZE = 50


class UsageView(OrgViewMixin, TemplateView):
    """?month=YYYY-MM; the organisation's current month by default."""

    template_name = "billing/usage.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        current = billing_month_of(organization=self.organization, at=timezone.now())
        try:
            month = dt.date.fromisoformat(f"{self.request.GET.get('month', '')}-01")
        except ValueError:
            month = current
        if not dt.date(2000, 1, 1) <= month <= current:
            month = current
        usage = selectors.usage_month(organization=self.organization, month=month)
        previous = (month - dt.timedelta(days=1)).replace(day=1)
        following = (month + dt.timedelta(days=32)).replace(day=1)
        context.update(
            usage=usage,
            month=month,
            previous=f"{previous:%Y-%m}",
            following=f"{following:%Y-%m}" if following <= current else "",
            bounce_rates=selectors.bounce_rates(organization=self.organization),
        )
        return context


class DisputeListView(OrgViewMixin, TemplateView):
    template_name = "billing/disputes.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = DisputeFilterForm(self.request.GET or None)
        status = form.cleaned_data.get("status") if form.is_valid() else None
        disputes = selectors.disputes_of_organization(
            organization=self.organization, status=status or None
        )
        page = Paginator(disputes, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            form=form,
            page=page,
            disputes=page.object_list,
            expected_answer=EXPECTED_ANSWER,
            bounce_form=kwargs.get("bounce_form") or BounceReportForm(),
            bounce_report=kwargs.get("bounce_report"),
        )
        return context


class BounceReportView(DisputeListView):
    """POST: a CSV upload or pasted addresses; answers with the disputes page and the report."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        form = BounceReportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(bounce_form=form))
        report = bounces_report(
            organization=self.organization,
            addresses=form.cleaned_data["found"],
            message=form.cleaned_data.get("message") or "",
            reported_by=request.user,  # type: ignore[arg-type]
        )
        opened = len(report.opened)
        if opened:
            messages.success(
                request,
                _("%(n)d bounced lead(s) disputed; automatic checks answer within minutes.")
                % {"n": opened},
            )
        else:
            messages.info(request, _("No new dispute: see what each address matched below."))
        return self.render_to_response(
            self.get_context_data(bounce_report=report, outcomes=BounceOutcome)
        )


class LeadDisputeView(OrgViewMixin, TemplateView):
    """GET: the form to dispute one charged lead; POST: open the dispute."""

    template_name = "billing/lead_dispute.html"

    def event(self) -> UsageEvent:
        event = (
            selectors.usage_events_of_organization(organization=self.organization)
            .filter(lead_id=self.kwargs["lead_id"])
            .first()
        )
        if event is None:
            raise Http404("No such charged lead")
        return event

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        lead_id = self.kwargs["lead_id"]
        context.update(
            event=self.event(),
            lead_id=lead_id,
            eligibility=selectors.dispute_eligibility(
                organization=self.organization, lead_id=lead_id
            ),
            disputes=selectors.disputes_of_lead(organization=self.organization, lead_id=lead_id),
            form=kwargs.get("form")
            or DisputeForm(initial={"reason": self.request.GET.get("reason")}),
            expected_answer=EXPECTED_ANSWER,
        )
        return context

    def post(self, request: HttpRequest, org_slug: str, lead_id: int) -> HttpResponse:
        self.event()
        form = DisputeForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        try:
            dispute_open(
                organization=self.organization,
                lead_id=lead_id,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data.get("note") or "",
                created_by=request.user,  # type: ignore[arg-type]
            )
        except (DisputeConflict, ValueError) as exc:
            form.add_error(None, str(exc))
            return self.render_to_response(self.get_context_data(form=form), status=409)
        messages.success(request, _("Dispute opened. %(when)s") % {"when": EXPECTED_ANSWER})
        return HttpResponseRedirect(
            reverse("billing:disputes", kwargs={"org_slug": self.organization.slug})
        )
