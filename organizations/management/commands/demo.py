"""`manage.py demo`: the demo organisation and user for `make run` (idempotent).

Later pieces extend it: the sandbox world, its directory and one nightly search.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from organizations.models import User
from organizations.services import organization_create_with_owner

DEMO_EMAIL = "demo@leadpilot.localhost"
DEMO_PASSWORD = "demo-pilot-2026"  # noqa: S105 - printed on purpose, local demo only


class Command(BaseCommand):
    help = "Create the demo organisation and user (idempotent) and print the credentials."

    def handle(self, *args: object, **options: object) -> None:
        if not User.objects.filter(email=DEMO_EMAIL).exists():
            organization_create_with_owner(
                name="Demo Company",
                owner_email=DEMO_EMAIL,
                owner_password=DEMO_PASSWORD,
                owner_name="Demo User",
            )
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(
            f"  Log in at http://127.0.0.1:8000/accounts/login/ as {DEMO_EMAIL} / {DEMO_PASSWORD}"
        )
