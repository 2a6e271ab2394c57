"""API of leads, the calendar and search runs under /api/v1/orgs/<org_slug>/.

Ids resolve through for_org(organization): another organisation's lead or run answers 404.
Members (and write-scoped keys) approve, reject and move; every key may read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from billing.api.serializers import ConflictSerializer
from billing.selectors import dispute_eligibility
from organizations.api.base import OrgAPIView
from organizations.api.lists import OrgListAPIView
from organizations.models import User

from .. import selectors, services
from ..exports import CRM_CHOICES, leads_crm_export_response
from ..models import Lead, LeadStatus, SearchRun
from ..services.disputes import lead_reject_and_dispute
from .serializers import (
    CalendarDaySerializer,
    CalendarQuerySerializer,
    LeadApprovalResultSerializer,
    LeadBulkActionSerializer,
    LeadBulkResultSerializer,
    LeadDetailSerializer,
    LeadListQuerySerializer,
    LeadListSerializer,
    LeadMoveSerializer,
    LeadNotesUpdateSerializer,
    LeadRejectedSerializer,
    LeadRejectSerializer,
    SearchRunDetailSerializer,
    SearchRunListSerializer,
)


def _actor(request: Request) -> User | None:
    """The person acting, or None for an API key."""
    return request.user if isinstance(request.user, User) else None


# Why a lead's charge cannot be disputed (billing.selectors.dispute_eligibility's why_not).
_DISPUTE_CONFLICTS = {
    "not_charged": gettext_lazy("This lead was not charged."),
    "open": gettext_lazy("A dispute of this lead is already open."),
    "accepted": gettext_lazy("This lead was already credited."),
    "window": gettext_lazy("The dispute window has passed."),
}


class _LeadAPIView(OrgAPIView):
    def lead(self, lead_id: int) -> Lead:
        try:
            return selectors.lead_get(organization=self.organization, lead_id=lead_id)
        except Lead.DoesNotExist:
            raise NotFound(gettext("No such lead.")) from None


class LeadListAPI(OrgListAPIView):
    """Leads, newest first, cursor-paginated; filter by ?status= and ?segment=."""

    list_operation_id = "leads_list"
    selector = staticmethod(selectors.leads_of_organization_list_columns)
    serializer_class = LeadListSerializer
    query_serializer_class = LeadListQuerySerializer

    def selector_kwargs(self, query: dict[str, Any]) -> dict[str, Any]:
        return {"status": query.get("status"), "segment_id": query.get("segment")}


class LeadExportQuerySerializer(serializers.Serializer):
    crm = serializers.ChoiceField(
        choices=CRM_CHOICES,
        help_text="Whose import columns the file follows: hubspot or pipedrive.",
    )
    status = serializers.ChoiceField(choices=LeadStatus.choices, required=False)
    segment = serializers.IntegerField(required=False, min_value=1)
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Search in person and company names, as the dashboard's leads list does.",
    )


class _CsvOrJsonErrors(BaseContentNegotiation):
    """The export answers CSV (errors JSON) whatever the Accept header, so `Accept: text/csv`
    is not refused with 406 by the JSON-only renderer list."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0]

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class LeadExportAPI(OrgAPIView):
    """The leads the list returns for the same filters, as a CSV for a CRM's importer: HubSpot's
    or Pipedrive's column names, plus our registry id, lead id and date and, in words, where the
    person and the contact came from. UTF-8 with a BOM, streamed, formula-safe cells."""

    content_negotiation_class = _CsvOrJsonErrors

    @extend_schema(
        operation_id="leads_export",
        parameters=[LeadExportQuerySerializer],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            400: OpenApiResponse(description="{field: [problem, ...]}: an unknown crm or filter."),
        },
    )
    def get(self, request: Request, org_slug: str) -> StreamingHttpResponse:
        query = LeadExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        return leads_crm_export_response(
            organization=self.organization,
            crm=data["crm"],
            status=data.get("status"),
            segment_id=data.get("segment"),
            search=data.get("q") or "",
        )


