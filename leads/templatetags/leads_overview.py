"""The leads part of the dashboard overview, as a template tag: organizations/ renders the page
and must not import leads, so the page pulls this block in by name."""

from __future__ import annotations

from typing import Any

from django import template

from ..selectors import leads_overview

register = template.Library()


@register.inclusion_tag("leads/_overview.html", takes_context=True)
def leads_overview_block(context: template.Context) -> dict[str, Any]:
    organization = context["organization"]
    return {
        "organization": organization,
        "overview": leads_overview(organization=organization),
    }
