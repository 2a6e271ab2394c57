"""Segments API under /api/v1/orgs/<slug>/segments/. Everyone reads and previews; admins change."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from organizations.api.base import OrgAPIView
from organizations.api.lists import OrgListAPIView
from organizations.models import Role

from .. import selectors, services
from ..counting import PreviewTimeout
from ..criteria import CriteriaError, SegmentCriteria
from .serializers import (
    PreviewSerializer,
    SegmentActivateSerializer,
    SegmentCreateSerializer,
    SegmentDetailSerializer,
    SegmentDraftPreviewSerializer,
    SegmentListSerializer,
    SegmentStatusSerializer,
    SegmentUpdateSerializer,
)

_ERRORS = OpenApiResponse(description="{field: [problem, ...]}; criteria fields as criteria.<name>")


_PREVIEW_UNAVAILABLE = OpenApiResponse(
    description="not even an estimate of the counts finished within the statement timeout"
)


class PreviewUnavailable(APIException):
    """Not even an estimate of the counts could be had within the statement timeout (a table
    locked by a migration, an overloaded database): try again shortly."""

    status_code = 503
    default_detail = gettext_lazy(
        "The match count could not be computed in time; try again in a moment."
    )
    default_code = "preview_unavailable"


def _bad(exc: services.SegmentError | CriteriaError, prefix: str = "") -> Response:
    return Response(
        {f"{prefix}{k}": v for k, v in exc.errors.items()}, status=status.HTTP_400_BAD_REQUEST
    )


def _user(request: Request) -> Any:
    return request.user if getattr(request.user, "pk", None) else None


class SegmentListCreateAPI(OrgListAPIView):
    """Segments (target audiences), archived ones with ?archived=true; POST creates a draft
    (admins)."""

    required_role_for_write = Role.ADMIN
    list_operation_id = "segments_list"
    selector = staticmethod(selectors.segments_of_organization)
    serializer_class = SegmentListSerializer
    list_parameters = [OpenApiParameter("archived", bool, description="include archived segments")]

    def selector_kwargs(self, query: dict[str, Any]) -> dict[str, Any]:
        return {"include_archived": self.request.query_params.get("archived") in ("1", "true")}

    @extend_schema(
        operation_id="segments_create",
        request=SegmentCreateSerializer,
        responses={201: SegmentDetailSerializer, 400: _ERRORS},
    )
    def post(self, request: Request, org_slug: str) -> Response:
        serializer = SegmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            segment = services.segment_create(
                organization=self.organization,
                created_by=_user(request),
                **serializer.validated_data,
            )
        except services.SegmentError as exc:
            return _bad(exc)
        return Response(SegmentDetailSerializer(segment).data, status=status.HTTP_201_CREATED)


class SegmentDetailAPI(OrgAPIView):
    """One segment; PATCH changes it (admins); DELETE removes a draft that was never activated
    (409 otherwise: archive it)."""

    required_role_for_write = Role.ADMIN

    @extend_schema(operation_id="segments_retrieve", responses=SegmentDetailSerializer)
    def get(self, request: Request, org_slug: str, segment_id: int) -> Response:
        segment = selectors.segment_get(organization=self.organization, segment_id=segment_id)
        return Response(SegmentDetailSerializer(segment).data)

    @extend_schema(
        operation_id="segments_update",
        request=SegmentUpdateSerializer,
        responses={200: SegmentDetailSerializer, 400: _ERRORS},
    )
    def patch(self, request: Request, org_slug: str, segment_id: int) -> Response:
        selectors.segment_get(organization=self.organization, segment_id=segment_id)  # 404 first
        serializer = SegmentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            segment = services.segment_update(
                organization=self.organization,
                segment_id=segment_id,
                name=data.get("name"),
                criteria=data.get("criteria"),
                nightly_cap=data.get("nightly_cap"),
                delivery_mode=data.get("delivery_mode", ...),
            )
        except services.SegmentError as exc:
            return _bad(exc)
        return Response(SegmentDetailSerializer(segment).data)

    @extend_schema(operation_id="segments_delete", responses={204: None, 409: _ERRORS})
    def delete(self, request: Request, org_slug: str, segment_id: int) -> Response:
        try:
            services.segment_delete(organization=self.organization, segment_id=segment_id)
        except services.SegmentTransitionError as exc:
            return Response(exc.errors, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SegmentTransitionAPI(OrgAPIView):
    """POST activate / pause / archive. 409 when the lifecycle does not allow it."""

    required_role = Role.ADMIN
    transition: str = ""
    _SERVICES = {
        "activate": services.segment_activate,
        "pause": services.segment_pause,
        "archive": services.segment_archive,
    }

    @extend_schema(
        request=SegmentActivateSerializer,
        responses={200: SegmentStatusSerializer, 400: _ERRORS, 409: _ERRORS},
        description='activate takes {"confirm_no_decision_makers": true} for a segment whose '
        "matching companies have no wanted decision-maker (else 400 naming that field); pause "
        "and archive take no body.",
    )
    def post(self, request: Request, org_slug: str, segment_id: int) -> Response:
        kwargs: dict[str, Any] = {}
        if self.transition == "activate":
            body = SegmentActivateSerializer(data=request.data or {})
            body.is_valid(raise_exception=True)
            kwargs = dict(body.validated_data)
        try:
            segment = self._SERVICES[self.transition](
                organization=self.organization, segment_id=segment_id, **kwargs
            )
        except services.SegmentTransitionError as exc:
            return Response(exc.errors, status=status.HTTP_409_CONFLICT)
        except services.SegmentError as exc:
            return _bad(exc)
        return Response(SegmentStatusSerializer(segment).data)


class SegmentPreviewAPI(OrgAPIView):
    """The saved segment's live preview: N companies, M with a decision-maker, tonight's cost."""

    @extend_schema(
        operation_id="segments_preview",
        responses={200: PreviewSerializer, 400: _ERRORS, 503: _PREVIEW_UNAVAILABLE},
    )
    def get(self, request: Request, org_slug: str, segment_id: int) -> Response:
        segment = selectors.segment_get(organization=self.organization, segment_id=segment_id)
        try:
            preview = selectors.segment_preview(organization=self.organization, segment=segment)
        except CriteriaError as exc:
            return _bad(exc, "criteria.")
        except PreviewTimeout:
            raise PreviewUnavailable() from None
        return Response(PreviewSerializer(preview).data)


class SegmentDraftPreviewAPI(OrgAPIView):
    """Preview criteria before saving them (what the editor calls as the customer types)."""

    @extend_schema(
        operation_id="segments_preview_draft",
        request=SegmentDraftPreviewSerializer,
        responses={200: PreviewSerializer, 400: _ERRORS, 503: _PREVIEW_UNAVAILABLE},
    )
    def post(self, request: Request, org_slug: str) -> Response:
        serializer = SegmentDraftPreviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            criteria = SegmentCriteria.from_dict(serializer.validated_data["criteria"])
        except CriteriaError as exc:
            return _bad(exc, "criteria.")
        try:
            preview = selectors.segment_preview(
                organization=self.organization,
                segment=criteria,
                nightly_cap=serializer.validated_data["nightly_cap"],
            )
        except PreviewTimeout:
            raise PreviewUnavailable() from None
        return Response(PreviewSerializer(preview).data)
