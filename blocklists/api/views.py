"""Block-list API under /api/v1/orgs/<slug>/block-entries/. Everyone reads; admins change."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from organizations.api.base import OrgAPIView
from organizations.api.lists import OrgListAPIView
from organizations.models import Role

from .. import selectors, services
from ..csv_io import (
    MAX_BYTES,
    BlockImportError,
    block_entries_export_response,
    block_entries_import,
)
from .serializers import (
    BlockEntryCreatedSerializer,
    BlockEntryCreateSerializer,
    BlockEntryDetailSerializer,
    BlockEntryImportFailedSerializer,
    BlockEntryImportResultSerializer,
    BlockEntryImportSerializer,
    BlockEntryListQuerySerializer,
    BlockEntryListSerializer,
)


def _user(request: Request):  # an API key's principal is not a User
    return request.user if getattr(request.user, "pk", None) else None


class BlockEntryListCreateAPI(OrgListAPIView):
    """The block list, newest first; POST blocks one value (admins; 200 if it was already blocked)."""

    required_role_for_write = Role.ADMIN
    list_operation_id = "block_entries_list"
    selector = staticmethod(selectors.block_entries_of_organization)
    serializer_class = BlockEntryListSerializer
    query_serializer_class = BlockEntryListQuerySerializer

    def selector_kwargs(self, query: dict[str, Any]) -> dict[str, Any]:
        return {"kind": query.get("kind"), "search": query.get("q", "")}

    @extend_schema(
        operation_id="block_entries_create",
        request=BlockEntryCreateSerializer,
        responses={201: BlockEntryCreatedSerializer, 200: BlockEntryCreatedSerializer},
    )
    def post(self, request: Request, org_slug: str) -> Response:
        serializer = BlockEntryCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            entry, created = services.block_entry_add(
                organization=self.organization,
                created_by=_user(request),
                **serializer.validated_data,
            )
        except services.BlockEntryError as exc:
            return Response({exc.field: [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
        data = BlockEntryCreatedSerializer(entry, context={"created": created}).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class BlockEntryDetailAPI(OrgAPIView):
    """One block entry; DELETE unblocks it (admins): it can be delivered again from the next night."""

    required_role_for_write = Role.ADMIN

    @extend_schema(operation_id="block_entries_retrieve", responses=BlockEntryDetailSerializer)
    def get(self, request: Request, org_slug: str, entry_id: int) -> Response:
        entry = selectors.block_entry_get(organization=self.organization, entry_id=entry_id)
        return Response(BlockEntryDetailSerializer(entry).data)

    @extend_schema(operation_id="block_entries_delete", responses={204: None})
    def delete(self, request: Request, org_slug: str, entry_id: int) -> Response:
        services.block_entry_remove(organization=self.organization, entry_id=entry_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockEntryImportAPI(OrgAPIView):
    """Upload a CSV; all or nothing. 400 lists every bad row as {line, field, message}."""

    required_role = Role.ADMIN
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="block_entries_import",
        request={"multipart/form-data": BlockEntryImportSerializer},
        responses={
            201: BlockEntryImportResultSerializer,
            400: BlockEntryImportFailedSerializer,
        },
    )
    def post(self, request: Request, org_slug: str) -> Response:
        serializer = BlockEntryImportSerializer(data=request.data)
        if not serializer.is_valid():
            # The same answer shape as a bad row: one entry per problem with the upload itself.
            problems = [
                {"line": None, "field": field, "message": str(message)}
                for field, messages in serializer.errors.items()
                for message in messages
            ]
            return _import_failed(problems, truncated=False)
        upload = serializer.validated_data["file"]
        try:
            result = block_entries_import(
                # At most one byte past the limit is read: a bigger file is refused, not loaded.
                organization=self.organization,
                data=upload.read(MAX_BYTES + 1),
                created_by=_user(request),
            )
        except BlockImportError as exc:
            return _import_failed(exc.errors, truncated=exc.truncated)
        return Response(
            BlockEntryImportResultSerializer(result).data, status=status.HTTP_201_CREATED
        )


class BlockEntryExportAPI(OrgAPIView):
    """The whole block list as CSV, in the columns the import reads."""

    @extend_schema(
        operation_id="block_entries_export",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request, org_slug: str) -> HttpResponse:
        return block_entries_export_response(organization=self.organization)


def _import_failed(errors: list, *, truncated: bool) -> Response:
    body = {"errors": errors, "truncated": truncated, "written": 0}
    return Response(BlockEntryImportFailedSerializer(body).data, status=status.HTTP_400_BAD_REQUEST)
