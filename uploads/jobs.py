"""The upload job (docs/uploads.md): each valid row through the engines the nightly search uses,
in chunks; charges through billing's one path (usage_events_record) under the period lock.

Company rows: match the directory (registry number, then domain, then name and place with a
confidence), pick the wanted decision-maker (the upload's roles, in order), find and verify a
contact with `enrichment.services.decision_maker_contacts_find`; a verified contact of someone
the organisation never received and has not blocked becomes a lead (the organisation's delivery
mode), its delivery record and an `enriched` charge, in one transaction. Contact rows: e-mail
addresses through the verification engine, phones through phonenumbers; a `valid` result is a
`verified` charge named by the row (no lead).

Idempotent and resumable: a chunk's rows are locked (FOR UPDATE, still pending) in the charge's
transaction, after the billing period (lock order), so a worker resumed after a kill, or a second
worker on the same upload, skips what another committed; billing's UNIQUE constraints back it.
Rows that find nothing, rows already delivered or blocked, and rows a hard cap left over are
recorded and never charged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import UsageEventKind
from billing.services import (
    QuotaExhausted,
    billing_month_of,
    billing_period_lock,
    usage_events_record,
)
from blocklists.models import BlockEntry, BlockKind, DeliveryRecord
from blocklists.normalize import name_key
from blocklists.selectors import contacts_excluded
from blocklists.services import delivery_records_add
from enrichment.models import Company, Person, Role
from enrichment.people import site_decision_makers_create
from leadpilot.db import bulk_create_values
from leads.models import Lead, LeadStatus
from leads.services.calendar import calendar_lock, calendar_slots_take, calendar_today
from leads.services.delivery import _company_snapshot, _person_snapshot
from leads.services.pipeline import finding_outage_reason
from leads.services.reverify import finding_checked_at, finding_snapshot
from organizations.models import DeliveryMode, Organization

from .models import RowOutcome, Upload, UploadKind, UploadRow, UploadStatus

logger = logging.getLogger(__name__)

# Role kinds a company's own site can give a decision-maker (enrichment.people).
SITE_ROLE_KINDS = frozenset({"ceo", "chair", "owner"})
# A name-and-place match below this confidence is not taken (reported as not found).
NAME_MATCH_MIN = 0.7

ContactsFind = Callable[..., dict[tuple[int, int], Any]]


def verification_config() -> Any:
    """The engine's configuration as the nightly search uses it (a bulk job: a server slower than
    its time-outs answers `unknown`, never charged)."""
    from enrichment.verification import Timeouts, VerificationConfig

    return VerificationConfig.from_settings(
        concurrency=settings.LEADPILOT_SEARCH_VERIFY_CONCURRENCY,
        timeouts=Timeouts(
            dns=settings.LEADPILOT_SEARCH_DNS_TIMEOUT,
            smtp_connect=settings.LEADPILOT_SEARCH_SMTP_TIMEOUT,
            smtp_command=settings.LEADPILOT_SEARCH_SMTP_TIMEOUT,
            http=settings.LEADPILOT_SEARCH_HTTP_TIMEOUT,
        ),
    )


class JobStop(Exception):
    """The job must stop now with this status and reason (quota, cancel)."""

    def __init__(self, status: str, reason: str) -> None:
        self.status, self.reason = status, reason
        super().__init__(reason)


@dataclass
class _Match:
    company: Company
    method: str
    confidence: float


@dataclass
class _RowPlan:
    """What a chunk decided for one row before anything is written."""

    row: UploadRow
    outcome: str = RowOutcome.NOT_FOUND
    reason: str = ""
    match: _Match | None = None
    person: Person | None = None
    role_kind: str = ""
    finding: Any = None
    result: dict[str, Any] = field(default_factory=dict)


# ---- matching ---------------------------------------------------------------------------------


class _NameKey(Func):
    function = "lp_name_key"


def _companies_match(rows: Sequence[UploadRow]) -> dict[int, _Match]:
    """Row id -> its company: by registry number, else domain, else name and place. Three
    queries at most for the chunk."""
    values = {row.id: (row.result or {}).get("values", {}) for row in rows}
    matches: dict[int, _Match] = {}
    by_id = {
        (v["country"], v["registry_id"]): rid
        for rid, v in values.items()
        if v.get("registry_id") and v.get("country")
    }
    if by_id:
        q = Q()
        for country, registry_id in by_id:
            q |= Q(country=country, registry_id=registry_id)
        for company in Company.objects.filter(q):
            rid = by_id.get((company.country, company.registry_id))
            if rid is not None:
                matches[rid] = _Match(company, "identifier", 1.0)
    by_domain: dict[str, list[int]] = {}
    for rid, v in values.items():
        if rid not in matches and v.get("domain"):
            by_domain.setdefault(v["domain"], []).append(rid)
    if by_domain:
        found = Company.objects.filter(
            Q(website_domain__in=by_domain) | Q(email_domain__in=by_domain)
        ).order_by("id")
        for company in found:
            for domain, confidence in (
                (company.website_domain, 0.95),
                (company.email_domain, 0.85),
            ):
                for rid in by_domain.get(domain, ()):
                    if rid not in matches or matches[rid].confidence < confidence:
                        matches[rid] = _Match(company, "domain", confidence)
    by_name: dict[str, list[int]] = {}
    for rid, v in values.items():
        if rid not in matches and v.get("name"):
            by_name.setdefault(name_key(v["name"]), []).append(rid)
    if by_name:
        found = Company.objects.annotate(key=_NameKey(F("name"))).filter(key__in=by_name)
        for company in found:
            for rid in by_name.get(company.key, ()):  # type: ignore[attr-defined]
                score = _place_score(values[rid], company)
                if score >= NAME_MATCH_MIN and (
                    rid not in matches or matches[rid].confidence < score
                ):
                    matches[rid] = _Match(company, "name", score)
    return matches


def _place_score(values: dict[str, str], company: Company) -> float:
    """Confidence of a name match: the same name key, plus the place agreeing."""
    score = 0.5
    postcode = values.get("postcode", "").replace(" ", "").upper()
    if postcode and postcode == company.postcode.replace(" ", "").upper():
        score += 0.4
    elif postcode and company.postcode_prefix and postcode.startswith(company.postcode_prefix):
        score += 0.2
    city = name_key(values.get("city", ""))
    if city and city in (name_key(company.municipality), name_key(company.region)):
        score += 0.3
    if values.get("country") and values["country"] != company.country:
        score -= 0.5
    return round(min(score, 0.99), 2)


def _decision_makers(companies: Iterable[int], roles: Sequence[str]) -> dict[int, Role]:
    """Company id -> its current role holder with the most wanted of `roles`."""
    rank = {kind: i for i, kind in enumerate(roles)}
    best: dict[int, Role] = {}
    found = Role.objects.filter(company_id__in=set(companies), kind__in=roles, is_current=True)
    for role in found.select_related("person").order_by("id"):
        held = best.get(role.company_id)
        if held is None or rank[role.kind] < rank[held.kind]:
            best[role.company_id] = role
    return best


def _companies_blocked(organization: Organization, companies: Iterable[Company]) -> set[int]:
    """Companies the organisation's block list names by registry id, domain or name."""
    companies = list(companies)
    if not companies:
        return set()
    keys = {
        c.id: {
            (BlockKind.COMPANY, f"{c.country}:{c.registry_id}"),
            (BlockKind.DOMAIN, c.website_domain),
            (BlockKind.DOMAIN, c.email_domain),
            (BlockKind.COMPANY_NAME, name_key(c.name)),
        }
        for c in companies
    }
    wanted = {value for pairs in keys.values() for _kind, value in pairs if value}
    blocked = set(
        BlockEntry.objects.for_org(organization)
        .filter(
            kind__in=(BlockKind.COMPANY, BlockKind.DOMAIN, BlockKind.COMPANY_NAME),
            value__in=wanted,
        )
        .values_list("kind", "value")
    )
    return {cid for cid, pairs in keys.items() if pairs & blocked}


