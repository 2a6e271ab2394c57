"""The chunk pipeline of one nightly run (docs/nightly.md, step 3): candidates from the matching
query in pages, verified in chunks on a thread pool, each chunk delivered as soon as it returns.

`search_run_pipeline` is called by `search.search_run_execute` with the run's advisory lock held;
it writes SearchCandidate rows for every tried candidate and delivers verified ones through
`delivery.leads_deliver` (one transaction per chunk: lead, delivery record, usage event, candidate
row). Each pool thread takes a database connection from the process's pool for a chunk and
hands it back after (settings LEADPILOT_DB_POOL_*); without a pool it keeps one connection for
the run (`_PoolConnections`).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    transaction,
)
from django.db.models import Q
from django.utils import timezone

from billing.selectors import billing_quota_remaining
from billing.services import QuotaExhausted
from blocklists.models import DeliveryRecord
from blocklists.selectors import contacts_excluded
from enrichment.models import Company, ContactPoint, Person
from organizations.models import Organization
from segments.models import SegmentStatus
from segments.selectors import segment_candidates

from ..models import CandidateOutcome, SearchCandidate, SearchRun, StopReason
from .delivery import (
    Delivery,
    SegmentNotActive,
    candidates_record,
    lead_deliver,
    leads_deliver,
)
from .reverify import (
    ContactsFind,
    contacts_find_default,
    evidence_max_age,
    finding_checked_at,
)
from .site_people import search_run_site_people

logger = logging.getLogger(__name__)

_STRAGGLER_SECONDS = 3.0


class RunBlind(Exception):
    """Most of the run's candidates could not be asked about (resolver unreachable, every mail
    server refused or timed out): the run has learned nothing about them."""

    def __init__(self, *, asked: int, outages: int, reasons: dict[str, int]) -> None:
        self.asked, self.outages, self.reasons = asked, outages, reasons
        top = ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items()))
        super().__init__(
            f"verification was blind: {outages} of {asked} candidates whose contacts were asked"
            f" about got no answer from the resolver or the mail servers ({top})"
        )


def finding_outage_reason(finding: Any) -> str | None:
    """The outage behind an unverified finding, if any: its own reason, or the reason of any
    address tried for it (a company's switchboard may verify while every e-mail address got
    `dns_error`: that says nothing about the person). None for a verified finding."""
    from enrichment.verification import verdicts as v

    if finding is None or finding.verified:
        return None
    if finding.reason in v.OUTAGE_REASONS or finding.reason == v.RATE_LIMITED:
        return str(finding.reason)
    tried = (finding.evidence or {}).get("tried") or ()
    reasons = [t.get("reason") for t in tried if isinstance(t, dict)]
    if v.RATE_LIMITED in reasons:
        return v.RATE_LIMITED
    return next((r for r in reasons if r in v.OUTAGE_REASONS), None)


def _finding_asked(finding: Any) -> bool:
    """Whether any contact was asked about for this finding (a domain or a phone to check)."""
    if finding is None:
        return False
    return bool(finding.verified or (finding.evidence or {}).get("tried"))


class _Blindness:
    """The run's tally of candidates whose contacts were asked about, and of those the outage
    reasons left undecided. Blind: at least LEADPILOT_BLIND_RUN_MIN_ASKED asked (or the run's
    end) and at least LEADPILOT_BLIND_RUN_RATIO of them undecided by an outage."""

    def __init__(self) -> None:
        self.asked = 0
        self.outages = 0
        self.reasons: dict[str, int] = {}

    def add(self, *, asked: int, outages: dict[str, int]) -> None:
        self.asked += asked
        for reason, n in outages.items():
            self.outages += n
            self.reasons[reason] = self.reasons.get(reason, 0) + n

    def check(self, *, final: bool) -> None:
        enough = self.asked >= max(1, settings.LEADPILOT_BLIND_RUN_MIN_ASKED) or (
            final and self.asked > 0
        )
        if enough and self.outages >= settings.LEADPILOT_BLIND_RUN_RATIO * self.asked:
            raise RunBlind(asked=self.asked, outages=self.outages, reasons=dict(self.reasons))


# Directory rows loaded at once for the head of the candidate queue (_Candidates).
_DIRECTORY_BLOCK = 100


def _verification_config() -> Any:
    """The engine's configuration for the nightly search: the installation's settings, with the
    search's own concurrency and time-outs (a bulk job: a server slower than these is `unknown`
    tonight, never charged, and tried again another night)."""
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


def _stale_pairs(*, findings: dict, pairs: list[tuple[int, int]], now: dt.datetime) -> list:
    return [
        pair
        for pair in pairs
        if (f := findings.get(pair)) is not None
        and f.verified
        and now - finding_checked_at(f, default=now) > evidence_max_age()
    ]


def _refresh_stale(
    *, findings: dict, pairs: list[tuple[int, int]], find: ContactsFind, now: dt.datetime
) -> tuple[dict, set]:
    """Verify again the verified findings whose evidence is older than the configured age.

    Returns the findings and the pairs whose evidence is still too old after that: those are not
    charged tonight (recorded unverified, reason `stale_evidence`)."""
    stale = _stale_pairs(findings=findings, pairs=pairs, now=now)
    if not stale:
        return findings, set()
    findings = {**findings, **find(candidates=stale, config=_verification_config())}
    return findings, set(_stale_pairs(findings=findings, pairs=stale, now=now))


class _PoolConnections:
    """The database connections of one run's pool threads. A thread keeps its connection from
    chunk to chunk (a new PostgreSQL backend per chunk costs more CPU than the chunk's own
    queries); when the run ends, idle threads' connections are closed by the run, busy ones
    (stragglers) by their thread when its chunk returns. Django binds a connection to its thread:
    each is marked shareable once, so the run's thread may close it while that thread is idle."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy: dict[Any, bool] = {}
        self._done = False

    def begin(self) -> Any | None:
        """The calling thread's connection, marked busy; None once the run has ended."""
        wrapper = connections[DEFAULT_DB_ALIAS]
        with self._lock:
            if self._done:
                return None
            if wrapper not in self._busy:
                wrapper.inc_thread_sharing()
            self._busy[wrapper] = True
        return wrapper

    def end(self, wrapper: Any, *, failed: bool) -> None:
        with self._lock:
            self._busy[wrapper] = False
            close = self._done or failed
        if close:
            wrapper.close()

    @property
    def ended(self) -> bool:
        return self._done

    def close_idle(self) -> None:
        with self._lock:
            self._done = True
            idle = [w for w, busy in self._busy.items() if not busy]
        for wrapper in idle:
            wrapper.close()


