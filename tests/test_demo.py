"""`make run`'s demo on the embedded default: SQLite, tasks in-process, the sandbox internet.

Runs the real command in a subprocess, as `make run` does, on a small world."""

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
    assert "demo@leadpilot.localhost" in out
    # Run again: idempotent, nothing charged twice.
    manage("demo", "--companies", "800")

    db = sqlite3.connect(tmp_path / "leadpilot.sqlite3")
    leads = db.execute("SELECT count(*) FROM leads_lead").fetchone()[0]
    usage = db.execute("SELECT count(*) FROM billing_usageevent").fetchone()[0]
    duplicates = db.execute(
        "SELECT count(*) FROM (SELECT person_id FROM leads_lead "
        "GROUP BY organization_id, person_id HAVING count(*) > 1)"
    ).fetchone()[0]
    assert leads > 0
    assert usage == leads
    assert duplicates == 0

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
