"""`manage.py demo`: everything `make run` shows, idempotent.

1. the demo organisation and its owner (credentials printed);
2. a synthetic world (registry files + its internet) under VAR_DIR/world, generated once;
3. the directory imported from the world's registry files (a re-import of unchanged files
   changes nothing);
4. three active demo segments (the Swedish one's VDs come from the companies' websites);
5. the sandbox DNS/SMTP/HTTP servers on loopback for the world's internet, and one nightly search
   against them, so the approval queue and the calendar have leads next "morning";
6. a staff account (credentials printed) and a few disputes of different reasons for it to review
   in the admin (a bounce is re-verified against the sandbox while it runs);
7. the organisation on the Growth plan before its night (as staff set a plan in the admin), so
   its month is a paid one rather than the free plan's 25 leads; the summary prints the plan.

Lives in sandbox/ because it starts the sandbox: production code never imports it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from billing.disputes import dispute_open
from billing.models import Dispute, Plan, Subscription, SubscriptionStatus
from enrichment.models import Company
from leads.models import Lead
from organizations.models import DeliveryMode, Membership, Organization, Role, User
from organizations.services import (
    email_confirm,
    email_confirmation_token,
    organization_create_with_owner,
)
from sandbox.servers import Sandbox
from segments.models import Segment
from segments.services import segment_activate, segment_create

DEMO_EMAIL = "demo@leadpilot.localhost"
# The demo's plan: a paid month (500 leads, 50 trial leads in the first month, soft cap).
DEMO_PLAN = "growth-eur"
DEMO_PASSWORD = "demo-pilot-2026"  # noqa: S105 - printed on purpose, local demo only
STAFF_EMAIL = "staff@leadpilot.localhost"
DEMO_DISPUTES = [
    ("bounced", "Our mail to this address came back: 550 5.1.1 user unknown."),
    ("wrong_person", "She left the company in the spring."),
    ("outside_criteria", "This company is far smaller than the segment asks for."),
    ("other", "The phone number belongs to the reception, not to the CEO."),
]
DEMO_SEGMENTS = [
    (
        "Norwegian companies: CEO or chair",
        {"countries": ["NO"], "roles": ["ceo", "chair"]},
        None,
    ),
    (
        "UK companies: owners",
        {"countries": ["GB"], "roles": ["owner", "ceo", "director"]},
        DeliveryMode.CALENDAR,
    ),
    # Bolagsverket names no officers: each VD comes from the company's own site, read by the
    # nightly run itself (leads/services/site_people.py).
    ("Swedish companies: VD", {"countries": ["SE"], "roles": ["ceo"]}, None),
]


class Command(BaseCommand):
    help = "Set up the demo: organisation, world, directory, segments, one nightly search."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--companies", type=int, default=4000, help="size of the demo world")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--skip-nightly", action="store_true")

    def handle(self, *args: object, **options: object) -> None:
        started = time.monotonic()
        org, user = self._organization()
        world = Path(settings.VAR_DIR) / "world"
        self._world(world, seed=int(options["seed"]), companies=int(options["companies"]))
        self._step("Importing the directory from the registry files")
        call_command("load_world", str(world), "--no-progress", stdout=_Quiet())
        self._segments(org, user)
        self._plan(org)
        self._stripe()
        if not options["skip_nightly"]:
            self._nightly(org, world)
        staff = self._staff()
        self.stdout.write(self.style.SUCCESS(f"Demo ready in {time.monotonic() - started:.0f} s."))
        self.stdout.write(
            f"  Log in at {settings.SITE_URL}/accounts/login/ as {DEMO_EMAIL} / {DEMO_PASSWORD}"
        )
        self.stdout.write(
            f"  Staff: review disputes at {settings.SITE_URL}/admin/billing/dispute/ as "
            f"{staff.email} / {DEMO_PASSWORD}"
        )
        self.stdout.write(f"  {self._plan_summary(org)}")

    def _step(self, text: str) -> None:
        self.stdout.write(f"demo: {text}")
        self.stdout.flush()

    def _organization(self) -> tuple[Organization, User]:
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            self._step("Creating the demo organisation and user")
            organization, user = organization_create_with_owner(
                name="Demo Company",
                owner_email=DEMO_EMAIL,
                owner_password=DEMO_PASSWORD,
                owner_name="Demo User",
            )
            # As if the demo user opened the confirmation link: segments can be activated.
            email_confirm(token=email_confirmation_token(user=user))
            return organization, user
        membership = Membership.objects.of_user(user).filter(role=Role.OWNER).first()
        assert membership is not None, "the demo user owns the demo organisation"
        return membership.organization, user

    def _world(self, world: Path, *, seed: int, companies: int) -> None:
        if (world / "world.json").is_file():
            return
        self._step(f"Generating a synthetic world of {companies} companies (seed {seed})")
        call_command("generate_world", seed=seed, companies=companies, out=world, stdout=_Quiet())

    def _segments(self, org: Organization, user: User) -> None:
        existing = set(Segment.objects.for_org(org).values_list("name", flat=True))
        for name, criteria, mode in DEMO_SEGMENTS:
            if name in existing:
                continue
            segment = segment_create(
                organization=org,
                name=name,
                criteria=criteria,
                nightly_cap=25,
                delivery_mode=mode,
                created_by=user,
            )
            segment_activate(
                organization=org, segment_id=segment.id, confirm_no_decision_makers=True
            )
            self._step(f"Segment {name!r} created and activated")

    def _plan(self, org: Organization) -> None:
        """Growth for the demo organisation, the way staff put an organisation on a plan in the
        admin (Billing > Subscriptions: a row on the plan, active, no Stripe subscription): a
        Checkout needs the runserver for its webhook, and `make run` starts it only after the
        demo. Once: a plan the demo user picked on the Billing page since then stays."""
        if Subscription.objects.for_org(org).exists():
            return
        plan = Plan.objects.get(code=DEMO_PLAN)
        Subscription.objects.create(organization=org, plan=plan, status=SubscriptionStatus.ACTIVE)
        self._step(f"Demo organisation on the {plan.name} plan ({plan.currency})")

    def _plan_summary(self, org: Organization) -> str:
        from billing.plans import billing_overview

        overview = billing_overview(organization=org)
        terms = overview.terms
        trial = f", {terms.trial_leads} of them trial leads" if terms.trial_leads else ""
        cap = "hard cap" if terms.hard_cap else "soft cap"
        return (
            f"Plan: {terms.plan.name} ({terms.currency}, {cap}): {terms.quota} leads this month"
            f"{trial}, {terms.price_per_month} {terms.currency} a month + "
            f"{terms.price_per_extra_lead} per extra lead; {overview.net} charged so far, "
            f"expected cost {overview.expected_cost} {terms.currency}"
        )

    def _nightly(self, org: Organization, world: Path) -> None:
        self._step("Starting the sandbox internet (DNS, SMTP, HTTP on 127.0.0.1)")
        with Sandbox.from_world(world, tarpit_seconds=3.0).start() as sandbox:
            # The verification engine reads these at call time (VerificationConfig.from_settings).
            settings.LEADPILOT_DNS_NAMESERVER = f"127.0.0.1:{sandbox.dns_port}"
            settings.LEADPILOT_SMTP_PORT = sandbox.smtp_port
            settings.LEADPILOT_HTTP_PORT = sandbox.http_port
            settings.LEADPILOT_HTTPS_PORT = sandbox.https_port
            settings.LEADPILOT_HTTP_CA_FILE = sandbox.ca_file
            self._step("Running the nightly search once")
            call_command("run_nightly", org=org.slug, sync=True, stdout=self.stdout)
            self._disputes(org)
            self._upload(org)

    def _upload(self, org: Organization) -> None:
        """A finished own-list upload, once: 20 Norwegian companies by organisation number, the
        Uploads page's job run in-process (docs/uploads.md)."""
        import io

        from uploads.models import Upload
        from uploads.services import UploadInput, upload_create, upload_start

        if Upload.objects.for_org(org).exists():
            return
        numbers = Company.objects.filter(country="NO").order_by("id")
        rows = "".join(f"{n},NO\n" for n in numbers.values_list("registry_id", flat=True)[:20])
        data = f"Organisasjonsnummer,Land\n{rows}".encode()
        member = Membership.objects.for_org(org).select_related("user").order_by("id").first()
        upload = upload_create(
            organization=org,
            created_by=member.user if member else None,
            data=UploadInput(
                file=io.BytesIO(data), filename="kunder.csv", size=len(data), kind="companies"
            ),
        )
        self._step("Enriching an uploaded list of 20 Norwegian companies")
        upload_start(organization=org, upload_id=upload.id)
        upload.refresh_from_db()
        self._step(
            f"Upload {upload.filename}: {upload.get_status_display()}, "
            f"{upload.rows_found} of {upload.rows_valid} rows found and charged"
        )

    def _stripe(self) -> None:
        """`make run` points STRIPE_API_BASE at the fake Stripe on loopback: start it detached (it
        serves the runserver that follows, whose /stripe/webhook/ it posts to) and price the plans
        in it, so the Billing page's Checkout and portal work without the internet."""
        from billing.plans import billing_setting
        from billing.subscriptions import stripe_plans_sync

        base = billing_setting("STRIPE_API_BASE", "")
        if not billing_setting("STRIPE_API_KEY", "") or not base.startswith("http://127.0.0.1:"):
            return
        port = int(base.rsplit(":", 1)[1].strip("/"))
        with socket.socket() as probe:
            running = probe.connect_ex(("127.0.0.1", port)) == 0
        if not running:
            self._step(f"Starting the fake Stripe on {base}")
            log = (Path(settings.VAR_DIR) / "fake_stripe.log").open("ab")
            subprocess.Popen(  # noqa: S603 - our own manage.py
                [
                    sys.executable,
                    "manage.py",
                    "fake_stripe",
                    "--port",
                    str(port),
                    "--webhook-url",
                    f"{settings.SITE_URL.rstrip('/')}/stripe/webhook/",
                    "--webhook-secret",
                    billing_setting("STRIPE_WEBHOOK_SECRET", "whsec_fake"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=settings.BASE_DIR,
            )
            for _ in range(100):
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.1)
            # A new fake knows no prices: the plans are priced again.
            Plan.objects.update(stripe_price_id="", stripe_overage_price_id="")
        priced = stripe_plans_sync()
        self._step(f"Fake Stripe ready: {len(priced)} plans priced, Billing page live")

    def _staff(self) -> User:
        """The staff account that reviews disputes in the admin (idempotent)."""
        staff = User.objects.filter(email=STAFF_EMAIL).first()
        if staff is None:
            self._step("Creating the staff account")
            staff = User.objects.create_superuser(STAFF_EMAIL, DEMO_PASSWORD)
        return staff

    def _disputes(self, org: Organization) -> None:
        """A few disputes of different reasons, once; the objective ones are re-checked now."""
        if Dispute.objects.for_org(org).exists():
            return
        members = Membership.objects.for_org(org).select_related("user").order_by("id")
        member = members.first()
        # A bounce is about an e-mail address: that dispute takes the first e-mail lead.
        leads = list(Lead.objects.for_org(org).filter(contact_kind="email").order_by("id")[:1])
        leads += (
            Lead.objects.for_org(org)
            .exclude(pk__in=[lead.pk for lead in leads])
            .order_by("id")[: len(DEMO_DISPUTES) - len(leads)]
        )
        for lead, (reason, note) in zip(leads, DEMO_DISPUTES, strict=False):
            dispute_open(
                organization=org,
                lead_id=lead.id,
                reason=reason,
                note=note,
                created_by=member.user if member else None,
            )
        self._step(f"Opened {min(len(leads), len(DEMO_DISPUTES))} disputes for staff to review")


class _Quiet:
    """A stdout that keeps only the last line (commands' per-file JSON is noise here)."""

    def __init__(self) -> None:
        self.last = ""

    def write(self, text: str) -> None:
        if text.strip():
            self.last = text.strip()

    def flush(self) -> None:
        pass
