"""The nightly search. Contract (docs/nightly.md):

- `nightly_dispatch` (the beat tick) creates one SearchRun per active segment of every
  organisation whose local night hour has come, for its local date. UNIQUE(organization, segment,
  run_date) is the guard: only the dispatcher whose INSERT won enqueues, after commit.
- `search_run_execute` (the task body) is idempotent and resumable. A session advisory lock on the
  run lets one worker at a time work on it (PostgreSQL drops the lock when a killed worker's
  connection dies, so a redelivered task takes over at once). Every tried candidate is a
  SearchCandidate row; a resumed run skips them and counts its statistics from them.
- Only a verified contact becomes a Lead, and the lead, its delivery record, its usage event and
  its candidate row are written in one transaction (`delivery.leads_deliver`). UNIQUE(organization, person)
  on the delivery record and UNIQUE(organization, lead) on the usage event make a duplicate
  impossible even when two workers race.
- A run stops at the segment's nightly cap, at the organisation's remaining monthly quota
  (QuotaExhausted from billing, decided under the period lock), or when candidates run out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
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
from django.db.models import Count, F, Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.selectors import billing_quota_remaining
from billing.services import (
    QuotaExhausted,
)
from blocklists.models import DeliveryRecord
from enrichment.models import Company, Person
from organizations.models import Organization
from segments.models import Segment, SegmentStatus
from segments.selectors import segment_candidate_skips, segment_candidates

from ..models import (
    CandidateOutcome,
    SearchCandidate,
    SearchRun,
    SearchRunStatus,
    StopReason,
)
from .delivery import Delivery, lead_deliver, leads_deliver
from .reverify import (
    ContactsFind,
    contacts_find_default,
    evidence_max_age,
    finding_checked_at,
)

logger = logging.getLogger(__name__)

_RUN_LOCK_CLASS = 7302
_STRAGGLER_SECONDS = 3.0
Enqueue = Callable[[SearchRun], None]


# --- dispatch -----------------------------------------------------------------------------------


def search_run_get_or_create(
    *, organization: Organization, segment: Segment, run_date: dt.date
) -> tuple[SearchRun, bool]:
    """The run of this segment and local date; `created` is True only for the INSERT that won."""
    try:
        with transaction.atomic():
            run = SearchRun.objects.create(
                organization=organization, segment=segment, run_date=run_date
            )
        return run, True
    except IntegrityError:
        run = SearchRun.objects.for_org(organization).get(segment=segment, run_date=run_date)
        return run, False


@dataclass
class DispatchResult:
    created: list[int]
    requeued: list[int]


def nightly_dispatch(
    *,
    enqueue: Enqueue,
    now: dt.datetime | None = None,
    organization: Organization | None = None,
    run_date: dt.date | None = None,
    force: bool = False,
) -> DispatchResult:
    """Create the due runs and enqueue each new one after commit (the beat tick's body).

    Due: an active segment of an organisation inside its local night window (the
    LEADPILOT_NIGHT_WINDOW_HOURS after its night hour; a tick missed while the system was down is
    caught up inside the window) that has no run for that night's local date. `organization`
    restricts it; a given `run_date`, or `force` (each organisation's local today), runs regardless
    of the hour (the operator command). Runs still queued after LEADPILOT_SEARCH_REQUEUE_MINUTES
    (a lost enqueue), and runs left `running` that long by a worker that no longer holds them, are
    enqueued again; the task is idempotent. Safe to run concurrently: the UNIQUE constraint
    decides who enqueues.
    """
    now = now or timezone.now()
    orgs = [organization] if organization is not None else list(Organization.objects.all())
    due: dict[int, tuple[Organization, dt.date]] = {}
    window = settings.LEADPILOT_NIGHT_WINDOW_HOURS
    for org in orgs:
        local = now.astimezone(org.tz)
        if run_date is not None or force:
            due[org.id] = (org, run_date or local.date())
            continue
        into_night = (local.hour - org.night_hour) % 24
        if into_night < window:
            due[org.id] = (org, (local - dt.timedelta(hours=into_night)).date())
    result = DispatchResult(created=[], requeued=[])
    if not due:
        return result
    # Fan-out across organisations: the dispatcher is the one place that reads every tenant.
    segments = list(
        Segment.all_orgs.filter(organization_id__in=due, status=SegmentStatus.ACTIVE).order_by("id")
    )
    existing = {
        (r.segment_id, r.run_date): r
        for r in SearchRun.all_orgs.filter(
            organization_id__in=due, run_date__in={d for _, d in due.values()}
        )
    }
    for segment in segments:
        org, day = due[segment.organization_id]
        run = existing.get((segment.id, day))
        if run is None:
            run, created = search_run_get_or_create(organization=org, segment=segment, run_date=day)
            if created:
                result.created.append(run.id)
                transaction.on_commit(lambda run=run: enqueue(run))
    stale_before = now - dt.timedelta(minutes=settings.LEADPILOT_SEARCH_REQUEUE_MINUTES)
    for run in existing.values():
        lost = (run.status == SearchRunStatus.PENDING and run.created_at < stale_before) or (
            run.status == SearchRunStatus.RUNNING
            and (run.started_at or run.created_at) < stale_before
            and not _run_is_held(run.id)
        )
        if lost:
            result.requeued.append(run.id)
            transaction.on_commit(lambda run=run: enqueue(run))
    return result


def _run_is_held(run_id: int) -> bool:
    """Whether a live worker holds the run's lock (a dead worker's lock is gone with its
    connection)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_RUN_LOCK_CLASS, run_id])
        if not cursor.fetchone()[0]:
            return True
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_RUN_LOCK_CLASS, run_id])
    return False


