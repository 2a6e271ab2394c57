"""The leads' webhook events (webhooks/events.py): what a receiver gets for a lead and a run.

Called inside the transaction that changes the lead or finishes the run, so the event commits or
rolls back with it. `data` uses the API's ids and names; the contact is the verified one charged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from organizations.models import Organization
from webhooks.events import events_emit

from ..models import Lead, SearchRun


def lead_event_data(lead: Lead) -> dict[str, Any]:
    company = lead.company_snapshot or {}
    person = lead.person_snapshot or {}
    return {
        "id": lead.pk,
        "status": lead.status,
        "segment_id": lead.segment_id,
        "search_run_id": lead.search_run_id,
        "company": {
            "name": lead.company_name,
            "country": company.get("country"),
            "registry_id": company.get("registry_id"),
            "website_domain": company.get("website_domain"),
        },
        "person": {
            "full_name": lead.person_name,
            "first_name": person.get("first_name"),
            "last_name": person.get("last_name"),
            "role": lead.role_kind,
        },
        "contact": {"kind": lead.contact_kind, "value": lead.contact_value},
        "verified_at": lead.verified_at,
        "scheduled_date": lead.scheduled_date,
        "decided_at": lead.decided_at,
        "rejection_reason": lead.rejection_reason or None,
    }


def leads_event_emit(*, organization: Organization, type: str, leads: Sequence[Lead]) -> None:
    """One event of `type` per lead (none for an empty list)."""
    if leads:
        events_emit(
            organization=organization, type=type, items=[lead_event_data(lead) for lead in leads]
        )


def search_run_completed_emit(*, organization: Organization, run: SearchRun) -> None:
    events_emit(
        organization=organization,
        type="search_run.completed",
        items=[
            {
                "id": run.pk,
                "segment_id": run.segment_id,
                "run_date": run.run_date,
                "status": run.status,
                "stop_reason": run.stop_reason,
                "failure_reason": run.failure_reason or None,
                "matched": run.matched,
                "verified": run.verified,
                "leads_created": run.leads_created,
                "charged": run.charged,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
            }
        ],
    )
