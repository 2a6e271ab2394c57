# ruff: noqa: F811 - pytest fixtures imported from tests/leads/conftest.py and stripe_peer.py
"""The Stripe outbox against the fake Stripe (sandbox/stripe) on PostgreSQL: every charge and
credit reaches Stripe exactly once, whatever the concurrency, lost answers or a killed sender."""

from __future__ import annotations

import collections
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from billing.disputes import dispute_accept, dispute_open
from billing.models import (
    BillingPeriod,
    LedgerEntry,
    Plan,
    StripeCustomer,
    StripeOutbox,
    Subscription,
    UsageEvent,
)
from billing.outbox_reconcile import billing_reconcile
from billing.plans import plan_terms_of
from billing.selectors import billing_invariant_violations
from billing.services import QuotaExhausted, usage_events_record
from billing.stripe_sync import (
    stripe_client,
    stripe_meter_ensure,
    stripe_outbox_drain,
)
from leads.models import Lead, SearchRun
from leads.services import nightly_dispatch, search_run_execute
from organizations.models import Organization, User
from sandbox.stripe import FakeStripe
from tests.billing.stripe_peer import fake_stripe, plans_seed, seeded_plans, subscribe  # noqa: F401
from tests.leads.conftest import _fresh_process_caches, prefix, sandbox  # noqa: F401
from tests.leads.workers import wait_until
from tests.leads.world import segment_for, world_build

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = {"verified": True, "kind": "email", "value": "kari.nordmann@example.no"}
METER_PATH = "/v1/billing/meter_events"


@pytest.fixture
def fake(settings):
    with FakeStripe() as fake:
        settings.STRIPE_API_KEY = "sk_test_outbox"
        settings.STRIPE_API_BASE = fake.url
        settings.STRIPE_OUTBOX_BACKOFF_SECONDS = 0
        settings.STRIPE_OUTBOX_BATCH = 25
        settings.STRIPE_OUTBOX_CONCURRENCY = 8
        settings.STRIPE_TIMEOUT_SECONDS = 2
        stripe_meter_ensure(client=stripe_client())
        yield fake


def charge_many(org: Organization, lead_ids, *, at=None) -> None:
    with transaction.atomic():
        usage_events_record(
            organization=org,
            charges=[(lead_id, SNAPSHOT) for lead_id in lead_ids],
            occurred_at=at,
        )


def allow(org: Organization, quota: int) -> None:
    Organization.objects.filter(pk=org.pk).update(monthly_lead_quota=quota)


