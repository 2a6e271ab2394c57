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
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from organizations.models import Role
from organizations.views_base import OrgViewMixin

from . import plans, selectors
from .disputes import EXPECTED_ANSWER, BounceOutcome, DisputeConflict, bounces_report, dispute_open
from .forms import BounceReportForm, DisputeFilterForm, DisputeForm
from .models import Currency, Plan, UsageEvent
from .services import billing_month_of
from .subscriptions import BillingNotConfigured, stripe_portal_url, subscription_plan_change

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


# --- the Billing page (owners) --------------------------------------------------------------------


class BillingView(OrgViewMixin, TemplateView):
    """The plan, this month's charges and expected cost, a chart per day, the plans to pick and
    the invoices. Owners only: what the organisation pays is theirs to decide."""

    template_name = "billing/billing.html"
    required_role = Role.OWNER

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        overview = plans.billing_overview(organization=self.organization)
        # ?currency= picks the prices shown; anything but a known currency means the plan's own.
        asked = self.request.GET.get("currency", "")
        currency = asked if asked in Currency.values else overview.terms.currency
        context.update(
            overview=overview,
            plans=[p for p in plans.plans_offered(currency=currency) if p.kind != "agreement"],
            currencies=Currency.values,
            currency=currency,
            invoices=list(plans.invoices_of_organization(organization=self.organization)[:24]),
            stripe_enabled=plans.stripe_enabled(),
            chart_width=plans.CHART_WIDTH,
            chart_height=plans.CHART_HEIGHT,
            bar_width=max(2, plans.CHART_WIDTH // max(1, len(overview.bars)) - 4),
            usage_url=reverse("billing:usage", kwargs={"org_slug": self.organization.slug}),
        )
        return context


class BillingPlanView(OrgViewMixin, View):
    """POST plan=<code>: change plan (upgrade now, downgrade next month) or go to Checkout."""

    required_role = Role.OWNER
    http_method_names = ["post"]

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        page = reverse("billing:billing", kwargs={"org_slug": self.organization.slug})
        base = request.build_absolute_uri(page)
        try:
            change = subscription_plan_change(
                organization=self.organization,
                plan_code=str(request.POST.get("plan", ""))[:40],
                email=getattr(request.user, "email", ""),
                success_url=f"{base}?checkout=success",
                cancel_url=f"{base}?checkout=cancel",
            )
        except Plan.DoesNotExist:
            messages.error(request, _("There is no such plan."))
        except BillingNotConfigured:
            messages.error(request, _("Billing is not configured on this installation."))
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            if change.redirect_url:
                return HttpResponseRedirect(change.redirect_url)
            if change.outcome == "now":
                messages.success(
                    request, _("You are on %(plan)s from now on.") % {"plan": change.plan.name}
                )
            elif change.outcome == "next_period":
                messages.success(
                    request,
                    _("You move to %(plan)s on %(date)s; until then your plan stays as it is.")
                    % {"plan": change.plan.name, "date": date_format(change.effective_from)},
                )
            else:
                messages.info(request, _("You are on %(plan)s.") % {"plan": change.plan.name})
        return HttpResponseRedirect(page)


class BillingPortalView(OrgViewMixin, View):
    """POST: to Stripe's customer portal (cards, invoices, cancelling)."""

    required_role = Role.OWNER
    http_method_names = ["post"]

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        page = reverse("billing:billing", kwargs={"org_slug": self.organization.slug})
        try:
            url = stripe_portal_url(
                organization=self.organization, return_url=request.build_absolute_uri(page)
            )
        except BillingNotConfigured:
            messages.error(request, _("Billing is not configured on this installation."))
            return HttpResponseRedirect(page)
        return HttpResponseRedirect(url)
