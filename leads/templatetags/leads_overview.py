"""The leads part of the dashboard overview, as a template tag: organizations/ renders the page
and must not import leads, so the page pulls this block in by name."""

from __future__ import annotations

from typing import Any

from django import template

from ..selectors import leads_awaiting_count, leads_overview

register = template.Library()


@register.inclusion_tag("leads/_overview.html", takes_context=True)
def leads_overview_block(context: template.Context) -> dict[str, Any]:
    organization = context["organization"]
    return {
        "organization": organization,
        "overview": leads_overview(organization=organization),
    }


@register.inclusion_tag("leads/_queue_count.html", takes_context=True)
def queue_count_badge(context: template.Context) -> dict[str, Any]:
    """The menu's count of leads awaiting approval; the queue's actions send it again out of band
    (hx-swap-oob) so it never goes stale after an approval."""
    return {"awaiting": leads_awaiting_count(organization=context["organization"])}