# --- one segment's run --------------------------------------------------------------------------


@contextlib.contextmanager
def _run_lock(run_id: int) -> Iterator[bool]:
    """A session advisory lock on the run: True if this process got it. Released on exit, or by
    PostgreSQL when the connection dies with a killed worker."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_RUN_LOCK_CLASS, run_id])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_RUN_LOCK_CLASS, run_id])


def search_run_skips(*, organization: Organization, run: SearchRun, stop_reason: str) -> dict:
    """People the matching query excluded from this run, by reason (blocked, suppressed,
    already delivered): counted up to the last company the run tried (the whole segment when the
    run exhausted it). One small count per run (segments.selectors.segment_candidate_skips)."""
    tried = SearchCandidate.objects.for_org(organization).filter(run=run)
    through = None
    if stop_reason != StopReason.EXHAUSTED:
        through = tried.aggregate(last=Max("company_id"))["last"]
        if through is None:
            return {"blocked": 0, "suppressed": 0, "delivered": 0}
    return segment_candidate_skips(
        organization=organization,
        segment=run.segment,
        through=through,
        ignore=set(tried.values_list("company_id", "person_id")),
    )


def search_run_stats_refresh(
    *, organization: Organization, run: SearchRun, skips: dict | None = None
) -> SearchRun:
    """Recount the run's statistics from its candidate rows and usage events; `skips` adds the
    people the matching query excluded (search_run_skips), or keeps the counts stored."""
    from billing.models import UsageEvent

    counts = (
        SearchCandidate.objects.for_org(organization)
        .filter(run=run)
        .aggregate(
            leads=Count("id", filter=Q(outcome=CandidateOutcome.LEAD)),
            unverified=Count("id", filter=Q(outcome=CandidateOutcome.UNVERIFIED)),
            delivered=Count("id", filter=Q(outcome=CandidateOutcome.SKIPPED_DELIVERED)),
            blocked=Count("id", filter=Q(outcome=CandidateOutcome.SKIPPED_BLOCKED)),
            suppressed=Count("id", filter=Q(outcome=CandidateOutcome.SKIPPED_SUPPRESSED)),
            errors=Count("id", filter=Q(outcome=CandidateOutcome.ERROR)),
        )
    )
    run.leads_created = counts["leads"]
    # A verified contact that was not delivered (already delivered meanwhile) still verified.
    run.verified = counts["leads"] + counts["delivered"]
    run.unverified = counts["unverified"]
    if skips is not None:
        run.skipped_delivered = counts["delivered"] + skips["delivered"]
        run.skipped_blocked = counts["blocked"] + skips["blocked"]
        run.skipped_suppressed = counts["suppressed"] + skips["suppressed"]
    run.errors = counts["errors"]
    run.charged = UsageEvent.objects.for_org(organization).filter(search_run_id=run.id).count()
    run.save(
        update_fields=[
            "leads_created",
            "verified",
            "unverified",
            "skipped_delivered",
            "skipped_blocked",
            "skipped_suppressed",
            "errors",
            "charged",
        ]
    )
    return run


def _finish(
    *, organization: Organization, run: SearchRun, status: str, stop_reason: str, error: str = ""
) -> SearchRun:
    skips = None
    if status == SearchRunStatus.SUCCEEDED and run.segment_id:
        skips = search_run_skips(organization=organization, run=run, stop_reason=stop_reason)
    search_run_stats_refresh(organization=organization, run=run, skips=skips)
    run.status = status
    run.stop_reason = stop_reason
    run.finished_at = timezone.now()
    fields = ["status", "stop_reason", "finished_at"]
    if error:
        run.last_error = error[:2000]
        fields.append("last_error")
    run.save(update_fields=fields)
    return run


def _record(
    *, organization: Organization, run: SearchRun, rows: Sequence[tuple[int, int, str, str]]
) -> None:
    """Candidate outcomes that create nothing else; a row another worker wrote first wins."""
    SearchCandidate.objects.bulk_create(
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
        ignore_conflicts=True,
    )


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


def search_run_execute(
    *,
    organization: Organization,
    run_id: int,
    contacts_find: ContactsFind | None = None,
) -> SearchRun:
    """Work on one run until it is finished: idempotent, resumable, safe to run twice at once.

    A finished run returns unchanged; a run another live worker holds returns unchanged (that
    worker finishes it). A run that crashed LEADPILOT_SEARCH_MAX_ATTEMPTS times is failed.
    Exceptions from the verification engine propagate (the task retries); the candidates already
    recorded stay recorded.
    """
    run = SearchRun.objects.for_org(organization).select_related("segment").get(pk=run_id)
    if run.is_finished:
        return run
    with _run_lock(run.id) as acquired:
        if not acquired:
            logger.info("search run %s is held by another worker", run.id)
            return run
        run.refresh_from_db()
        if run.is_finished:
            return run
        SearchRun.objects.for_org(organization).filter(pk=run.pk).update(
            attempts=F("attempts") + 1,
            status=SearchRunStatus.RUNNING,
            started_at=Coalesce(F("started_at"), timezone.now()),
        )
        run.refresh_from_db()
        if run.attempts > settings.LEADPILOT_SEARCH_MAX_ATTEMPTS:
            return _finish(
                organization=organization,
                run=run,
                status=SearchRunStatus.FAILED,
                stop_reason=StopReason.TOO_MANY_ATTEMPTS,
            )
        try:
            stop = _search(
                organization=organization,
                run=run,
                find=contacts_find or contacts_find_default(),
            )
        except Exception as exc:
            run.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            run.save(update_fields=["last_error"])
            raise
        return _finish(
            organization=organization, run=run, status=SearchRunStatus.SUCCEEDED, stop_reason=stop
        )


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

    def close_idle(self) -> None:
        with self._lock:
            self._done = True
            idle = [w for w, busy in self._busy.items() if not busy]
        for wrapper in idle:
            wrapper.close()


def _find_chunk(
    find: ContactsFind, pairs: list[tuple[int, int]], pool: _PoolConnections | None
) -> dict:
    """One chunk through the verification engine. On a pool thread (`pool`), the thread keeps its
    database connection for the next chunk unless the run has ended or the call failed."""
    if pool is None:
        return dict(find(candidates=pairs, config=_verification_config()))
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
        # The directory rows of the fetched candidates, loaded once per page (the engine and the
        # delivery read them from here instead of loading them per chunk).
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
            self.companies.update(Company.objects.in_bulk({c.company_id for c in fresh}))
            self.people.update(Person.objects.in_bulk({c.person_id for c in fresh}))
            if len(rows) < limit:
                self.exhausted = True
            elif not fresh:
                page *= 2  # a page of known people only: look further
        taken, self.queue = self.queue[:n], self.queue[n:]
        self.known.update(c.person_id for c in taken)
        return taken


def _search(*, organization: Organization, run: SearchRun, find: ContactsFind) -> str:
    """The streaming pipeline of one run.

    Up to LEADPILOT_SEARCH_BATCH_MAX candidates are verified at once, in chunks of
    LEADPILOT_SEARCH_CHUNK on a thread pool (the engine runs asyncio inside each call). Each chunk
    is delivered as soon as it comes back, so a slow mail server (tarpit, timeouts) holds up only
    its own chunk; once the cap is met the run ends without waiting for stragglers, whose
    candidates stay untried for a later night.
    """
    segment = run.segment
    if segment.status != SegmentStatus.ACTIVE:
        return StopReason.SEGMENT_INACTIVE
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
    try:
        while True:
            need = cap - leads
            if need <= 0:
                return StopReason.NIGHTLY_CAP
            quota_left = billing_quota_remaining(organization=organization, at=timezone.now())
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
                    need=cap - leads if quota_left is None else min(cap - leads, quota_left),
                    find=find,
                    delivery_mode=delivery_mode,
                )
                leads += created
                if stop:
                    return stop
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
) -> tuple[int, str | None]:
    """Deliver one verified chunk: leads for verified contacts (up to `need`), candidate rows for
    the rest. Returns (leads created, stop reason or None). The chunk's leads are written in one
    transaction (leads_deliver); when that fails on a constraint (someone delivered one of these
    people meanwhile) they are delivered one by one, so each gets its own outcome."""
    pairs = [(c.company_id, c.person_id) for c in batch]
    now = timezone.now()
    findings, still_stale = _refresh_stale(findings=findings, pairs=pairs, find=find, now=now)
    companies, people = directory
    if missing := {c.company_id for c in batch} - companies.keys():
        companies = {**companies, **Company.objects.in_bulk(missing)}
    if missing := {c.person_id for c in batch} - people.keys():
        people = {**people, **Person.objects.in_bulk(missing)}
    unverified: list[tuple[int, int, str, str]] = []
    deliveries: list[Delivery] = []
    for candidate in batch:
        key = (candidate.company_id, candidate.person_id)
        finding = findings.get(key)
        if finding is None or not finding.verified:
            reason = "not_found" if finding is None else (finding.reason or finding.status or "")
            unverified.append((*key, CandidateOutcome.UNVERIFIED, str(reason)))
            continue
        if key in still_stale:
            unverified.append((*key, CandidateOutcome.UNVERIFIED, "stale_evidence"))
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
    created = 0
    stop: str | None = None
    try:
        created = len(
            leads_deliver(
                organization=organization,
                run=run,
                deliveries=deliveries,
                delivery_mode=delivery_mode,
                now=timezone.now(),
            )
        )
        if created < len(deliveries):
            stop = StopReason.QUOTA
    except QuotaExhausted:
        stop = StopReason.QUOTA
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
    _record(organization=organization, run=run, rows=unverified)
    logger.debug("run %s: chunk of %d delivered %d leads", run.id, len(batch), created)
    return created, stop


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
        except IntegrityError:
            # Delivered meanwhile (another segment's run) or tried by a racing worker.
            if (
                not SearchCandidate.objects.for_org(organization)
                .filter(run=run, person_id=d.person.id)
                .exists()
            ):
                delivered = (
                    DeliveryRecord.objects.for_org(organization)
                    .filter(person_id=d.person.id)
                    .exists()
                )
                outcome = (
                    CandidateOutcome.SKIPPED_DELIVERED if delivered else CandidateOutcome.ERROR
                )
                _record(
                    organization=organization,
                    run=run,
                    rows=[(*key, outcome, "already delivered" if delivered else "conflict")],
                )
        except DatabaseError:
            raise  # connection trouble: the task retries, the run resumes
        except Exception as exc:
            logger.exception("run %s: candidate %s failed", run.id, key)
            _record(
                organization=organization,
                run=run,
                rows=[(*key, CandidateOutcome.ERROR, f"{exc.__class__.__name__}: {exc}")],
            )
    return created, None
