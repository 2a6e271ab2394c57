"""The dashboard's navigation. An entry shows only when its URL exists, so a section appears in
the menu in the same commit that adds its page, and nowhere earlier."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

# (label, url name, minimum role)
SECTIONS: list[tuple[str, str, str]] = [
    ("Overview", "org-home", "member"),
    ("Segments", "segments:list", "member"),
    ("Approval queue", "leads:queue", "member"),
    ("Calendar", "leads:calendar", "member"),
    ("Leads", "leads:list", "member"),
    ("Block list", "blocklists:list", "member"),
    ("Uploads", "leads:uploads", "member"),
    ("Usage & disputes", "billing:usage", "member"),
    ("Settings", "org-settings", "admin"),
    ("Members", "org-members", "member"),
    ("API keys", "org-api-keys", "admin"),
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
        items.append({"label": label, "url": url, "active": active})
    return items
