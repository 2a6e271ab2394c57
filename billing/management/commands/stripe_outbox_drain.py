"""Send the due Stripe outbox rows once (what the beat task does), or keep sending (--loop)."""

from __future__ import annotations

import dataclasses
import json
import time

from django.core.management.base import BaseCommand, CommandError

from billing.outbox_settings import stripe_settings
from billing.stripe_sync import stripe_outbox_drain


class Command(BaseCommand):
    help = "Send due Stripe outbox rows; prints one JSON line per pass (sent, retried, dead)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--max-rows", type=int, default=None)
        parser.add_argument("--loop", action="store_true", help="poll until interrupted")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between passes")

    def handle(self, *args, **opts) -> None:
        if not stripe_settings().enabled:
            raise CommandError(
                "Stripe is off: set STRIPE_API_KEY (and STRIPE_API_BASE for the fake)"
            )
        while True:
            result = stripe_outbox_drain(max_rows=opts["max_rows"])
            self.stdout.write(json.dumps(dataclasses.asdict(result)))
            self.stdout.flush()
            if not opts["loop"]:
                return
            time.sleep(opts["interval"])