def database_pooled(alias: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the database connections come from the process's pool (settings: OPTIONS
    "pool", LEADPILOT_DB_POOL_MAX): closing one then hands it back instead of ending it."""
    return bool(connections[alias].settings_dict.get("OPTIONS", {}).get("pool"))


def _find_chunk(
    find: ContactsFind, pairs: list[tuple[int, int]], pool: _PoolConnections | None
) -> dict:
    """One chunk through the verification engine. On a pool thread (`pool`), the thread keeps its
    database connection for the next chunk unless the run has ended or the call failed; with
    the process's connection pool it hands it back after every chunk (a pooled connection costs
    nothing to take again, and a thread that ends holding one would leak it from the pool)."""
    if pool is None:
        return dict(find(candidates=pairs, config=_verification_config()))
    if database_pooled():
        if pool.ended:
            return {}  # the run ended while this chunk waited in the queue
        try:
            return dict(find(candidates=pairs, config=_verification_config()))
        finally:
            connections[DEFAULT_DB_ALIAS].close()
    wrapper = pool.begin()
    if wrapper is None:
        return {}  # the run ended while this chunk waited in the queue
    failed = True
    try:
        result = dict(find(candidates=pairs, config=_verification_config()))
        failed = False
        return result
    finally:
        pool.end(wrapper, failed=failed)


class _InlineExecutor:
    """The ThreadPoolExecutor interface, running each call at once on the calling thread."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def shutdown(self, *, wait: bool = True, cancel_futures: bool = False) -> None:
        return None


