"""``OrgListAPIView``: a list endpoint is a selector, a serializer and an ordering.

    class MemberListAPI(OrgListAPIView):
        \"\"\"The organisation's members, newest first, cursor-paginated.\"\"\"

        list_operation_id = "members_list"
        selector = staticmethod(selectors.organization_members)
        serializer_class = MemberListSerializer

GET validates the query (``query_serializer_class``, optional), calls
``selector(organization=..., **self.selector_kwargs(query))``, pages the queryset by ``ordering``
with ``DefaultCursorPagination`` (a tampered cursor answers 400) and renders the page with
``serializer_class``. The OpenAPI operation follows from the same declaration: the page envelope,
the cursor and page-size parameters, the query serializer's and ``list_parameters``. A view may
add other methods (POST to create) with their own ``@extend_schema``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from .base import OrgAPIView
from .pagination import PAGE_PARAMETERS, DefaultCursorPagination, paginated
from .schema import ProblemAutoSchema


class OrgListSchema(ProblemAutoSchema):
    """The GET of an OrgListAPIView, documented from the view's declaration."""

    def get_operation_id(self) -> str:
        if self.method == "GET":
            return self.view.list_operation_id
        return super().get_operation_id()

    def get_override_parameters(self) -> list[Any]:
        parameters = super().get_override_parameters()
        if self.method != "GET":
            return parameters
        query = self.view.query_serializer_class
        return [
            *PAGE_PARAMETERS,
            *([query] if query else []),
            *self.view.list_parameters,
            *parameters,
        ]

    def get_response_serializers(self) -> Any:
        if self.method == "GET":
            return paginated(self.view.serializer_class)
        return super().get_response_serializers()


class OrgListAPIView(OrgAPIView):
    """One cursor-paginated page of `selector`'s queryset, rendered with `serializer_class`."""

    schema = OrgListSchema()
    list_operation_id: ClassVar[str]
    # staticmethod(...) of a selector taking `organization` and the kwargs of selector_kwargs().
    selector: ClassVar[Callable[..., QuerySet[Any]]]
    serializer_class: ClassVar[type[serializers.Serializer]]
    ordering: ClassVar[str] = "-id"
    query_serializer_class: ClassVar[type[serializers.Serializer] | None] = None
    list_parameters: ClassVar[Sequence[OpenApiParameter]] = ()

    def selector_kwargs(self, query: dict[str, Any]) -> dict[str, Any]:
        """The selector's filters, from the validated query (none by default)."""
        return {}

    def get(self, request: Request, org_slug: str) -> Response:
        # No docstring here: the schema takes a method's docstring as the operation's description.
        query: dict[str, Any] = {}
        if self.query_serializer_class is not None:
            query_serializer = self.query_serializer_class(data=request.query_params)
            query_serializer.is_valid(raise_exception=True)
            query = dict(query_serializer.validated_data)
        queryset = self.selector(organization=self.organization, **self.selector_kwargs(query))
        paginator = DefaultCursorPagination()
        paginator.ordering = self.ordering
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(self.serializer_class(page, many=True).data)