# ---- the job ----------------------------------------------------------------------------------


def upload_process(
    *,
    organization: Organization,
    upload_id: int,
    contacts_find: ContactsFind | None = None,
    chunk: int | None = None,
) -> Upload:
    """Run (or resume) an upload's job until every valid row is processed, the month's hard cap
    stops it, or the customer cancels. Idempotent: a finished upload is returned as it is; rows
    already processed are skipped. Emits `upload.completed` (webhooks) with the status change."""
    chunk = chunk or settings.LEADPILOT_UPLOAD_CHUNK
    with transaction.atomic():
        upload = Upload.objects.for_org(organization).select_for_update().get(pk=upload_id)
        if upload.status not in (UploadStatus.QUEUED, UploadStatus.RUNNING):
            return upload
        upload.status = UploadStatus.RUNNING
        upload.save(update_fields=["status"])
    if contacts_find is None:
        from enrichment.services import decision_maker_contacts_find

        contacts_find = decision_maker_contacts_find
    pending = UploadRow.objects.for_org(organization).filter(
        upload_id=upload_id, outcome=RowOutcome.PENDING
    )
    # Chunks run on a thread pool, each with its own database connection, and are written as
    # they return: a slow mail server (tarpit, time-outs) holds up only its own chunk. Pool
    # threads cannot see a caller's uncommitted rows (a test's transaction) and the embedded
    # SQLite has one writer: there, chunk after chunk on this thread.
    inline = transaction.get_connection().in_atomic_block or connection.vendor == "sqlite"
    threads = 1 if inline else max(1, settings.LEADPILOT_UPLOAD_THREADS)
    executor = _InlineExecutor() if inline else ThreadPoolExecutor(max_workers=threads)
    in_flight: set[Future] = set()
    stop: JobStop | None = None
    after = 0
    try:
        while True:
            cancelled = (
                Upload.objects.for_org(organization)
                .filter(pk=upload_id, cancel_requested=True)
                .exists()
            )
            if cancelled and stop is None:
                stop = JobStop(UploadStatus.CANCELLED, _("Cancelled by you."))
            while stop is None and len(in_flight) < threads:
                rows = list(pending.filter(line__gt=after).order_by("line")[:chunk])
                if not rows:
                    break
                after = rows[-1].line
                in_flight.add(
                    executor.submit(
                        _chunk_run, organization, upload, rows, contacts_find, not inline
                    )
                )
            if not in_flight:
                break
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    future.result()
                except JobStop as exc:
                    stop = stop or exc
                except DatabaseError:
                    raise  # connection trouble: the task retries and the job resumes
                except Exception as exc:
                    # A bug or a bad row, not a passing outage: the job says so instead of
                    # staying "running"; what was committed stays (and stays charged once).
                    logger.exception("upload %s: a chunk failed", upload_id)
                    stop = stop or JobStop(
                        UploadStatus.FAILED,
                        _("The job stopped on an error (%(error)s); rows done are kept.")
                        % {"error": exc.__class__.__name__},
                    )
    finally:
        executor.shutdown(wait=True)
    if stop is not None:
        return _finish(organization, upload_id, stop.status, stop.reason)
    return _finish(organization, upload_id, UploadStatus.COMPLETED, "")


