"""Billing's notices on pages other apps render (the overview is organizations' page, and its
leads block is leads'): pulled in by name, so neither imports billing's selectors for them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.conf import settings

from ..disputes import dispute_answer_by
from ..models import Dispute
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


@register.simple_tag(takes_context=True)
def answer_by(context: template.Context, dispute: Dispute) -> dt.date:
    """{% answer_by dispute as day %}: when staff answer this undecided dispute."""
    return dispute_answer_by(dispute=dispute, organization=context["organization"])


@register.simple_tag
def dispute_window_days() -> int:
    """{% dispute_window_days as days %}: how long after delivery a lead may be disputed."""
    return int(settings.LEADPILOT_DISPUTE_WINDOW_DAYS)
