"""One error format for the whole API: RFC 9457 problem details (``application/problem+json``).

Every error answer under /api/ carries ``type`` (a URI naming the kind of problem, documented in
docs/api.md), ``title`` (the kind in words, the same for every occurrence), ``status`` (the HTTP
status), ``detail`` (this occurrence in words) and, for invalid input, ``errors``: one entry per
problem with the ``field`` it is about (dotted for nested fields and list items, e.g.
``criteria.nace`` or ``addresses.2``), the ``message`` and a machine-readable ``code``; an import's
errors also name their ``line``. ``code`` at the top level is the problem's machine-readable name.

Three places produce it, so no error escapes in another shape:
- ``problem_exception_handler`` (DRF's EXCEPTION_HANDLER): everything DRF and the views raise;
- ``OrgAPIView.finalize_response`` through ``as_problem``: error answers a view built itself;
- ``APIProblemMiddleware``: Django's own 404 (no such URL) and 500 (an unhandled exception)
  under /api/, which never reach DRF.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Relative URI references, resolved against the API's own host; docs/api.md lists them.
TYPE_PREFIX = "/api/problems/"

# The problem code of each status when the exception names none.
_STATUS_CODES = {
    400: "invalid_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "throttled",
    500: "server_error",
}


def _titles() -> dict[str, str]:
    # A function, not a module constant: the titles follow the request's language.
    return {
        "invalid": _("Invalid input"),
        "invalid_request": _("Bad request"),
        "parse_error": _("Malformed request"),
        "not_authenticated": _("Not authenticated"),
        "authentication_failed": _("Authentication failed"),
        "permission_denied": _("Permission denied"),
        "insufficient_scope": _("The API key lacks a scope"),
        "not_found": _("Not found"),
        "method_not_allowed": _("Method not allowed"),
        "not_acceptable": _("Not acceptable"),
        "conflict": _("Conflict"),
        "request_too_large": _("Request too large"),
        "unsupported_media_type": _("Unsupported media type"),
        "unprocessable": _("Unprocessable request"),
        "idempotency_key_reused": _("Idempotency-Key reused with another request"),
        "invalid_idempotency_key": _("Invalid Idempotency-Key"),
        "throttled": _("Too many requests"),
        "server_error": _("Server error"),
    }


def _default_details() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Authentication credentials were not provided."),
        403: _("You do not have permission to perform this action."),
        404: _("No such resource, or it belongs to another organisation."),
        405: _("This URL does not accept this HTTP method."),
        406: _("The API answers JSON only (Accept: application/json)."),
        409: _("The request conflicts with the resource's current state."),
        413: _("The request body is too large."),
        415: _("This content type is not accepted; send JSON (application/json)."),
        422: _("The request cannot be processed."),
        429: _("Too many requests; retry later."),
        500: _("The server failed to answer; the failure has been logged. Retry later."),
    }


def _flatten(data: Any, prefix: str = "") -> list[dict[str, Any]]:
    """DRF's nested validation errors as a flat list of {field, message, code}."""
    if isinstance(data, dict):
        out = []
        for key, value in data.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            out.extend(_flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name))
        return out
    if isinstance(data, list):
        if all(not isinstance(item, dict | list) for item in data):
            return [
                {
                    "field": prefix,
                    "message": str(item),
                    "code": getattr(item, "code", None) or "invalid",
                }
                for item in data
            ]
        out = []
        for index, item in enumerate(data):
            if item:
                out.extend(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return [
        {"field": prefix, "message": str(data), "code": getattr(data, "code", None) or "invalid"}
    ]


def _validation_detail(errors: list[dict[str, Any]]) -> str:
    fields = sorted({e["field"] for e in errors if e.get("field")})
    if not fields:
        return errors[0]["message"] if errors else _("The request is invalid.")
    if len(errors) == 1:
        return _("%(field)s: %(message)s") % {"field": fields[0], "message": errors[0]["message"]}
    return _("Invalid fields: %(fields)s.") % {"fields": ", ".join(fields)}


def problem(
    status: int, *, code: str | None = None, detail: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The body of a problem answer."""
    code = code or _STATUS_CODES.get(status, "error")
    titles = _titles()
    body = {
        "type": f"{TYPE_PREFIX}{code}",
        "title": titles.get(code) or titles.get(_STATUS_CODES.get(status, ""), _("Error")),
        "status": status,
        "detail": detail or _default_details().get(status, ""),
        "code": code,
    }
    body.update(extra)
    return body


def problem_from_data(status: int, data: Any, code: str | None = None) -> dict[str, Any]:
    """A problem from a DRF error payload: ``{"detail": ...}`` (with a ``code``) or
    validation errors (a dict or list of field messages), kept as ``errors``."""
    if isinstance(data, dict) and "detail" in data and not isinstance(data["detail"], dict | list):
        extra = {k: v for k, v in data.items() if k not in ("detail", "code")}
        detail = data["detail"]
        code = data.get("code") or getattr(detail, "code", None) or code
        if code in ("error", "invalid") and status != 400:
            code = None
        return problem(status, code=code, detail=str(detail), **extra)
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        # Already a list of {field, message[, line]} (an import's rows): kept as they are.
        extra = {k: v for k, v in data.items() if k != "errors"}
        errors = [dict(e, code=e.get("code", "invalid")) for e in data["errors"]]
        return problem(
            status, code="invalid", detail=_validation_detail(errors), errors=errors, **extra
        )
    errors = _flatten(data)
    if status == 400 or code == "invalid":
        return problem(status, code="invalid", detail=_validation_detail(errors), errors=errors)
    return problem(status, code=code, detail=_validation_detail(errors), errors=errors)


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def is_problem(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE)


def as_problem(response: Response) -> Response:
    """An error Response a view built itself (``Response({...}, status=409)``), as a problem."""
    if response.status_code < 400 or response.content_type == PROBLEM_CONTENT_TYPE:
        return response
    response.data = problem_from_data(response.status_code, response.data)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (which maps Http404 and PermissionDenied and sets WWW-Authenticate and
    Retry-After), with the body rewritten as a problem. None for unexpected exceptions: Django
    answers 500 and the middleware below gives that answer the same shape."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    code = None
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else None
    elif response.status_code == 404:
        code = "not_found"
    if response.status_code == 404:
        # Http404's text is for developers ("No Lead matches the given query."), and a foreign
        # object must read exactly like a missing one: the caller gets the status's own sentence.
        response.data = {"detail": _default_details()[404]}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        detail = _("Too many requests; retry in %(seconds)d seconds.") % {"seconds": exc.wait}
        body = problem(429, code="throttled", detail=detail)
    else:
        body = problem_from_data(response.status_code, response.data, code)
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details; more members may follow (e.g. an import's ``truncated``)."""

    type = serializers.CharField(help_text="URI reference naming the kind of problem")
    title = serializers.CharField(help_text="the kind of problem in words")
    status = serializers.IntegerField(help_text="the HTTP status")
    detail = serializers.CharField(help_text="this occurrence in words")
    code = serializers.CharField(help_text="the kind of problem, machine-readable")
    errors = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="invalid input: [{field, message, code[, line]}]; field is dotted for nested "
        "fields and list items, empty for the request as a whole",
    )


class APIProblemMiddleware:
    """Django's own error pages under /api/ (an unknown URL's 404, an unhandled exception's 500,
    a 400 for a bad Host) as problems; error answers outside /api/ are left alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith("/api/")
            or is_problem(response)
            or getattr(response, "streaming", False)
            or (settings.DEBUG and response.status_code >= 500)
        ):
            return response
        body = problem(response.status_code)
        if response.get("Content-Type", "").startswith("application/json"):
            with contextlib.suppress(ValueError):
                body = problem_from_data(response.status_code, json.loads(response.content))
        replaced = HttpResponse(
            json.dumps(body), status=response.status_code, content_type=PROBLEM_CONTENT_TYPE
        )
        for header in ("Allow", "Retry-After", "WWW-Authenticate", "Vary"):
            if header in response:
                replaced[header] = response[header]
        return replaced
