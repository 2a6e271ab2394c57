"""The lead-facing half of disputes (billing/disputes.py has the ledger half; billing knows leads
only by id and snapshot, so every check that needs the lead, its segment or the block list is
here, and calls billing's services).

- `dispute_recheck`: the automatic re-check of an objective reason (task `leads.dispute_recheck`).
  bounced: the charged address is verified again now with the verification engine (no cached
  verdict); outside_criteria: the company as delivered (the lead's snapshot) against the
  segment's criteria; duplicate: an earlier lead of the same person or company in this
  organisation; blocked: the block list as it stood at delivery (entries created before the
  charge). The check agreeing with the customer accepts the dispute (one credit); anything else
  waits for staff. An outage (DNS or mail server unreachable) never decides.
- `lead_reject_and_dispute`: rejecting a lead for a reason that says it is wrong, and disputing
  its charge, in one step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from billing.disputes import (
    DisputeConflict,
    RecheckOutcome,
    dispute_open,
    dispute_recheck_begin,
)
from billing.disputes import dispute_recheck_finish as _finish
from billing.models import Dispute, DisputeReason, UsageEvent
from blocklists.models import BlockEntry, BlockKind
from blocklists.normalize import (
    InvalidIdentifier,
    normalize_company_name,
    normalize_domain,
    normalize_email,
    normalize_phone,
    normalize_registry_id,
)
from organizations.models import Organization, User
from segments.criteria import CriteriaError, SegmentCriteria
from segments.models import Segment

from ..models import Lead, RejectionReason
from .lifecycle import leads_reject

# (outcome, machine-readable result, the sentence staff and the customer read)
Check = tuple[str, dict[str, Any], str]
EmailVerify = Callable[[str], Any]

# Engine reasons that say the check could not be made, not that the mailbox is bad or good.
OUTAGE_REASONS = frozenset({"dns_error", "smtp_timeout", "smtp_blocked", "greylisted"})

# Rejection reasons that say the lead is wrong, and the dispute reason each offers.
REJECTION_DISPUTE_REASONS: dict[str, str] = {
    RejectionReason.WRONG_PERSON: DisputeReason.WRONG_PERSON,
    RejectionReason.BAD_CONTACT: DisputeReason.BOUNCED,
}


def email_verify_default(address: str) -> Any:
    """Verify one address now: the engine with its settings, without the settled-verdict cache
    (a bounce report is exactly the case where the earlier verdict is in question)."""
    from enrichment.verification import VerificationConfig, verify_emails

    (verdict,) = verify_emails([address], config=VerificationConfig.from_settings(verdict_ttl=0))
    return verdict


def _check_bounced(*, event: UsageEvent, verify: EmailVerify) -> Check:
    snapshot = event.verification_snapshot
    address = snapshot.get("value") or ""
    if snapshot.get("kind") != "email" or not address:
        return (
            RecheckOutcome.COULD_NOT_RUN,
            {"check": "bounced"},
            _("The charged contact is not an e-mail address; a bounce cannot be re-checked."),
        )
    verdict = verify(address)
    result = {
        "check": "bounced",
        "address": address,
        "status": verdict.status,
        "reason": verdict.reason,
        "flags": list(verdict.flags or ()),
        "evidence": verdict.evidence or {},
        "checked_at": verdict.checked_at.isoformat() if verdict.checked_at else None,
    }
    if verdict.status == "invalid":
        text = _("Re-verified now: the mail server rejects %(address)s (%(reason)s).")
        return RecheckOutcome.AGREES, result, text % {"address": address, "reason": verdict.reason}
    if verdict.status == "valid":
        text = _("Re-verified now: the mail server still accepts %(address)s.")
        return RecheckOutcome.DISAGREES, result, text % {"address": address}
    if verdict.reason in OUTAGE_REASONS or verdict.status == "unknown":
        text = _(
            "The re-check could not reach the mail system (%(reason)s); staff will decide. "
            "An outage is never held against you."
        )
        return RecheckOutcome.COULD_NOT_RUN, result, text % {"reason": verdict.reason or "unknown"}
    text = _("Re-verified now: inconclusive (%(status)s); staff will decide.")
    return RecheckOutcome.DISAGREES, result, text % {"status": verdict.status}


def _criteria_mismatches(criteria: SegmentCriteria, company: dict[str, Any]) -> list[str]:
    """The criteria the delivered company (snapshot) fails. A field the snapshot lacks is never
    counted as a failure: only a known value can be outside the criteria."""
    misses: list[str] = []

    def known(key: str) -> Any:
        value = company.get(key)
        return None if value in (None, "") else value

    if criteria.countries and known("country") and company["country"] not in criteria.countries:
        misses.append(_("country %(value)s") % {"value": company["country"]})
    if (
        criteria.industries
        and criteria.industry_scope == "primary"
        and known("nace_primary") is not None
        and int(company["nace_primary"]) not in criteria.nace_classes
    ):
        misses.append(_("industry %(value)s") % {"value": company["nace_primary"]})
    if criteria.regions and known("region") and company["region"] not in criteria.regions:
        misses.append(_("region %(value)s") % {"value": company["region"]})
    if (
        criteria.municipalities
        and known("municipality")
        and company["municipality"] not in criteria.municipalities
    ):
        misses.append(_("municipality %(value)s") % {"value": company["municipality"]})
    if criteria.postcode_prefixes and known("postcode"):
        compact = "".join(str(company["postcode"]).split()).upper()
        if not any(compact.startswith(p) for p in criteria.postcode_prefixes):
            misses.append(_("postcode %(value)s") % {"value": company["postcode"]})
    low, high = known("employees_min"), known("employees_max")
    if criteria.employees_min is not None and high is not None and high < criteria.employees_min:
        misses.append(_("at most %(value)s employees") % {"value": high})
    if criteria.employees_max is not None and low is not None and low > criteria.employees_max:
        misses.append(_("at least %(value)s employees") % {"value": low})
    if (
        criteria.size_bands
        and known("size_band")
        and company["size_band"] not in criteria.size_bands
    ):
        misses.append(_("size band %(value)s") % {"value": company["size_band"]})
    if (
        criteria.legal_forms
        and known("legal_form")
        and company["legal_form"] not in criteria.legal_forms
    ):
        misses.append(_("legal form %(value)s") % {"value": company["legal_form"]})
    if criteria.name_keywords and known("name"):
        name = str(company["name"]).casefold()
        if not any(k.casefold() in name for k in criteria.name_keywords):
            misses.append(_("name %(value)s") % {"value": company["name"]})
    return misses


def _check_outside_criteria(
    *, organization: Organization, event: UsageEvent, lead: Lead | None
) -> Check:
    segment_id = event.segment_id or (lead.segment_id if lead else None)
    segment = (
        Segment.objects.for_org(organization).filter(pk=segment_id).first() if segment_id else None
    )
    if lead is None or segment is None:
        return (
            RecheckOutcome.COULD_NOT_RUN,
            {"check": "outside_criteria"},
            _("The lead or its segment no longer exists; staff will decide."),
        )
    if segment.updated_at > event.occurred_at:
        # The criteria then are not stored: a segment edited since cannot be judged by machine.
        return (
            RecheckOutcome.COULD_NOT_RUN,
            {"check": "outside_criteria", "segment_id": segment.pk},
            _("The segment was edited after the delivery; staff will compare by hand."),
        )
    try:
        criteria = SegmentCriteria.from_dict(segment.criteria)
    except CriteriaError:
        return (
            RecheckOutcome.COULD_NOT_RUN,
            {"check": "outside_criteria", "segment_id": segment.pk},
            _("The segment's criteria can no longer be read; staff will decide."),
        )
    misses = _criteria_mismatches(criteria, lead.company_snapshot or {})
    result = {"check": "outside_criteria", "segment_id": segment.pk, "mismatches": misses}
    if misses:
        text = _("The company as delivered is outside the segment %(segment)s: %(misses)s.")
        return (
            RecheckOutcome.AGREES,
            result,
            text % {"segment": segment.name, "misses": ", ".join(misses)},
        )
    text = _("The company as delivered matches every criterion of the segment %(segment)s.")
    return RecheckOutcome.DISAGREES, result, text % {"segment": segment.name}


def _check_duplicate(*, organization: Organization, lead: Lead | None) -> Check:
    if lead is None:
        return (
            RecheckOutcome.COULD_NOT_RUN,
            {"check": "duplicate"},
            _("The lead no longer exists; staff will decide."),
        )
    same = Q()
    if lead.person_id:
        same |= Q(person_id=lead.person_id)
    if lead.company_id:
        same |= Q(company_id=lead.company_id)
    snapshot = lead.company_snapshot or {}
    if snapshot.get("country") and snapshot.get("registry_id"):
        same |= Q(
            company_snapshot__country=snapshot["country"],
            company_snapshot__registry_id=snapshot["registry_id"],
        )
    earlier = (
        Lead.objects.for_org(organization)
        .filter(same, created_at__lt=lead.created_at)
        .exclude(pk=lead.pk)
        .order_by("created_at")
        .first()
        if same
        else None
    )
    if earlier is not None:
        text = _("An earlier lead (%(id)s, %(name)s at %(company)s, %(day)s) is the same %(what)s.")
        what = (
            _("person")
            if earlier.person_id and earlier.person_id == lead.person_id
            else _("company")
        )
        return (
            RecheckOutcome.AGREES,
            {"check": "duplicate", "earlier_lead_id": earlier.pk},
            text
            % {
                "id": earlier.pk,
                "name": earlier.person_name,
                "company": earlier.company_name,
                "day": f"{earlier.created_at:%Y-%m-%d}",
                "what": what,
            },
        )
    return (
        RecheckOutcome.DISAGREES,
        {"check": "duplicate"},
        _("No earlier lead of this person or company was delivered to you."),
    )


def _block_keys(lead: Lead) -> Q:
    """The block entries that would have excluded this lead, by what it was delivered with."""
    company = lead.company_snapshot or {}
    keys = Q(kind=BlockKind.PERSON, person_id=lead.person_id) if lead.person_id else Q(pk=None)

    def add(kind: str, make: Callable[[], str]) -> None:
        nonlocal keys
        try:
            value = make()
        except (InvalidIdentifier, ValueError, TypeError):
            return
        if value:
            keys |= Q(kind=kind, value=value)

    if company.get("registry_id"):
        add(
            BlockKind.COMPANY,
            lambda: normalize_registry_id(
                str(company["registry_id"]), country=str(company.get("country") or "")
            ),
        )
    if company.get("website_domain"):
        add(BlockKind.DOMAIN, lambda: normalize_domain(str(company["website_domain"])))
    add(BlockKind.COMPANY_NAME, lambda: normalize_company_name(lead.company_name))
    if lead.contact_kind == "email":
        add(BlockKind.EMAIL, lambda: normalize_email(lead.contact_value))
        add(BlockKind.DOMAIN, lambda: normalize_domain(lead.contact_value.rsplit("@", 1)[-1]))
    elif lead.contact_kind == "phone":
        add(
            BlockKind.PHONE,
            lambda: normalize_phone(lead.contact_value, country=str(company.get("country") or "")),
        )
    return keys


def _check_blocked(*, organization: Organization, event: UsageEvent, lead: Lead | None) -> Check:
    if lead is None:
        return (
            RecheckOutcome.COULD_NOT_RUN,
            {"check": "blocked"},
            _("The lead no longer exists; staff will decide."),
        )
    entries = BlockEntry.objects.for_org(organization).filter(_block_keys(lead))
    before = entries.filter(created_at__lt=event.occurred_at).order_by("created_at").first()
    if before is not None:
        text = _("Your block list named this lead before it was delivered: %(kind)s %(value)s.")
        return (
            RecheckOutcome.AGREES,
            {"check": "blocked", "block_entry_id": before.pk, "kind": before.kind},
            text % {"kind": before.get_kind_display(), "value": before.value},
        )
    later = entries.exists()
    text = (
        _("The block entry was added after the delivery; the lead was not blocked then.")
        if later
        else _("Nothing on your block list named this lead when it was delivered.")
    )
    return RecheckOutcome.DISAGREES, {"check": "blocked", "added_later": later}, text


def dispute_recheck(
    *,
    organization: Organization,
    dispute_id: int,
    email_verify: EmailVerify | None = None,
) -> Dispute | None:
    """Re-check an open dispute of an objective reason and record the outcome (billing accepts it
    when the check agrees). Returns the dispute, or None when there was nothing to check.
    Idempotent: a decided or staff-bound dispute is left alone. The SMTP/DNS probe of a bounce
    runs outside any transaction."""
    dispute = dispute_recheck_begin(organization=organization, dispute_id=dispute_id)
    if dispute is None:
        return None
    event = dispute.usage_event
    lead = Lead.objects.for_org(organization).filter(pk=dispute.lead_id).first()
    check: Check
    if dispute.reason == DisputeReason.BOUNCED:
        check = _check_bounced(event=event, verify=email_verify or email_verify_default)
    elif dispute.reason == DisputeReason.OUTSIDE_CRITERIA:
        check = _check_outside_criteria(organization=organization, event=event, lead=lead)
    elif dispute.reason == DisputeReason.DUPLICATE:
        check = _check_duplicate(organization=organization, lead=lead)
    else:
        check = _check_blocked(organization=organization, event=event, lead=lead)
    outcome, result, text = check
    return _finish(
        organization=organization,
        dispute_id=dispute.pk,
        outcome=outcome,
        result=result,
        text=text,
    )


def lead_reject_and_dispute(
    *,
    organization: Organization,
    lead_ids: Sequence[int],
    rejected_by: User | None,
    reason: str,
    note: str = "",
    dispute: bool = False,
    now: dt.datetime | None = None,
) -> tuple[list[Lead], list[Dispute], list[str]]:
    """Reject leads and, when `dispute` is set and the rejection reason says the lead is wrong
    (REJECTION_DISPUTE_REASONS), dispute each one's charge. Returns (leads, disputes opened,
    problems): a lead that cannot be disputed (already disputed, credited, window passed) is
    still rejected and named in `problems`. Raises like leads_reject."""
    leads = leads_reject(
        organization=organization,
        lead_ids=lead_ids,
        rejected_by=rejected_by,
        reason=reason,
        note=note,
    )
    opened: list[Dispute] = []
    problems: list[str] = []
    dispute_reason = REJECTION_DISPUTE_REASONS.get(reason)
    if not dispute or dispute_reason is None:
        return leads, opened, problems
    label = RejectionReason(reason).label
    for lead in leads:
        try:
            opened.append(
                dispute_open(
                    organization=organization,
                    lead_id=lead.pk,
                    reason=dispute_reason,
                    note=note
                    or _("Rejected in the approval queue: %(reason)s") % {"reason": label},
                    created_by=rejected_by,
                    now=now,
                )
            )
        except (DisputeConflict, UsageEvent.DoesNotExist) as exc:
            problems.append(f"{lead.person_name}: {exc}")
    return leads, opened, problems


__all__ = [
    "REJECTION_DISPUTE_REASONS",
    "dispute_recheck",
    "email_verify_default",
    "lead_reject_and_dispute",
]
