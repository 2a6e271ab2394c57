"""Writes to the directory (enrichment). Services own their transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import transaction

from enrichment.discovery import (
    Attempt,
    CandidateResult,
    CompanyFacts,
    DomainFacts,
    PersonFacts,
    contacts_find,
    domain_normalize,
)
from enrichment.models import (
    Company,
    ContactAttribution,
    ContactKind,
    ContactPoint,
    DomainProfile,
    Person,
    VerificationStatus,
)
from enrichment.verification import VerificationConfig, Verifier
from enrichment.verification import verdicts as v
from enrichment.verification.dns import NULL_MX
from enrichment.verification.state import PROCESS_WRITTEN_ROWS, Recheck

T = TypeVar("T")

# -- contact discovery and verification (CONTRACTS.md B) -----------------------------------------


@dataclass(frozen=True)
class ContactFinding:
    verified: bool
    contact_point_id: int | None
    kind: str | None  # "email" | "phone" | None
    value: str | None
    status: str | None
    reason: str | None
    flags: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


def _person_names(person: Person) -> tuple[str, str]:
    first, last = person.first_name.strip(), person.last_name.strip()
    if not (first and last):
        parts = person.full_name.split()
        if len(parts) >= 2:
            first, last = first or parts[0], last or parts[-1]
    return first, last


def decision_maker_contacts_find(
    *,
    candidates: Sequence[tuple[int, int]],
    config: VerificationConfig | None = None,
    directory: tuple[Mapping[int, Company], Mapping[int, Person]] | None = None,
) -> dict[tuple[int, int], ContactFinding]:
    """Find and verify a contact for each (company_id, person_id), concurrently.

    `directory`: (companies by id, people by id) the caller already loaded (the nightly search
    loads a page of candidates at once); ids missing there are loaded here.

    Rule: `verified` is True only for a `valid` e-mail without the disposable/role flags, or a
    valid phone the company's website lists next to the person (attribution "person"; never the
    registry phone, a switchboard or a number listed for others too) (DESIGN.md section 5).
    Company-level contacts seen are in the evidence's `company_contacts`, never charged; a best
    attempt that is valid but the company's has reason `company_contact`. A timeout
    or 4xx never makes a contact valid or invalid; greylisted addresses keep `recheck_at` in
    their evidence. Side effects: upserts ContactPoint rows (every address tried, per person;
    phones per person when attributed to them, else per company, with their attribution) and DomainProfile rows (MX, catch-all state, learned pattern,
    discovery). Idempotent for a stable world: a rerun updates the same rows.
    Unknown ids raise Company.DoesNotExist / Person.DoesNotExist naming the id.
    """
    config = config or VerificationConfig.from_settings()
    pairs = list(dict.fromkeys((int(c), int(p)) for c, p in candidates))
    if not pairs:
        return {}
    known_companies, known_people = directory or ({}, {})
    companies = {c: known_companies[c] for c, _ in pairs if c in known_companies}
    people = {p: known_people[p] for _, p in pairs if p in known_people}
    if missing := {c for c, _ in pairs} - companies.keys():
        companies.update(Company.objects.in_bulk(missing))
    if missing := {p for _, p in pairs} - people.keys():
        people.update(Person.objects.in_bulk(missing))
    for company_id, person_id in pairs:
        if company_id not in companies:
            raise Company.DoesNotExist(f"company id {company_id} does not exist")
        if person_id not in people:
            raise Person.DoesNotExist(f"person id {person_id} does not exist")

    known_domains = {
        domain_normalize(c.website_domain or c.email_domain)
        for c in companies.values()
        if c.website_domain or c.email_domain
    }
    profiles = {
        p.domain: p
        for p in DomainProfile.objects.filter(domain__in=known_domains - {""}).only(
            "domain", "email_pattern"
        )
    }
    items = []
    for company_id, person_id in pairs:
        c, p = companies[company_id], people[person_id]
        first, last = _person_names(p)
        domain = domain_normalize(c.website_domain or c.email_domain)
        profile = profiles.get(domain)
        items.append(
            (
                CompanyFacts(
                    id=c.id,
                    name=c.name,
                    country=c.country,
                    registry_id=c.registry_id,
                    website_domain=c.website_domain,
                    email_domain=c.email_domain,
                    phone=c.phone,
                ),
                PersonFacts(id=p.id, first_name=first, last_name=last),
                DomainFacts(pattern=profile.email_pattern or None) if profile else None,
            )
        )

    async def run() -> tuple[list[CandidateResult], Verifier]:
        verifier = Verifier(config)
        return await contacts_find(items=items, config=config, verifier=verifier), verifier

    results, verifier = _thread_loop_run(run())
    with transaction.atomic():
        return _results_persist(results=results, verifier=verifier, config=config)


class _ThreadLoop:
    """The event loop one thread runs all its searches on, closed when the thread ends (its
    thread-local slot goes). A new loop per call, and asyncio.run's sweep over every task of
    the process at the end of each, cost the nightly search ~3 % of a worker's CPU."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def __del__(self) -> None:
        if not self.loop.is_closed():
            self.loop.close()


