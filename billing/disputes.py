"""Disputes and credits. Contract (docs/billing.md, "Disputes and credits"):

- Any member disputes a charged lead within LEADPILOT_DISPUTE_WINDOW_DAYS of its delivery (the
  charge's `occurred_at`), with a reason. One undecided dispute per lead and one accepted dispute
  per charge (partial UNIQUE constraints); a charge that was credited cannot be disputed again.
- Objective reasons (bounced, outside_criteria, duplicate, blocked) are re-checked by the Celery
  task `leads.dispute_recheck`: billing knows leads only by id and snapshot (DESIGN.md section 2),
  so the check that needs the lead, its segment or the block list lives in leads and calls
  `dispute_recheck_begin` / `dispute_recheck_finish` here. Billing enqueues it by its task name.
- Accepting writes exactly one credit: a -1 LedgerEntry against the charge (idempotency key
  `credit:{usage_event.id}`, partial UNIQUE on the charge) and `units_credited + 1` on the
  month the credit lands in, under `billing_period_lock`. Lock order as everywhere in billing:
  the period row first, then the dispute row. A credit lands in the organisation's current month:
  the charge's own month while it is open, else the open month (the entry names the charge).
- Every decision is audited (organizations.services.audit_record) in its transaction, and the
  organisation's members are told by e-mail after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations.language import mail_per_language
from organizations.models import Membership, Organization, User
from organizations.services import audit_record
from webhooks.events import events_emit

from .models import (
    OBJECTIVE_REASONS,
    UNDECIDED_STATUSES,
    BillingPeriod,
    Dispute,
    DisputeReason,
    DisputeStatus,
    LedgerEntry,
    LedgerEntryKind,
    UsageEvent,
)
from .outbox import stripe_outbox_write
from .services import billing_month_of, billing_period_lock

# The re-check task (leads/tasks.py), enqueued by name: billing must not import leads.
DISPUTE_RECHECK_TASK = "leads.dispute_recheck"
NOTE_MAX_LENGTH = 2000
# What a customer is promised (disputes page, API, e-mails).
EXPECTED_ANSWER = gettext_lazy(
    "Automatic decisions within minutes; staff answer within 2 working days."
)


# Staff answer within this many working days (Monday to Friday) of the dispute's opening.
STAFF_ANSWER_WORKING_DAYS = 2


def dispute_answer_by(*, dispute: Dispute, organization: Organization) -> dt.date:
    """The organisation's local day by which staff answer an undecided dispute (what the
    Disputes page promises beside each one): STAFF_ANSWER_WORKING_DAYS working days after the
    day it was opened, weekends skipped."""
    day = timezone.localtime(dispute.created_at, organization.tz).date()
    left = STAFF_ANSWER_WORKING_DAYS
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


class DisputeConflict(Exception):
    """The lead cannot be disputed now (API: 409). `code`: open | accepted | window."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class DisputeStateError(ValueError):
    """The decision does not apply to the dispute in its current status."""


class RecheckOutcome:
    AGREES = "agrees"  # the check confirms the customer: accepted at once
    DISAGREES = "disagrees"  # the check finds the charge right: staff decide
    COULD_NOT_RUN = "could_not_run"  # outage or missing data: staff decide, never the check
    MANUAL = "manual"  # not an objective reason: staff decide

    ALL = (AGREES, DISAGREES, COULD_NOT_RUN, MANUAL)


def dispute_window() -> dt.timedelta:
    return dt.timedelta(days=settings.LEADPILOT_DISPUTE_WINDOW_DAYS)


def dispute_deadline(*, usage_event: UsageEvent) -> dt.datetime:
    """Until when the charge may be disputed."""
    return usage_event.occurred_at + dispute_window()


def _actor_label(actor: User | None) -> User | None:
    return actor if isinstance(actor, User) else None


# --- opening --------------------------------------------------------------------------------


