"""The past-due banner on every dashboard page (templates/base.html), pulled in by name so that
no other app imports billing for it."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from ..plans import billing_pause_of

register = template.Library()


@register.inclusion_tag("billing/billing_banner.html", takes_context=True)
def billing_past_due_banner(context: template.Context) -> dict[str, Any]:
    organization = context.get("organization")
    membership = context.get("membership")
    if organization is None or membership is None:
        return {"pause_at": None}
    pause_at = billing_pause_of(organization=organization)
    return {
        "organization": organization,
        "pause_at": pause_at,
        "paused": pause_at is not None and pause_at <= timezone.now(),
        "is_owner": membership.has_role("owner"),
    }
