"""The dashboard's navigation. An entry shows only when its URL exists, so a section appears in
the menu in the same commit that adds its page, and nowhere earlier."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (label, url name, minimum role)
SECTIONS: list[tuple[Any, str, str]] = [
    (_("Overview"), "org-home", "member"),
    (_("Segments"), "segments:list", "member"),
    (_("Approval queue"), "leads:queue", "member"),
    (_("Calendar"), "leads:calendar", "member"),
    (_("Leads"), "leads:list", "member"),
    (_("Block list"), "blocklists:list", "member"),
    (_("Uploads"), "uploads:list", "member"),
    (_("Usage"), "billing:usage", "member"),
    (_("Disputes"), "billing:disputes", "member"),
    (_("Billing"), "billing:billing", "owner"),
    (_("Settings"), "org-settings", "admin"),
    (_("Members"), "org-members", "member"),
    (_("API keys"), "org-api-keys", "admin"),
    (_("Webhooks"), "webhooks:list", "admin"),
]


def nav_items(*, organization_slug: str, membership: object, current_path: str) -> list[dict]:
    items = []
    for label, url_name, role in SECTIONS:
        try:
            url = reverse(url_name, kwargs={"org_slug": organization_slug})
        except NoReverseMatch:
            continue
        if not membership.has_role(role):  # type: ignore[attr-defined]
            continue
        active = current_path == url if url_name == "org-home" else current_path.startswith(url)
        items.append({"label": label, "url": url, "active": active, "name": url_name})
    return items
