"""API key authentication: `Authorization: Api-Key <prefix>.<secret>`.

A valid key authenticates as its organisation (request.auth is the key); the view base class
then requires the URL's organisation to be the key's own, else 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from ..models import OrganizationAPIKey


class APIKeyPrincipal(AnonymousUser):
    """The 'user' of a key-authenticated request: not a person, authenticated as the key."""

    def __init__(self, api_key: OrganizationAPIKey) -> None:
        super().__init__()
        self.api_key = api_key

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True

    @property
    def is_anonymous(self) -> bool:  # type: ignore[override]
        return False

    def __str__(self) -> str:
        return f"API key {self.api_key.prefix}"


USE_FLUSH_SECONDS = 60


def _count_key(api_key: OrganizationAPIKey) -> str:
    return f"api-key-requests:{api_key.pk}"


def pending_requests(api_keys: list[OrganizationAPIKey]) -> dict[int, int]:
    """Requests counted in the cache and not yet added to each key's row (the keys page adds
    them, so the count it shows is current)."""
    found = cache.get_many([_count_key(k) for k in api_keys])
    return {k.pk: int(found.get(_count_key(k)) or 0) for k in api_keys}


def record_use(api_key: OrganizationAPIKey) -> None:
    """Count a request of the key: one cache increment per request, and at most once a minute
    per key one UPDATE that adds the counted requests (an F() increment, so concurrent flushes add
    up) and sets last_used_at. The flush takes back from the cache exactly what it added, so a
    request counted meanwhile is flushed next time, never lost. With a per-process cache
    (locmem) each process counts its own requests; all of them reach the row."""
    counter = _count_key(api_key)
    try:
        cache.incr(counter)
    except ValueError:
        if not cache.add(counter, 1, timeout=None):
            cache.incr(counter)
    now = timezone.now()
    last = api_key.last_used_at
    if last is not None and (now - last).total_seconds() <= USE_FLUSH_SECONDS:
        return
    pending = int(cache.get(counter) or 0)
    updated = OrganizationAPIKey.all_orgs.filter(pk=api_key.pk, last_used_at=last).update(
        last_used_at=now, request_count=F("request_count") + pending
    )
    if updated and pending:
        # Another request of this key may have flushed at the same moment: the conditional
        # update (last_used_at unchanged) lets one of them add the count.
        cache.decr(counter, pending)
    if updated:
        api_key.last_used_at = now
        api_key.request_count += pending


class OrganizationAPIKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request: Request) -> tuple[Any, OrganizationAPIKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, key = header.partition(" ")
        if scheme != self.keyword:
            return None
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed("Empty API key.")
        try:
            # Unscoped by necessity: the key tells us its organisation.
            api_key = OrganizationAPIKey.all_orgs.get_from_key(key)
        except OrganizationAPIKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.") from None
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        record_use(api_key)
        return APIKeyPrincipal(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
