"""Benchmark: an own-list upload of company rows enriched against the sandbox world.

    .venv/bin/python bench/upload.py            # 10,000 rows of a 12,000-company world
    .venv/bin/python bench/upload.py --quick    # CI smoke: 200 rows of a 3,000-company world

Set-up (cached, not timed; shared with bench/nightly.py): the generated world imported into its
bench database (BENCH_DATABASE_URL, default leadpilot_bench_nightly_<companies>), the sandbox
internet as its own process with the bench's latency per DNS answer and per SMTP reply (50 ms),
one organisation on an agreement-sized quota. The CSV (registry number and country of the first
N companies, Norwegian and British) is built in memory.

Timed, in this process: `upload_create` (read, map, validate every row) and the job
(`uploads.jobs.upload_process`, the code a Celery worker runs) until the upload is finished.
Figures: rows_per_s (valid rows processed per second of the job; goal >= 50 with 50 ms),
first_result_s (start to the first committed row), create_s, found and charged rows, and the
exactly-once check (charged == usage events == leads), peak_rss_mb of this process.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import figures_line, peak_rss_mb, setup_django
from nightly import Processes, analyze, directory_digest, prepare_world, start_sandbox


def step(text: str) -> None:
    print(f"upload-bench: {text}", flush=True)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small CI smoke version")
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--companies", type=int, default=12_000)
    p.add_argument("--latency-ms", type=float, default=50.0, help="per DNS answer and SMTP reply")
    p.add_argument("--chunk", type=int, default=0, help="rows per chunk (default: the setting)")
    p.add_argument("--threads", type=int, default=0, help="job threads (default: the setting)")
    p.add_argument("--seed", type=int, default=6)
    args = p.parse_args()
    if args.quick:
        args.rows, args.companies = 200, 3_000
    return args


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ.setdefault(
        "BENCH_DATABASE_URL",
        f"postgres://postgres@127.0.0.1:5432/leadpilot_bench_nightly_{args.companies}",
    )
    os.environ.pop("CELERY_BROKER_URL", None)  # the job runs in this process
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("LEADPILOT_SMTP_DAILY_CAP", "0")
    db = setup_django(built_by=directory_digest(args))

    from django.conf import settings
    from django.db import connection

    from billing.models import UsageEvent
    from enrichment.models import Company
    from enrichment.verification import verification_caches_clear
    from leads.models import Lead
    from organizations.models import Organization, User
    from organizations.services import organization_create
    from uploads.jobs import upload_process
    from uploads.models import Upload, UploadStatus
    from uploads.services import UploadInput, upload_create

    world = prepare_world(args, db)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE organizations_organization, organizations_user RESTART IDENTITY CASCADE"
        )
    analyze()
    owner = User.objects.create_user(email="bench@example.com", password=None)
    org = organization_create(name="Upload bench", owner=owner)
    Organization.objects.filter(pk=org.pk).update(monthly_lead_quota=10 * args.rows)
    org.refresh_from_db()
    companies = list(
        Company.objects.filter(country__in=("NO", "GB"))
        .order_by("id")
        .values_list("registry_id", "country")[: args.rows]
    )
    if len(companies) < args.rows:
        raise SystemExit(f"the world has {len(companies)} companies, fewer than {args.rows} rows")
    text = "Organisation number,Country\n" + "".join(f"{r},{c}\n" for r, c in companies)
    data = text.encode()

    logs = Path(settings.VAR_DIR) / "bench" / "upload-logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs = Processes()
    try:
        step(f"starting the sandbox internet ({args.latency_ms:g} ms per DNS answer/SMTP reply)")
        ports = start_sandbox(world, args, procs, logs)
        settings.LEADPILOT_DNS_NAMESERVER = f"127.0.0.1:{ports['dns_port']}"
        settings.LEADPILOT_SMTP_PORT = int(ports["smtp_port"])
        settings.LEADPILOT_HTTP_PORT = int(ports["http_port"])
        settings.LEADPILOT_HTTPS_PORT = int(ports["https_port"])
        settings.LEADPILOT_HTTP_CA_FILE = ports["ca_file"]
        if args.chunk:
            settings.LEADPILOT_UPLOAD_CHUNK = args.chunk
        if args.threads:
            settings.LEADPILOT_UPLOAD_THREADS = args.threads
        verification_caches_clear()

        step(f"uploading {args.rows:,} company rows")
        t0 = time.monotonic()
        upload = upload_create(
            organization=org,
            created_by=owner,
            data=UploadInput(
                file=io.BytesIO(data),
                filename="bench.csv",
                size=len(data),
                kind="companies",
                roles=["ceo", "chair", "owner"],
            ),
        )
        create_s = time.monotonic() - t0
        step(f"validated in {create_s:.1f} s: {upload.rows_valid:,} of {upload.rows_total:,} valid")
        Upload.objects.for_org(org).filter(pk=upload.pk).update(status=UploadStatus.QUEUED)
        t1 = time.monotonic()
        started = time.time()
        upload = upload_process(organization=org, upload_id=upload.id)
        job_s = time.monotonic() - t1
    finally:
        procs.stop()
    upload.refresh_from_db()
    first_result_s = (
        upload.first_result_at.timestamp() - started if upload.first_result_at else float("nan")
    )
    events = UsageEvent.objects.for_org(org).count()
    leads = Lead.objects.for_org(org).count()
    print(
        f"status={upload.status} rows_done={upload.rows_done} found={upload.rows_found} "
        f"charged={upload.rows_charged} usage_events={events} leads={leads}"
    )
    rows_per_s = upload.rows_done / job_s if job_s else 0.0
    print(
        figures_line(
            rows=upload.rows_valid,
            rows_per_s=f"{rows_per_s:.1f}",
            first_result_s=f"{first_result_s:.2f}",
            job_s=f"{job_s:.1f}",
            create_s=f"{create_s:.2f}",
            found=upload.rows_found,
            charged=upload.rows_charged,
            usage_events=events,
            peak_rss_mb=f"{peak_rss_mb():.0f}",
            latency_ms=f"{args.latency_ms:g}",
            chunk=settings.LEADPILOT_UPLOAD_CHUNK,
            threads=settings.LEADPILOT_UPLOAD_THREADS,
        )
    )
    if (
        upload.status != UploadStatus.COMPLETED
        or upload.rows_done != upload.rows_valid
        or not (upload.rows_charged == events == leads)
    ):
        sys.exit(1)


if __name__ == "__main__":
    main()
