"""API of disputes, bounce reports and usage under /api/v1/orgs/<org_slug>/.

Ids resolve through for_org(organization): another organisation's lead or dispute answers 404.
Members dispute and report bounces; owners read billing and invoices. An API key needs the
billing scope for every operation here.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from organizations.api.base import OrgAPIView
from organizations.api.lists import OrgListAPIView
from organizations.models import APIKeyScope, Role, User

from .. import plans, selectors
from ..disputes import DisputeConflict, bounces_report, dispute_open
from ..services import billing_month_of
from .serializers import (
    BillingSerializer,
    BounceReportResultSerializer,
    BounceReportSerializer,
    ConflictSerializer,
    DisputeCreateSerializer,
    DisputeListQuerySerializer,
    DisputeSerializer,
    InvoiceSerializer,
    UsageQuerySerializer,
    UsageSerializer,
)


def _actor(request: Request) -> User | None:
    """The person acting, or None for an API key."""
    return request.user if isinstance(request.user, User) else None


class LeadDisputeCreateAPI(OrgAPIView):
    """Dispute the charge of a lead. Objective reasons (bounced, outside_criteria, duplicate,
    blocked) are re-checked automatically within minutes; the others wait for staff (2 working
    days). 409 when a dispute of the lead is undecided, it was credited, or the window passed."""

    api_scope = APIKeyScope.BILLING

    @extend_schema(
        operation_id="lead_disputes_create",
        request=DisputeCreateSerializer,
        responses={
            201: DisputeSerializer,
            404: OpenApiResponse(description="No such charged lead."),
            409: ConflictSerializer,
        },
    )
    def post(self, request: Request, org_slug: str, lead_id: int) -> Response:
        # The lead first: another organisation's lead is a 404 whatever the body says.
        selectors.usage_events_of_organization(organization=self.organization).get(lead_id=lead_id)
        data = DisputeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            dispute = dispute_open(
                organization=self.organization,
                lead_id=lead_id,
                reason=data.validated_data["reason"],
                note=data.validated_data.get("note", ""),
                created_by=_actor(request),
            )
        except DisputeConflict as exc:
            return Response({"detail": str(exc), "code": exc.code}, status=status.HTTP_409_CONFLICT)
        except ValueError as exc:
            raise ValidationError({"note": [str(exc)]}) from None
        dispute = selectors.dispute_get(organization=self.organization, dispute_id=dispute.pk)
        return Response(DisputeSerializer(dispute).data, status=status.HTTP_201_CREATED)


class DisputeListAPI(OrgListAPIView):
    """The organisation's disputes, newest first; filter by ?status= and ?reason=."""

    api_scope = APIKeyScope.BILLING

    list_operation_id = "disputes_list"
    selector = staticmethod(selectors.disputes_of_organization)
    serializer_class = DisputeSerializer
    query_serializer_class = DisputeListQuerySerializer

    def selector_kwargs(self, query: dict[str, Any]) -> dict[str, Any]:
        return {"status": query.get("status"), "reason": query.get("reason")}


class DisputeDetailAPI(OrgAPIView):
    """One dispute: its status, the automatic re-check and the decision."""

    api_scope = APIKeyScope.BILLING

    @extend_schema(operation_id="disputes_retrieve", responses=DisputeSerializer)
    def get(self, request: Request, org_slug: str, dispute_id: int) -> Response:
        dispute = selectors.dispute_get(organization=self.organization, dispute_id=dispute_id)
        return Response(DisputeSerializer(dispute).data)


class BounceReportAPI(OrgAPIView):
    """Report e-mail addresses that bounced. Each address that is a charged lead's e-mail opens a
    `bounced` dispute (re-checked like any other); the answer says, per address, what happened."""

    api_scope = APIKeyScope.BILLING

    @extend_schema(
        operation_id="bounces_report",
        request=BounceReportSerializer,
        responses={200: BounceReportResultSerializer},
    )
    def post(self, request: Request, org_slug: str) -> Response:
        data = BounceReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = bounces_report(
            organization=self.organization,
            addresses=data.validated_data["addresses"],
            message=data.validated_data.get("message", ""),
            reported_by=_actor(request),
        )
        return Response(
            BounceReportResultSerializer(
                {
                    "matched": len({line.address for line in report.matched}),
                    "opened": len(report.opened),
                    "lines": report.lines,
                }
            ).data
        )


class UsageAPI(OrgAPIView):
    """A month's usage: quota, charged, credited and net, per day, and the reported bounce rate
    by verification status."""

    api_scope = APIKeyScope.BILLING

    @extend_schema(
        operation_id="usage_retrieve", parameters=[UsageQuerySerializer], responses=UsageSerializer
    )
    def get(self, request: Request, org_slug: str) -> Response:
        query = UsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        current = billing_month_of(organization=self.organization, at=timezone.now())
        month = selectors.usage_month(
            organization=self.organization, month=query.validated_month(current)
        )
        body = {
            "period_start": month.period_start,
            "period_end": month.period_end,
            "quota": month.quota,
            "hard_cap": month.hard_cap,
            "charged": month.charged,
            "credited": month.credited,
            "net": month.net,
            "remaining": month.remaining,
            "days": [
                {"day": d.day, "charged": d.charged, "credited": d.credited, "net": d.net}
                for d in month.days
            ],
            "kinds": [{"kind": k.kind, "charged": k.charged} for k in month.kinds],
            "bounce_rates": [
                {"status": r.status, "charged": r.charged, "bounced": r.bounced, "rate": r.rate}
                for r in selectors.bounce_rates(organization=self.organization)
            ],
        }
        return Response(UsageSerializer(body).data)


class BillingAPI(OrgAPIView):
    """This month's billing (owners): the plan's terms, subscription status, charged, credited
    and net leads, overage and expected cost, and the leads per day."""

    api_scope = APIKeyScope.BILLING

    required_role = Role.OWNER

    @extend_schema(operation_id="billing_retrieve", responses=BillingSerializer)
    def get(self, request: Request, org_slug: str) -> Response:
        overview = plans.billing_overview(organization=self.organization)
        terms, sub = overview.terms, overview.subscription
        body = {
            "plan": {
                "code": terms.plan.code,
                "name": terms.plan.name,
                "kind": terms.plan.kind,
                "currency": terms.currency,
                "quota": terms.quota,
                "hard_cap": terms.hard_cap,
                "price_per_month": terms.price_per_month,
                "price_per_extra_lead": terms.price_per_extra_lead,
                "trial_leads": terms.trial_leads,
            },
            "status": overview.status,
            "pending_plan": overview.pending_plan.code if overview.pending_plan else None,
            "pending_from": sub.pending_from if overview.pending_plan and sub else None,
            "search_paused": overview.paused,
            "search_pauses_at": overview.pause_at,
            "period_start": overview.period_start,
            "period_end": overview.period_end,
            "charged": overview.charged,
            "credited": overview.credited,
            "net": overview.net,
            "included": overview.included,
            "overage": overview.overage,
            "expected_cost": overview.expected_cost,
            "days": [
                {"day": b.day, "charged": b.charged, "credited": b.credited, "net": b.net}
                for b in overview.bars
                if b.charged or b.credited
            ],
        }
        return Response(BillingSerializer(body).data)


class InvoiceListAPI(OrgListAPIView):
    """The organisation's Stripe invoices as Stripe last reported them (owners), newest first."""

    api_scope = APIKeyScope.BILLING

    required_role = Role.OWNER
    list_operation_id = "billing_invoices_list"
    selector = staticmethod(plans.invoices_of_organization)
    serializer_class = InvoiceSerializer
