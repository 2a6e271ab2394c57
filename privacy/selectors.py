"""Reads of privacy work: the access report (everything held about a person, with the source of
every field) and the records of processing.

Every value in the report carries `source`: where it came from and when (a registry file and its
import date, a website URL and the date it was read, a verification and its date). Staff only:
the report names the organisations that received the person, across tenants (`all_orgs`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from blocklists.models import DeliveryRecord, Suppression
from blocklists.normalize import identifier_hash
from enrichment.models import (
    ContactOrigin,
    ContactPoint,
    ImportRun,
    ImportStatus,
    Person,
    Role,
    Source,
)
from leads.models import Lead
from organizations.models import Organization

from .models import DpaAcceptance

PERSON_FIELDS = ("full_name", "first_name", "middle_name", "last_name", "birth_year", "country")


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _import_run_of(*, source_id: int | None, seen_at: dt.datetime) -> ImportRun | None:
    """The registry file that brought a row: the source's last successful run started before the
    row was written (the run that wrote it)."""
    if source_id is None:
        return None
    runs: QuerySet[ImportRun] = ImportRun.objects.filter(
        source_id=source_id, status=ImportStatus.SUCCEEDED, started_at__lte=seen_at
    )
    return runs.order_by("-started_at").first()


def _registry_source(*, role: Role | None, seen_at: dt.datetime) -> dict[str, Any]:
    details = (role.details or {}) if role is not None else {}
    if role is not None and details.get("source") == "website":
        # A person the company's own site names (enrichment/people.py), with the page's URL.
        return {
            "kind": "website",
            "detail": str(details.get("source_url") or ""),
            "date": _iso(role.updated_at),
        }
    if role is None or role.source is None:
        return {"kind": "directory", "detail": "entered into the directory", "date": _iso(seen_at)}
    run = _import_run_of(source_id=role.source_id, seen_at=seen_at)
    return {
        "kind": "registry",
        "detail": role.source.name,
        "file": run.file_name if run else "",
        "date": _iso(run.finished_at or run.started_at) if run else _iso(seen_at),
    }


def _contact_source(contact: ContactPoint) -> dict[str, Any]:
    evidence = contact.evidence or {}
    if contact.origin == ContactOrigin.WEBSITE:
        return {
            "kind": "website",
            "detail": contact.attribution_source or evidence.get("url", ""),
            "date": _iso(contact.created_at),
        }
    if contact.origin == ContactOrigin.REGISTRY:
        return {
            "kind": "registry",
            "detail": contact.attribution_source or "registry file",
            "date": _iso(contact.created_at),
        }
    return {
        "kind": "derived",
        "detail": f"built from the name and the domain ({contact.get_origin_display()})",
        "date": _iso(contact.created_at),
    }


def _verification(contact: ContactPoint) -> dict[str, Any]:
    return {
        "value": contact.status,
        "source": {
            "kind": "verification",
            "detail": contact.reason or contact.get_status_display(),
            "date": _iso(contact.verified_at or contact.created_at),
        },
    }


def person_access_report(*, person_id: int, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything held about a person, each value with its source; the organisations that
    received them as leads, and when. Raises Person.DoesNotExist."""
    now = now or timezone.now()
    person = Person.objects.get(pk=person_id)
    roles = list(
        Role.objects.filter(person=person).select_related("company", "source").order_by("id")
    )
    first_role = roles[0] if roles else None
    person_source = _registry_source(role=first_role, seen_at=person.created_at)
    fields = {
        name: {"value": getattr(person, name), "source": person_source}
        for name in PERSON_FIELDS
        if getattr(person, name) not in ("", None)
    }
    role_rows = [
        {
            "company": {"value": f"{r.company.name} ({r.company.country} {r.company.registry_id})"},
            "role": {"value": r.get_kind_display()},
            "started_on": {"value": _iso(r.started_on)},
            "ended_on": {"value": _iso(r.ended_on)},
            "is_current": {"value": r.is_current},
        }
        for r in roles
    ]
    for row, role in zip(role_rows, roles, strict=True):
        source = _registry_source(role=role, seen_at=role.updated_at)
        for value in row.values():
            value["source"] = source
    contacts = []
    for c in ContactPoint.objects.filter(person=person).order_by("id"):
        source = _contact_source(c)
        contacts.append(
            {
                "kind": {"value": c.kind, "source": source},
                "value": {"value": c.value, "source": source},
                "attribution": {
                    "value": c.attribution,
                    "source": {
                        "kind": "website" if c.attribution_source.startswith("http") else "rule",
                        "detail": c.attribution_source or "no source names the person for it",
                        "date": _iso(c.created_at),
                    },
                },
                "verification": _verification(c),
            }
        )
    delivered = (
        DeliveryRecord.all_orgs.filter(person=person)
        .select_related("organization")
        .order_by("delivered_at")
    )
    statuses = dict(Lead.all_orgs.filter(person=person).values_list("id", "status"))
    recipients = [
        {
            "organization": d.organization.name,
            "delivered_at": _iso(d.delivered_at),
            "lead_id": d.lead_id,
            "lead_status": statuses.get(d.lead_id or 0, ""),
        }
        for d in delivered
    ]
    hashes = [identifier_hash(c.normalized) for c in ContactPoint.objects.filter(person=person)]
    return {
        "person_id": person.pk,
        "generated_at": _iso(now),
        "in_directory_since": _iso(person.created_at),
        "fields": fields,
        "roles": role_rows,
        "contact_points": contacts,
        "received_by": recipients,
        "suppressed": Suppression.objects.filter(identifier_hash__in=hashes).exists(),
        "controller": settings.LEADPILOT_PRIVACY_CONTROLLER,
    }


