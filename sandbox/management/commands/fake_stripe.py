"""Serve the fake Stripe (sandbox/stripe, docs/stripe-fake.md) on 127.0.0.1 until interrupted."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from sandbox.stripe import FakeStripe, Faults


class Command(BaseCommand):
    help = "Serve a stateful fake Stripe API on 127.0.0.1 (first line: port=P url=URL)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=12111, help="0 = any free port")
        parser.add_argument("--webhook-url", default="", help="where signed events are posted")
        parser.add_argument("--webhook-secret", default="whsec_fake")
        parser.add_argument("--latency-ms", type=float, default=0.0)

    def handle(self, *args, **opts) -> None:
        fake = FakeStripe(
            port=opts["port"],
            webhook_url=opts["webhook_url"],
            webhook_secret=opts["webhook_secret"],
            faults=Faults(latency_ms=opts["latency_ms"]),
        )
        self.stdout.write(f"port={fake.port} url={fake.url}")
        self.stdout.write(f"STRIPE_API_BASE={fake.url} STRIPE_API_KEY=sk_test_fake")
        self.stdout.flush()
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake._server.server_close()
