"""CRM exports: an organisation's leads as CSV in the columns HubSpot's and Pipedrive's importers
map by themselves (docs/api.md, "CRM export").

Contract:
- Only the organisation's own leads, through `selectors.leads_of_organization` with the leads
  list's filters (status, segment, search), newest first.
- Streamed: leads are read in keyset chunks of CHUNK (`id < last id`), so 100,000 leads never sit
  in memory at once; two queries per chunk (the leads, their registry roles) plus one for the
  registers' last imports.
- Every row says where the person and the contact came from, in words the customer can repeat to
  the person (docs/privacy.md): the register, its file and import date, or the company page that
  names them; the contact's origin and its verification with the date (the charge's sentences).
- Formula-safe: every cell goes through the block-list export's helper (a cell starting with
  = + - @ TAB or CR gets a leading apostrophe; a plain number such as an E.164 phone stays).
- UTF-8 with a BOM, so Excel opens Nordic names correctly; CRLF line ends.
- The language and time zone are fixed when the export starts (the request's language, the
  organisation's zone): the dashboard and the API answer the same bytes for the same filters.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from django.http import StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from blocklists.csv_io import csv_cell_formula_safe
from enrichment.evidence import charge_sentences
from enrichment.models import ImportRun, ImportStatus, Role, RoleKind
from organizations.models import Organization

from .models import Lead
from .selectors import leads_of_organization

CHUNK = 500

# (header, value key). The standard headers are the importers' own field names, so they map
# without a click; the LeadPilot ones map to custom fields of the same name.
CRM_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "hubspot": (
        ("First Name", "first_name"),
        ("Last Name", "last_name"),
        ("Email", "email"),
        ("Phone Number", "phone"),
        ("Company Name", "company"),
        ("Company Domain Name", "domain"),
        ("Job Title", "job_title"),
        ("LeadPilot Registry ID", "registry_id"),
        ("LeadPilot Lead ID", "lead_id"),
        ("LeadPilot Lead Date", "lead_date"),
        ("LeadPilot Person Source", "person_source"),
        ("LeadPilot Contact Source", "contact_source"),
        ("LeadPilot Verified On", "verified_on"),
    ),
    "pipedrive": (
        ("Person - Name", "full_name"),
        ("Person - First name", "first_name"),
        ("Person - Last name", "last_name"),
        ("Person - Email", "email"),
        ("Person - Phone", "phone"),
        ("Person - Job title", "job_title"),
        ("Organization - Name", "company"),
        ("Organization - Website", "domain"),
        ("Organization - LeadPilot registry ID", "registry_id"),
        ("Person - LeadPilot lead ID", "lead_id"),
        ("Person - LeadPilot lead date", "lead_date"),
        ("Person - LeadPilot person source", "person_source"),
        ("Person - LeadPilot contact source", "contact_source"),
        ("Person - LeadPilot verified on", "verified_on"),
    ),
}
CRMS = tuple(CRM_COLUMNS)
CRM_CHOICES = [("hubspot", "HubSpot"), ("pipedrive", "Pipedrive")]


def _last_imports() -> dict[int, ImportRun]:
    """Each register's last successful import (a handful of sources: one query)."""
    # Oldest first, so each source keeps its newest run; no DISTINCT ON, which SQLite (make run's
    # embedded default) does not have.
    runs = ImportRun.objects.filter(status=ImportStatus.SUCCEEDED).order_by("started_at", "id")
    return {run.source_id: run for run in runs}


def _roles_of(leads: Sequence[Lead]) -> dict[tuple[int | None, int | None], Role]:
    """The directory role behind each lead, chosen as the lead page does (current first)."""
    pairs = {(lead.person_id, lead.company_id) for lead in leads}
    pairs = {p for p in pairs if p[0] is not None and p[1] is not None}
    if not pairs:
        return {}
    roles = (
        Role.objects.filter(
            person_id__in={p for p, _c in pairs}, company_id__in={c for _p, c in pairs}
        )
        .select_related("source")
        .order_by("-is_current", "id")
    )
    found: dict[tuple[int | None, int | None], Role] = {}
    for role in roles:
        key = (role.person_id, role.company_id)
        if key in pairs:
            found.setdefault(key, role)
    return found


