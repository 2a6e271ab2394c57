"""`manage.py run_nightly [--org SLUG] [--date YYYY-MM-DD] [--sync]`: the nightly search now.

Creates the runs of every active segment (of one organisation with --org) for the date (default:
each organisation's local today, whatever the hour), then:
- with a broker (CELERY_BROKER_URL set, tasks not eager) enqueues one `leads.run_segment_search`
  per unfinished run for the workers, unless --sync;
- without a broker, or with --sync, runs them here, one after the other, and prints their figures.
Idempotent: a finished run is reported, not repeated; an unfinished one is resumed, and so is a
run that failed for an outage with a retry to come. A failed run is printed in red with its
failure reason and its retry time (or that none is scheduled), never as a plain summary.
"""

from __future__ import annotations

import datetime as dt

from celery import current_app
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leads.models import SearchRun, SearchRunStatus
from leads.services import nightly_dispatch, search_run_execute
from leads.tasks import enqueue_run
from organizations.models import Organization


class Command(BaseCommand):
    help = "Run (or enqueue) the nightly search for today or a given date."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", metavar="SLUG", help="Only this organisation.")
        parser.add_argument("--date", metavar="YYYY-MM-DD", help="Run date (local night).")
        parser.add_argument(
            "--sync", action="store_true", help="Run here even when a broker is configured."
        )

    def handle(self, *args: object, **options: object) -> None:
        organization = None
        if options["org"]:
            organization = Organization.objects.filter(slug=options["org"]).first()
            if organization is None:
                raise CommandError(f"--org: no organisation with slug {options['org']!r}")
        run_date = None
        if options["date"]:
            try:
                run_date = dt.date.fromisoformat(str(options["date"]))
            except ValueError:
                raise CommandError(f"--date: {options['date']!r} is not YYYY-MM-DD") from None
        in_process = bool(options["sync"]) or current_app.conf.task_always_eager
        created: list[SearchRun] = []
        nightly_dispatch(
            organization=organization, run_date=run_date, force=True, enqueue=created.append
        )
        orgs = [organization] if organization else list(Organization.objects.order_by("id"))
        runs = []
        for org in orgs:
            day = run_date or dt.datetime.now(tz=org.tz).date()
            runs += list(
                SearchRun.objects.for_org(org)
                .filter(run_date=day)
                .select_related("segment")
                .order_by("id")
            )
        if not runs:
            self.stdout.write("No active segments: nothing to run.")
            return
        new_ids = {run.id for run in created}
        for run in runs:
            label = f"{run.organization_id}/{run.segment.name} {run.run_date}"
            if run.is_finished and not run.is_retryable:
                self.stdout.write(f"{label}: already {run.status} ({run.leads_created} leads)")
                self._failure(run)
                continue
            if not in_process:
                enqueue_run(run)
                verb = "enqueued" if run.id in new_ids else "re-enqueued"
                self.stdout.write(f"{label}: {verb} run {run.id}")
                continue
            org = next(o for o in orgs if o.id == run.organization_id)
            run = search_run_execute(organization=org, run_id=run.id)
            summary = (
                f"{label}: {run.status} ({run.get_stop_reason_display()}): "
                f"matched={run.matched} verified={run.verified} unverified={run.unverified} "
                f"leads={run.leads_created} charged={run.charged} errors={run.errors} "
                f"duration={run.duration}"
            )
            failed = run.status == SearchRunStatus.FAILED
            self.stdout.write(self.style.ERROR(summary) if failed else self.style.SUCCESS(summary))
            self._failure(run)

    def _failure(self, run: SearchRun) -> None:
        """A failed run's reason and when it is tried again (or that it is not), in red."""
        if run.status != SearchRunStatus.FAILED:
            return
        reason = run.failure_reason or run.last_error or run.get_stop_reason_display()
        self.stdout.write(self.style.ERROR(f"  failed: {reason}"))
        if run.retry_at is not None:
            self.stdout.write(
                self.style.ERROR(
                    f"  retry at {run.retry_at:%Y-%m-%d %H:%M} UTC (the dispatcher enqueues it; "
                    f"this command retries it at once)"
                )
            )
        else:
            self.stdout.write(self.style.ERROR("  no retry scheduled"))