class _InlineExecutor:
    """The executor interface, running each call at once on the calling thread."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def shutdown(self, *, wait: bool = True) -> None:
        return None


def _chunk_run(
    organization: Organization,
    upload: Upload,
    rows: list[UploadRow],
    find: ContactsFind,
    own_connection: bool,
) -> None:
    try:
        if upload.kind == UploadKind.COMPANIES:
            _companies_chunk(organization, upload, rows, find)
        else:
            _contacts_chunk(organization, upload, rows)
    finally:
        if own_connection:
            connection.close()  # this pool thread's; a pooled one goes back to the pool


def _finish(organization: Organization, upload_id: int, status: str, reason: str) -> Upload:
    with transaction.atomic():
        upload = Upload.objects.for_org(organization).select_for_update().get(pk=upload_id)
        if upload.is_finished:
            return upload
        if status == UploadStatus.STOPPED_QUOTA:
            # What the cap left over is said on each row, so the table and the CSV tell it.
            UploadRow.objects.for_org(organization).filter(
                upload_id=upload_id, outcome=RowOutcome.PENDING
            ).update(outcome=RowOutcome.QUOTA, reason=reason[:200])
        upload.status, upload.stop_reason = status, reason
        upload.finished_at = timezone.now()
        upload.save(update_fields=["status", "stop_reason", "finished_at"])
        _announce(organization, upload)
    return upload


def _announce(organization: Organization, upload: Upload) -> None:
    try:
        from webhooks.events import event_emit
    except ImportError:  # an installation without the webhooks app
        return
    event_emit(
        organization=organization,
        type="upload.completed",
        data={
            "id": upload.id,
            "kind": upload.kind,
            "status": upload.status,
            "stop_reason": upload.stop_reason,
            "rows_total": upload.rows_total,
            "rows_valid": upload.rows_valid,
            "rows_done": upload.rows_done,
            "rows_found": upload.rows_found,
            "rows_charged": upload.rows_charged,
        },
    )


def _companies_chunk(
    organization: Organization, upload: Upload, rows: list[UploadRow], find: ContactsFind
) -> None:
    plans = {row.id: _RowPlan(row=row) for row in rows}
    matches = _companies_match(rows)
    makers = _decision_makers({m.company.id for m in matches.values()}, upload.roles)
    companies = {m.company.id: m.company for m in matches.values()}
    unnamed = sorted(set(companies) - makers.keys())
    if unnamed and SITE_ROLE_KINDS & set(upload.roles):
        # The registry names no officer (Bolagsverket names none): the company's own site may
        # name its VD, as the night reads it (enrichment.people; the role keeps page and
        # confidence). An unreachable site changes nothing; the row then says no decision-maker.
        try:
            site_decision_makers_create(company_ids=unnamed, config=verification_config())
        except DatabaseError:
            raise
        except Exception:
            logger.exception("upload %s: reading company sites for people failed", upload.id)
        makers |= _decision_makers(unnamed, upload.roles)
    blocked = _companies_blocked(organization, companies.values())
    delivered_people, delivered_companies = set(), set()
    if matches:
        records = DeliveryRecord.objects.for_org(organization).filter(
            Q(company_id__in=companies) | Q(person_id__in={r.person_id for r in makers.values()})
        )
        for company_id, person_id in records.values_list("company_id", "person_id"):
            delivered_companies.add(company_id)
            delivered_people.add(person_id)
    pairs: list[tuple[int, int]] = []
    for rid, plan in plans.items():
        match = matches.get(rid)
        if match is None:
            plan.reason = _("no company in the directory matches this row")
            continue
        plan.match = match
        plan.result = {"company": match.company.name, "country": match.company.country}
        role = makers.get(match.company.id)
        if match.company.id in blocked:
            plan.outcome, plan.reason = RowOutcome.BLOCKED, _("the company is on your block list")
            continue
        if role is None:
            plan.outcome = RowOutcome.NO_DECISION_MAKER
            plan.reason = _("the registry names no %(roles)s") % {"roles": "/".join(upload.roles)}
            continue
        plan.person, plan.role_kind = role.person, role.kind
        plan.result |= {"person": role.person.full_name, "role": role.kind}
        if role.person_id in delivered_people or match.company.id in delivered_companies:
            plan.outcome = RowOutcome.ALREADY_DELIVERED
            plan.reason = _("you already received this company's decision-maker")
            continue
        pairs.append((match.company.id, role.person_id))
    findings = (
        find(
            candidates=list(dict.fromkeys(pairs)),
            config=verification_config(),
            directory=(companies, {p.person.id: p.person for p in plans.values() if p.person}),
        )
        if pairs
        else {}
    )
    excluded = contacts_excluded(
        organization=organization,
        contacts=[(f.kind, f.value) for f in findings.values() if f and f.verified and f.value],
    )
    chosen: set[tuple[int, int]] = set()
    for plan in plans.values():
        if plan.match is None or plan.person is None or plan.outcome != RowOutcome.NOT_FOUND:
            continue
        key = (plan.match.company.id, plan.person.id)
        finding = findings.get(key)
        plan.finding = finding
        if finding is None or not finding.verified:
            plan.outcome = RowOutcome.UNVERIFIED
            outage = finding_outage_reason(finding)
            plan.reason = (
                _("%(reason)s: the mail servers could not be asked; not charged")
                % {"reason": outage}
                if outage
                else str(getattr(finding, "reason", None) or getattr(finding, "status", "") or "")
                or _("no contact found")
            )
            plan.result |= {"status": getattr(finding, "status", None) or ""}
            continue
        plan.result |= {
            "contact_kind": finding.kind,
            "contact": finding.value,
            "status": finding.status,
        }
        why = excluded.get((finding.kind, finding.value))
        if why:
            plan.outcome = RowOutcome.BLOCKED
            plan.reason = _("the contact is %(why)s") % {"why": why}
            continue
        if key in chosen:  # two rows of the file matched the same company
            plan.outcome = RowOutcome.ALREADY_DELIVERED
            plan.reason = _("another row of this file matched the same company")
            continue
        chosen.add(key)
        plan.outcome = RowOutcome.FOUND
    _companies_write(organization, upload, list(plans.values()))


def _companies_write(organization: Organization, upload: Upload, plans: list[_RowPlan]) -> None:
    """One transaction: period lock, the chunk's rows still pending (locked), leads, delivery
    records and `enriched` charges for the found ones that fit the quota, every row's outcome."""
    now = timezone.now()
    delivery_mode = organization.delivery_mode
    with transaction.atomic():
        period = billing_period_lock(
            organization=organization,
            period_start=billing_month_of(organization=organization, at=now),
        )
        still = set(
            UploadRow.objects.for_org(organization)
            .select_for_update()
            .filter(id__in=[p.row.id for p in plans], outcome=RowOutcome.PENDING)
            .values_list("id", flat=True)
        )
        plans = [p for p in plans if p.row.id in still]
        found = [p for p in plans if p.outcome == RowOutcome.FOUND]
        stop: JobStop | None = None
        if period.hard_cap:
            room = max(0, period.quota_included - period.units_net)
            if len(found) > room:
                for plan in found[room:]:
                    plan.outcome = RowOutcome.PENDING  # left for the quota outcome below
                found = found[:room]
                stop = JobStop(
                    UploadStatus.STOPPED_QUOTA,
                    _("Stopped: the monthly quota of %(quota)d leads is reached.")
                    % {"quota": period.quota_included},
                )
        leads: list[Lead] = []
        if found:
            status = LeadStatus.PENDING_APPROVAL
            slots: list[dt.date | None] = [None] * len(found)
            if delivery_mode == DeliveryMode.CALENDAR:
                calendar_lock(organization=organization)
                slots = list(
                    calendar_slots_take(
                        organization=organization,
                        count=len(found),
                        start=calendar_today(organization=organization, now=now),
                    )
                )
                status = LeadStatus.APPROVED
            snapshots = [
                finding_snapshot(p.finding, checked_at=finding_checked_at(p.finding, default=now))
                | {"upload_id": upload.id, "upload_line": p.row.line}
                for p in found
            ]
            leads = bulk_create_values(
                Lead.objects,
                [
                    Lead(
                        organization=organization,
                        company=p.match.company,  # type: ignore[union-attr]
                        person=p.person,
                        contact_point_id=p.finding.contact_point_id,
                        company_name=p.match.company.name,  # type: ignore[union-attr]
                        company_snapshot=_company_snapshot(p.match.company),  # type: ignore[union-attr]
                        person_name=p.person.full_name,  # type: ignore[union-attr]
                        role_kind=p.role_kind,
                        person_snapshot=_person_snapshot(p.person, p.role_kind),  # type: ignore[arg-type]
                        contact_kind=p.finding.kind or "",
                        contact_value=p.finding.value or "",
                        evidence=snapshot,
                        verified_at=finding_checked_at(p.finding, default=now),
                        status=status,
                        scheduled_date=slot,
                        decided_at=now if status == LeadStatus.APPROVED else None,
                    )
                    for p, snapshot, slot in zip(found, snapshots, slots, strict=True)
                ],
                via="evidence",
            )
            delivery_records_add(
                organization=organization,
                records=[
                    (p.match.company.id, p.person.id, lead.id)  # type: ignore[union-attr]
                    for p, lead in zip(found, leads, strict=True)
                ],
            )
            try:
                usage_events_record(
                    organization=organization,
                    charges=[(lead.id, s) for lead, s in zip(leads, snapshots, strict=True)],
                    kind=UsageEventKind.ENRICHED,
                    occurred_at=now,
                    locked_period=period,
                    new_leads=True,
                )
            except QuotaExhausted:  # cannot happen under the lock with the room above
                raise
            for plan, lead in zip(found, leads, strict=True):
                plan.row.lead_id = lead.id
                plan.row.charged = True
                plan.reason = _("delivered as a lead")
        done = [p for p in plans if p.outcome != RowOutcome.PENDING]
        _rows_save(organization, done, now=now)
        _counts_add(organization, upload, done=len(done), found=len(found), charged=len(found))
    if stop is not None:
        raise stop


