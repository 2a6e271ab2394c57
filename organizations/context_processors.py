from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .selectors import memberships_of_user


def tenancy(request: HttpRequest) -> dict[str, Any]:
    """The organisation switcher's entries for the logged-in user (lazy: one query when used)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(user, "email"):
        return {}
    return {"my_memberships": lambda: list(memberships_of_user(user=user))}
