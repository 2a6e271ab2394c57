"""The DPA banner on every dashboard page for owners until they accept the current version."""

from __future__ import annotations

from typing import Any

from django import template

from ..selectors import dpa_current_accepted

register = template.Library()


@register.inclusion_tag("privacy/dpa_banner.html", takes_context=True)
def dpa_banner(context: template.Context) -> dict[str, Any]:
    organization = context.get("organization")
    membership = context.get("membership")
    if organization is None or membership is None or not membership.has_role("owner"):
        return {"show": False}
    return {
        "show": dpa_current_accepted(organization=organization) is None,
        "organization": organization,
    }
