"""What people do with delivered leads: approve (places on the calendar), reject with a reason,
move to another day, mark contacted, keep notes. Every id resolves through for_org(org): a lead of
another organisation is indistinguishable from a missing one (Lead.DoesNotExist).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.disputes import DisputeConflict, dispute_accept, dispute_deadline, dispute_open
from billing.models import UNDECIDED_STATUSES, Dispute, DisputeReason, UsageEvent
from organizations.models import Organization, User

from ..models import Lead, LeadStatus, RejectionReason
from .calendar import calendar_lock, calendar_slots_take, calendar_today
from .reverify import lead_evidence_is_stale, leads_reverify
from .webhook_events import leads_event_emit

NOTES_MAX_LENGTH = 10_000


class LeadStateError(ValueError):
    """The action does not apply to the lead in its current status."""


@dataclass
class ApprovalResult:
    approved: list[Lead] = field(default_factory=list)
    # Leads whose contact no longer verifies on re-verification; they stay in the queue.
    failed_reverification: list[Lead] = field(default_factory=list)


def _leads_for_update(*, organization: Organization, lead_ids: Sequence[int]) -> list[Lead]:
    wanted = set(lead_ids)
    leads = list(
        Lead.objects.for_org(organization).select_for_update().filter(id__in=wanted).order_by("id")
    )
    if len(leads) != len(wanted):
        raise Lead.DoesNotExist("No such lead")
    return leads


def leads_approve(
    *,
    organization: Organization,
    lead_ids: Sequence[int],
    approved_by: User | None,
    now: dt.datetime | None = None,
) -> ApprovalResult:
    """Approve pending leads and place them on the calendar's next free working-day slots.

    Leads whose evidence is older than LEADPILOT_LEAD_EVIDENCE_MAX_AGE_DAYS are re-verified first
    (outside the transaction: probes take seconds); a lead that no longer verifies stays pending
    and is reported in `failed_reverification`. Idempotent: already approved or contacted leads
    keep their day. Raises Lead.DoesNotExist if any id is not this organisation's, and
    LeadStateError for a rejected lead. All-or-nothing for the placement.
    """
    now = now or timezone.now()
    ids = list(dict.fromkeys(int(i) for i in lead_ids))
    if not ids:
        return ApprovalResult()
    stale = [
        lead
        for lead in Lead.objects.for_org(organization).filter(
            id__in=ids, status=LeadStatus.PENDING_APPROVAL
        )
        if lead_evidence_is_stale(lead=lead, now=now)
    ]
    failed_ids = set()
    if stale:
        failed_ids = {lead.id for lead in leads_reverify(organization=organization, leads=stale)}
    result = ApprovalResult()
    with transaction.atomic():
        calendar_lock(organization=organization)
        leads = _leads_for_update(organization=organization, lead_ids=ids)
        rejected = [lead.id for lead in leads if lead.status == LeadStatus.REJECTED]
        if rejected:
            raise LeadStateError(
                _("Rejected leads cannot be approved: %(ids)s")
                % {"ids": ", ".join(map(str, rejected))}
            )
        withdrawn = [lead.id for lead in leads if lead.status == LeadStatus.WITHDRAWN]
        if withdrawn:
            raise LeadStateError(
                _("Withdrawn leads cannot be approved: %(ids)s")
                % {"ids": ", ".join(map(str, withdrawn))}
            )
        pending = [
            lead
            for lead in leads
            if lead.status == LeadStatus.PENDING_APPROVAL and lead.id not in failed_ids
        ]
        result.failed_reverification = [lead for lead in leads if lead.id in failed_ids]
        slots = calendar_slots_take(
            organization=organization,
            count=len(pending),
            start=calendar_today(organization=organization, now=now),
        )
        for lead, day in zip(pending, slots, strict=True):
            lead.status = LeadStatus.APPROVED
            lead.scheduled_date = day
            lead.decided_by = approved_by
            lead.decided_at = now
            lead.updated_at = now
        Lead.objects.for_org(organization).bulk_update(
            pending, ["status", "scheduled_date", "decided_by", "decided_at", "updated_at"]
        )
        leads_event_emit(organization=organization, type="lead.approved", leads=pending)
        result.approved = [
            lead
            for lead in leads
            if lead.status in (LeadStatus.APPROVED, LeadStatus.CONTACTED)
            and lead.id not in failed_ids
        ]
    return result


def lead_approve(
    *, organization: Organization, lead_id: int, approved_by: User | None
) -> ApprovalResult:
    return leads_approve(organization=organization, lead_ids=[lead_id], approved_by=approved_by)


def leads_reject(
    *,
    organization: Organization,
    lead_ids: Sequence[int],
    rejected_by: User | None,
    reason: str,
    note: str = "",
) -> list[Lead]:
    """Reject leads (pending or approved) with a reason; frees their calendar day.

    Idempotent for leads already rejected (their first reason is kept). Contacted leads cannot be
    rejected (LeadStateError). Raises Lead.DoesNotExist if any id is not this organisation's and
    ValueError for an unknown reason. A rejection is not a refund: disputes are a billing matter.
    """
    if reason not in RejectionReason.values:
        raise ValueError(f"reason: {reason!r} is not one of {', '.join(RejectionReason.values)}")
    note = note.strip()[:500]
    ids = list(dict.fromkeys(int(i) for i in lead_ids))
    now = timezone.now()
    with transaction.atomic():
        leads = _leads_for_update(organization=organization, lead_ids=ids)
        contacted = [lead.id for lead in leads if lead.status == LeadStatus.CONTACTED]
        if contacted:
            raise LeadStateError(
                _("Contacted leads cannot be rejected: %(ids)s")
                % {"ids": ", ".join(map(str, contacted))}
            )
        changed = [
            lead for lead in leads if lead.status not in (LeadStatus.REJECTED, LeadStatus.WITHDRAWN)
        ]
        for lead in changed:
            lead.status = LeadStatus.REJECTED
            lead.rejection_reason = reason
            lead.rejection_note = note
            lead.scheduled_date = None
            lead.decided_by = rejected_by
            lead.decided_at = now
            lead.updated_at = now
        Lead.objects.for_org(organization).bulk_update(
            changed,
            [
                "status",
                "rejection_reason",
                "rejection_note",
                "scheduled_date",
                "decided_by",
                "decided_at",
                "updated_at",
            ],
        )
        leads_event_emit(organization=organization, type="lead.rejected", leads=changed)
    return leads


def lead_reject(
    *,
    organization: Organization,
    lead_id: int,
    rejected_by: User | None,
    reason: str,
    note: str = "",
) -> Lead:
    return leads_reject(
        organization=organization,
        lead_ids=[lead_id],
        rejected_by=rejected_by,
        reason=reason,
        note=note,
    )[0]


MOVE_HORIZON_DAYS = 366


def lead_move(
    *, organization: Organization, lead_id: int, to_date: dt.date, now: dt.datetime | None = None
) -> Lead:
    """Move a scheduled (approved or contacted) lead to another day.

    A person moving a lead may overbook a day or pick a weekend; only the past is refused
    (the organisation's local today is allowed), and a day more than MOVE_HORIZON_DAYS ahead (a
    mistyped year would take the lead off every calendar page anyone looks at). Idempotent.
    """
    today = calendar_today(organization=organization, now=now)
    if to_date < today:
        raise ValueError(f"date: {to_date.isoformat()} is in the past (today is {today})")
    with transaction.atomic():
        calendar_lock(organization=organization)
        (lead,) = _leads_for_update(organization=organization, lead_ids=[lead_id])
        if lead.status not in (LeadStatus.APPROVED, LeadStatus.CONTACTED):
            raise LeadStateError(_("Only approved leads are on the calendar; approve it first."))
        if to_date > today + dt.timedelta(days=MOVE_HORIZON_DAYS):
            raise ValueError(
                f"date: {to_date.isoformat()} is more than a year ahead (today is {today})"
            )
        if lead.scheduled_date != to_date:
            lead.scheduled_date = to_date
            lead.save(update_fields=["scheduled_date", "updated_at"])
    return lead


def lead_mark_contacted(*, organization: Organization, lead_id: int) -> Lead:
    """Approved -> contacted. Idempotent."""
    with transaction.atomic():
        (lead,) = _leads_for_update(organization=organization, lead_ids=[lead_id])
        if lead.status not in (LeadStatus.APPROVED, LeadStatus.CONTACTED):
            raise LeadStateError(_("Only approved leads can be marked contacted."))
        if lead.status != LeadStatus.CONTACTED:
            lead.status = LeadStatus.CONTACTED
            lead.save(update_fields=["status", "updated_at"])
    return lead


def lead_notes_update(*, organization: Organization, lead_id: int, notes: str) -> Lead:
    if len(notes) > NOTES_MAX_LENGTH:
        raise ValueError(f"notes: at most {NOTES_MAX_LENGTH} characters")
    with transaction.atomic():
        (lead,) = _leads_for_update(organization=organization, lead_ids=[lead_id])
        lead.notes = notes
        lead.save(update_fields=["notes", "updated_at"])
    return lead


WITHDRAWN_REASON_MAX_LENGTH = 300


def leads_withdraw(
    *,
    organization: Organization,
    lead_ids: Sequence[int],
    reason: str,
    now: dt.datetime | None = None,
) -> list[Lead]:
    """Withdraw leads still awaiting approval: the service takes them back (a person objected to
    being contacted: privacy opt-out). Approved, contacted and rejected leads are kept as they
    are: the customer already decided on them. Returns the leads that are withdrawn now or were.

    Side effects: status `withdrawn` with `reason` (shown on the lead page) and its time; the
    charge of each withdrawn lead is credited through an accepted dispute (reason `other`, the
    reason as its note), billing's one way to write a credit (C2), which also e-mails the
    members. The dispute window does not apply: the withdrawal is the service's own correction.
    Idempotent: a lead already withdrawn is not changed, a charge already credited not credited
    again (a rerun after a failed credit credits it). Raises Lead.DoesNotExist if any id is not
    this organisation's.
    """
    now = now or timezone.now()
    reason = reason.strip()[:WITHDRAWN_REASON_MAX_LENGTH]
    if not reason:
        raise ValueError("reason: say why the lead is withdrawn; the customer reads it")
    ids = list(dict.fromkeys(int(i) for i in lead_ids))
    with transaction.atomic():
        leads = _leads_for_update(organization=organization, lead_ids=ids)
        pending = [lead for lead in leads if lead.status == LeadStatus.PENDING_APPROVAL]
        for lead in pending:
            lead.status = LeadStatus.WITHDRAWN
            lead.withdrawn_reason = reason
            lead.withdrawn_at = now
            lead.scheduled_date = None
            lead.updated_at = now
        Lead.objects.for_org(organization).bulk_update(
            pending, ["status", "withdrawn_reason", "withdrawn_at", "scheduled_date", "updated_at"]
        )
    withdrawn = [lead for lead in leads if lead.status == LeadStatus.WITHDRAWN]
    for lead in withdrawn:
        _withdrawal_credit(organization=organization, lead=lead, now=now)
    return withdrawn


def _withdrawal_credit(*, organization: Organization, lead: Lead, now: dt.datetime) -> bool:
    """Credit a withdrawn lead's charge (its own transactions, in billing). False when the lead
    was never charged or is credited already."""
    event = UsageEvent.objects.for_org(organization).filter(lead_id=lead.pk).first()
    if event is None:
        return False
    note = lead.withdrawn_reason or "Withdrawn by the service."
    try:
        dispute = dispute_open(
            organization=organization,
            lead_id=lead.pk,
            reason=DisputeReason.OTHER,
            note=note,
            created_by=None,
            now=min(now, dispute_deadline(usage_event=event)),
        )
    except DisputeConflict as exc:
        if exc.code != "open":
            return False  # credited already
        # The customer disputed it first: that dispute is the one accepted.
        dispute = Dispute.objects.for_org(organization).get(
            lead_id=lead.pk, status__in=UNDECIDED_STATUSES
        )
    _, credited = dispute_accept(
        organization=organization,
        dispute_id=dispute.pk,
        decided_by=None,
        note=note,
        automatic=True,
        now=now,
    )
    return credited