def dispute_open(
    *,
    organization: Organization,
    lead_id: int,
    reason: str,
    note: str = "",
    created_by: User | None,
    now: dt.datetime | None = None,
) -> Dispute:
    """Open a dispute of a charged lead and, for an objective reason, enqueue its re-check.

    Raises UsageEvent.DoesNotExist when the organisation was not charged for the lead (another
    organisation's lead is indistinguishable), ValueError for an unknown reason or an `other`
    without a note, and DisputeConflict when a dispute of the lead is undecided, the charge was
    already credited, or the window has passed. Not idempotent: a second call conflicts.
    Side effects: an audit row; the re-check task after commit (objective reasons), else the
    dispute waits for staff at once.
    """
    if reason not in DisputeReason.values:
        raise ValueError(f"reason: {reason!r} is not one of {', '.join(DisputeReason.values)}")
    note = (note or "").strip()[:NOTE_MAX_LENGTH]
    if reason == DisputeReason.OTHER and not note:
        raise ValueError(_("note: say what is wrong with the lead when the reason is 'Other'."))
    now = now or timezone.now()
    event = UsageEvent.objects.for_org(organization).get(lead_id=int(lead_id))
    if now > dispute_deadline(usage_event=event):
        raise DisputeConflict(
            "window",
            _("The dispute window of %(days)d days from delivery has passed.")
            % {"days": settings.LEADPILOT_DISPUTE_WINDOW_DAYS},
        )
    objective = reason in OBJECTIVE_REASONS
    with transaction.atomic():
        disputes = Dispute.objects.for_org(organization)
        credited = (
            LedgerEntry.objects.for_org(organization)
            .filter(usage_event=event, kind=LedgerEntryKind.CREDIT)
            .exists()
        )
        if credited or disputes.filter(usage_event=event, status=DisputeStatus.ACCEPTED).exists():
            raise DisputeConflict("accepted", _("This lead was already credited."))
        dispute = Dispute(
            organization=organization,
            lead_id=event.lead_id,
            usage_event=event,
            reason=reason,
            note=note,
            status=DisputeStatus.OPEN if objective else DisputeStatus.AWAITING_STAFF,
            recheck_result={} if objective else {"outcome": RecheckOutcome.MANUAL},
            recheck_text=""
            if objective
            else _("This reason is not checked automatically: staff review it."),
            created_by=_actor_label(created_by),
        )
        try:
            with transaction.atomic():
                dispute.save()
        except IntegrityError:
            raise DisputeConflict(
                "open", _("This lead already has a dispute that is not decided yet.")
            ) from None
        audit_record(
            organization=organization,
            actor=created_by,
            action="dispute.open",
            target=f"lead {event.lead_id}",
            data={"dispute": dispute.pk, "reason": reason},
        )
        if objective:
            _recheck_enqueue(organization_id=organization.id, dispute_id=dispute.pk)
    return dispute


def _recheck_enqueue(*, organization_id: int, dispute_id: int) -> None:
    def send() -> None:
        app = current_app
        if DISPUTE_RECHECK_TASK not in app.tasks:
            # The web process imports apps' tasks modules lazily (Celery's autodiscovery).
            app.loader.import_default_modules()
        app.tasks[DISPUTE_RECHECK_TASK].delay(
            organization_id=organization_id, dispute_id=dispute_id
        )

    transaction.on_commit(send)


# --- the automatic re-check -----------------------------------------------------------------


def dispute_recheck_begin(*, organization: Organization, dispute_id: int) -> Dispute | None:
    """Mark an open dispute as being checked; None when there is nothing to check (decided,
    waiting for staff, or not an objective reason). Idempotent: a redelivered task whose first
    attempt died while checking checks again."""
    with transaction.atomic():
        dispute = (
            Dispute.objects.for_org(organization)
            .select_for_update()
            .select_related("usage_event")
            .get(pk=dispute_id)
        )
        if dispute.reason not in OBJECTIVE_REASONS:
            return None
        if dispute.status not in (DisputeStatus.OPEN, DisputeStatus.CHECKING):
            return None
        if dispute.status != DisputeStatus.CHECKING:
            dispute.status = DisputeStatus.CHECKING
            dispute.save(update_fields=["status", "updated_at"])
    return dispute


