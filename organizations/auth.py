"""Log-in helpers. E-mail addresses are the login and are compared case-insensitively."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The username django-axes counts failures against: the e-mail, lower-cased, so that
    `Owner@x` and `owner@x` share one lockout (else case variants would multiply the attempts)."""
    if credentials and credentials.get("username"):
        value = credentials["username"]
    else:
        value = request.POST.get("username", "") if request is not None else ""
    return str(value).strip().lower()
