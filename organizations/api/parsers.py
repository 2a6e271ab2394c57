"""The API's JSON parser: DRF's, refusing two things no view could handle.

- Depth: JSON nested deeper than ``MAX_DEPTH`` levels answers 400 "nested too deeply". Python's
  parser recurses, so 1,000 levels in a 2 KB body raised RecursionError (a 500); no request of
  this API nests more than a few levels.
- Lone surrogates: the escape ``"\\ud800"`` decodes to half of a UTF-16 pair, which is not text.
  UTF-8 cannot encode it, so PostgreSQL cannot store it and an answer cannot echo it (a choice
  field repeats the value it refuses). It answers 400 naming the field, in the shape of any
  invalid field: ``{"criteria.regions": ["..."]}`` (list positions are left out of the name).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.settings import api_settings

MAX_DEPTH = 32


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_too_deep()) from None
        json_value_check(data)
        return data


def _too_deep() -> str:
    return _("JSON parse error - nested too deeply (at most %(max)d levels).") % {"max": MAX_DEPTH}


def _lone_surrogate(text: str) -> str | None:
    """The first lone surrogate of `text` as "U+D800", or None when it is all text."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"U+{ord(exc.object[exc.start]):04X}"
    return None


def _field_name(path: tuple[str, ...]) -> str:
    return ".".join(path) or api_settings.NON_FIELD_ERRORS_KEY


def json_value_check(data: Any) -> None:
    """Raise ParseError if `data` nests deeper than MAX_DEPTH, ValidationError naming the field
    if a string or key in it holds a lone surrogate. Iterative: the depth is not yet known."""
    stack: list[tuple[Any, tuple[str, ...], int]] = [(data, (), 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            code = _lone_surrogate(value)
            if code:
                raise ValidationError(
                    {
                        _field_name(path): [
                            _("Not text: a lone surrogate (%(code)s).") % {"code": code}
                        ]
                    }
                )
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise ParseError(_too_deep())
        if isinstance(value, list):
            stack.extend((item, path, depth + 1) for item in value)
            continue
        for key, item in value.items():
            code = _lone_surrogate(key)
            if code:
                raise ValidationError(
                    {
                        _field_name(path): [
                            _("Not text: a key with a lone surrogate (%(code)s).") % {"code": code}
                        ]
                    }
                )
            stack.append((item, (*path, key), depth + 1))