def _rows_save(organization: Organization, plans: list[_RowPlan], *, now: dt.datetime) -> None:
    for plan in plans:
        row = plan.row
        row.outcome, row.reason = plan.outcome, str(plan.reason)[:200]
        if plan.match is not None:
            row.match_method, row.confidence = plan.match.method, plan.match.confidence
            row.company_id = plan.match.company.id
        if plan.person is not None:
            row.person_id = plan.person.id
        row.result = {**(row.result or {}), **plan.result}
        row.processed_at = now
    UploadRow.objects.for_org(organization).bulk_update(
        [p.row for p in plans],
        [
            "outcome",
            "reason",
            "match_method",
            "confidence",
            "company_id",
            "person_id",
            "lead_id",
            "result",
            "charged",
            "processed_at",
        ],
    )


def _counts_add(
    organization: Organization, upload: Upload, *, done: int, found: int, charged: int
) -> None:
    now = timezone.now()
    Upload.objects.for_org(organization).filter(pk=upload.pk).update(
        rows_done=F("rows_done") + done,
        rows_found=F("rows_found") + found,
        rows_charged=F("rows_charged") + charged,
    )
    if done:
        Upload.objects.for_org(organization).filter(
            pk=upload.pk, first_result_at__isnull=True
        ).update(first_result_at=now)


