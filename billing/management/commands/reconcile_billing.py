"""Compare the ledger with Stripe's meter event summaries; one JSON line; exit 1 on differences."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from billing.outbox_reconcile import billing_reconcile
from billing.outbox_settings import stripe_settings
from organizations.models import Organization


class Command(BaseCommand):
    help = (
        "Compare net units per organisation and month (ledger) with Stripe; prints one JSON "
        "line {ok, differences: [...]} and exits 1 when any month differs."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", help="organisation slug")
        parser.add_argument("--month", help="YYYY-MM (the month of the charges)")

    def handle(self, *args, **opts) -> None:
        if not stripe_settings().enabled:
            raise CommandError(
                "Stripe is off: set STRIPE_API_KEY (and STRIPE_API_BASE for the fake)"
            )
        organization = None
        if opts["org"]:
            organization = Organization.objects.filter(slug=opts["org"]).first()
            if organization is None:
                raise CommandError(f"No organisation {opts['org']!r}")
        month = None
        if opts["month"]:
            try:
                month = dt.date.fromisoformat(f"{opts['month']}-01")
            except ValueError:
                raise CommandError("--month is YYYY-MM") from None
        differences = billing_reconcile(organization=organization, month=month)
        self.stdout.write(
            json.dumps(
                {
                    "ok": not differences,
                    "differences": [dataclasses.asdict(d) for d in differences],
                }
            )
        )
        self.stdout.flush()
        if differences:
            sys.exit(1)
