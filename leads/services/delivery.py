"""Delivering verified candidates: the Lead, its delivery record, its usage event and its
candidate row, in one transaction under the billing-period lock (docs/nightly.md, step 4).

`leads_deliver` takes a chunk at once (one statement per table); `lead_deliver` is the same with
one item, used when a chunk hit a constraint and each candidate needs its own outcome.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing.models import UsageEventKind
from billing.services import (
    QuotaExhausted,
    billing_month_of,
    billing_period_lock,
    usage_events_record,
)
from blocklists.services import delivery_records_add
from enrichment.models import Company, Person
from leadpilot.db import bulk_create_values
from organizations.models import DeliveryMode, Organization
from segments.models import Segment, SegmentStatus

from ..models import (
    CandidateOutcome,
    Lead,
    LeadStatus,
    SearchCandidate,
    SearchRun,
)
from .calendar import calendar_lock, calendar_slots_take, calendar_today
from .reverify import finding_snapshot
from .webhook_events import leads_event_emit


def _company_snapshot(company: Company) -> dict[str, Any]:
    return {
        "id": company.id,
        "name": company.name,
        "country": company.country,
        "registry_id": company.registry_id,
        "legal_form": company.legal_form,
        "nace_primary": company.nace_primary,
        "size_band": company.size_band,
        "employees_min": company.employees_min,
        "employees_max": company.employees_max,
        "address": company.address,
        "postcode": company.postcode,
        "municipality": company.municipality,
        "region": company.region,
        "website_domain": company.website_domain,
        "phone": company.phone,
    }


def _person_snapshot(person: Person, role_kind: str) -> dict[str, Any]:
    return {
        "id": person.id,
        "full_name": person.full_name,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "role_kind": role_kind,
    }


class SegmentNotActive(Exception):
    """The run's segment was paused or archived since the run started: nothing more is delivered
    (or charged) for it. Raised with nothing written."""


@dataclass(frozen=True)
class Delivery:
    """One verified candidate to deliver as a lead."""

    company: Company
    person: Person
    role_kind: str
    finding: Any
    checked_at: dt.datetime


def lead_deliver(
    *,
    organization: Organization,
    run: SearchRun,
    company: Company,
    person: Person,
    role_kind: str,
    finding: Any,
    checked_at: dt.datetime,
    delivery_mode: str,
    now: dt.datetime | None = None,
) -> Lead:
    """Create the lead, its delivery record, its usage event and its candidate row: one transaction.

    Lock order: billing period, then calendar. In calendar mode the lead is approved and placed on
    the next free working day. Raises QuotaExhausted (nothing written) when the month is full,
    SegmentNotActive (nothing written) when the run's segment was paused or archived, and
    IntegrityError (nothing written) when the person was already delivered to the organisation or
    the run already tried this person.
    """
    (lead,) = leads_deliver(
        organization=organization,
        run=run,
        deliveries=[Delivery(company, person, role_kind, finding, checked_at)],
        delivery_mode=delivery_mode,
        now=now,
    )
    return lead


def leads_deliver(
    *,
    organization: Organization,
    run: SearchRun,
    deliveries: Sequence[Delivery],
    delivery_mode: str,
    now: dt.datetime | None = None,
    unverified: Sequence[tuple[int, int, str, str]] = (),
) -> list[Lead]:
    """lead_deliver for several verified candidates in one transaction under one period lock:
    as many as the month's quota has room for, in order (fewer leads than deliveries means the
    quota is now full). All or nothing otherwise: QuotaExhausted (nothing written) when there is
    no room at all, SegmentNotActive (nothing written) when the segment was paused or archived,
    IntegrityError (nothing written) when any person was delivered meanwhile or
    tried by this run already; the caller retries one by one to tell which.

    `unverified`: the chunk's other tried candidates, (company id, person id, outcome, reason),
    recorded in the same transaction (a row another worker wrote first wins); with no
    deliveries nothing is written and the caller records them.
    """
    for delivery in deliveries:
        if not delivery.finding.verified:
            raise ValueError("Only a verified contact becomes a lead")
    now = now or timezone.now()
    if not deliveries:
        return []
    with transaction.atomic():
        period = billing_period_lock(
            organization=organization,
            period_start=billing_month_of(organization=organization, at=now),
        )
        # The customer may pause or archive the segment while its run verifies. Locked after the
        # period (lock order): a pause waits for this chunk, and the next chunk sees it.
        active = (
            Segment.objects.for_org(organization)
            .select_for_update(no_key=True)
            .filter(pk=run.segment_id, status=SegmentStatus.ACTIVE)
            .values_list("pk", flat=True)
        )
        if not list(active):
            raise SegmentNotActive(f"segment {run.segment_id} is no longer active")
        if period.hard_cap:
            room = period.quota_included - period.units_net
            if room <= 0:
                raise QuotaExhausted(period)
            deliveries = deliveries[:room]
        status = LeadStatus.PENDING_APPROVAL
        slots: Sequence[dt.date | None] = [None] * len(deliveries)
        if delivery_mode == DeliveryMode.CALENDAR:
            calendar_lock(organization=organization)
            slots = calendar_slots_take(
                organization=organization,
                count=len(deliveries),
                start=calendar_today(organization=organization, now=now),
            )
            status = LeadStatus.APPROVED
        snapshots = [finding_snapshot(d.finding, checked_at=d.checked_at) for d in deliveries]
        leads: list[Lead] = bulk_create_values(
            Lead.objects,
            [
                Lead(
                    organization=organization,
                    segment_id=run.segment_id,
                    search_run=run,
                    company=d.company,
                    person=d.person,
                    contact_point_id=d.finding.contact_point_id,
                    company_name=d.company.name,
                    company_snapshot=_company_snapshot(d.company),
                    person_name=d.person.full_name,
                    role_kind=d.role_kind,
                    person_snapshot=_person_snapshot(d.person, d.role_kind),
                    contact_kind=d.finding.kind or "",
                    contact_value=d.finding.value or "",
                    evidence=snapshot,
                    verified_at=d.checked_at,
                    status=status,
                    scheduled_date=slot,
                    decided_at=now if status == LeadStatus.APPROVED else None,
                )
                for d, snapshot, slot in zip(deliveries, snapshots, slots, strict=True)
            ],
            via="evidence",
        )
        delivery_records_add(
            organization=organization,
            records=[
                (d.company.id, d.person.id, lead.id)
                for d, lead in zip(deliveries, leads, strict=True)
            ],
        )
        usage_events_record(
            organization=organization,
            charges=[(lead.id, snapshot) for lead, snapshot in zip(leads, snapshots, strict=True)],
            kind=UsageEventKind.FOUND,
            segment_id=run.segment_id,
            search_run_id=run.id,
            occurred_at=now,
            locked_period=period,
            new_leads=True,
        )
        bulk_create_values(
            SearchCandidate.objects,
            [
                SearchCandidate(
                    organization=organization,
                    run=run,
                    company_id=d.company.id,
                    person_id=d.person.id,
                    outcome=CandidateOutcome.LEAD,
                    lead=lead,
                )
                for d, lead in zip(deliveries, leads, strict=True)
            ],
            via="reason",
        )
        if unverified:
            candidates_record(organization=organization, run=run, rows=unverified)
        leads_event_emit(organization=organization, type="lead.created", leads=leads)
        if status == LeadStatus.APPROVED:
            leads_event_emit(organization=organization, type="lead.approved", leads=leads)
    return leads


def candidates_record(
    *, organization: Organization, run: SearchRun, rows: Sequence[tuple[int, int, str, str]]
) -> None:
    """Candidate outcomes that create nothing else, (company id, person id, outcome, reason) each;
    a row another worker wrote first wins (ON CONFLICT DO NOTHING on UNIQUE(run, person))."""
    bulk_create_values(
        SearchCandidate.objects,
        [
            SearchCandidate(
                organization=organization,
                run=run,
                company_id=company_id,
                person_id=person_id,
                outcome=outcome,
                reason=reason[:200],
            )
            for company_id, person_id, outcome, reason in rows
        ],
        via="reason",
        ignore_conflicts=True,
    )
