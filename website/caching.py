"""ETags for the public pages.

Pages answer with an ETag and `Cache-Control: no-cache, private` (revalidate each time): a
browser that has the page gets a 304 without the server rendering it again. The ETag covers all a
page depends on: the language, the path and query, the policy version and operator, the code
deployed (the templates' change time), what the page reads (`extra`, e.g. the plans), and the
visitor's session, CSRF and consent cookies, since the page holds a CSRF token and shows whether they are
logged in. Nothing is shared between visitors (no shared cache could hand out a CSRF token).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from django.views.decorators.http import condition

from privacy.consent import CONSENT_COOKIE

# What a page's HTML is made from besides the request: a deploy that changes one changes the tag.
_SOURCE_DIRS = ("templates", "locale", "website", "privacy")


def _code_stamp() -> str:
    base = Path(settings.BASE_DIR)
    newest = max(
        (p.stat().st_mtime_ns for d in _SOURCE_DIRS for p in (base / d).rglob("*") if p.is_file()),
        default=0,
    )
    return str(newest)


_CODE_STAMP = _code_stamp()


def _etag(extra: Callable[[HttpRequest], str] | None = None) -> Callable[..., str]:
    def etag(request: HttpRequest, *args: Any, **kwargs: Any) -> str:
        parts = [
            _code_stamp() if settings.DEBUG else _CODE_STAMP,  # templates edited while developing
            settings.LEADPILOT_POLICY_VERSION,
            settings.LEADPILOT_OPERATOR_NAME,
            get_language() or "",
            request.get_full_path(),
            request.COOKIES.get(settings.SESSION_COOKIE_NAME, ""),
            request.COOKIES.get(settings.CSRF_COOKIE_NAME, ""),
            request.COOKIES.get(CONSENT_COOKIE, ""),  # the cookie settings' ticked boxes
            extra(request) if extra else "",
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    return etag


def public_page(
    extra: Callable[[HttpRequest], str] | None = None,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorator: ETag + revalidation for a public page (see the module docstring)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        conditional = condition(etag_func=_etag(extra))(view)

        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = conditional(request, *args, **kwargs)
            patch_cache_control(response, no_cache=True, private=True)
            patch_vary_headers(response, ["Cookie", "Accept-Language"])
            return response

        return wrapped

    return decorate