class _Candidates:
    """The run's view of the matching query: candidates not tried yet, fetched in growing pages.

    Delivered people drop out of the query; tried-but-undelivered ones do not, so each page asks
    for as many rows as this run already knows plus a fresh page, and skips the known ones.
    Within what is fetched, candidates are handed out by contact rank, then in the query's order:
    a company whose registry entry names a domain or a phone verifies far more often than one that
    needs domain discovery, and costs less to verify. Those left behind come first in the next
    page's turn, or on another night."""

    def __init__(self, *, organization: Organization, run: SearchRun, known: set[int]) -> None:
        self.organization, self.run, self.known = organization, run, known
        self.queue: list[Any] = []
        self.exhausted = False
        # The directory rows of the candidates next in line, loaded a block at a time (the engine
        # and the delivery read them from here instead of loading them per chunk). A page holds
        # several times what a run tries: rows are loaded for the head of the queue only.
        self.companies: dict[int, Company] = {}
        self.people: dict[int, Person] = {}

    def take(self, n: int, *, page: int) -> list[Any]:
        while len(self.queue) < n and not self.exhausted:
            limit = len(self.known) + len(self.queue) + page
            rows = segment_candidates(
                organization=self.organization, segment=self.run.segment, limit=limit
            )
            seen = self.known | {c.person_id for c in self.queue}
            fresh = []
            for candidate in rows:  # one person may lead two companies: keep the first
                if candidate.person_id not in seen:
                    seen.add(candidate.person_id)
                    fresh.append(candidate)
            self.queue += fresh
            self.queue.sort(key=lambda c: getattr(c, "contact_rank", 0))  # stable
            if len(rows) < limit:
                self.exhausted = True
            elif not fresh:
                page *= 2  # a page of known people only: look further
        taken, self.queue = self.queue[:n], self.queue[n:]
        if any(c.company_id not in self.companies for c in taken):
            self._load([*taken, *self.queue[: _DIRECTORY_BLOCK - len(taken)]])
        self.known.update(c.person_id for c in taken)
        return taken

    def _load(self, candidates: list[Any]) -> None:
        if missing := {c.company_id for c in candidates} - self.companies.keys():
            self.companies.update(Company.objects.in_bulk(missing))
        if missing := {c.person_id for c in candidates} - self.people.keys():
            self.people.update(Person.objects.in_bulk(missing))


class _QuotaEstimate:
    """The month's remaining quota as far as sizing the run's work goes (billing_quota_remaining,
    read without a lock). Read again only when it could bind: when what is left after this run's
    leads since the last read is within the run's need plus a window in flight. The charge itself
    is decided under the period lock (leads_deliver), whatever this says: a run that another run
    of the organisation left without room stops at its next delivery (QUOTA)."""

    def __init__(self, *, organization: Organization, window: int) -> None:
        self.organization, self.window = organization, window
        self.left: int | None = None
        self.read = False

    def remaining(self, *, need: int) -> int | None:
        if not self.read or (self.left is not None and self.left < need + self.window):
            self.left = billing_quota_remaining(organization=self.organization, at=timezone.now())
            self.read = True
        return self.left

    def charged(self, leads: int) -> None:
        if self.left is not None:
            self.left -= leads


