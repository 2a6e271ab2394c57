"""Stripe sync benchmark: charges synced through the outbox to the fake Stripe with latency.

    .venv/bin/python bench/billing.py            # 10,000 charges, 50 ms per Stripe request
    .venv/bin/python bench/billing.py --quick    # 300 charges, CI smoke test

Charges one organisation N leads (the ledger's own service, in batches), starts the fake Stripe
(`manage.py fake_stripe`, its own process so it does not share this one's GIL) with the given
latency, then drains the outbox with --workers threads (each its own database connection and
STRIPE_OUTBOX_CONCURRENCY HTTP threads) and polls billing_reconcile until it is clean.
Figures: events_per_s (sent rows / drain wall time; goal >= 200), reconciled_s (from the first
send until the reconciliation is clean), stripe_events (what the fake counted) and duplicates.
The last line is key=value figures. Uses BENCH_DATABASE_URL (bench/_common.py); the billing
tables of the bench database are emptied first.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import figures_line, setup_django  # noqa: E402


def start_fake(latency_ms: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "fake_stripe",
            "--port",
            "0",
            "--latency-ms",
            str(latency_ms),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "leadpilot.settings.base"},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    url = dict(part.split("=", 1) for part in first.split())["url"]
    return proc, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--charges", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="300 charges")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=24, help="HTTP threads per worker")
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    if args.quick:
        args.charges = 300

    fake, url = start_fake(args.latency_ms)
    os.environ.update(
        STRIPE_API_KEY="sk_test_bench",
        STRIPE_API_BASE=url,
        STRIPE_OUTBOX_CONCURRENCY=str(args.concurrency),
        STRIPE_OUTBOX_BATCH=str(args.batch),
        STRIPE_OUTBOX_BACKOFF_SECONDS="0.5",
    )
    setup_django()
    import logging

    logging.getLogger("stripe").setLevel(logging.WARNING)  # a line per request otherwise
    try:
        run(args)
    finally:
        fake.terminate()
        fake.wait(timeout=10)


def run(args: argparse.Namespace) -> None:
    from django.db import close_old_connections, connection, transaction

    from billing.models import StripeOutbox
    from billing.outbox_reconcile import billing_reconcile
    from billing.services import usage_events_record
    from billing.stripe_sync import stripe_client, stripe_meter_ensure, stripe_outbox_drain
    from organizations.services import organization_create_with_owner

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE billing_stripeoutbox, billing_stripecustomer, billing_dispute, "
            "billing_ledgerentry, billing_usageevent, billing_billingperiod CASCADE"
        )
    stamp = int(time.time())
    org, _ = organization_create_with_owner(
        name=f"Bench Billing {stamp}",
        owner_email=f"owner{stamp}@bench.example",
        owner_password=None,
    )
    org.monthly_lead_quota = args.charges + 10
    org.save(update_fields=["monthly_lead_quota"])
    started = time.perf_counter()
    snapshot = {"verified": True, "kind": "email", "value": "bench@example.com"}
    for first in range(0, args.charges, 500):
        with transaction.atomic():
            usage_events_record(
                organization=org,
                charges=[(i, snapshot) for i in range(first, min(first + 500, args.charges))],
            )
    charge_s = time.perf_counter() - started
    print(f"charged {args.charges} leads in {charge_s:.1f}s", flush=True)
    stripe_meter_ensure(client=stripe_client())

    def worker() -> None:
        try:
            stripe_outbox_drain()
        finally:
            close_old_connections()
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while StripeOutbox.all_orgs.filter(status="pending").exists():  # back-off stragglers
        stripe_outbox_drain()
        time.sleep(0.2)
    drain_s = time.perf_counter() - started
    sent = StripeOutbox.all_orgs.filter(status="sent").count()
    differences = billing_reconcile(organization=org)
    while differences and time.perf_counter() - started < 600:
        time.sleep(0.5)
        differences = billing_reconcile(organization=org)
    reconciled_s = time.perf_counter() - started
    import json
    import urllib.request

    from billing.outbox_settings import stripe_settings

    with urllib.request.urlopen(f"{stripe_settings().api_base}/_fake/state") as response:  # noqa: S310
        state = json.loads(response.read())
    print(
        f"sent={sent} dead={StripeOutbox.all_orgs.filter(status='dead').count()} "
        f"drain_s={drain_s:.2f} reconciled={differences or 'yes'}"
    )
    print(
        figures_line(
            charges=args.charges,
            events_per_s=f"{sent / drain_s:.0f}",
            reconciled_s=f"{reconciled_s:.2f}",
            stripe_events=state["meter_events"],
            duplicates=state["duplicates"],
            latency_ms=f"{args.latency_ms:g}",
            workers=args.workers,
            concurrency=args.concurrency,
        )
    )
    if differences or state["meter_events"] != args.charges:
        sys.exit(1)


if __name__ == "__main__":
    main()
