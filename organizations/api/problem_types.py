"""The pages a problem's `type` points at: `/api/problems/<code>` explains each kind of error.

RFC 9457 asks that a problem type resolve to documentation a person can read. The API's own
codes (problems.py) get their title and what to do about them; a code raised by a service (a
domain conflict such as `open` or `email_confirmed`) gets the general advice, its own `detail`
saying what went wrong.
"""

from __future__ import annotations

import re

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from organizations.api.problems import _STATUS_CODES, _titles

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _advice() -> dict[str, str]:
    # A function: the texts follow the request's language.
    return {
        "invalid": _(
            "A field of the request is missing or wrong. `errors` names each field with its "
            "message; fix them and send the request again."
        ),
        "invalid_request": _("The request could not be understood; `detail` says why."),
        "parse_error": _(
            "The body is not valid JSON (or is nested too deeply, or holds a lone surrogate). "
            "Send UTF-8 JSON with Content-Type: application/json."
        ),
        "not_authenticated": _(
            "Send an API key in the Authorization header (Authorization: Api-Key <key>) or log in."
        ),
        "authentication_failed": _(
            "The API key is unknown, revoked or expired. An admin creates a new one on the "
            "API keys page."
        ),
        "permission_denied": _("Your role in this organisation does not allow this action."),
        "insufficient_scope": _(
            "The API key lacks the scope this operation needs (read, write, billing or admin). "
            "Create a key with that scope."
        ),
        "not_found": _(
            "No such resource, or it belongs to another organisation: the API answers the "
            "same in both cases."
        ),
        "method_not_allowed": _(
            "This URL does not accept this HTTP method; `Allow` lists those it does."
        ),
        "not_acceptable": _("The API answers JSON only: send Accept: application/json."),
        "conflict": _(
            "The request conflicts with the resource's current state (for example approving a "
            "lead that is already rejected). Read the resource again and decide."
        ),
        "request_too_large": _("The request body is over the limit; send less at a time."),
        "unsupported_media_type": _("Send JSON (application/json), or multipart for uploads."),
        "unprocessable": _(
            "The request is well-formed but cannot be processed; `detail` says why."
        ),
        "idempotency_key_reused": _(
            "This Idempotency-Key was used in the last 24 hours with another request. Use a new "
            "key for a new request."
        ),
        "invalid_idempotency_key": _(
            "The Idempotency-Key header must be 1 to 255 printable characters."
        ),
        "throttled": _("Too many requests: wait the seconds Retry-After gives, then retry."),
        "server_error": _(
            "The server failed to answer; the failure has been logged. Retry later, with the "
            "same Idempotency-Key for a write."
        ),
    }


@require_safe
def problem_type(request: HttpRequest, code: str) -> HttpResponse:
    if not _CODE.match(code):
        raise Http404(code)
    titles = _titles()
    statuses = sorted(status for status, c in _STATUS_CODES.items() if c == code)
    context = {
        "code": code,
        "title": titles.get(code, code.replace("_", " ").capitalize()),
        "advice": _advice().get(code),
        "statuses": statuses,
        "statuses_text": ", ".join(str(status) for status in statuses),
    }
    return render(request, "api/problem_type.html", context)
