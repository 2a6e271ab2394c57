"""Cursor pagination for every list endpoint, and how its envelope appears in the OpenAPI schema.

List views are plain APIViews that paginate by hand, so drf-spectacular cannot see the envelope:
they declare it with ``responses=paginated(ItemSerializer)`` and ``parameters=PAGE_PARAMETERS``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import CursorPagination


class DefaultCursorPagination(CursorPagination):
    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"
    ordering = "-id"


PAGE_PARAMETERS = [
    OpenApiParameter(
        DefaultCursorPagination.cursor_query_param,
        str,
        description="Opaque cursor: follow the `next` or `previous` URL of a page.",
    ),
    OpenApiParameter(
        DefaultCursorPagination.page_size_query_param,
        int,
        description=(
            f"Items per page (default {DefaultCursorPagination.page_size}, "
            f"at most {DefaultCursorPagination.max_page_size})."
        ),
    ),
]


def paginated(item_serializer: type[serializers.Serializer]) -> serializers.Serializer:
    """The schema of one page: ``{"next": url|null, "previous": url|null, "results": [...]}``."""
    name = "Paginated" + item_serializer.__name__.removesuffix("Serializer")
    return inline_serializer(
        name=name,
        fields={
            "next": serializers.URLField(
                allow_null=True, help_text="The next page; null at the end."
            ),
            "previous": serializers.URLField(allow_null=True, help_text="The previous page."),
            "results": item_serializer(many=True),
        },
    )
