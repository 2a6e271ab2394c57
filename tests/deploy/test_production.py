"""The production settings, as shipped: no simulated world, and a lockout that forged
X-Forwarded-For headers cannot escape behind the TLS proxy (issue 12)."""

from __future__ import annotations

import ast
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)
# Every first-party package a production process loads.
PRODUCTION_PACKAGES = [
    "leadpilot",
    "organizations",
    "enrichment",
    "segments",
    "blocklists",
    "leads",
    "billing",
]


@pytest.fixture(scope="module")
def production(django_db_setup) -> dict:
    """What a process under leadpilot.settings.production saw (tests/deploy/production_probe.py)."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}_prod"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "DJANGO_SETTINGS_MODULE": "leadpilot.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "leads.example.com",
        "DATABASE_URL": url,
        "EMAIL_URL": "consolemail://",
        "AXES_FAILURE_LIMIT": "5",
        "LEADPILOT_API_RATE_ANON": "2/min",
        "LEADPILOT_VAR_DIR": str(ROOT / "var"),
    }
    result = subprocess.run(
        [sys.executable, "tests/deploy/production_probe.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_lockout_holds_against_forged_forwarded_for(production):
    assert production["trusted_proxies"] == 1
    limit = production["failure_limit"]
    # A new forged X-Forwarded-For per request: still locked after the allowed failures ...
    assert production["wrong_logins"] == [200] * (limit - 1) + [429] * (12 - limit + 1)
    # ... and the right password with yet another header, or none, does not get in.
    assert production["right_login_forged"] == 429
    assert production["right_login_plain"] == 429
    # The lockout is the attacker's address's, not the account's everywhere.
    assert production["right_login_owner"] == 302


def test_production_anonymous_api_limit_holds_against_forged_forwarded_for(production):
    assert production["anon_api"] == [200, 200, 429, 429]


def test_production_web_health_check_passes(production):
    # deploy/healthcheck.py's request is neither redirected to HTTPS nor refused as a bad host.
    assert production["healthz"] == [200, "ok"]


def test_production_ships_no_simulated_world(production):
    assert "sandbox" not in production["installed_apps"]
    assert production["sandbox_imported"] == []


def _imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_production_module_imports_the_sandbox():
    importers = [
        str(path.relative_to(ROOT))
        for package in PRODUCTION_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "sandbox" in _imports_of(path)
    ]
    assert importers == []
    # The check sees imports inside functions too (the demo command's kind).
    demo = ROOT / "sandbox" / "management" / "commands" / "demo.py"
    assert "sandbox" in _imports_of(demo)