# ---- contacts ---------------------------------------------------------------------------------


def _contacts_chunk(organization: Organization, upload: Upload, rows: list[UploadRow]) -> None:
    from enrichment.verification import phone_verify, verify_emails
    from enrichment.verification import verdicts as v

    plans = [_RowPlan(row=row) for row in rows]
    values = {p.row.id: (p.row.result or {}).get("values", {}) for p in plans}
    emails = sorted({val["email"] for val in values.values() if val.get("email")})
    verdicts = dict(zip(emails, verify_emails(emails, config=verification_config()), strict=True))
    excluded = contacts_excluded(
        organization=organization,
        contacts=[("email", e) for e in emails]
        + [("phone", val["phone"]) for val in values.values() if val.get("phone")],
    )
    for plan in plans:
        val = values[plan.row.id]
        results: list[dict[str, Any]] = []
        if val.get("email"):
            verdict = verdicts[val["email"]]
            results.append(
                {
                    "kind": "email",
                    "value": val["email"],
                    "status": verdict.status,
                    "reason": verdict.reason or "",
                    "flags": list(verdict.flags),
                    "evidence": verdict.evidence,
                }
            )
        if val.get("phone"):
            phone = phone_verify(val["phone"], country=val.get("country") or None)
            results.append(
                {
                    "kind": "phone",
                    "value": phone.e164 or val["phone"],
                    "status": phone.status,
                    "reason": phone.reason or "",
                    "flags": [phone.line_type] if phone.line_type else [],
                    "evidence": {"line_type": phone.line_type, "region": phone.region},
                }
            )
        plan.result = {"checks": results}
        statuses = {r["status"] for r in results}
        blocked = [r for r in results if (r["kind"], r["value"]) in excluded]
        if blocked:
            plan.outcome = RowOutcome.BLOCKED
            plan.reason = _("on your block list or the suppression list")
        elif v.VALID in statuses:
            plan.outcome = RowOutcome.VALID
        elif v.UNKNOWN in statuses or v.ACCEPT_ALL in statuses:
            plan.outcome = RowOutcome.UNKNOWN
            plan.reason = ", ".join(r["reason"] for r in results if r["reason"]) or v.UNKNOWN
        else:
            plan.outcome = RowOutcome.NOT_VALID
            plan.reason = ", ".join(r["reason"] for r in results if r["reason"]) or v.INVALID
        if plan.outcome == RowOutcome.VALID:
            plan.reason = ""
    _contacts_write(organization, upload, plans)