def access_report_values(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every (path, {"value", "source"}) of a report, for the readable page and the tests."""
    out: list[tuple[str, dict[str, Any]]] = []
    out += [(f"fields.{name}", v) for name, v in report["fields"].items()]
    for i, row in enumerate(report["roles"]):
        out += [(f"roles[{i}].{name}", v) for name, v in row.items()]
    for i, row in enumerate(report["contact_points"]):
        out += [(f"contact_points[{i}].{name}", v) for name, v in row.items()]
    return out


def records_of_processing() -> dict[str, Any]:
    """The records of processing (GDPR Art. 30) as the code defines them: data categories, where
    they come from, what they are used for, and how long they are kept; the registry sources with
    their last import; counts of what the directory holds now."""
    sources = [
        {
            "name": s.name,
            "country": s.country,
            "licence": s.licence,
            "last_import": _iso(
                ImportRun.objects.filter(source=s, status=ImportStatus.SUCCEEDED)
                .order_by("-started_at")
                .values_list("started_at", flat=True)
                .first()
            ),
        }
        for s in Source.objects.order_by("name")
    ]
    contact_days = settings.LEADPILOT_RETENTION_CONTACT_DAYS
    lead_days = settings.LEADPILOT_RETENTION_REJECTED_LEAD_DAYS
    categories = [
        {
            "category": "Decision-makers' names, birth year (Norway), roles",
            "source": "Company registers (bulk files: Companies House, Brønnøysund, Bolagsverket)",
            "purpose": "B2B prospecting for customers' segments (legitimate interest)",
            "retention": "As long as the register lists the role; replaced by each import",
        },
        {
            "category": "Business e-mail addresses and phone numbers, never delivered",
            "source": "Company websites; built from a domain's address pattern; registers",
            "purpose": "Finding the decision-maker's business contact",
            "retention": f"{contact_days} days after last found or verified",
        },
        {
            "category": "Verification evidence (DNS, SMTP replies, page URLs)",
            "source": "Our own verification",
            "purpose": "Proving a contact was valid when charged",
            "retention": f"{contact_days} days after the verification",
        },
        {
            "category": "Leads delivered to customers (name, contact, evidence)",
            "source": "The directory, at delivery",
            "purpose": "The customer's prospecting (the customer is controller of its copy)",
            "retention": f"Rejected or withdrawn: {lead_days} days after the decision",
        },
        {
            "category": "Charge snapshots (usage events)",
            "source": "The lead at delivery",
            "purpose": "Billing evidence, disputes (legal claims, bookkeeping)",
            "retention": "The bookkeeping period; append-only",
        },
        {
            "category": "Suppression list, opt-out requests",
            "source": "The person (opt-out page), erasure requests",
            "purpose": "Never contacting an objector again",
            "retention": "Indefinitely, as SHA-256 hashes only",
        },
    ]
    return {
        "categories": categories,
        "sources": sources,
        "counts": {
            "people": Person.objects.count(),
            "contact_points": ContactPoint.objects.filter(person__isnull=False).count(),
            "suppressed": Suppression.objects.count(),
        },
    }


def dpa_acceptances(*, organization: Organization) -> list[DpaAcceptance]:
    """Every version the organisation accepted, newest first."""
    return list(DpaAcceptance.objects.for_org(organization).order_by("-accepted_at"))


def dpa_current_accepted(*, organization: Organization) -> DpaAcceptance | None:
    from .services import DPA_VERSION

    return DpaAcceptance.objects.for_org(organization).filter(version=DPA_VERSION).first()
