"""API rate limits: one bucket per API key, per signed-in person and per anonymous client IP
(the IP as the login lockout sees it, organizations/auth.py: forged X-Forwarded-For entries
do not count).

An integration that loops on its key slows only itself: the bucket is the key, not the
organisation, so the dashboard and the organisation's other keys keep working. Counts live in the
Django cache (``CACHE_URL``): with several app processes it must be a shared cache (Redis), or each
process counts on its own. A throttled request answers 429 with a ``Retry-After`` header.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from ..auth import client_ip
from ..models import OrganizationAPIKey


class _SettingRateThrottle(SimpleRateThrottle):
    """Reads its rate from ``LEADPILOT_API_RATES`` at request time (not at import)."""

    def get_rate(self) -> str | None:
        return settings.LEADPILOT_API_RATES.get(self.scope)


class APIKeyRateThrottle(_SettingRateThrottle):
    scope = "api_key"

    def get_cache_key(self, request: Request, view) -> str | None:
        if not isinstance(request.auth, OrganizationAPIKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class UserRateThrottle(_SettingRateThrottle):
    scope = "user"

    def get_cache_key(self, request: Request, view) -> str | None:
        if isinstance(request.auth, OrganizationAPIKey) or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonRateThrottle(_SettingRateThrottle):
    scope = "anon"

    def get_cache_key(self, request: Request, view) -> str | None:
        if request.user is not None and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def get_ident(self, request: Request) -> str:
        # DRF's own reads the client-sent X-Forwarded-For: a new value, a new bucket.
        return client_ip(request)
