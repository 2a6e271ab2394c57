"""Check every ledger invariant of every organisation (or one), print one JSON line:
{"organizations": N, "violations": [{"organization": slug, "problem": "..."}]}; exit 1 when any."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.selectors import billing_invariant_violations
from organizations.models import Organization


class Command(BaseCommand):
    help = "Check the usage ledger's invariants (I1-I3, I8, credits C1-C5); exit 1 on a violation."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--org", dest="slug", help="Only this organisation (its slug).")

    def handle(self, *args: Any, slug: str | None = None, **options: Any) -> None:
        organizations = Organization.objects.order_by("id")
        if slug:
            organizations = organizations.filter(slug=slug)
            if not organizations.exists():
                raise CommandError(f"No organisation {slug!r}")
        count = 0
        violations: list[dict[str, str]] = []
        for organization in organizations.iterator():
            count += 1
            violations += [
                {"organization": organization.slug, "problem": problem}
                for problem in billing_invariant_violations(organization=organization)
            ]
        self.stdout.write(json.dumps({"organizations": count, "violations": violations}))
        if violations:
            sys.exit(1)