class LeadDetailAPI(_LeadAPIView):
    """One lead with its snapshot and evidence; PATCH changes its notes."""

    @extend_schema(operation_id="leads_retrieve", responses=LeadDetailSerializer)
    def get(self, request: Request, org_slug: str, lead_id: int) -> Response:
        return Response(LeadDetailSerializer(self.lead(lead_id)).data)

    @extend_schema(
        operation_id="leads_notes_update",
        request=LeadNotesUpdateSerializer,
        responses=LeadDetailSerializer,
    )
    def patch(self, request: Request, org_slug: str, lead_id: int) -> Response:
        lead = self.lead(lead_id)
        serializer = LeadNotesUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_notes_update(
            organization=self.organization, lead_id=lead.id, **serializer.validated_data
        )
        return Response(LeadDetailSerializer(lead).data)


def _approval_data(result: services.ApprovalResult) -> dict[str, Any]:
    return LeadApprovalResultSerializer(
        {"approved": result.approved, "failed_reverification": result.failed_reverification}
    ).data


class LeadApproveAPI(_LeadAPIView):
    """Approve a lead: it goes onto the next free working day of the calendar."""

    @extend_schema(
        operation_id="leads_approve", request=None, responses=LeadApprovalResultSerializer
    )
    def post(self, request: Request, org_slug: str, lead_id: int) -> Response:
        lead = self.lead(lead_id)
        try:
            result = services.lead_approve(
                organization=self.organization, lead_id=lead.id, approved_by=_actor(request)
            )
        except services.LeadStateError as exc:
            raise ValidationError({"status": [str(exc)]}) from None
        return Response(_approval_data(result))


class LeadRejectAPI(_LeadAPIView):
    """Reject a lead with a reason; it leaves the queue and the calendar. With `dispute: true`
    (reasons wrong_person and bad_contact) its charge is disputed in the same step; 409, and the
    lead left as it was, when the charge cannot be disputed (open dispute, credited, window)."""

    @extend_schema(
        operation_id="leads_reject",
        request=LeadRejectSerializer,
        responses={200: LeadRejectedSerializer, 409: ConflictSerializer},
    )
    def post(self, request: Request, org_slug: str, lead_id: int) -> Response:
        lead = self.lead(lead_id)
        serializer = LeadRejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["dispute"] and lead.status != LeadStatus.CONTACTED:
            eligibility = dispute_eligibility(organization=self.organization, lead_id=lead.id)
            if not eligibility.can_dispute:
                return Response(
                    {
                        "detail": _DISPUTE_CONFLICTS[eligibility.why_not],
                        "code": eligibility.why_not,
                    },
                    status=status.HTTP_409_CONFLICT,
                )
        try:
            leads, disputes, _not_disputed = lead_reject_and_dispute(
                organization=self.organization,
                lead_ids=[lead.id],
                rejected_by=_actor(request),
                reason=data["reason"],
                note=data["note"],
                dispute=data["dispute"],
            )
        except services.LeadStateError as exc:
            raise ValidationError({"status": [str(exc)]}) from None
        context = {"dispute": disputes[0] if disputes else None}
        return Response(LeadRejectedSerializer(leads[0], context=context).data)


class LeadMoveAPI(_LeadAPIView):
    """Move an approved lead to another day (not into the past)."""

    @extend_schema(
        operation_id="leads_move", request=LeadMoveSerializer, responses=LeadDetailSerializer
    )
    def post(self, request: Request, org_slug: str, lead_id: int) -> Response:
        lead = self.lead(lead_id)
        serializer = LeadMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            lead = services.lead_move(
                organization=self.organization,
                lead_id=lead.id,
                to_date=serializer.validated_data["date"],
            )
        except services.LeadStateError as exc:
            raise ValidationError({"status": [str(exc)]}) from None
        except ValueError as exc:
            raise ValidationError({"date": [str(exc)]}) from None
        return Response(LeadDetailSerializer(lead).data)


