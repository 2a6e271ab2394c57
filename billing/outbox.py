"""Writes to the Stripe outbox (billing/models.py `StripeOutbox`, docs/billing.md "Stripe outbox").

Called by the ledger services inside the transaction that writes the ledger row, so a charge or
a credit and the row that tells Stripe about it commit or roll back together. Rows are written
whether or not Stripe is configured (STRIPE_API_KEY): switching Stripe on later sends the history
(subject to Stripe's 35-day timestamp rule; older charges go dead and show in the admin).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from organizations.models import Organization

from .models import LedgerEntry, LedgerEntryKind, StripeOutbox, StripeOutboxKind


def meter_key(usage_event_id: object) -> str:
    return f"meter:{usage_event_id}"


def credit_key(ledger_entry_id: int) -> str:
    return f"credit:{ledger_entry_id}"


def stripe_outbox_write(
    *, organization: Organization, entries: Sequence[LedgerEntry]
) -> list[StripeOutbox]:
    """One pending outbox row per ledger entry: a charge becomes a meter event (identifier = the
    usage event id), a credit a credit row whose form (cancel or balance credit) the sender picks
    when it first sends it. Must run in the ledger entries' transaction (RuntimeError otherwise).
    Not idempotent by itself: the UNIQUE idempotency key refuses a second row for an entry."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("stripe_outbox_write() must run in the ledger entry's transaction")
    now = timezone.now()
    rows = []
    for entry in entries:
        if entry.usage_event_id is None or entry.kind == LedgerEntryKind.ADJUSTMENT:
            continue
        charge = entry.kind == LedgerEntryKind.CHARGE
        rows.append(
            StripeOutbox(
                organization=organization,
                kind=StripeOutboxKind.METER_EVENT if charge else StripeOutboxKind.CREDIT,
                usage_event_id=entry.usage_event_id,
                ledger_entry=entry,
                idempotency_key=(
                    meter_key(entry.usage_event_id) if charge else credit_key(entry.pk)
                ),
                next_attempt_at=now,
            )
        )
    return StripeOutbox.objects.bulk_create(rows)
