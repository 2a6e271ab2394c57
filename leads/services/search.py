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
  and UNIQUE(organization, company) on the delivery record and UNIQUE(organization, lead) on the
  usage event make a duplicate impossible even when two workers race.
- A run stops at the segment's nightly cap, at the organisation's remaining monthly quota
  (QuotaExhausted from billing, decided under the period lock), when candidates run out, or at
  the sending IP's daily SMTP cap (`sending_cap`: the people not asked are not recorded).
- A blind run (most contacts unanswered by the resolver or the mail servers: pipeline.RunBlind)
  fails with stop reason `outage` and a reason in words; the people it could not ask about are
  not recorded as having no contact (its unverified candidate rows are removed) and nothing is
  charged for them; it is tried again by the dispatcher from `retry_at` (back-off doubling from
  LEADPILOT_BLIND_RUN_RETRY_MINUTES, at most LEADPILOT_BLIND_RUN_MAX_RETRIES times); staff are
  e-mailed once per run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.db import (
    IntegrityError,
    connection,
    transaction,
)
from django.db.models import Count, F, Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.plans import billing_paused_organization_ids
from billing.subscriptions import subscription_pause_notify
from organizations.models import Organization
from segments.models import Segment, SegmentStatus
from segments.selectors import segment_candidate_skips

from ..models import (
    CandidateOutcome,
    SearchCandidate,
    SearchRun,
    SearchRunStatus,
    StopReason,
)
from .pipeline import RunBlind, search_run_pipeline
from .reverify import ContactsFind, contacts_find_default
from .webhook_events import search_run_completed_emit

logger = logging.getLogger(__name__)

_RUN_LOCK_CLASS = 7302
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
    # Past due beyond the grace period (billing): no run tonight, the owners are told once.
    for org_id in billing_paused_organization_ids(organization_ids=list(due), at=now):
        subscription_pause_notify(organization=due.pop(org_id)[0], now=now)
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
                transaction.on_commit(functools.partial(enqueue, run))
    stale_before = now - dt.timedelta(minutes=settings.LEADPILOT_SEARCH_REQUEUE_MINUTES)
    for run in existing.values():
        if run.is_retryable and run.retry_at is not None and run.retry_at <= now:
            # A blind run whose back-off is over: tried again (it resumes where it was).
            result.requeued.append(run.id)
            transaction.on_commit(functools.partial(enqueue, run))
            continue
        lost = (run.status == SearchRunStatus.PENDING and run.created_at < stale_before) or (
            run.status == SearchRunStatus.RUNNING
            and (run.started_at or run.created_at) < stale_before
            and not _run_is_held(run.id)
        )
        if lost:
            result.requeued.append(run.id)
            transaction.on_commit(functools.partial(enqueue, run))
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
    with transaction.atomic():
        run.save(update_fields=fields)
        search_run_completed_emit(organization=organization, run=run)
    return run


def _retry_delay(outage_failures: int) -> dt.timedelta | None:
    """The back-off before a blind run's next try; None once the retries are used up."""
    if outage_failures > settings.LEADPILOT_BLIND_RUN_MAX_RETRIES:
        return None
    minutes = settings.LEADPILOT_BLIND_RUN_RETRY_MINUTES * 2 ** max(outage_failures - 1, 0)
    return dt.timedelta(minutes=minutes)


def _fail_blind(*, organization: Organization, run: SearchRun, blind: RunBlind) -> SearchRun:
    """Fail a blind run: its unverified candidate rows go (what it concluded while blind is not a
    fact about anyone), a retry is scheduled, staff are told once per run."""
    with transaction.atomic():
        SearchCandidate.objects.for_org(organization).filter(
            run=run, outcome=CandidateOutcome.UNVERIFIED
        ).delete()
        SearchRun.objects.for_org(organization).filter(pk=run.pk).update(
            outage_failures=F("outage_failures") + 1
        )
        run.refresh_from_db(fields=["outage_failures"])
        delay = _retry_delay(run.outage_failures)
        run.retry_at = timezone.now() + delay if delay is not None else None
        then = (
            f"tried again after {run.retry_at:%H:%M} UTC"
            if run.retry_at is not None
            else "no retry left: the people it could not check are tried on another night"
        )
        run.failure_reason = (
            f"Verification was blind: {blind.outages} of {blind.asked} contacts got no answer "
            f"from the DNS resolver or the mail servers; nobody was recorded as having no "
            f"contact and nothing was charged for them ({then})."
        )[:500]
        run.save(update_fields=["retry_at", "failure_reason"])
        _finish(
            organization=organization,
            run=run,
            status=SearchRunStatus.FAILED,
            stop_reason=StopReason.OUTAGE,
            error=str(blind),
        )
        notify = (
            SearchRun.objects.for_org(organization)
            .filter(pk=run.pk, staff_notified_at__isnull=True)
            .update(staff_notified_at=timezone.now())
        )
        if notify:
            transaction.on_commit(
                functools.partial(_staff_tell, run_id=run.id, text=str(blind), org=organization)
            )
    logger.warning("search run %s failed blind: %s", run.id, blind)
    return run


def _staff_tell(*, run_id: int, text: str, org: Organization) -> None:
    """Mail settings.ADMINS and the active staff users about a blind run (once per run)."""
    from organizations.models import User

    subject = f"Nightly run {run_id} of {org.name} failed: verification was blind"
    body = (
        f"{text}.\n\nCheck the resolver (LEADPILOT_DNS_NAMESERVER) and outbound SMTP "
        f"(port {settings.LEADPILOT_SMTP_PORT}) from the workers. The run is tried again with "
        f"back-off (docs/nightly.md, 'A night that knows when it is blind')."
    )
    mail_admins(subject, body, fail_silently=True)
    staff = list(
        User.objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if staff:
        send_mail(
            f"{settings.EMAIL_SUBJECT_PREFIX}{subject}",
            body,
            None,
            staff,
            fail_silently=True,
        )


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
    if run.is_finished and not run.is_retryable:
        return run
    with _run_lock(run.id) as acquired:
        if not acquired:
            logger.info("search run %s is held by another worker", run.id)
            return run
        run.refresh_from_db()
        if run.is_finished and not run.is_retryable:
            return run
        SearchRun.objects.for_org(organization).filter(pk=run.pk).update(
            attempts=F("attempts") + 1,
            status=SearchRunStatus.RUNNING,
            stop_reason=StopReason.NONE,
            retry_at=None,
            failure_reason="",
            finished_at=None,
            started_at=Coalesce(F("started_at"), timezone.now()),
        )
        run.refresh_from_db()
        # Blind attempts are not crashes: they have their own limit.
        if run.attempts - run.outage_failures > settings.LEADPILOT_SEARCH_MAX_ATTEMPTS:
            return _finish(
                organization=organization,
                run=run,
                status=SearchRunStatus.FAILED,
                stop_reason=StopReason.TOO_MANY_ATTEMPTS,
            )
        try:
            stop = search_run_pipeline(
                organization=organization,
                run=run,
                find=contacts_find or contacts_find_default(),
            )
        except RunBlind as blind:
            return _fail_blind(organization=organization, run=run, blind=blind)
        except Exception as exc:
            run.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            run.save(update_fields=["last_error"])
            raise
        return _finish(
            organization=organization, run=run, status=SearchRunStatus.SUCCEEDED, stop_reason=stop
        )