class LeadContactedAPI(_LeadAPIView):
    """Mark an approved lead as contacted (the dashboard's "Mark contacted"). Idempotent: a
    contacted lead stays contacted. 409 for a lead that is not approved."""

    @extend_schema(
        operation_id="leads_mark_contacted",
        request=None,
        responses={
            200: LeadDetailSerializer,
            409: OpenApiResponse(description="Only approved leads can be marked contacted."),
        },
    )
    def post(self, request: Request, org_slug: str, lead_id: int) -> Response:
        lead = self.lead(lead_id)
        try:
            lead = services.lead_mark_contacted(organization=self.organization, lead_id=lead.id)
        except services.LeadStateError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(LeadDetailSerializer(lead).data)


class LeadBulkActionAPI(OrgAPIView):
    """Approve or reject up to 500 leads at once; all ids must be this organisation's."""

    @extend_schema(
        operation_id="leads_bulk_action",
        request=LeadBulkActionSerializer,
        responses=LeadBulkResultSerializer,
    )
    def post(self, request: Request, org_slug: str) -> Response:
        serializer = LeadBulkActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if data["action"] == "approve":
                result = services.leads_approve(
                    organization=self.organization,
                    lead_ids=data["lead_ids"],
                    approved_by=_actor(request),
                )
                leads, failed = result.approved, result.failed_reverification
            else:
                leads = services.leads_reject(
                    organization=self.organization,
                    lead_ids=data["lead_ids"],
                    rejected_by=_actor(request),
                    reason=data["reason"],
                    note=data["note"],
                )
                failed = []
        except Lead.DoesNotExist:
            raise NotFound(gettext("One or more leads do not exist.")) from None
        except services.LeadStateError as exc:
            raise ValidationError({"lead_ids": [str(exc)]}) from None
        return Response(
            LeadBulkResultSerializer(
                {"action": data["action"], "leads": leads, "failed_reverification": failed}
            ).data
        )


class CalendarAPI(OrgAPIView):
    """Scheduled leads by day from ?start= to ?end= (default: this week and the next three)."""

    @extend_schema(
        operation_id="calendar_retrieve",
        parameters=[CalendarQuerySerializer],
        responses=CalendarDaySerializer(many=True),
    )
    def get(self, request: Request, org_slug: str) -> Response:
        query = CalendarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        today = services.calendar_today(organization=self.organization)
        start = query.validated_data.get("start") or today - dt.timedelta(days=today.weekday())
        end = query.validated_data.get("end") or start + dt.timedelta(days=27)
        if (end - start).days > 92 or end < start:
            raise ValidationError({"end": [gettext("At most 93 days after start.")]})
        by_day = selectors.calendar_leads(organization=self.organization, start=start, end=end)
        working = set(self.organization.working_days)
        days = [
            {"date": d, "working": d.weekday() in working, "leads": by_day.get(d, [])}
            for d in (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
        ]
        return Response(CalendarDaySerializer(days, many=True).data)


class SearchRunListAPI(OrgListAPIView):
    """Nightly search runs, newest first, cursor-paginated, with their statistics."""

    list_operation_id = "search_runs_list"
    selector = staticmethod(selectors.search_runs_of_organization)
    serializer_class = SearchRunListSerializer


class SearchRunDetailAPI(OrgAPIView):
    """One nightly search run with its statistics."""

    @extend_schema(operation_id="search_runs_retrieve", responses=SearchRunDetailSerializer)
    def get(self, request: Request, org_slug: str, run_id: int) -> Response:
        try:
            run = selectors.search_run_get(organization=self.organization, run_id=run_id)
        except SearchRun.DoesNotExist:
            raise NotFound(gettext("No such run.")) from None
        return Response(SearchRunDetailSerializer(run).data)
