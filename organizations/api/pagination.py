"""Cursor pagination for every list endpoint, and how its envelope appears in the OpenAPI schema.

List views subclass ``OrgListAPIView`` (lists.py), which paginates with ``DefaultCursorPagination``
and documents the envelope as ``paginated(ItemSerializer)`` with ``PAGE_PARAMETERS``.

A cursor is opaque but not signed: a client can send any string. Whatever it sends, a cursor no
page links to answers 400 ``{"cursor": ["..."]}``, never a 404 or a 500: it must be base64 of the
``o``/``r``/``p`` fields DRF writes, and its position must be a value of the list's ordering field
(an id, or a time stamp with its UTC offset). Unchecked, ``p=abc`` reached the database as an id.
"""

from __future__ import annotations

import binascii
import datetime as dt
from base64 import b64decode
from typing import Any
from urllib import parse

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination, _positive_int
from rest_framework.request import Request
from rest_framework.views import APIView


class DefaultCursorPagination(CursorPagination):
    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"
    ordering = "-id"
    invalid_cursor_message = _(
        "This cursor is not valid: follow the next or previous link of a page."
    )
    _model: type[Model] | None = None

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        self._model = queryset.model  # decode_cursor checks the position against its field
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(querystring, keep_blank_values=True, strict_parsing=True)
            offset = _positive_int(tokens.get("o", ["0"])[0], cutoff=self.offset_cutoff)
            reverse = tokens.get("r", ["0"])[0]
            if reverse not in ("0", "1"):
                raise ValueError(reverse)
            position = tokens.get("p", [None])[0]
            if position is not None:
                self._check_position(position)
        except (ValueError, TypeError, binascii.Error, DjangoValidationError):
            raise ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}
            ) from None
        return Cursor(offset=offset, reverse=reverse == "1", position=position)

    def _check_position(self, position: str) -> None:
        """Raise ValueError/ValidationError unless `position` is a value of the ordering field."""
        if self._model is None:
            return
        try:
            field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        except FieldDoesNotExist:  # an annotation: nothing to check it against
            return
        value = field.to_python(position)
        if isinstance(value, dt.datetime) and timezone.is_naive(value):
            raise ValueError("a page's position always carries its UTC offset")
        field.get_prep_value(value)


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