def search_run_pipeline(*, organization: Organization, run: SearchRun, find: ContactsFind) -> str:
    """The streaming pipeline of one run; returns its stop reason.

    Up to LEADPILOT_SEARCH_BATCH_MAX candidates are verified at once, in chunks of
    LEADPILOT_SEARCH_CHUNK on a thread pool (the engine runs asyncio inside each call). Each chunk
    is delivered as soon as it comes back, so a slow mail server (tarpit, timeouts) holds up only
    its own chunk; once the cap is met the run ends without waiting for stragglers, whose
    candidates stay untried for a later night.
    """
    segment = run.segment
    if segment.status != SegmentStatus.ACTIVE:
        return StopReason.SEGMENT_INACTIVE
    # People the segment's companies' own sites name become candidates of this run (step 3).
    search_run_site_people(organization=organization, run=run, config=_verification_config())
    delivery_mode = segment.delivery_mode or organization.delivery_mode
    cap = segment.nightly_cap
    window = max(1, settings.LEADPILOT_SEARCH_BATCH_MAX)
    chunk_size = max(1, min(settings.LEADPILOT_SEARCH_CHUNK, window))
    tried = dict(
        SearchCandidate.objects.for_org(organization)
        .filter(run=run)
        .values_list("person_id", "outcome")
    )
    leads = sum(1 for outcome in tried.values() if outcome == CandidateOutcome.LEAD)
    source = _Candidates(organization=organization, run=run, known=set(tried))
    chunk_find = find
    if find is contacts_find_default():
        # The engine takes the page's directory rows instead of loading each chunk's again.
        chunk_find = functools.partial(find, directory=(source.companies, source.people))
    in_flight: dict[Future, list[Any]] = {}
    submitted: dict[Future, float] = {}
    executor: Any
    pool: _PoolConnections | None = None
    inline = transaction.get_connection().in_atomic_block or connection.vendor == "sqlite"
    if inline:
        # Pool threads have their own connections and cannot see the caller's uncommitted rows
        # (a test's transaction, an atomic caller), and the embedded SQLite has one writer:
        # verify chunk after chunk on this thread.
        executor = _InlineExecutor()
    else:
        # Each pool thread holds a database connection for the run (see _PoolConnections).
        threads = max(1, min(-(-window // chunk_size), settings.LEADPILOT_SEARCH_THREADS))
        executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"run{run.id}")
        pool = _PoolConnections()
    quota = _QuotaEstimate(organization=organization, window=window)
    blindness = _Blindness()
    try:
        while True:
            need = cap - leads
            if need <= 0:
                return StopReason.NIGHTLY_CAP
            quota_left = quota.remaining(need=need)
            if quota_left is not None:
                if quota_left <= 0:
                    return StopReason.QUOTA
                need = min(need, quota_left)
            # Verification succeeds about half of the time: keep twice the need in flight. A chunk
            # out longer than _STRAGGLER_SECONDS (tarpit, timeouts) no longer counts, so the
            # stragglers do not hold the run back.
            target = min(window, 2 * need + 2)
            fresh_after = time.monotonic() - _STRAGGLER_SECONDS
            flying = sum(
                len(chunk)
                for f, chunk in in_flight.items()
                if not f.running() or submitted[f] > fresh_after  # queued ones always count
            )
            while flying < target:
                # One page of the matching query usually covers the whole run.
                # A page of six times the need holds enough of the likeliest contacts (rank 0, a
                # registry domain: ~90 % verify, no domain discovery) for the whole run.
                chunk = source.take(min(chunk_size, target - flying), page=max(window, 6 * need))
                if not chunk:
                    break
                pairs = [(c.company_id, c.person_id) for c in chunk]
                future = executor.submit(_find_chunk, chunk_find, pairs, pool)
                in_flight[future], submitted[future] = chunk, time.monotonic()
                flying += len(chunk)
            matched = len(source.known) + len(source.queue)
            if run.matched < matched:
                run.matched = matched
                run.save(update_fields=["matched"])
            if not in_flight:
                blindness.check(final=True)
                return StopReason.EXHAUSTED
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                chunk = in_flight.pop(future)
                submitted.pop(future)
                created, stop = _search_batch(
                    organization=organization,
                    run=run,
                    batch=chunk,
                    findings=future.result(),
                    directory=(source.companies, source.people),
                    need=cap - leads if quota.left is None else min(cap - leads, quota.left),
                    find=find,
                    delivery_mode=delivery_mode,
                    blindness=blindness,
                )
                leads += created
                quota.charged(created)
                if stop:
                    return stop
                blindness.check(final=False)
    finally:
        # Stragglers finish on their own (bounded by the engine's timeouts); nothing waits.
        executor.shutdown(wait=False, cancel_futures=True)
        if pool is not None:
            pool.close_idle()


def _search_batch(
    *,
    organization: Organization,
    run: SearchRun,
    batch: list[Any],
    findings: dict,
    need: int,
    find: ContactsFind,
    delivery_mode: str,
    directory: tuple[dict[int, Company], dict[int, Person]] = ({}, {}),
    blindness: _Blindness | None = None,
) -> tuple[int, str | None]:
    """Deliver one verified chunk: leads for verified contacts (up to `need`), candidate rows for
    the rest. Returns (leads created, stop reason or None). The chunk's leads are written in one
    transaction (leads_deliver); when that fails on a constraint (someone delivered one of these
    people meanwhile) they are delivered one by one, so each gets its own outcome.

    A candidate the sending IP's daily cap left unasked gets no candidate row (nothing recorded,
    nothing charged; a resumed run or another night asks) and stops the run (SENDING_CAP).
    Candidates left undecided by an outage (resolver or mail servers unreachable) are tallied in
    `blindness`: a blind run fails and drops its unverified rows."""
    from enrichment.verification import verdicts as v

    pairs = [(c.company_id, c.person_id) for c in batch]
    now = timezone.now()
    findings, still_stale = _refresh_stale(findings=findings, pairs=pairs, find=find, now=now)
    companies, people = directory
    if missing := {c.company_id for c in batch} - companies.keys():
        companies = {**companies, **Company.objects.in_bulk(missing)}
    if missing := {c.person_id for c in batch} - people.keys():
        people = {**people, **Person.objects.in_bulk(missing)}
    # The matching query excluded the blocked and suppressed contacts the directory knew; the
    # ones found tonight are checked here, before anyone receives or pays for them.
    contacts = _contacts_tried(findings=findings, pairs=pairs)
    excluded = contacts_excluded(
        organization=organization, contacts=set().union(*contacts.values())
    )
    unverified: list[tuple[int, int, str, str]] = []
    deliveries: list[Delivery] = []
    outages: dict[str, int] = {}
    capped = False
    for candidate in batch:
        key = (candidate.company_id, candidate.person_id)
        finding = findings.get(key)
        outage = finding_outage_reason(finding)
        if outage == v.RATE_LIMITED:
            capped = True
            continue
        if outage is not None:
            # Recorded with its reason like any unverified candidate (never charged); if the run
            # turns out blind, its unverified rows are removed (search._fail_blind).
            outages[outage] = outages.get(outage, 0) + 1
        if finding is None or not finding.verified:
            reason = "not_found" if finding is None else (finding.reason or finding.status or "")
            unverified.append((*key, CandidateOutcome.UNVERIFIED, str(reason)))
            continue
        if key in still_stale:
            unverified.append((*key, CandidateOutcome.UNVERIFIED, "stale_evidence"))
            continue
        reasons = {excluded[c]: c for c in sorted(contacts.get(key, ())) if c in excluded}
        why = "blocked" if "blocked" in reasons else "suppressed" if reasons else None
        if why is not None:
            outcome = (
                CandidateOutcome.SKIPPED_BLOCKED
                if why == "blocked"
                else CandidateOutcome.SKIPPED_SUPPRESSED
            )
            unverified.append((*key, outcome, f"{reasons[why][0]} {why}"))
            continue
        if len(deliveries) >= need:
            continue  # verified but over the cap: left untried for a later night
        deliveries.append(
            Delivery(
                company=companies[candidate.company_id],
                person=people[candidate.person_id],
                role_kind=getattr(candidate, "role_kind", ""),
                finding=finding,
                checked_at=finding_checked_at(finding, default=now),
            )
        )
    if blindness is not None:
        asked = sum(1 for pair in pairs if _finding_asked(findings.get(pair)))
        blindness.add(asked=asked, outages=outages)
    created = 0
    stop: str | None = None
    # With leads to deliver, the unverified rows go into the same transaction (one commit per
    # chunk); when that transaction fails they are recorded on their own below.
    recorded = False
    try:
        created = len(
            leads_deliver(
                organization=organization,
                run=run,
                deliveries=deliveries,
                delivery_mode=delivery_mode,
                now=timezone.now(),
                unverified=unverified,
            )
        )
        recorded = bool(deliveries)
        if created < len(deliveries):
            stop = StopReason.QUOTA
    except QuotaExhausted:
        stop = StopReason.QUOTA
    except SegmentNotActive:
        stop = StopReason.SEGMENT_INACTIVE
    except IntegrityError:
        created, stop = _deliver_one_by_one(
            organization=organization, run=run, deliveries=deliveries, delivery_mode=delivery_mode
        )
    except DatabaseError:
        raise  # connection trouble: the task retries, the run resumes
    except Exception:
        # Something about one candidate (a calendar without a free slot...): each on its own.
        created, stop = _deliver_one_by_one(
            organization=organization, run=run, deliveries=deliveries, delivery_mode=delivery_mode
        )
    if not recorded:
        candidates_record(organization=organization, run=run, rows=unverified)
    if capped and stop is None:
        stop = StopReason.SENDING_CAP
    logger.debug("run %s: chunk of %d delivered %d leads", run.id, len(batch), created)
    return created, stop


def _contacts_tried(
    *, findings: dict, pairs: list[tuple[int, int]]
) -> dict[tuple[int, int], set[tuple[str, str]]]:
    """(kind, value) of every contact of each verified candidate: the one to be charged and every
    address the engine has tried for the person at this company (their contact points now, found
    tonight included). Whichever verified, each of them is the person's: an objector whose address
    the engine tried but could not verify is still an objector when the company phone verifies."""
    contacts = {
        pair: {(f.kind, f.value)}
        for pair in pairs
        if (f := findings.get(pair)) is not None and f.verified and f.kind and f.value
    }
    if not contacts:
        return {}
    known = ContactPoint.objects.filter(
        person_id__in={person_id for _, person_id in contacts},
        company_id__in={company_id for company_id, _ in contacts},
    ).values_list("company_id", "person_id", "kind", "normalized")
    for company_id, person_id, kind, value in known:
        if (company_id, person_id) in contacts:
            contacts[(company_id, person_id)].add((kind, value))
    return contacts


def _deliver_one_by_one(
    *, organization: Organization, run: SearchRun, deliveries: list[Delivery], delivery_mode: str
) -> tuple[int, str | None]:
    created = 0
    for d in deliveries:
        key = (d.company.id, d.person.id)
        try:
            lead_deliver(
                organization=organization,
                run=run,
                company=d.company,
                person=d.person,
                role_kind=d.role_kind,
                finding=d.finding,
                checked_at=d.checked_at,
                delivery_mode=delivery_mode,
                now=timezone.now(),
            )
            created += 1
        except QuotaExhausted:
            return created, StopReason.QUOTA
        except SegmentNotActive:
            return created, StopReason.SEGMENT_INACTIVE
        except IntegrityError:
            # Delivered meanwhile (the person or the company, by another segment's run) or
            # tried by a racing worker.
            if (
                not SearchCandidate.objects.for_org(organization)
                .filter(run=run, person_id=d.person.id)
                .exists()
            ):
                delivered = (
                    DeliveryRecord.objects.for_org(organization)
                    .filter(Q(person_id=d.person.id) | Q(company_id=d.company.id))
                    .exists()
                )
                outcome = (
                    CandidateOutcome.SKIPPED_DELIVERED if delivered else CandidateOutcome.ERROR
                )
                candidates_record(
                    organization=organization,
                    run=run,
                    rows=[(*key, outcome, "already delivered" if delivered else "conflict")],
                )
        except DatabaseError:
            raise  # connection trouble: the task retries, the run resumes
        except Exception as exc:
            logger.exception("run %s: candidate %s failed", run.id, key)
            candidates_record(
                organization=organization,
                run=run,
                rows=[(*key, CandidateOutcome.ERROR, f"{exc.__class__.__name__}: {exc}")],
            )
    return created, None
