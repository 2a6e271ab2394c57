"""Log-in helpers. E-mail addresses are the login and are compared case-insensitively."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The username django-axes counts failures against: the e-mail, lower-cased, so that
    `Owner@x` and `owner@x` share one lockout (else case variants would multiply the attempts)."""
    if credentials and credentials.get("username"):
        value = credentials["username"]
    else:
        value = request.POST.get("username", "") if request is not None else ""
    return str(value).strip().lower()


def client_ip(request: HttpRequest) -> str:
    """The client address the login lockout (django-axes) and the anonymous API rate limit count
    against. Behind `LEADPILOT_TRUSTED_PROXIES` reverse proxies, each appending to
    X-Forwarded-For, it is the entry that many places from the right (entries further left are
    whatever the client sent, so forgeable); REMOTE_ADDR would be the proxy's for everyone and let
    anyone lock any account out. Without proxies: REMOTE_ADDR."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.LEADPILOT_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    # Fewer entries than proxies: the request did not come through them all; trust only the peer.
    return hops[-proxies] if len(hops) >= proxies else remote
