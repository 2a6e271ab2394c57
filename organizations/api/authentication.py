"""API key authentication: `Authorization: Api-Key <prefix>.<secret>`.

A valid key authenticates as its organisation (request.auth is the key); the view base class
then requires the URL's organisation to be the key's own, else 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
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
        now = timezone.now()
        if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
            OrganizationAPIKey.all_orgs.filter(pk=api_key.pk).update(last_used_at=now)
        return APIKeyPrincipal(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
