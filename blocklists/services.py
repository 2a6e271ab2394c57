"""Writes of block lists, the delivery record and the global suppression list."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils.translation import gettext as _

from enrichment.models import Person
from organizations.models import Organization, User

from .models import BlockEntry, BlockKind, DeliveryRecord, Suppression, SuppressionKind
from .normalize import (
    InvalidIdentifier,
    identifier_hash,
    normalize_company_name,
    normalize_domain,
    normalize_email,
    normalize_phone,
    normalize_registry_id,
)

VALUE_MAX_LENGTH = BlockEntry._meta.get_field("value").max_length or 320


class BlockEntryError(ValueError):
    """Invalid block entry. `field` names the offending input ("kind", "value", "country")."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def delivery_record_add(
    *, organization: Organization, company_id: int, person_id: int, lead_id: int | None
) -> DeliveryRecord:
    """Record that `organization` received this person. Runs inside the caller's transaction.

    The UNIQUE(organization, person) constraint is the guard: a second delivery raises
    IntegrityError, which rolls back the caller's whole transaction (lead and charge included).
    """
    return DeliveryRecord.objects.create(
        organization=organization, company_id=company_id, person_id=person_id, lead_id=lead_id
    )


def delivery_records_add(
    *, organization: Organization, records: list[tuple[int, int, int | None]]
) -> list[DeliveryRecord]:
    """delivery_record_add for several (company_id, person_id, lead_id) in one statement; the
    same constraint is the guard (one IntegrityError rolls back the caller's transaction)."""
    return DeliveryRecord.objects.bulk_create(
        [
            DeliveryRecord(
                organization=organization,
                company_id=company_id,
                person_id=person_id,
                lead_id=lead_id,
            )
            for company_id, person_id, lead_id in records
        ]
    )


def block_value_normalize(*, kind: str, value: str, country: str = "") -> tuple[str, int | None]:
    """(normalised value, person id or None) for a block entry; raises BlockEntryError."""
    if kind not in BlockKind.values:
        raise BlockEntryError("kind", f"{kind!r} is not one of {', '.join(BlockKind.values)}")
    value = (value or "").strip()
    country = (country or "").strip()
    if country and not (len(country) == 2 and country.isalpha()):
        raise BlockEntryError("country", f"{country!r} is not a two-letter country code")
    normalized = ""
    try:
        if kind == BlockKind.COMPANY:
            normalized = normalize_registry_id(value, country=country)
        elif kind == BlockKind.DOMAIN:
            normalized = normalize_domain(value)
        elif kind == BlockKind.COMPANY_NAME:
            normalized = normalize_company_name(value)
        elif kind == BlockKind.EMAIL:
            normalized = normalize_email(value)
        elif kind == BlockKind.PHONE:
            normalized = normalize_phone(value, country=country)
    except InvalidIdentifier as exc:
        raise BlockEntryError("value", str(exc)) from None
    if normalized:
        # A CSV cell has no length limit, and IDNA makes a domain longer than it was typed.
        if len(normalized) > VALUE_MAX_LENGTH:
            raise BlockEntryError(
                "value",
                _("is longer than %(limit)d characters once normalised")
                % {"limit": VALUE_MAX_LENGTH},
            )
        return normalized, None
    # person: a directory person id (shown with every lead and candidate)
    if not value.isdigit():
        raise BlockEntryError("value", _("%(value)s is not a person id") % {"value": repr(value)})
    if not Person.objects.filter(pk=int(value)).exists():
        raise BlockEntryError("value", _("no person with id %(id)s") % {"id": value})
    return value, int(value)


def block_entry_add(
    *,
    organization: Organization,
    kind: str,
    value: str,
    country: str = "",
    note: str = "",
    created_by: User | None = None,
) -> tuple[BlockEntry, bool]:
    """Block something for this organisation. Returns (entry, created). Idempotent: the same
    normalised value again returns the existing entry. Raises BlockEntryError naming the field."""
    normalized, person_id = block_value_normalize(kind=kind, value=value, country=country)
    with transaction.atomic():
        return BlockEntry.objects.for_org(organization).get_or_create(
            organization=organization,
            kind=kind,
            value=normalized,
            defaults={
                "raw": value.strip()[:320],
                "person_id": person_id,
                "note": (note or "").strip()[:200],
                "created_by": created_by,
            },
        )


def block_entry_remove(*, organization: Organization, entry_id: int) -> None:
    """Unblock. BlockEntry.DoesNotExist for foreign or missing ids. Not idempotent (404 twice)."""
    with transaction.atomic():
        BlockEntry.objects.for_org(organization).get(pk=entry_id).delete()


def suppression_add(
    *, kind: str, value: str, country: str = "", reason: str = ""
) -> tuple[Suppression, bool]:
    """Suppress a person's e-mail or phone for every organisation (an objection). Only the hash of
    the normalised identifier is stored. Idempotent. Raises BlockEntryError."""
    if kind not in SuppressionKind.values:
        raise BlockEntryError("kind", f"{kind!r} is not one of email, phone")
    try:
        normalized = (
            normalize_email(value) if kind == "email" else normalize_phone(value, country=country)
        )
    except InvalidIdentifier as exc:
        raise BlockEntryError("value", str(exc)) from None
    with transaction.atomic():
        return Suppression.objects.get_or_create(
            identifier_hash=identifier_hash(normalized),
            defaults={"kind": kind, "reason": reason[:200]},
        )


# A bulk write of at least this many block entries refreshes the table's planner statistics
# at once (block_entries_statistics_refresh).
BULK_ANALYZE_MIN_ROWS = 1_000


def block_entries_statistics_refresh(*, written: int) -> bool:
    """Refresh PostgreSQL's planner statistics of the block list after a bulk write of `written`
    rows (a CSV import); below BULK_ANALYZE_MIN_ROWS, and on SQLite, it does nothing.

    Why: the matching query (segments/matching.py) anti-joins the organisation's block entries.
    Until autovacuum next analyses the table, the planner still plans with the row counts from
    before the import: after an import of 50,000 rows the organisation's segment preview took
    10-32 s, until an ANALYZE.

    Side effect: `ANALYZE blocklists_blockentry` once the current transaction commits (at once
    outside one), so it samples the committed rows and holds its table lock only for itself; a
    failure is logged, never undoes or fails the import (robust on_commit). Idempotent: a second
    ANALYZE only re-samples. Returns whether an ANALYZE was scheduled.
    """
    if written < BULK_ANALYZE_MIN_ROWS or connection.vendor != "postgresql":
        return False
    table = connection.ops.quote_name(BlockEntry._meta.db_table)

    def analyze() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")

    transaction.on_commit(analyze, robust=True)
    return True
