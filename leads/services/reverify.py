"""Evidence freshness. A verified contact is a fact about one moment; a lead whose evidence is
older than LEADPILOT_LEAD_EVIDENCE_MAX_AGE_DAYS is verified again before it is delivered (placed on
the calendar by the nightly search or by an approval).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from blocklists.selectors import contacts_excluded
from organizations.models import Organization

from ..models import Lead

ContactsFind = Callable[..., Mapping[tuple[int, int], Any]]


def evidence_max_age() -> dt.timedelta:
    return dt.timedelta(days=settings.LEADPILOT_LEAD_EVIDENCE_MAX_AGE_DAYS)


def contacts_find_default() -> ContactsFind:
    """The verification engine's entry point (contract B)."""
    from enrichment.services import decision_maker_contacts_find

    return decision_maker_contacts_find


def finding_checked_at(finding: Any, *, default: dt.datetime) -> dt.datetime:
    """When the finding's evidence was taken: evidence["checked_at"] if the engine gives it."""
    evidence = getattr(finding, "evidence", None) or {}
    raw = evidence.get("checked_at") if isinstance(evidence, dict) else None
    parsed = parse_datetime(raw) if isinstance(raw, str) else None
    if parsed is None or timezone.is_naive(parsed):
        return default
    return parsed


def finding_snapshot(finding: Any, *, checked_at: dt.datetime) -> dict[str, Any]:
    """The JSON proof kept on the lead and on its usage event ("why this lead was charged")."""
    return {
        "verified": bool(finding.verified),
        "kind": finding.kind,
        "value": finding.value,
        "status": finding.status,
        "reason": finding.reason,
        "flags": list(finding.flags or ()),
        "contact_point_id": finding.contact_point_id,
        "checked_at": checked_at.isoformat(),
        "evidence": finding.evidence or {},
    }


def lead_evidence_is_stale(*, lead: Lead, now: dt.datetime | None = None) -> bool:
    return (now or timezone.now()) - lead.verified_at > evidence_max_age()


def leads_reverify(
    *,
    organization: Organization,
    leads: Sequence[Lead],
    contacts_find: ContactsFind | None = None,
) -> list[Lead]:
    """Verify the leads' decision-makers again and refresh their evidence.

    Leads that still verify get the new contact and evidence (and verified_at = now); the others
    keep their old evidence plus a `reverification` note and are returned, as do leads whose
    contact is now on the organisation's block list or the suppression list. Idempotent.
    """
    if not leads:
        return []
    find = contacts_find or contacts_find_default()
    pairs = [(lead.company_id, lead.person_id) for lead in leads if lead.person_id]
    findings = find(candidates=pairs) if pairs else {}
    # The contact found now may be new, and the block list or the suppression list may have
    # grown since the lead was made: a contact on either is not delivered.
    excluded = contacts_excluded(
        organization=organization,
        contacts=[(f.kind, f.value) for f in findings.values() if f and f.verified and f.value],
    )
    now = timezone.now()
    failed: list[Lead] = []
    for lead in leads:
        finding = None
        if lead.company_id is not None and lead.person_id is not None:
            finding = findings.get((lead.company_id, lead.person_id))
        why = excluded.get((finding.kind, finding.value)) if finding is not None else None
        if finding is not None and finding.verified and why is None:
            checked_at = finding_checked_at(finding, default=now)
            lead.evidence = finding_snapshot(finding, checked_at=checked_at)
            lead.contact_kind = finding.kind or lead.contact_kind
            lead.contact_value = finding.value or lead.contact_value
            lead.contact_point_id = finding.contact_point_id
            lead.verified_at = checked_at
        else:
            failed.append(lead)
            lead.evidence = {
                **lead.evidence,
                "reverification": {
                    "at": now.isoformat(),
                    "verified": False,
                    "status": getattr(finding, "status", None),
                    "reason": (
                        f"{finding.kind} {why}"
                        if why and finding is not None
                        else getattr(finding, "reason", None) or "not_found"
                    ),
                },
            }
    Lead.objects.for_org(organization).bulk_update(
        list(leads), ["evidence", "contact_kind", "contact_value", "contact_point", "verified_at"]
    )
    return failed


def leads_reverify_scheduled(
    *,
    organization: Organization,
    on: dt.date,
    now: dt.datetime | None = None,
    contacts_find: ContactsFind | None = None,
) -> list[Lead]:
    """Morning of delivery: approved leads scheduled for `on` whose evidence is stale are verified
    again. Those that no longer verify go back to the approval queue (pending, no day) with the
    `reverification` note, so a person decides. Returns them. Idempotent."""
    from ..models import LeadStatus

    now = now or timezone.now()
    cutoff = now - evidence_max_age()
    stale = list(
        Lead.objects.for_org(organization).filter(
            status=LeadStatus.APPROVED, scheduled_date=on, verified_at__lt=cutoff
        )
    )
    failed = leads_reverify(organization=organization, leads=stale, contacts_find=contacts_find)
    for lead in failed:
        lead.status = LeadStatus.PENDING_APPROVAL
        lead.scheduled_date = None
    Lead.objects.for_org(organization).bulk_update(failed, ["status", "scheduled_date"])
    return failed