def dispute_recheck_finish(
    *,
    organization: Organization,
    dispute_id: int,
    outcome: str,
    result: dict[str, Any],
    text: str,
    now: dt.datetime | None = None,
) -> Dispute:
    """Record the re-check. `agrees` accepts the dispute at once (one credit); any other outcome
    hands it to staff (`awaiting_staff`): a check that disagrees or could not run never rejects.
    Idempotent: a dispute no longer being checked is returned unchanged."""
    if outcome not in RecheckOutcome.ALL:
        raise ValueError(f"outcome: {outcome!r} is not one of {', '.join(RecheckOutcome.ALL)}")
    now = now or timezone.now()
    with transaction.atomic():
        # Lock order: the period first (an agreeing check credits in this transaction).
        period = (
            billing_period_lock(
                organization=organization,
                period_start=billing_month_of(organization=organization, at=now),
            )
            if outcome == RecheckOutcome.AGREES
            else None
        )
        dispute = (
            Dispute.objects.for_org(organization)
            .select_for_update()
            .select_related("usage_event")
            .get(pk=dispute_id)
        )
        if dispute.status not in (DisputeStatus.OPEN, DisputeStatus.CHECKING):
            return dispute
        dispute.recheck_result = {"outcome": outcome, **result}
        dispute.recheck_text = text
        dispute.rechecked_at = now
        if period is not None:
            _accept_locked(
                organization=organization,
                period=period,
                dispute=dispute,
                decided_by=None,
                note=text,
                automatic=True,
                now=now,
            )
        else:
            dispute.status = DisputeStatus.AWAITING_STAFF
            dispute.save(
                update_fields=[
                    "recheck_result",
                    "recheck_text",
                    "rechecked_at",
                    "status",
                    "updated_at",
                ]
            )
    return dispute


# --- decisions and credits ------------------------------------------------------------------


def dispute_accept(
    *,
    organization: Organization,
    dispute_id: int,
    decided_by: User | None,
    note: str = "",
    automatic: bool = False,
    now: dt.datetime | None = None,
) -> tuple[Dispute, bool]:
    """Accept a dispute and credit its charge: exactly one -1 LedgerEntry per charge and one unit
    back on the month it lands in (see the module docstring). Returns (dispute, credited now).

    Idempotent and safe under concurrency: the month's period row is locked first, then the
    dispute; a second acceptance finds it accepted and credits nothing. Raises
    Dispute.DoesNotExist for another organisation's dispute and DisputeStateError for a rejected
    one. Side effects: the credit, an audit row, the members' e-mail after commit.
    """
    now = now or timezone.now()
    note = (note or "").strip()[:NOTE_MAX_LENGTH]
    with transaction.atomic():
        period = billing_period_lock(
            organization=organization,
            period_start=billing_month_of(organization=organization, at=now),
        )
        dispute = (
            Dispute.objects.for_org(organization)
            .select_for_update()
            .select_related("usage_event")
            .get(pk=dispute_id)
        )
        if dispute.status == DisputeStatus.ACCEPTED:
            return dispute, False
        if dispute.status == DisputeStatus.REJECTED:
            raise DisputeStateError(_("This dispute was rejected; it cannot be accepted now."))
        credited = _accept_locked(
            organization=organization,
            period=period,
            dispute=dispute,
            decided_by=decided_by,
            note=note,
            automatic=automatic,
            now=now,
        )
    return dispute, credited


def _accept_locked(
    *,
    organization: Organization,
    period: BillingPeriod,
    dispute: Dispute,
    decided_by: User | None,
    note: str,
    automatic: bool,
    now: dt.datetime,
) -> bool:
    """Accept `dispute` (locked, undecided) and credit it in `period` (locked)."""
    credited = _credit_write(
        organization=organization,
        period=period,
        usage_event=dispute.usage_event,
        actor=decided_by,
        dispute=dispute,
    )
    dispute.status = DisputeStatus.ACCEPTED
    dispute.decided_by = _actor_label(decided_by)
    dispute.decided_at = now
    dispute.decision_note = note
    dispute.save(
        update_fields=[
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
            "recheck_result",
            "recheck_text",
            "rechecked_at",
            "updated_at",
        ]
    )
    audit_record(
        organization=organization,
        actor=decided_by,
        action="dispute.accept",
        target=f"lead {dispute.lead_id}",
        data={
            "dispute": dispute.pk,
            "automatic": automatic,
            "credited": credited,
            "period": f"{period.period_start:%Y-%m}",
        },
    )
    _dispute_resolved_emit(organization=organization, dispute=dispute)
    _decision_notify_on_commit(organization_id=organization.id, dispute_id=dispute.pk)
    return credited