def _person_source(role: Role | None, imports: dict[int, ImportRun]) -> str:
    """The lead page's sentence (`selectors.lead_person_source`), with the register's file."""
    if role is None:
        return ""
    details = role.details or {}
    if details.get("source") == "website" and details.get("source_url"):
        return _("Named on the company's website, %(url)s (read %(date)s).") % {
            "url": details["source_url"],
            "date": f"{role.updated_at:%d %b %Y}",
        }
    if role.source is None:
        return ""
    values = {"role": role.get_kind_display(), "register": role.source.name}
    run = imports.get(role.source_id or 0)
    if run is None:
        return _("Listed as %(role)s in %(register)s.") % values
    return _("Listed as %(role)s in %(register)s (file %(file)s), imported %(date)s.") % {
        **values,
        "file": run.file_name,
        "date": f"{run.started_at:%d %b %Y}",
    }


def _names(lead: Lead) -> tuple[str, str]:
    person = lead.person_snapshot or {}
    first, last = str(person.get("first_name") or ""), str(person.get("last_name") or "")
    if not first and not last:
        first, _sep, last = lead.person_name.rpartition(" ")
        if not first:
            first, last = last, ""
    return first, last


def _values(lead: Lead, role: Role | None, imports: dict[int, ImportRun]) -> dict[str, str]:
    company = lead.company_snapshot or {}
    evidence = lead.evidence or {}
    first, last = _names(lead)
    domain = str(company.get("website_domain") or "")
    if not domain and lead.contact_kind == "email":
        domain = lead.contact_value.rpartition("@")[2]
    registry = " ".join(str(company.get(k) or "") for k in ("country", "registry_id")).strip()
    kind = lead.role_kind or str((lead.person_snapshot or {}).get("role_kind") or "")
    return {
        "full_name": lead.person_name,
        "first_name": first,
        "last_name": last,
        "email": lead.contact_value if lead.contact_kind == "email" else "",
        "phone": lead.contact_value if lead.contact_kind == "phone" else "",
        "company": lead.company_name,
        "domain": domain,
        "job_title": str(RoleKind(kind).label) if kind in RoleKind.values else kind,
        "registry_id": registry,
        "lead_id": str(lead.id),
        "lead_date": timezone.localtime(lead.created_at).date().isoformat(),
        "person_source": _person_source(role, imports),
        "contact_source": " ".join(
            charge_sentences(
                evidence=evidence,
                person=lead.person_snapshot or {},
                company=company,
            )
        ),
        "verified_on": timezone.localtime(lead.verified_at).date().isoformat(),
    }


def leads_crm_export_lines(
    *,
    organization: Organization,
    crm: str,
    status: str | None = None,
    segment_id: int | None = None,
    search: str = "",
    language: str | None = None,
) -> Iterator[str]:
    """The CSV in pieces (the header with the BOM, then one piece per chunk of leads). Lazy: no
    query runs before the first piece is asked for. Raises KeyError for an unknown `crm`."""
    columns = CRM_COLUMNS[crm]
    leads = leads_of_organization(
        organization=organization, status=status, segment_id=segment_id, search=search
    )
    language = language or translation.get_language()
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def rows(cells: list[list[str]]) -> str:
        buffer.seek(0)
        buffer.truncate(0)
        writer.writerows(cells)
        return buffer.getvalue()

    def pieces() -> Iterator[str]:
        yield "\ufeff" + rows([[header for header, _key in columns]])
        imports: dict[int, ImportRun] | None = None
        last_id: int | None = None
        while True:
            chunk_qs = leads if last_id is None else leads.filter(id__lt=last_id)
            chunk = list(chunk_qs[:CHUNK])
            if not chunk:
                return
            last_id = chunk[-1].id
            if imports is None:
                imports = _last_imports()
            roles = _roles_of(chunk)
            # Overridden per chunk, not across a yield: the thread's language and zone are the
            # caller's again while the server writes the piece.
            with translation.override(language), timezone.override(organization.tz):
                cells = []
                for lead in chunk:
                    values = _values(lead, roles.get((lead.person_id, lead.company_id)), imports)
                    cells.append([csv_cell_formula_safe(values[key]) for _header, key in columns])
            yield rows(cells)
            if len(chunk) < CHUNK:
                return

    return pieces()


def leads_crm_export_response(
    *,
    organization: Organization,
    crm: str,
    status: str | None = None,
    segment_id: int | None = None,
    search: str = "",
) -> StreamingHttpResponse:
    """The CRM export as a streamed CSV download (the dashboard's and the API's answer alike)."""
    response = StreamingHttpResponse(
        leads_crm_export_lines(
            organization=organization,
            crm=crm,
            status=status,
            segment_id=segment_id,
            search=search,
        ),
        content_type="text/csv; charset=utf-8",
    )
    filename = f"{organization.slug}-leads-{crm}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
