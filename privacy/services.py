"""Writes of privacy work: opt-out requests and their confirmation, erasure, retention.

Contract (docs/privacy.md):
- An opt-out is confirmed through a link mailed to an e-mail address (the one objected to, or
  for a phone the address the person gave with it), or by staff. Confirming puts the identifier's
  hash on the global suppression list (every organisation's matching query and the nightly
  pipeline check it) and withdraws the person's leads still awaiting approval in every
  organisation (leads.services.leads_withdraw: not charged, the charge credited).
- Erasure blanks the person's names, deletes their contact points and roles, keeps the Person
  row pseudonymised (delivery records and leads point at it), and keeps hashes on the suppression
  list: every contact hash, and the importer's person key, so no re-import brings them back.
  Billing rows are never touched (a trigger forbids it); see docs/privacy.md for the snapshot.
- Every confirmation, erasure and export writes a PrivacyAction in its transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, Func, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest, Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from blocklists.models import DeliveryRecord, Suppression, SuppressionKind
from blocklists.normalize import (
    InvalidIdentifier,
    identifier_hash,
    normalize_email,
    normalize_phone,
)
from enrichment.models import ChangeEvent, ContactPoint, Person, Role
from leads.models import Lead, LeadStatus
from leads.services import leads_withdraw
from organizations.models import Organization, User

from .models import DpaAcceptance, OptOutKind, OptOutRequest, OptOutStatus, PrivacyAction

# The suppression list's kind for an erased person's importer key (Suppression.kind is a plain
# column; e-mail and phone are the kinds a person can object with, this one only erasure writes).
SUPPRESSION_KIND_PERSON = "person"
WITHDRAWN_REASON = (
    "Withdrawn: this person objected to being contacted (privacy opt-out) before the lead was "
    "approved. It is not charged."
)


class OptOutError(ValueError):
    """Invalid opt-out input. `field` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class _Sha256Hex(Func):
    function = "lp_sha256_hex"
    output_field = ContactPoint._meta.get_field("normalized")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def privacy_action_record(
    *, action: str, actor: User | None, person_id: int | None = None, data: dict | None = None
) -> PrivacyAction:
    """One audit row of privacy work; call inside the change's transaction."""
    return PrivacyAction.objects.create(
        action=action,
        person_id=person_id,
        actor=actor if isinstance(actor, User) else None,
        actor_label=actor.email if isinstance(actor, User) else "system",
        data=data or {},
    )


# --- opt-out --------------------------------------------------------------------------------


def optout_request(
    *, kind: str, value: str, email: str = "", country: str = "", language: str = ""
) -> None:
    """Record an objection and mail its confirmation link. The same whatever the directory holds:
    nothing here reads the directory, so neither the answer nor its timing can tell. For a phone
    the link goes to `email` (required); for an e-mail address to that address. The mail is in
    `language` (the page's; empty: LANGUAGE_CODE). Raises OptOutError for input that is not an
    address or a number. Not idempotent: each call mails a new link (the page is rate-limited per
    client address)."""
    if kind not in OptOutKind.values:
        raise OptOutError("kind", _("Choose an e-mail address or a phone number."))
    try:
        if kind == OptOutKind.EMAIL:
            normalized = normalize_email(value)
            confirm_to = normalized
        else:
            normalized = normalize_phone(value, country=country)
    except InvalidIdentifier:
        message = (
            _("Enter a valid e-mail address.")
            if kind == OptOutKind.EMAIL
            else _("Enter a valid phone number, with its country code (+44 …).")
        )
        raise OptOutError("value", message) from None
    if kind == OptOutKind.PHONE:
        try:
            confirm_to = normalize_email(email)
        except InvalidIdentifier:
            raise OptOutError(
                "email", _("Enter the e-mail address we send the confirmation link to.")
            ) from None
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        OptOutRequest.objects.create(
            kind=kind,
            identifier_hash=identifier_hash(normalized),
            confirm_email_hash=identifier_hash(confirm_to),
            token_hash=_token_hash(token),
        )
        link = settings.SITE_URL.rstrip("/") + reverse("privacy:optout-confirm", args=[token])
        context = {"link": link, "kind": kind, "days": settings.LEADPILOT_OPTOUT_LINK_DAYS}
        transaction.on_commit(
            lambda: _optout_mail(to=confirm_to, context=context, language=language)
        )


