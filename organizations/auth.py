"""Log-in helpers. E-mail addresses are the login and are compared case-insensitively."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
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
    """The client address the login lockout (django-axes), the sign-up limit and the anonymous
    API rate limit count against. Behind `LEADPILOT_TRUSTED_PROXIES` reverse proxies, each appending to
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


SIGNUP_ATTEMPT_WINDOW_SECONDS = 3600


def signup_attempt_allowed(request: HttpRequest) -> bool:
    """Count one sign-up attempt from the request's client address (`client_ip`, so behind the
    proxy each client counts on its own) and say whether it may go on: at most
    LEADPILOT_SIGNUP_ATTEMPTS_PER_HOUR in the hour from the address's first attempt (a fixed
    window, in the shared cache). Every attempt counts, valid or not, so nobody can mass-create
    organisations or mass-mail addresses from one address."""
    digest = hashlib.sha256(client_ip(request).encode()).hexdigest()
    key = f"signup-attempts:{digest}"
    cache.add(key, 0, SIGNUP_ATTEMPT_WINDOW_SECONDS)
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, SIGNUP_ATTEMPT_WINDOW_SECONDS)
        attempts = 1
    return attempts <= settings.LEADPILOT_SIGNUP_ATTEMPTS_PER_HOUR
