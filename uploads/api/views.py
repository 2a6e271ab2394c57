"""Own-list uploads API under /api/v1/orgs/<slug>/uploads/ (docs/uploads.md). Members read;
admins upload, start and cancel (an upload spends the organisation's quota)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from organizations.api.base import OrgAPIView
from organizations.api.lists import OrgListAPIView
from organizations.models import Role

from .. import selectors, services
from ..exports import upload_results_response
from .serializers import (
    UploadCreateSerializer,
    UploadDetailSerializer,
    UploadOptionsSerializer,
    UploadSerializer,
)


def _user(request: Request) -> Any:  # an API key's principal is not a User
    return request.user if getattr(request.user, "pk", None) else None


def _detail(view: OrgAPIView, upload: Any, *, code: int = status.HTTP_200_OK) -> Response:
    report = selectors.upload_report(organization=view.organization, upload=upload)
    return Response(UploadDetailSerializer(upload, context={"report": report}).data, status=code)


class UploadListCreateAPI(OrgListAPIView):
    """The organisation's uploads, newest first; POST a CSV or XLSX list (multipart): 201 with
    the validation report (nothing runs until start). 400 names the problem and the line."""

    required_role_for_write = Role.ADMIN
    list_operation_id = "uploads_list"
    selector = staticmethod(selectors.uploads_of_organization)
    serializer_class = UploadSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="uploads_create",
        request={"multipart/form-data": UploadCreateSerializer},
        responses={201: UploadDetailSerializer},
    )
    def post(self, request: Request, org_slug: str) -> Response:
        serializer = UploadCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        file = data["file"]
        upload = services.upload_create(
            organization=self.organization,
            created_by=_user(request),
            data=services.UploadInput(
                file=file,
                filename=file.name or "upload",
                size=file.size or 0,
                kind=data["kind"],
                mapping=data.get("mapping"),
                roles=data.get("roles"),
            ),
        )
        return _detail(self, upload, code=status.HTTP_201_CREATED)


class UploadDetailAPI(OrgAPIView):
    """One upload: status, progress, counts and the validation report. PATCH changes the mapping
    or the roles before it starts (every row is validated again)."""

    required_role_for_write = Role.ADMIN

    @extend_schema(operation_id="uploads_retrieve", responses=UploadDetailSerializer)
    def get(self, request: Request, org_slug: str, upload_id: int) -> Response:
        upload = selectors.upload_get(organization=self.organization, upload_id=upload_id)
        return _detail(self, upload)

    @extend_schema(
        operation_id="uploads_update",
        request=UploadOptionsSerializer,
        responses=UploadDetailSerializer,
    )
    def patch(self, request: Request, org_slug: str, upload_id: int) -> Response:
        serializer = UploadOptionsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = services.upload_options_set(
            organization=self.organization,
            upload_id=upload_id,
            mapping=serializer.validated_data.get("mapping"),
            roles=serializer.validated_data.get("roles"),
        )
        return _detail(self, upload)


class UploadStartAPI(OrgAPIView):
    """Start the job (idempotent: a started upload answers as it is)."""

    required_role = Role.ADMIN

    @extend_schema(operation_id="uploads_start", request=None, responses=UploadDetailSerializer)
    def post(self, request: Request, org_slug: str, upload_id: int) -> Response:
        upload = services.upload_start(organization=self.organization, upload_id=upload_id)
        return _detail(self, upload)


class UploadCancelAPI(OrgAPIView):
    """Cancel: rows done stay done (and charged), the rest are never processed. Idempotent."""

    required_role = Role.ADMIN

    @extend_schema(operation_id="uploads_cancel", request=None, responses=UploadDetailSerializer)
    def post(self, request: Request, org_slug: str, upload_id: int) -> Response:
        upload = services.upload_cancel(organization=self.organization, upload_id=upload_id)
        return _detail(self, upload)


class _CsvOrJsonErrors(BaseContentNegotiation):
    """CSV (errors JSON) whatever the Accept header: `Accept: text/csv` is not a 406."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0]

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class UploadResultsCSVAPI(OrgAPIView):
    """Every row of the file with what was found, as CSV (UTF-8 with BOM, formula-safe)."""

    content_negotiation_class = _CsvOrJsonErrors

    @extend_schema(
        operation_id="uploads_results_csv",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request, org_slug: str, upload_id: int) -> Any:
        upload = selectors.upload_get(organization=self.organization, upload_id=upload_id)
        return upload_results_response(organization=self.organization, upload=upload)