def _optout_mail(*, to: str, context: dict, language: str) -> None:
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string("privacy/emails/optout_subject.txt", context).split())
        body = render_to_string("privacy/emails/optout.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)


def optout_confirm(*, token: str, now: dt.datetime | None = None) -> OptOutRequest | None:
    """Follow a confirmation link. None for an unknown or expired link. Idempotent: a confirmed
    request's link confirms nothing new, but withdraws again what is pending (a lead delivered
    while the first confirmation ran, or a withdrawal that failed half-way)."""
    now = now or timezone.now()
    oldest = now - dt.timedelta(days=settings.LEADPILOT_OPTOUT_LINK_DAYS)
    with transaction.atomic():
        request = (
            OptOutRequest.objects.select_for_update()
            .filter(token_hash=_token_hash(token), created_at__gte=oldest)
            .first()
        )
        if request is None:
            return None
        if request.status != OptOutStatus.CONFIRMED:
            _confirm_locked(request=request, actor=None, now=now)
    _withdraw_pending(identifier_hashes=[request.identifier_hash], now=now)
    return request


def optout_confirm_by_staff(
    *, request_id: int, actor: User, now: dt.datetime | None = None
) -> OptOutRequest:
    """Staff confirm a request (a phone objection confirmed by other means). Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        request = OptOutRequest.objects.select_for_update().get(pk=request_id)
        if request.status != OptOutStatus.CONFIRMED:
            _confirm_locked(request=request, actor=actor, now=now)
    _withdraw_pending(identifier_hashes=[request.identifier_hash], now=now)
    return request


def _confirm_locked(*, request: OptOutRequest, actor: User | None, now: dt.datetime) -> None:
    Suppression.objects.get_or_create(
        identifier_hash=request.identifier_hash,
        defaults={"kind": request.kind, "reason": "opt-out (privacy page)"},
    )
    request.status = OptOutStatus.CONFIRMED
    request.confirmed_at = now
    request.confirmed_by = actor if isinstance(actor, User) else None
    request.save(update_fields=["status", "confirmed_at", "confirmed_by"])
    privacy_action_record(
        action="optout.confirm",
        actor=actor,
        data={"request": request.pk, "kind": request.kind, "via": "staff" if actor else "link"},
    )


def suppressed_pending_withdraw(*, now: dt.datetime | None = None) -> int:
    """The daily safety net: withdraw (and credit) every lead awaiting approval whose person or
    delivered contact is on the suppression list, however it got there (an opt-out confirmed
    while a night delivered the person, an entry staff added with blocklists.suppression_add).
    Idempotent. Returns how many were withdrawn now."""
    hashes = Suppression.objects.values("identifier_hash")
    return _withdraw_pending(identifier_hashes=hashes, now=now or timezone.now())


def _withdraw_pending(*, identifier_hashes: Any, now: dt.datetime) -> int:
    """Withdraw, in every organisation, the leads awaiting approval whose person has one of these
    identifiers in the directory, or whose delivered contact is one (`identifier_hashes`: a list
    or a subquery of hashes). Returns how many."""
    people = ContactPoint.objects.annotate(h=_Sha256Hex("normalized")).filter(
        person__isnull=False, h__in=identifier_hashes
    )
    leads = (
        Lead.all_orgs.annotate(h=_Sha256Hex(Lower("contact_value")))
        .filter(status=LeadStatus.PENDING_APPROVAL)
        .filter(Q(person_id__in=people.values("person_id")) | Q(h__in=identifier_hashes))
        .values_list("organization_id", "id")
    )
    by_org: dict[int, list[int]] = defaultdict(list)
    for organization_id, lead_id in leads:
        by_org[organization_id].append(lead_id)
    withdrawn = 0
    for organization in Organization.objects.filter(id__in=by_org).order_by("id"):
        withdrawn += len(
            leads_withdraw(
                organization=organization,
                lead_ids=by_org[organization.id],
                reason=WITHDRAWN_REASON,
                now=now,
            )
        )
    return withdrawn


# --- erasure --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureResult:
    person_id: int
    contact_points_deleted: int
    roles_deleted: int
    hashes_kept: int
    leads_pseudonymised: int
    usage_events_kept: int


ERASED_NAME = "(erased)"


def person_erase(*, person_id: int, actor: User, now: dt.datetime | None = None) -> ErasureResult:
    """Erase a person from the directory (a staff decision on an erasure request).

    Keeps: the Person row (id only: names blanked, birth year and country cleared; its importer
    key stays so a re-import finds the row instead of creating one), and on the suppression list
    the SHA-256 of every contact the person had plus the key itself, so the importers skip them.
    Deletes: contact points, roles, and the names in change events. Leads in customers'
    organisations are pseudonymised (name, snapshot, evidence); the pending ones are withdrawn
    first. Billing is untouched: usage events are append-only (trigger) and their snapshots are
    kept as billing evidence (docs/privacy.md). Idempotent: erasing again erases nothing more.
    """
    now = now or timezone.now()
    person = Person.objects.get(pk=person_id)
    contacts = list(ContactPoint.objects.filter(person=person).values_list("kind", "normalized"))
    hashes = [identifier_hash(value) for _kind, value in contacts]
    # Pending leads are withdrawn (and credited) before the names go: the customer is told why.
    _withdraw_pending_of_person(person_id=person.pk, now=now)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person_id)
        kept = 0
        for (kind, _value), digest in zip(contacts, hashes, strict=True):
            Suppression.objects.get_or_create(
                identifier_hash=digest,
                defaults={
                    "kind": kind if kind in SuppressionKind.values else SuppressionKind.EMAIL,
                    "reason": "erasure",
                },
            )
            kept += 1
        Suppression.objects.get_or_create(
            identifier_hash=person.person_key,
            defaults={"kind": SUPPRESSION_KIND_PERSON, "reason": "erasure"},
        )
        contact_deleted = ContactPoint.objects.filter(person=person).delete()[0]
        roles_deleted = Role.objects.filter(person=person).delete()[0]
        ChangeEvent.objects.filter(person=person).update(old=None, new=None)
        person.full_name = ERASED_NAME
        person.first_name = person.middle_name = person.last_name = ""
        person.birth_year = None
        person.country = ""
        person.save(
            update_fields=[
                "full_name",
                "first_name",
                "middle_name",
                "last_name",
                "birth_year",
                "country",
            ]
        )
        leads = Lead.all_orgs.filter(person=person)
        leads_done = leads.update(
            person_name=ERASED_NAME,
            person_snapshot={},
            contact_value="",
            evidence={"erased": True},
            contact_point=None,
            updated_at=now,
        )
        usage_events = _usage_events_of_person(person_id=person.pk)
        result = ErasureResult(
            person_id=person.pk,
            contact_points_deleted=contact_deleted,
            roles_deleted=roles_deleted,
            hashes_kept=kept + 1,
            leads_pseudonymised=leads_done,
            usage_events_kept=usage_events,
        )
        privacy_action_record(
            action="person.erase",
            actor=actor,
            person_id=person.pk,
            data={
                "contact_points_deleted": contact_deleted,
                "roles_deleted": roles_deleted,
                "leads_pseudonymised": leads_done,
                # Kept as billing evidence (docs/privacy.md), never updated (append-only).
                "usage_events_kept": usage_events,
            },
        )
    return result


def _withdraw_pending_of_person(*, person_id: int, now: dt.datetime) -> None:
    rows = Lead.all_orgs.filter(
        person_id=person_id, status=LeadStatus.PENDING_APPROVAL
    ).values_list("organization_id", "id")
    by_org: dict[int, list[int]] = defaultdict(list)
    for organization_id, lead_id in rows:
        by_org[organization_id].append(lead_id)
    for organization in Organization.objects.filter(id__in=by_org).order_by("id"):
        leads_withdraw(
            organization=organization,
            lead_ids=by_org[organization.id],
            reason=_("Withdrawn: this person's data was erased at their request. Not charged."),
            now=now,
        )


def _usage_events_of_person(*, person_id: int) -> int:
    from billing.models import UsageEvent

    lead_ids = Lead.all_orgs.filter(person_id=person_id).values("id")
    return UsageEvent.all_orgs.filter(lead_id__in=lead_ids).count()


__all__ = [
    "DPA_VERSION",
    "ERASED_NAME",
    "SUPPRESSION_KIND_PERSON",
    "DpaError",
    "ErasureResult",
    "OptOutError",
    "dpa_accept",
    "optout_confirm",
    "optout_confirm_by_staff",
    "optout_request",
    "person_erase",
    "privacy_action_record",
    "retention_sweep",
    "suppressed_pending_withdraw",
]


# --- retention ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionResult:
    contact_points_deleted: int
    evidence_cleared: int
    leads_pseudonymised: int
    optout_requests_deleted: int = 0


def retention_sweep(*, now: dt.datetime | None = None) -> RetentionResult:
    """Delete what is held longer than its period (docs/privacy.md, "Retention"):

    - a person's contact points never delivered to any organisation (no delivery record of the
      person), last found or verified (the later of created_at and verified_at) more than
      LEADPILOT_RETENTION_CONTACT_DAYS ago. A re-import does not touch contact points, so it
      never renews them; registry company contacts are the registry's, not swept here;
    - the verification evidence of the contact points kept (delivered people), verified more
      than that period ago (the status stays; the lead and the charge keep their own copy);
    - rejected and withdrawn leads decided more than LEADPILOT_RETENTION_REJECTED_LEAD_DAYS ago
      lose their personal data (name, contact, snapshot, evidence), unless a dispute of theirs is
      undecided; the row stays as the pseudonymous reference of its charge and credit.
    - opt-out requests never confirmed, once their link has expired (confirmed ones stay: the
      record of the objection, hashes only).
    Idempotent: a second sweep finds nothing. One PrivacyAction with the counts.
    """
    from billing.models import UNDECIDED_STATUSES, Dispute

    now = now or timezone.now()
    contact_cutoff = now - dt.timedelta(days=settings.LEADPILOT_RETENTION_CONTACT_DAYS)
    lead_cutoff = now - dt.timedelta(days=settings.LEADPILOT_RETENTION_REJECTED_LEAD_DAYS)
    delivered = DeliveryRecord.all_orgs.filter(person_id=OuterRef("person_id"))
    last_seen = Greatest("created_at", Coalesce("verified_at", "created_at"))
    with transaction.atomic():
        stale = ContactPoint.objects.filter(person__isnull=False).alias(seen=last_seen)
        deleted = stale.filter(seen__lt=contact_cutoff).filter(~Exists(delivered)).delete()[0]
        cleared = (
            ContactPoint.objects.filter(person__isnull=False, verified_at__lt=contact_cutoff)
            .exclude(evidence={})
            .update(evidence={})
        )
        disputed = Dispute.all_orgs.filter(lead_id=OuterRef("pk"), status__in=UNDECIDED_STATUSES)
        old_rejected = Q(status=LeadStatus.REJECTED, decided_at__lt=lead_cutoff) | Q(
            status=LeadStatus.WITHDRAWN, withdrawn_at__lt=lead_cutoff
        )
        leads = (
            Lead.all_orgs.filter(old_rejected)
            .filter(~Exists(disputed))
            .exclude(person_name=ERASED_NAME)
            .update(
                person_name=ERASED_NAME,
                person_snapshot={},
                contact_value="",
                evidence={"erased": True, "why": "retention"},
                contact_point=None,
                notes="",
                updated_at=now,
            )
        )
        link_cutoff = now - dt.timedelta(days=settings.LEADPILOT_OPTOUT_LINK_DAYS)
        requests = OptOutRequest.objects.filter(
            status=OptOutStatus.PENDING, created_at__lt=link_cutoff
        ).delete()[0]
        result = RetentionResult(
            contact_points_deleted=deleted,
            evidence_cleared=cleared,
            leads_pseudonymised=leads,
            optout_requests_deleted=requests,
        )
        if deleted or cleared or leads or requests:
            privacy_action_record(
                action="retention.sweep",
                actor=None,
                data={
                    "contact_points_deleted": deleted,
                    "evidence_cleared": cleared,
                    "leads_pseudonymised": leads,
                    "optout_requests_deleted": requests,
                },
            )
    return result


# --- data processing agreement ------------------------------------------------------------------

# The current version: its text is templates/privacy/dpa/<version>.html. A new version is a new
# template and a new constant; every organisation's owners are asked again.
DPA_VERSION = "2026-12-01"


class DpaError(ValueError):
    pass


def dpa_accept(*, organization: Organization, version: str, accepted_by: User) -> DpaAcceptance:
    """An owner accepts the DPA `version` for the organisation (only the current one can be).
    Idempotent: a second acceptance of a version returns the first. Audited."""
    from organizations.models import Membership
    from organizations.models import Role as MemberRole
    from organizations.services import audit_record

    if version != DPA_VERSION:
        raise DpaError(_("This is not the current version of the agreement; reload the page."))
    membership = Membership.objects.for_org(organization).filter(user=accepted_by).first()
    if membership is None or not membership.has_role(MemberRole.OWNER):
        raise DpaError(_("Only an owner of the organisation can accept the agreement."))
    with transaction.atomic():
        acceptance, created = DpaAcceptance.objects.for_org(organization).get_or_create(
            organization=organization,
            version=version,
            defaults={"accepted_by": accepted_by, "accepted_by_label": accepted_by.email},
        )
        if created:
            audit_record(
                organization=organization,
                actor=accepted_by,
                action="dpa.accept",
                target=f"DPA {version}",
            )
    return acceptance