def agreement(tenant, *, quota: int, per_extra_lead: str, currency: str = "EUR") -> None:
    """Staff put the organisation on the Agreement plan in the admin, with its own terms."""
    plans_seed()
    staff = User.objects.filter(is_staff=True).first() or User.objects.create_superuser(
        "staff@leadpilot.example", "pw-staff-1234"
    )
    plan = Plan.objects.get(code="agreement")
    if plan.currency != currency:
        Plan.objects.filter(pk=plan.pk).update(currency=currency)
    now = timezone.localtime()
    response = tenant.client_for(staff).post(
        "/admin/billing/subscription/add/",
        {
            "organization": tenant.org.pk,
            "plan": plan.pk,
            "status": "active",
            "started_at_0": now.date().isoformat(),
            "started_at_1": now.strftime("%H:%M:%S"),
            "agreement_quota": quota,
            "agreement_price_per_month": "900.00",
            "agreement_price_per_extra_lead": per_extra_lead,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def meter_posts(fake: FakeStripe) -> list[dict]:
    return [r for r in fake.state.requests if r["path"] == METER_PATH]


def test_charges_and_credits_write_outbox_rows_in_their_transaction(tenant_a, tenant_b):
    """Written whether or not Stripe is on; a rolled-back charge leaves no row."""
    charge_many(tenant_a.org, [1, 2])
    charge_many(tenant_b.org, [1])
    with pytest.raises(QuotaExhausted):
        charge_many(tenant_a.org, range(100, 10_000))
    rows = StripeOutbox.objects.for_org(tenant_a.org).order_by("idempotency_key")
    events = UsageEvent.objects.for_org(tenant_a.org)
    assert sorted(r.idempotency_key for r in rows) == sorted(f"meter:{e.id}" for e in events)
    assert {(r.kind, r.status, r.attempts) for r in rows} == {("meter_event", "pending", 0)}
    assert StripeOutbox.objects.for_org(tenant_b.org).count() == 1

    dispute = dispute_open(
        organization=tenant_a.org,
        lead_id=1,
        reason="wrong_person",
        note="Left.",
        created_by=tenant_a.member,
    )
    dispute_accept(organization=tenant_a.org, dispute_id=dispute.pk, decided_by=tenant_a.owner)
    credit = StripeOutbox.objects.for_org(tenant_a.org).get(kind="credit")
    assert credit.idempotency_key == f"credit:{credit.ledger_entry_id}"
    assert credit.ledger_entry.units == -1
    # Stripe is off (no STRIPE_API_KEY): nothing is sent, rows wait.
    assert stripe_outbox_drain().sent == 0


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_drainers_send_500_rows_once_each(fake, tenant_a, tenant_b):
    allow(tenant_a.org, 1000)
    for start in range(0, 500, 100):
        charge_many(tenant_a.org, range(start, start + 100))
    charge_many(tenant_b.org, range(20))
    fake.set_faults(latency_ms=20)
    errors: list[BaseException] = []

    def drainer() -> None:
        try:
            stripe_outbox_drain()
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=drainer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert set(StripeOutbox.all_orgs.values_list("status", flat=True)) == {"sent"}
    posts = collections.Counter(r["idempotency_key"] for r in meter_posts(fake))
    assert len(posts) == 520 and max(posts.values()) == 1, "a row was claimed twice"
    identifiers = [e["identifier"] for e in fake.state.meter_events]
    assert len(identifiers) == len(set(identifiers)) == 520
    assert fake.state.duplicates == 0
    ours = {str(i) for i in UsageEvent.objects.for_org(tenant_a.org).values_list("id", flat=True)}
    assert ours <= set(identifiers)
    assert billing_reconcile() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(300)
def test_eight_concurrent_runs_over_500_eligible_leads_charge_500_and_write_500_outbox_rows(
    fake, sandbox, prefix, tenant_a, tenant_b, settings
):
    """Issue 14: eight nightly runs of one organisation at once, each a segment over the same 500
    companies (every CEO verifiable by the real engine against the sandbox), on an agreement whose
    quota is exactly 500: each lead is charged once and has exactly one outbox row, and after the
    drain Stripe's meter holds the ledger's 500."""
    settings.LEADPILOT_SEARCH_THREADS = 2  # 8 runs x (2 + 1) connections on the shared server
    agreement(tenant_a, quota=500, per_extra_lead="0.90")
    org = tenant_a.org
    assert (
        plan_terms_of(organization=org, period_start=timezone.localdate().replace(day=1)).quota
        == 500
    )
    world = world_build(prefix=prefix, size=500)
    sandbox(world.domains)
    segments = [segment_for(world, org, nightly_cap=1000, name=f"run {i} of 8") for i in range(8)]
    charge_many(tenant_b.org, range(20))
    enqueued: list[SearchRun] = []
    nightly_dispatch(organization=org, run_date=timezone.localdate(), enqueue=enqueued.append)
    assert sorted(r.segment_id for r in enqueued) == sorted(s.id for s in segments)
    barrier = threading.Barrier(len(enqueued))
    errors: list[BaseException] = []

    def run(search_run: SearchRun) -> None:
        try:
            barrier.wait(timeout=30)
            search_run_execute(organization=org, run_id=search_run.id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(r,)) for r in enqueued]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not errors and not any(t.is_alive() for t in threads)
    runs = list(SearchRun.objects.for_org(org))
    assert {r.status for r in runs} == {"succeeded"}
    assert sum(r.leads_created for r in runs) == 500
    assert sum(1 for r in runs if r.leads_created) >= 2, "the runs did not overlap"

    leads = Lead.objects.for_org(org)
    assert sorted(leads.values_list("person_id", flat=True)) == sorted(w.id for w in world.people)
    events = UsageEvent.objects.for_org(org)
    assert events.count() == 500
    assert set(events.values_list("lead_id", flat=True)) == set(leads.values_list("id", flat=True))
    charges = LedgerEntry.objects.for_org(org).filter(kind="charge")
    assert charges.count() == charges.values("usage_event").distinct().count() == 500
    rows = StripeOutbox.objects.for_org(org)
    assert rows.count() == 500
    assert set(rows.values_list("idempotency_key", flat=True)) == {
        f"meter:{event_id}" for event_id in events.values_list("id", flat=True)
    }
    assert {(r.kind, r.status) for r in rows} == {("meter_event", "pending")}
    period = BillingPeriod.objects.for_org(org).get()
    assert (period.units_charged, period.quota_included, period.hard_cap) == (500, 500, False)
    assert billing_invariant_violations(organization=org) == []
    assert StripeOutbox.objects.for_org(tenant_b.org).count() == 20

    while StripeOutbox.all_orgs.filter(status="pending").exists():
        stripe_outbox_drain()
    identifiers = [e["identifier"] for e in fake.state.meter_events]
    assert len(identifiers) == len(set(identifiers)) == 520
    ours = {str(e) for e in events.values_list("id", flat=True)}
    customer = StripeCustomer.objects.for_org(org).get().customer_id
    at_stripe = [e for e in fake.state.meter_events if e["identifier"] in ours]
    assert len(at_stripe) == 500
    assert {e["payload"]["stripe_customer_id"] for e in at_stripe} == {customer}
    assert sum(int(e["payload"]["value"]) for e in at_stripe) == 500
    assert billing_reconcile() == []


@pytest.mark.django_db(transaction=True)
def test_lost_answers_and_outages_end_with_stripe_equal_to_the_ledger(fake, tenant_a, tenant_b):
    allow(tenant_a.org, 1000)
    charge_many(tenant_a.org, range(300))
    charge_many(tenant_b.org, range(20))
    fake.set_faults(
        lose_rate=0.10, error_rate=0.05, rate_limit_rate=0.05, seed=7, paths=[METER_PATH]
    )
    rounds = 0
    while StripeOutbox.all_orgs.filter(status="pending").exists():
        stripe_outbox_drain()
        rounds += 1
        assert rounds < 50
    assert set(StripeOutbox.all_orgs.values_list("status", flat=True)) == {"sent"}
    lost = [r for r in meter_posts(fake) if r.get("lost")]
    assert len(lost) >= 20, "the fault injection did not bite"
    assert StripeOutbox.all_orgs.filter(attempts__gt=1).count() >= len(lost)
    # Each row's retries carried its one key; the lost ones were replayed, not counted again.
    keys_by_row = {r.idempotency_key for r in StripeOutbox.all_orgs.all()}
    assert {r["idempotency_key"] for r in meter_posts(fake)} == keys_by_row
    identifiers = [e["identifier"] for e in fake.state.meter_events]
    assert len(identifiers) == len(set(identifiers)) == 320
    assert billing_reconcile() == []
    out = _reconcile_command()
    assert out == (0, '{"ok": true, "differences": []}')


def _reconcile_command(*args: str) -> tuple[int, str]:
    import io

    stdout = io.StringIO()
    try:
        call_command("reconcile_billing", *args, stdout=stdout)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, stdout.getvalue().strip()


@pytest.mark.django_db(transaction=True)
def test_an_accepted_dispute_reaches_stripe_once_as_a_cancel_then_a_late_one_as_a_balance_credit(
    fake, tenant_a, tenant_b
):
    # The late credit is worth the agreement's price per extra lead, in minor units exactly
    # (1.15 EUR is 114.99999999999999 cents as a float).
    agreement(tenant_a, quota=100, per_extra_lead="1.15")
    charge_many(tenant_a.org, [1, 2, 3])
    charge_many(tenant_b.org, [1])
    stripe_outbox_drain()
    for lead_id in (1, 2):
        dispute = dispute_open(
            organization=tenant_a.org,
            lead_id=lead_id,
            reason="wrong_person",
            note="Left.",
            created_by=tenant_a.member,
        )
        dispute_accept(organization=tenant_a.org, dispute_id=dispute.pk, decided_by=tenant_a.owner)
    # Lead 2's charge reached Stripe 30 hours ago: too late to cancel.
    event2 = UsageEvent.objects.for_org(tenant_a.org).get(lead_id=2)
    StripeOutbox.all_orgs.filter(usage_event=event2, kind="meter_event").update(
        first_attempt_at=timezone.now() - dt.timedelta(hours=30)
    )
    fake.set_faults(
        lose_rate=0.5, seed=3, paths=["/v1/billing/meter_event_adjustments", "/v1/customers/"]
    )
    while StripeOutbox.all_orgs.filter(status="pending").exists():
        stripe_outbox_drain()
    credits = {
        r.usage_event.lead_id: r
        for r in StripeOutbox.objects.for_org(tenant_a.org).filter(
            kind__in=["meter_cancel", "balance_credit"]
        )
    }
    assert (credits[1].kind, credits[2].kind) == ("meter_cancel", "balance_credit")
    assert fake.summary()["objects"].get("billing.meter_event_adjustment") == 1
    cancelled = [e["identifier"] for e in fake.state.meter_events if e["_cancelled"]]
    assert cancelled == [str(credits[1].usage_event_id)]
    balance = fake.state.all("customer_balance_transaction")
    assert len(balance) == 1
    assert (balance[0]["amount"], balance[0]["currency"]) == (-115, "eur")
    assert balance[0]["metadata"]["leadpilot_usage_event"] == str(event2.id)
    # Sending again sends nothing; Stripe's units equal the ledger's (3 charges - 2 credits).
    fake.set_faults()
    assert stripe_outbox_drain().sent == 0
    assert billing_reconcile() == []


def test_a_late_credit_is_worth_the_price_per_extra_lead_of_its_months_plan_or_only_quota(
    fake_stripe, tenant_a, tenant_b, settings, django_capture_on_commit_callbacks
):
    """Growth in SEK gives back 9.90 SEK (990 öre) on the customer's balance; the free plan's
    hard-capped leads had no money value, so its late credit returns quota only: nothing is sent
    to Stripe's balance, and the reconciliation still agrees with the ledger."""
    settings.STRIPE_OUTBOX_BACKOFF_SECONDS = 0
    subscribe(
        organization=tenant_a.org,
        owner_email=tenant_a.owner.email,
        plan_code="growth-sek",
        fake=fake_stripe,
        capture=django_capture_on_commit_callbacks,
    )
    for tenant in (tenant_a, tenant_b):
        charge_many(tenant.org, [1, 2])
    stripe_outbox_drain()
    for tenant in (tenant_a, tenant_b):
        dispute = dispute_open(
            organization=tenant.org,
            lead_id=1,
            reason="wrong_person",
            note="Left.",
            created_by=tenant.member,
        )
        dispute_accept(organization=tenant.org, dispute_id=dispute.pk, decided_by=tenant.owner)
    # Both charges reached Stripe 30 hours ago: too late to cancel.
    StripeOutbox.all_orgs.filter(kind="meter_event").update(
        first_attempt_at=timezone.now() - dt.timedelta(hours=30)
    )
    while StripeOutbox.all_orgs.filter(status="pending").exists():
        stripe_outbox_drain()
    (txn,) = fake_stripe.state.all("customer_balance_transaction")
    customer_a = Subscription.objects.for_org(tenant_a.org).get().stripe_customer_id
    assert (txn["customer"], txn["amount"], txn["currency"]) == (customer_a, -990, "sek")
    assert txn["metadata"]["leadpilot_units"] == "-1"
    free_credit = StripeOutbox.objects.for_org(tenant_b.org).get(kind="balance_credit")
    assert (free_credit.status, free_credit.response) == ("sent", {"quota_only": True})
    assert billing_reconcile() == []
    assert stripe_outbox_drain().sent == 0


@pytest.mark.django_db(transaction=True)
def test_a_stale_charge_goes_dead_staff_are_told_and_retry_it_in_the_admin(
    fake, tenant_a, tenant_b, client, mailoutbox
):
    from billing.tasks import reconcile
    from organizations.models import User

    charge_many(tenant_a.org, [1], at=timezone.now() - dt.timedelta(days=36))
    charge_many(tenant_b.org, [1])
    result = stripe_outbox_drain()
    assert (result.sent, result.dead) == (1, 1)
    dead = StripeOutbox.objects.for_org(tenant_a.org).get()
    assert dead.status == "dead" and "timestamp_too_far_in_past" in dead.last_error
    assert len(fake.state.meter_events) == 1
    code, out = _reconcile_command("--org", tenant_a.org.slug)
    assert code == 1 and '"ledger": 1, "stripe": 0' in out
    assert _reconcile_command("--org", tenant_b.org.slug)[0] == 0

    staff = User.objects.create_superuser("staff@example.com", "pw-staff-1234")
    assert reconcile() == {"differences": 1}
    (mail,) = mailoutbox
    assert mail.to == [staff.email] and f"{tenant_a.org.slug} " in mail.body
    assert tenant_b.org.slug not in mail.body

    client.force_login(staff)
    listing = client.get("/admin/billing/stripeoutbox/?status__exact=dead")
    assert listing.status_code == 200 and dead.idempotency_key in listing.content.decode()
    client.post(
        "/admin/billing/stripeoutbox/",
        {"action": "retry_dead", "_selected_action": [dead.pk]},
    )
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == ("pending", 0)


def test_a_charge_unconfirmed_for_20_hours_is_not_resent_blindly(fake, tenant_a, tenant_b):
    """Stripe dedups identifiers for ~24 h only: a row that failed for 20 h waits for staff."""
    charge_many(tenant_a.org, [1])
    charge_many(tenant_b.org, [1])
    fake.set_faults(error_rate=1.0, paths=[METER_PATH])
    assert stripe_outbox_drain(max_rows=2).retried == 2
    StripeOutbox.objects.for_org(tenant_a.org).update(
        first_attempt_at=timezone.now() - dt.timedelta(hours=21)
    )
    fake.set_faults()
    posts = len(meter_posts(fake))
    result = stripe_outbox_drain()
    assert (result.sent, result.dead) == (1, 1)
    row = StripeOutbox.objects.for_org(tenant_a.org).get()
    assert row.status == "dead" and "unconfirmed for 20 h" in row.last_error
    assert len(meter_posts(fake)) == posts + 1  # only tenant B's row was sent


@pytest.mark.django_db(transaction=True)
def test_a_sender_killed_mid_send_loses_and_duplicates_nothing(fake, tenant_a, tenant_b, tmp_path):
    allow(tenant_a.org, 1000)
    charge_many(tenant_a.org, range(300))
    charge_many(tenant_b.org, range(20))
    fake.set_faults(latency_ms=150)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leadpilot.settings.test",
        "DATABASE_URL": f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}",
        "STRIPE_API_KEY": "sk_test_killed",
        "STRIPE_API_BASE": fake.url,
        "STRIPE_OUTBOX_BATCH": "20",
        "STRIPE_OUTBOX_CONCURRENCY": "4",
        "STRIPE_OUTBOX_BACKOFF_SECONDS": "0",
    }

    def start() -> subprocess.Popen:
        log = (tmp_path / "drain.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "manage.py", "stripe_outbox_drain", "--loop", "--interval", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    first = start()
    try:
        # Mid-batch: some events of a batch of 20 recorded, the batch not yet committed.
        deadline = time.monotonic() + 60
        while not ((n := len(fake.state.meter_events)) >= 50 and n % 20 in range(5, 15)):
            assert time.monotonic() < deadline, "timed out waiting for the first sends"
            time.sleep(0.01)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    in_flight = {r["idempotency_key"] for r in meter_posts(fake)} & set(
        StripeOutbox.all_orgs.filter(status="pending").values_list("idempotency_key", flat=True)
    )
    assert in_flight, "the kill must land while a batch was in flight"
    assert len(fake.state.meter_events) < 320
    fake.set_faults(latency_ms=10)
    second = start()
    try:
        wait_until(
            lambda: not StripeOutbox.all_orgs.exclude(status="sent").exists(),
            timeout=90,
            what="the restarted sender to finish",
        )
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=10)
    identifiers = [e["identifier"] for e in fake.state.meter_events]
    assert len(identifiers) == len(set(identifiers)) == 320
    replayed = collections.Counter(r["idempotency_key"] for r in meter_posts(fake))
    assert any(replayed[key] >= 2 for key in in_flight), "in-flight rows were sent again"
    assert billing_reconcile() == []
