"""Reads of block lists and the suppression list."""

from __future__ import annotations

from django.db.models import QuerySet

from organizations.models import Organization

from .models import BlockEntry, Suppression
from .normalize import identifier_hash


def block_entries_of_organization(
    *, organization: Organization, kind: str | None = None, search: str = ""
) -> QuerySet[BlockEntry]:
    qs = BlockEntry.objects.for_org(organization).order_by("-id")
    if kind:
        qs = qs.filter(kind=kind)
    if search:
        qs = qs.filter(value__icontains=search.strip().lower())
    return qs


def block_entry_get(*, organization: Organization, entry_id: int) -> BlockEntry:
    return BlockEntry.objects.for_org(organization).get(pk=entry_id)


def suppression_contains(*, normalized: str) -> bool:
    """Is this normalised e-mail/E.164 phone suppressed? For checks after contact discovery (the
    matching query only sees contact points that were known when it ran)."""
    return Suppression.objects.filter(identifier_hash=identifier_hash(normalized)).exists()
