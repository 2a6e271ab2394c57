"""Reads of block lists and the suppression list."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from organizations.models import Organization

from .models import BlockEntry, BlockKind, Suppression
from .normalize import InvalidIdentifier, identifier_hash, normalize_email, normalize_phone


def block_entries_of_organization(
    *, organization: Organization, kind: str | None = None, search: str = ""
) -> QuerySet[BlockEntry]:
    qs = BlockEntry.objects.for_org(organization).order_by("-id")
    if kind:
        qs = qs.filter(kind=kind)
    if "\x00" in search:
        return qs.none()  # no value holds a NUL, and PostgreSQL refuses it in a query
    if search:
        qs = qs.filter(value__icontains=search.strip().lower())
    return qs


def block_entry_get(*, organization: Organization, entry_id: int) -> BlockEntry:
    return BlockEntry.objects.for_org(organization).get(pk=entry_id)


def suppression_contains(*, normalized: str) -> bool:
    """Is this normalised e-mail/E.164 phone suppressed? For checks after contact discovery (the
    matching query only sees contact points that were known when it ran)."""
    return Suppression.objects.filter(identifier_hash=identifier_hash(normalized)).exists()


def contacts_excluded(
    *, organization: Organization, contacts: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Of these contacts, (kind, value) as found ("email" or "phone"), the ones the organisation
    must not receive, with why: "blocked" (its block list names the e-mail, its domain or the
    phone) or "suppressed" (the global suppression list). The matching query only excludes
    contact points the directory knew when it ran; this is the check for the ones discovered
    after it. Two queries whatever the number of contacts."""
    normalized: dict[tuple[str, str], str] = {}
    for kind, value in contacts:
        try:
            normalized[(kind, value)] = (
                normalize_email(value) if kind == "email" else normalize_phone(value)
            )
        except InvalidIdentifier:
            continue  # nothing on either list can match it
    if not normalized:
        return {}
    keys = set(normalized.values()) | {n.rsplit("@", 1)[1] for n in normalized.values() if "@" in n}
    blocked = set(
        BlockEntry.objects.for_org(organization)
        .filter(kind__in=(BlockKind.EMAIL, BlockKind.PHONE, BlockKind.DOMAIN), value__in=keys)
        .values_list("value", flat=True)
    )
    suppressed = set(
        Suppression.objects.filter(
            identifier_hash__in={identifier_hash(n) for n in normalized.values()}
        ).values_list("identifier_hash", flat=True)
    )
    excluded = {}
    for contact, value in normalized.items():
        if value in blocked or ("@" in value and value.rsplit("@", 1)[1] in blocked):
            excluded[contact] = "blocked"
        elif identifier_hash(value) in suppressed:
            excluded[contact] = "suppressed"
    return excluded
