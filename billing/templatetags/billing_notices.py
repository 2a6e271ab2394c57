"""Billing's notices on pages other apps render (the overview is organizations' page, and its
leads block is leads'): pulled in by name, so neither imports billing's selectors for them."""

from __future__ import annotations

from typing import Any

from django import template

from ..selectors import DECISION_NOTICE_DAYS, disputes_decided_recently

register = template.Library()


@register.inclusion_tag("billing/_decided_notice.html", takes_context=True)
def dispute_decisions_notice(context: template.Context) -> dict[str, Any]:
    organization = context["organization"]
    return {
        "organization": organization,
        "decided": disputes_decided_recently(organization=organization),
        "days": DECISION_NOTICE_DAYS,
    }