def _contacts_write(organization: Organization, upload: Upload, plans: list[_RowPlan]) -> None:
    now = timezone.now()
    with transaction.atomic():
        period = billing_period_lock(
            organization=organization,
            period_start=billing_month_of(organization=organization, at=now),
        )
        still = set(
            UploadRow.objects.for_org(organization)
            .select_for_update()
            .filter(id__in=[p.row.id for p in plans], outcome=RowOutcome.PENDING)
            .values_list("id", flat=True)
        )
        plans = [p for p in plans if p.row.id in still]
        valid = [p for p in plans if p.outcome == RowOutcome.VALID]
        stop: JobStop | None = None
        if period.hard_cap:
            room = max(0, period.quota_included - period.units_net)
            if len(valid) > room:
                for plan in valid[room:]:
                    plan.outcome = RowOutcome.PENDING
                valid = valid[:room]
                stop = JobStop(
                    UploadStatus.STOPPED_QUOTA,
                    _("Stopped: the monthly quota of %(quota)d leads is reached.")
                    % {"quota": period.quota_included},
                )
        if valid:
            usage_events_record(
                organization=organization,
                charges=[
                    (
                        p.row.id,
                        {
                            "verified": True,
                            "upload_id": upload.id,
                            "upload_line": p.row.line,
                            "checks": [
                                {k: c[k] for k in ("kind", "value", "status", "reason", "flags")}
                                for c in p.result["checks"]
                            ],
                        },
                    )
                    for p in valid
                ],
                kind=UsageEventKind.VERIFIED,
                occurred_at=now,
                locked_period=period,
                upload_rows=True,
            )
            for plan in valid:
                plan.row.charged = True
        done = [p for p in plans if p.outcome != RowOutcome.PENDING]
        _rows_save(organization, done, now=now)
        _counts_add(organization, upload, done=len(done), found=len(valid), charged=len(valid))
    if stop is not None:
        raise stop
