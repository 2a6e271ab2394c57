from __future__ import annotations

from django import template

from ..navigation import nav_items

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_nav(context: template.Context) -> list[dict]:
    organization = context.get("organization")
    membership = context.get("membership")
    if organization is None or membership is None:
        return []
    return nav_items(
        organization_slug=organization.slug,
        membership=membership,
        current_path=context["request"].path,
    )