_thread_state = threading.local()


def _thread_loop_run(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on this thread's own loop. A failed call cancels what it left running, so
    nothing of it runs on during the thread's next call."""
    holder = getattr(_thread_state, "loop", None)
    if holder is None or holder.loop.is_closed():
        holder = _thread_state.loop = _ThreadLoop()
    loop = holder.loop
    try:
        return loop.run_until_complete(coro)
    except BaseException:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        raise


def _status_for(verdict: v.EmailVerdict | v.PhoneVerdict) -> str:
    return verdict.status if verdict.status in VerificationStatus.values else "unknown"


def _attempt_row(
    *, attempt: Attempt, person_id: int, company_id: int, verifier: Verifier
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(unique key fields, other fields) of the ContactPoint an attempt is stored as."""
    verdict = attempt.verdict
    if attempt.kind == ContactKind.EMAIL:
        assert isinstance(verdict, v.EmailVerdict)
        normalized = verdict.normalized or attempt.value.strip().lower()
        evidence = dict(verdict.evidence)
        recheck = verifier.rechecks.get(normalized)
        if recheck is not None:
            evidence["recheck_at"] = recheck.due.isoformat()
            evidence["recheck_attempt"] = recheck.attempt
        keys = {"person_id": person_id, "kind": ContactKind.EMAIL, "normalized": normalized}
        values = {
            "company_id": company_id,
            "value": attempt.value,
            "origin": attempt.origin,
            "status": _status_for(verdict),
            "reason": verdict.reason or "",
            "flags": list(verdict.flags),
            "evidence": evidence,
            "line_type": "",
            "attribution": verdict.attribution,
            "attribution_source": "",
            "verified_at": verdict.checked_at,
        }
    else:
        assert isinstance(verdict, v.PhoneVerdict)
        normalized = verdict.e164 or "".join(
            ch for ch in attempt.value if ch.isdigit() or ch == "+"
        )
        # A number a source attributes to the person is stored as theirs (per person); the
        # company's numbers once per company.
        personal = verdict.attribution == v.ATTRIBUTION_PERSON
        keys = {
            "company_id": company_id,
            "person_id": person_id if personal else None,
            "kind": ContactKind.PHONE,
            "normalized": normalized,
        }
        values = {
            "value": attempt.value,
            "origin": attempt.origin,
            "status": _status_for(verdict),
            "reason": verdict.reason or "",
            "flags": [],
            "evidence": {"phone": verdict.as_dict(), "source": attempt.origin},
            "line_type": verdict.line_type or "",
            "attribution": verdict.attribution or ContactAttribution.COMPANY,
            "attribution_source": verdict.attribution_source or "",
            "verified_at": verifier.clock.now(),
        }
    return keys, values


# The partial unique indexes a ContactPoint is upserted on (ContactPoint.Meta.constraints), by
# owner: a person's contact (every e-mail address tried, a phone attributed to the person) or
# the company's (its phones).
_UPSERT_TARGETS = {
    "person": ("person_id", "(person_id, kind, normalized) WHERE person_id IS NOT NULL"),
    "company": ("company_id", "(company_id, kind, normalized) WHERE person_id IS NULL"),
}


def _point_key(keys: dict[str, Any]) -> tuple:
    """(owner kind, owner id, contact kind, normalized) of a ContactPoint's unique key."""
    if keys["person_id"] is not None:
        return ("person", keys["person_id"], keys["kind"], keys["normalized"])
    return ("company", keys["company_id"], keys["kind"], keys["normalized"])


def _contact_points_upsert(
    rows: list[tuple[dict[str, Any], dict[str, Any]]],
) -> dict[tuple, ContactPoint]:
    """Insert or update ContactPoints, one statement per kind (INSERT ... ON CONFLICT on the
    partial unique index ... DO UPDATE ... RETURNING id): the same end state as an
    update_or_create per row, a later row for the same key winning. Returns the points by key
    (person or company id, kind, normalized)."""
    from django.db import connection

    latest: dict[tuple, tuple[dict[str, Any], dict[str, Any]]] = {}
    for keys, values in rows:
        latest[_point_key(keys)] = (keys, values)
    points: dict[tuple, ContactPoint] = {}
    # A row this process committed with the same content (a reused verdict: same check time,
    # status, origin...) is not written again; its id is known.
    db = connection.settings_dict["NAME"]
    for key, (keys, values) in list(latest.items()):
        known = PROCESS_WRITTEN_ROWS.get((db, *key))
        if known is not None and known[1] is not None and known[0] == _point_content(values):
            point = ContactPoint(id=known[1], **keys, **values)
            point._state.adding = False
            points[key] = point
            del latest[key]
    if latest:
        _contact_points_write(latest, points)
        written = {
            (db, *key): (_point_content(values), points[key].id, time.monotonic())
            for key, (_, values) in latest.items()
        }
        transaction.on_commit(lambda: PROCESS_WRITTEN_ROWS.update(written))
    return points


def _point_content(values: dict[str, Any]) -> tuple:
    """Everything a ContactPoint row says but its evidence, which a reused verdict repeats (its
    SMTP lines, marked `reused`): equal content + equal check time = the same verdict."""
    return tuple(
        (k, tuple(v) if isinstance(v, list) else v)
        for k, v in sorted(values.items())
        if k != "evidence"
    )


def _contact_points_write(
    latest: dict[tuple, tuple[dict[str, Any], dict[str, Any]]], points: dict[tuple, ContactPoint]
) -> None:
    from django.db import connection

    if connection.vendor not in ("postgresql", "sqlite"):
        for key, (keys, values) in latest.items():
            points[key], _ = ContactPoint.objects.update_or_create(**keys, defaults=values)
        return
    meta = ContactPoint._meta
    now = dt.datetime.now(tz=dt.UTC)
    for owner, (owner_col, target) in _UPSERT_TARGETS.items():
        group = [(key, kv) for key, kv in latest.items() if key[0] == owner]
        if not group:
            continue
        columns = list({**group[0][1][0], **group[0][1][1]})
        fields = [meta.get_field(c.removesuffix("_id")) for c in columns]
        params: list[Any] = []
        for _, (keys, values) in group:
            merged = {**keys, **values}
            params += [
                f.get_db_prep_save(merged[c], connection)
                for f, c in zip(fields, columns, strict=True)
            ]
            params.append(now)
        row_sql = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
        updates = [c for c in columns if c not in ("person_id", "kind", "normalized")]
        if owner == "company":
            updates.remove("company_id")
        # Identifiers come from the model's metadata and the constant table above; every value
        # is a parameter.
        sql = (
            f"INSERT INTO {meta.db_table} ({', '.join(columns)}, created_at) "  # noqa: S608
            f"VALUES {', '.join([row_sql] * len(group))} "
            f"ON CONFLICT {target} DO UPDATE SET "
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
            + f" RETURNING id, {owner_col}, normalized, created_at"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            returned = {
                (owner, normalized): (pk, created)
                for pk, owner, normalized, created in cursor.fetchall()
            }
        for key, (keys, values) in group:
            pk, created = returned[(key[1], key[3])]
            point = ContactPoint(id=pk, **keys, **values)
            point.created_at = created
            point._state.adding = False
            points[key] = point


def _results_persist(
    *, results: list[CandidateResult], verifier: Verifier, config: VerificationConfig
) -> dict[tuple[int, int], ContactFinding]:
    now = verifier.clock.now()
    findings: dict[tuple[int, int], ContactFinding] = {}
    domains_seen: dict[str, CandidateResult] = {}
    rows: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    for result in results:
        for attempt in result.attempts:
            rows[id(attempt)] = _attempt_row(
                attempt=attempt,
                person_id=result.person_id,
                company_id=result.company_id,
                verifier=verifier,
            )
    stored = _contact_points_upsert(list(rows.values()))

    def saved(attempt: Attempt) -> ContactPoint:
        keys, _ = rows[id(attempt)]
        return stored[_point_key(keys)]

    for result in results:
        chosen = result.chosen
        evidence: dict[str, Any] = {
            "domain": result.domain,
            "domain_source": result.domain_source,
            "tried": [
                {
                    "kind": a.kind,
                    "value": a.value,
                    "origin": a.origin,
                    "status": a.verdict.status,
                    "reason": a.verdict.reason,
                }
                for a in result.attempts
            ],
        }
        if result.discovery:
            evidence["discovery"] = result.discovery
        if result.company_contacts:
            evidence["company_contacts"] = result.company_contacts
        if result.site:
            evidence["site"] = result.site
        if result.site_person:
            evidence["site_person"] = result.site_person
        if chosen is None:
            findings[(result.company_id, result.person_id)] = ContactFinding(
                verified=False,
                contact_point_id=None,
                kind=None,
                value=None,
                status=None,
                reason="no_contact_found",
                evidence=evidence,
            )
        else:
            verdict = chosen.verdict
            point = saved(chosen)
            if isinstance(verdict, v.EmailVerdict):
                evidence["verification"] = verdict.evidence
                flags = tuple(verdict.flags)
                checked_at = verdict.checked_at or now
            else:
                evidence["verification"] = verdict.as_dict()
                flags = ()
                checked_at = point.verified_at or now
            evidence["checked_at"] = checked_at.isoformat()
            evidence["source"] = chosen.origin
            reason = verdict.reason
            if not result.verified and verdict.status == v.VALID:
                # The best we found is valid but the company's (switchboard, info@).
                reason = v.COMPANY_CONTACT
            findings[(result.company_id, result.person_id)] = ContactFinding(
                verified=result.verified,
                contact_point_id=point.id,
                kind=chosen.kind,
                value=point.normalized,
                status=verdict.status,
                reason=reason,
                flags=flags,
                evidence=evidence,
            )
        if result.domain:
            prev = domains_seen.get(result.domain)
            if prev is None or (result.learned_pattern and not prev.learned_pattern):
                domains_seen[result.domain] = result
    _domain_profiles_upsert(
        {
            domain: _domain_profile_values(result=result, now=now)
            for domain, result in domains_seen.items()
        }
    )
    return findings


# A domain profile this process committed with the same content is written again (for its
# checked_at) only after this long.
PROFILE_REWRITE_SECONDS = 300.0


def _domain_profiles_upsert(values_by_domain: dict[str, dict[str, Any]]) -> None:
    """update_or_create per domain, as one INSERT ... ON CONFLICT (domain) DO UPDATE per set of
    fields that is known (a profile keeps what this run did not learn). A profile that says what
    this process committed for it less than PROFILE_REWRITE_SECONDS ago is left alone."""
    from django.db import connection

    db = connection.settings_dict["NAME"]
    now = time.monotonic()
    groups: dict[tuple[str, ...], list[DomainProfile]] = {}
    written: dict[tuple, tuple[object, int | None, float]] = {}
    for domain, values in values_by_domain.items():
        content = repr(sorted((k, v) for k, v in values.items() if not k.endswith("checked_at")))
        known = PROCESS_WRITTEN_ROWS.get((db, "domain_profile", domain))
        if known is not None and known[0] == content and now - known[2] < PROFILE_REWRITE_SECONDS:
            continue
        written[(db, "domain_profile", domain)] = (content, None, now)
        groups.setdefault(tuple(sorted(values)), []).append(DomainProfile(domain=domain, **values))
    for fields, profiles in groups.items():
        DomainProfile.objects.bulk_create(
            profiles, update_conflicts=True, unique_fields=["domain"], update_fields=list(fields)
        )
    if written:
        transaction.on_commit(lambda: PROCESS_WRITTEN_ROWS.update(written))


def _domain_profile_values(*, result: CandidateResult, now: dt.datetime) -> dict[str, Any]:
    emails = [a.verdict for a in result.attempts if isinstance(a.verdict, v.EmailVerdict)]
    values: dict[str, Any] = {"checked_at": now}
    if emails:
        ev = emails[-1].evidence
        values["dns_status"] = ev.get("dns", "")
        values["mx_hosts"] = [[h[0], h[1]] for h in ev.get("mx", [])]
        values["null_mx"] = ev.get("dns") == NULL_MX
        if ev.get("provider"):
            values["provider"] = ev["provider"]
        states = [e.evidence.get("catch_all", {}).get("state") for e in emails]
        determined = [s for s in states if s is not None]
        if determined:
            values["accepts_all"] = determined[-1]
            values["catch_all_checked_at"] = now
    if result.learned_pattern:
        values["email_pattern"] = result.learned_pattern
    if result.domain_source == "discovered":
        values["confirmed_company_id"] = result.company_id
    return values


# -- greylist re-checks ---------------------------------------------------------------------------


def contact_points_recheck_due(
    *, config: VerificationConfig | None = None, limit: int = 1000
) -> dict[str, int]:
    """Re-verify stored e-mail ContactPoints whose greylist re-check time has come.

    Rule: only points still `unknown/greylisted` whose evidence `recheck_at` is at or before now
    (the config's clock). The new verdict replaces the stored one; another 4xx schedules the
    next delay (`recheck_delays`), after the last one the point stays `unknown` without a
    `recheck_at`. Idempotent: points not yet due are not touched. Returns counts by new status.
    """
    config = config or VerificationConfig.from_settings()
    now = config.clock.now()
    candidates = ContactPoint.objects.filter(
        kind=ContactKind.EMAIL,
        status=VerificationStatus.UNKNOWN,
        reason=v.GREYLISTED,
        evidence__has_key="recheck_at",
    ).order_by("id")
    due: list[ContactPoint] = []
    for point in candidates.iterator():
        try:
            at = dt.datetime.fromisoformat(point.evidence["recheck_at"])
        except (TypeError, ValueError):
            continue
        if at <= now:
            due.append(point)
            if len(due) >= limit:
                break
    counts = {"due": len(due), "valid": 0, "invalid": 0, "accept_all": 0, "unknown": 0}
    if not due:
        return counts

    async def run() -> tuple[list[v.EmailVerdict], Verifier]:
        verifier = Verifier(config)
        for point in due:  # carry the attempt number so the delays keep growing
            attempt = int(point.evidence.get("recheck_attempt", 1))
            verifier.rechecks[point.normalized] = Recheck(point.normalized, now, attempt)
        return await verifier.verify_many([p.normalized for p in due]), verifier

    verdicts, verifier = asyncio.run(run())
    with transaction.atomic():
        for point, verdict in zip(due, verdicts, strict=True):
            evidence = dict(verdict.evidence)
            recheck = verifier.rechecks.get(point.normalized)
            if recheck is not None and recheck.due > now:
                evidence["recheck_at"] = recheck.due.isoformat()
                evidence["recheck_attempt"] = recheck.attempt
            point.status = _status_for(verdict)
            point.reason = verdict.reason or ""
            point.flags = list(verdict.flags)
            point.evidence = evidence
            point.verified_at = verdict.checked_at
            point.save(update_fields=["status", "reason", "flags", "evidence", "verified_at"])
            counts[point.status] = counts.get(point.status, 0) + 1
    return counts