def _credit_write(
    *,
    organization: Organization,
    period: BillingPeriod,
    usage_event: UsageEvent,
    actor: User | None,
    dispute: Dispute,
) -> bool:
    """The -1 entry and the period counter, under the caller's period lock. False when the charge
    already has its credit (the partial UNIQUE would refuse a second one anyway)."""
    entries = LedgerEntry.objects.for_org(organization)
    if entries.filter(usage_event=usage_event, kind=LedgerEntryKind.CREDIT).exists():
        return False
    same_month = usage_event.period_id == period.pk
    reason = f"dispute {dispute.pk}: credit of charge:{usage_event.id}"
    if not same_month:
        reason += f" ({usage_event.period_start:%Y-%m})"
    entry = LedgerEntry.objects.create(
        organization=organization,
        period=period,
        usage_event=usage_event,
        kind=LedgerEntryKind.CREDIT,
        units=-1,
        reason=reason[:200],
        actor=_actor_label(actor),
        idempotency_key=f"credit:{usage_event.id}",
    )
    # Stripe learns of the credit through the outbox, in this transaction (billing/outbox.py).
    stripe_outbox_write(organization=organization, entries=[entry])
    BillingPeriod.objects.for_org(organization).filter(pk=period.pk).update(
        units_credited=F("units_credited") + 1, updated_at=timezone.now()
    )
    return True


def dispute_reject(
    *,
    organization: Organization,
    dispute_id: int,
    decided_by: User | None,
    note: str,
    now: dt.datetime | None = None,
) -> Dispute:
    """Reject an undecided dispute with a note the customer reads. Idempotent for a rejected
    dispute; DisputeStateError for an accepted one (its credit stands) or a missing note.
    Side effects: an audit row, the members' e-mail after commit."""
    note = (note or "").strip()[:NOTE_MAX_LENGTH]
    if not note:
        raise DisputeStateError(_("Say why the dispute is rejected: the customer reads it."))
    now = now or timezone.now()
    with transaction.atomic():
        dispute = Dispute.objects.for_org(organization).select_for_update().get(pk=dispute_id)
        if dispute.status == DisputeStatus.REJECTED:
            return dispute
        if dispute.status == DisputeStatus.ACCEPTED:
            raise DisputeStateError(_("This dispute was accepted and credited already."))
        dispute.status = DisputeStatus.REJECTED
        dispute.decided_by = _actor_label(decided_by)
        dispute.decided_at = now
        dispute.decision_note = note
        dispute.save(
            update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"]
        )
        audit_record(
            organization=organization,
            actor=decided_by,
            action="dispute.reject",
            target=f"lead {dispute.lead_id}",
            data={"dispute": dispute.pk},
        )
        _dispute_resolved_emit(organization=organization, dispute=dispute)
        _decision_notify_on_commit(organization_id=organization.id, dispute_id=dispute.pk)
    return dispute


# --- telling the customer -------------------------------------------------------------------


def _dispute_resolved_emit(*, organization: Organization, dispute: Dispute) -> None:
    """The `dispute.resolved` webhook event, in the decision's transaction."""
    events_emit(
        organization=organization,
        type="dispute.resolved",
        items=[
            {
                "id": dispute.pk,
                "lead_id": dispute.lead_id,
                "usage_event_id": str(dispute.usage_event_id),
                "reason": dispute.reason,
                "status": dispute.status,
                "decision_note": dispute.decision_note,
                "decided_at": dispute.decided_at,
                "automatic": dispute.decided_by_id is None,
            }
        ],
    )


def _decision_notify_on_commit(*, organization_id: int, dispute_id: int) -> None:
    transaction.on_commit(
        lambda: dispute_decision_notify(organization_id=organization_id, dispute_id=dispute_id)
    )


def dispute_decision_notify(*, organization_id: int, dispute_id: int) -> int:
    """E-mail the organisation's members the decision on a dispute. Returns the number sent."""
    organization = Organization.objects.get(pk=organization_id)
    dispute = Dispute.objects.for_org(organization).get(pk=dispute_id)
    recipients = list(
        Membership.objects.for_org(organization)
        .filter(user__is_active=True)
        .values_list("user__email", "user__language")
        .order_by("user__email")
    )
    if not recipients:
        return 0
    context = {
        "organization": organization,
        "dispute": dispute,
        "base_url": settings.SITE_URL.rstrip("/"),
    }
    # Each person reads it in their profile's language.
    send_mass_mail(
        mail_per_language(
            recipients,
            lambda: (
                render_to_string("billing/emails/dispute_decided_subject.txt", context),
                render_to_string("billing/emails/dispute_decided.txt", context),
            ),
        ),
        fail_silently=False,
    )
    return len(recipients)


