"""`make run`'s demo on the embedded default: SQLite, tasks in-process, the sandbox internet.

Runs the real command in a subprocess, as `make run` does, on a small world."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import phonenumbers
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(600)
def test_demo_fills_the_embedded_default_with_charged_leads(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")
    }
    env |= {"LEADPILOT_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "leadpilot.settings.base"}

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=500,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    manage("migrate", "--noinput", "-v0")
    out = manage("demo", "--companies", "800")
    assert "Demo ready" in out
    assert "demo@leadpilot.localhost / demo-pilot-2026" in out
    # The staff login is printed beside the demo login, with where staff review disputes.
    assert "/admin/billing/dispute/ as staff@leadpilot.localhost / demo-pilot-2026" in out
    assert "Opened 4 disputes for staff to review" in out
    assert "Upload kunder.csv: Completed, " in out  # a finished own-list upload (uploads/)
    # A paid month, not the free plan's 25 leads (the plan is printed in the summary).
    assert "Demo organisation on the Growth plan (EUR)" in out
    assert "Plan: Growth (EUR, soft cap): 550 leads this month, 50 of them trial leads" in out
    # Run again: idempotent, nothing charged twice, no second set of disputes.
    again = manage("demo", "--companies", "800")
    assert "staff@leadpilot.localhost" in again
    assert "Opened" not in again
    assert "Demo organisation on the" not in again and "Plan: Growth (EUR" in again
    # The ledger the demo leaves behind passes every invariant (README's demo section).
    assert json.loads(manage("billing_audit").strip().splitlines()[-1]) == {
        "organizations": 1,
        "violations": [],
    }

    db = sqlite3.connect(tmp_path / "leadpilot.sqlite3")
    leads = db.execute("SELECT count(*) FROM leads_lead").fetchone()[0]
    usage = db.execute("SELECT count(*) FROM billing_usageevent").fetchone()[0]
    duplicates = db.execute(
        "SELECT count(*) FROM (SELECT person_id FROM leads_lead "
        "GROUP BY organization_id, person_id HAVING count(*) > 1)"
    ).fetchone()[0]
    assert leads > 25, "the free plan's hard cap of 25 no longer binds the demo"
    assert usage == leads
    # The Swedish segment's leads: decision-makers the companies' own sites name (Bolagsverket
    # names none), found by the night itself, with the page and the confidence recorded.
    from_sites = db.execute(
        "SELECT count(*) FROM leads_lead l JOIN enrichment_role r ON r.person_id = l.person_id "
        "AND r.company_id = l.company_id WHERE json_extract(r.details, '$.source') = 'website' "
        "AND json_extract(r.details, '$.source_url') LIKE 'http%' "
        "AND json_extract(r.details, '$.confidence') >= 0.7 "
        "AND json_extract(l.company_snapshot, '$.country') = 'SE'"
    ).fetchone()[0]
    assert from_sites >= 1
    assert duplicates == 0

    staff = db.execute(
        "SELECT is_staff, is_superuser FROM organizations_user WHERE email = ?",
        ("staff@leadpilot.localhost",),
    ).fetchall()
    assert staff == [(1, 1)]
    # One dispute per reason, after the re-check: none of the sandbox's answers agrees with the
    # customer (the address still verifies, the company still matches), so all wait for staff.
    disputes = db.execute(
        "SELECT d.reason, d.status, d.recheck_text != '', l.contact_kind FROM billing_dispute d "
        "JOIN leads_lead l ON l.id = d.lead_id ORDER BY d.id"
    ).fetchall()
    assert [(reason, status) for reason, status, *_ in disputes] == [
        ("bounced", "awaiting_staff"),
        ("wrong_person", "awaiting_staff"),
        ("outside_criteria", "awaiting_staff"),
        ("other", "awaiting_staff"),
    ]
    assert all(checked for _, _, checked, _ in disputes)
    assert disputes[0][3] == "email"

    # Honest charges (docs/charges.md): a charged phone is a number a source attributes to the
    # person, never the company's registry phone (42 of 131 demo charges were, before).
    phone_leads = db.execute(
        "SELECT l.contact_value, c.phone, c.country, p.attribution, p.person_id, l.person_id "
        "FROM leads_lead l JOIN enrichment_company c ON c.id = l.company_id "
        "JOIN enrichment_contactpoint p ON p.id = l.contact_point_id "
        "WHERE l.contact_kind = 'phone'"
    ).fetchall()
    assert phone_leads, "the demo world delivers phone leads (direct numbers on company sites)"

    def e164(raw: str, country: str) -> str:
        return phonenumbers.format_number(
            phonenumbers.parse(raw, country), phonenumbers.PhoneNumberFormat.E164
        )

    registry_phone = [
        value
        for value, phone, country, *_ in phone_leads
        if phone and value == e164(phone, country)
    ]
    assert registry_phone == []
    assert {(a, owner == person) for *_, a, owner, person in phone_leads} == {("person", True)}
    print(f"demo: {leads} charged leads, {len(phone_leads)} by phone, 0 the registry phone")
