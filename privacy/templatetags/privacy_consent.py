from __future__ import annotations

from typing import Any

from django import template

from privacy.consent import CATEGORIES, consent_of

register = template.Library()


@register.simple_tag(takes_context=True)
def consent_categories(context: template.Context) -> list[dict[str, Any]]:
    """The consent categories with their names, descriptions and whether the visitor's current
    choice allows each (the banner's and the cookie policy's checkboxes)."""
    request = context.get("request")
    choice = consent_of(request) if request is not None else None
    allowed = choice.categories if choice is not None else frozenset()
    return [
        {"code": code, "name": name, "description": description, "allowed": code in allowed}
        for code, name, description in CATEGORIES
    ]
