"""Run by tests/deploy/test_production.py in a process of its own under
leadpilot.settings.production (the suite's own process has the test settings). It builds a test
database, plays what clients do through the TLS proxy, prints one JSON line of what it saw, and
drops the database.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "deploy"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

PROXY = "172.18.0.5"  # Caddy's address on the compose network: REMOTE_ADDR of every request
CLIENT = "203.0.113.9"  # the address the attacker really connects from
HOST = "leads.example.com"


def through_proxy(forged: str | None, client: str = CLIENT) -> dict[str, str]:
    """What gunicorn receives: the proxy puts the connecting address last (Caddy replaces the
    header; a proxy that appends keeps the forged entries before it, the worse case, used here)."""
    xff = f"{forged}, {client}" if forged else client
    return {
        "REMOTE_ADDR": PROXY,
        "HTTP_X_FORWARDED_FOR": xff,
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_HOST": HOST,
    }


def main() -> None:
    from healthcheck import healthcheck_headers

    from organizations.services import organization_create_with_owner

    seen: dict[str, object] = {
        "installed_apps": list(settings.INSTALLED_APPS),
        "trusted_proxies": settings.LEADPILOT_TRUSTED_PROXIES,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    organization_create_with_owner(
        name="Alpha", owner_email="owner@alpha.example", owner_password="correct horse battery"
    )
    client = Client()
    wrong = {"username": "owner@alpha.example", "password": "wrong"}
    right = {"username": "owner@alpha.example", "password": "correct horse battery"}
    # 12 wrong passwords, each with a new forged X-Forwarded-For.
    seen["wrong_logins"] = [
        client.post("/accounts/login/", wrong, **through_proxy(f"198.51.100.{i}")).status_code
        for i in range(12)
    ]
    # The right password with yet another forged header, and with none.
    seen["right_login_forged"] = client.post(
        "/accounts/login/", right, **through_proxy("192.0.2.77")
    ).status_code
    seen["right_login_plain"] = client.post(
        "/accounts/login/", right, **through_proxy(None)
    ).status_code
    # The owner, from an address of their own, is not locked out by the attacker.
    seen["right_login_owner"] = client.post(
        "/accounts/login/", right, **through_proxy("203.0.113.9", client="198.18.0.20")
    ).status_code
    # The anonymous API limit (LEADPILOT_API_RATE_ANON=2/min), a new forged header each time.
    seen["anon_api"] = [
        Client().get("/api/schema/", **through_proxy(f"198.51.100.{i}")).status_code
        for i in range(4)
    ]
    # The container health check's request, as deploy/healthcheck.py sends it.
    env = {"DJANGO_ALLOWED_HOSTS": ",".join(settings.ALLOWED_HOSTS)}
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v for k, v in healthcheck_headers(env).items()
    }
    health = Client().get("/healthz", **headers)
    seen["healthz"] = [health.status_code, health.json().get("status")]
    seen["sandbox_imported"] = sorted(m for m in sys.modules if m.split(".")[0] == "sandbox")
    print(json.dumps(seen))


if __name__ == "__main__":
    import tempfile

    from django.core.management import call_command

    # What the image's build does (Dockerfile), into a scratch directory: the pages below need
    # the manifest, and a missing or broken static reference would fail the image build.
    settings.STATIC_ROOT = tempfile.mkdtemp(prefix="leadpilot-static-")
    call_command("collectstatic", interactive=False, verbosity=0)
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        main()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(settings.STATIC_ROOT, ignore_errors=True)
