"""The banner on every dashboard page while the logged-in owner's address is unconfirmed."""

from __future__ import annotations

from typing import Any

from django import template

from ..selectors import organization_email_confirmed

register = template.Library()


@register.inclusion_tag("organizations/_email_confirm_banner.html", takes_context=True)
def email_confirm_banner(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    membership = context.get("membership")
    user = getattr(request, "user", None)
    show = (
        user is not None
        and user.is_authenticated
        and getattr(user, "email_confirmed_at", True) is None
        and membership is not None
        and membership.has_role("owner")
    )
    if show:  # only then a query: is another owner confirmed already?
        show = not organization_email_confirmed(organization=context["organization"])
    return {"show": show, "email": getattr(user, "email", ""), "request": request}
