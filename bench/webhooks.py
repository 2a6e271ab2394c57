"""Webhook benchmark: what announcing events costs the change's transaction, and delivery speed.

    .venv/bin/python bench/webhooks.py            # 5,000 events, 2 endpoints, 8 senders
    .venv/bin/python bench/webhooks.py --quick    # 200 events, CI smoke test

1. emit: `events_emit` of the night's shape (batches of 50 leads, two subscribed endpoints) inside
   the caller's transaction; figure `emit_ms_per_50` (median) is what a night's chunk pays.
2. deliver: every delivery is sent by --senders threads calling the worker's own service
   (`delivery_attempt`: claim, sign, POST, record), to a receiver process on loopback answering
   after --latency-ms; figures `deliveries_per_s` and `attempt_p95_ms` (the service's whole
   attempt, database included).
The last line is key=value figures. Uses BENCH_DATABASE_URL (bench/_common.py); the webhook
tables of its bench organisation are emptied first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import figures_line, setup_django  # noqa: E402

RECEIVER = textwrap.dedent(
    """
    import sys, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    delay = float(sys.argv[1]) / 1000
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length") or 0))
            time.sleep(delay)
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()
        def log_message(self, *a):
            pass
    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="200 events")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    events = 200 if args.quick else args.events

    os.environ["LEADPILOT_WEBHOOKS_ALLOW_PRIVATE"] = "true"
    os.environ["LEADPILOT_WEBHOOKS_REQUIRE_HTTPS"] = "false"
    os.environ.pop("CELERY_BROKER_URL", None)
    setup_django()
    from django.db import connection, transaction

    from organizations.models import Organization
    from webhooks import events as webhook_events
    from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
    from webhooks.services import delivery_attempt, endpoint_create

    # The bench sends itself (step 2): the on-commit hand-over to Celery is left out here.
    webhook_events.deliveries_enqueue = lambda **kwargs: None  # type: ignore[assignment]

    org, _ = Organization.objects.get_or_create(slug="bench-webhooks", defaults={"name": "Bench"})
    for model in (WebhookAttempt, WebhookDelivery, WebhookMessage, WebhookEndpoint):
        model.objects.for_org(org).delete()
    receiver = subprocess.Popen(
        [sys.executable, "-c", RECEIVER, str(args.latency_ms)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        for path in ("/crm", "/zapier"):
            endpoint_create(
                organization=org, url=f"http://127.0.0.1:{port}{path}", events=["lead.created"]
            )
        lead = {
            "id": 1,
            "status": "pending_approval",
            "company": {"name": "Ålesund Verft AS", "country": "NO", "registry_id": "912345678"},
            "person": {"full_name": "Kari Nordmann", "role": "ceo"},
            "contact": {"kind": "email", "value": "kari.nordmann@verft.example"},
        }
        chunk_ms = []
        for start in range(0, events, 50):
            n = min(50, events - start)
            began = time.perf_counter()
            with transaction.atomic():
                webhook_events.events_emit(organization=org, type="lead.created", items=[lead] * n)
            chunk_ms.append((time.perf_counter() - began) * 1000)
        ids = list(WebhookDelivery.objects.for_org(org).order_by("id").values_list("id", flat=True))
        attempt_ms: list[float] = []

        def send(delivery_id: int) -> None:
            began = time.perf_counter()
            try:
                delivery_attempt(delivery_id=delivery_id)
            finally:
                attempt_ms.append((time.perf_counter() - began) * 1000)
                connection.close()

        began = time.perf_counter()
        with ThreadPoolExecutor(args.senders) as pool:
            list(pool.map(send, ids, chunksize=16))
        wall = time.perf_counter() - began
        delivered = WebhookDelivery.objects.for_org(org).filter(status="succeeded").count()
        attempts = WebhookAttempt.objects.for_org(org).count()
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    attempt_ms.sort()
    print(
        figures_line(
            events=events,
            deliveries=len(ids),
            delivered=delivered,
            attempts=attempts,
            emit_ms_per_50=round(statistics.median(chunk_ms), 2),
            deliveries_per_s=round(len(ids) / wall, 1),
            attempt_p95_ms=round(attempt_ms[int(len(attempt_ms) * 0.95) - 1], 1),
            senders=args.senders,
            latency_ms=args.latency_ms,
        )
    )
    if delivered != len(ids) or attempts != len(ids):
        sys.exit("not every delivery succeeded exactly once")


if __name__ == "__main__":
    main()