# --- bounce reports -------------------------------------------------------------------------


class BounceOutcome:
    OPENED = "opened"  # a bounced dispute was opened
    NO_MATCH = "no_match"  # no charged lead has this address
    ALREADY_DISPUTED = "already_disputed"
    ALREADY_CREDITED = "already_credited"
    WINDOW_PASSED = "window_passed"
    INVALID = "invalid"


@dataclass
class BounceLine:
    address: str
    outcome: str
    lead_id: int | None = None
    dispute_id: int | None = None


@dataclass
class BounceReport:
    lines: list[BounceLine] = field(default_factory=list)

    @property
    def opened(self) -> list[BounceLine]:
        return [line for line in self.lines if line.outcome == BounceOutcome.OPENED]

    @property
    def matched(self) -> list[BounceLine]:
        return [line for line in self.lines if line.lead_id is not None]


BOUNCE_REPORT_MAX = 1000


def _address_key(value: str) -> str:
    return value.strip().strip("<>").strip().lower()


def bounces_report(
    *,
    organization: Organization,
    addresses: Sequence[str],
    message: str = "",
    reported_by: User | None,
    now: dt.datetime | None = None,
) -> BounceReport:
    """Open a `bounced` dispute for every reported address that is a charged lead's e-mail (its
    usage event's snapshot), each re-checked like any other. Reports, per address in order:
    opened, no_match, already_disputed, already_credited, window_passed or invalid. At most
    BOUNCE_REPORT_MAX addresses (ValueError). Each dispute is its own transaction."""
    keys = list(dict.fromkeys(_address_key(a) for a in addresses if a and a.strip()))
    if len(keys) > BOUNCE_REPORT_MAX:
        raise ValueError(f"addresses: at most {BOUNCE_REPORT_MAX} per report")
    valid = [k for k in keys if "@" in k and " " not in k]
    events: dict[str, list[UsageEvent]] = {}
    if valid:
        matches = (
            UsageEvent.objects.for_org(organization)
            .annotate(address=Lower(KeyTextTransform("value", "verification_snapshot")))
            # A lead's charge; an uploaded contact's `verified` check has no lead to dispute.
            .filter(verification_snapshot__kind="email", address__in=valid, lead_id__isnull=False)
            .order_by("occurred_at")
        )
        for event in matches:
            events.setdefault(event.address, []).append(event)  # type: ignore[attr-defined]
    note = (message or "").strip() or _("Reported as bounced.")
    report = BounceReport()
    for key in keys:
        if key not in valid:
            report.lines.append(BounceLine(address=key, outcome=BounceOutcome.INVALID))
            continue
        found = events.get(key, [])
        if not found:
            report.lines.append(BounceLine(address=key, outcome=BounceOutcome.NO_MATCH))
        for event in found:
            lead_id = event.lead_id
            assert lead_id is not None  # the query takes leads' charges only
            line = BounceLine(address=key, outcome=BounceOutcome.OPENED, lead_id=lead_id)
            try:
                dispute = dispute_open(
                    organization=organization,
                    lead_id=lead_id,
                    reason=DisputeReason.BOUNCED,
                    note=note,
                    created_by=reported_by,
                    now=now,
                )
                line.dispute_id = dispute.pk
            except DisputeConflict as exc:
                line.outcome = {
                    "open": BounceOutcome.ALREADY_DISPUTED,
                    "accepted": BounceOutcome.ALREADY_CREDITED,
                    "window": BounceOutcome.WINDOW_PASSED,
                }[exc.code]
            report.lines.append(line)
    return report


def addresses_parse(text: str | bytes | Iterable[str]) -> list[str]:
    """Addresses from a pasted list or an uploaded CSV: every cell that looks like an e-mail."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig", errors="replace")
    lines = text.splitlines() if isinstance(text, str) else list(text)
    found: list[str] = []
    for line in lines:
        for cell in line.replace(";", ",").replace("\t", ",").split(","):
            cell = cell.strip().strip('"').strip()
            if "@" in cell:
                found.append(cell)
    return found


def undecided_statuses() -> tuple[str, ...]:
    return tuple(UNDECIDED_STATUSES)
