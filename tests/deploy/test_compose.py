"""The production shape (docker-compose.yml, Dockerfile, deploy/) can start and is safe as shipped.

Issue 12: the compose file ran an image nothing built, never migrated, and published gunicorn on
port 8000 with no proxy while production trusts one, so a forged X-Forwarded-For per request
escaped the login lockout and the anonymous API limit. No Docker daemon runs here (nor in CI):
`docker-compose config` (Debian's docker-compose, installed by `make test`) validates and resolves
the file, and the resolved file is checked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APP_SERVICES = ("migrate", "web", "worker", "beat")


def _compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is missing: `make test` installs it (Debian package)")
        pytest.skip("docker-compose is not installed (`make test` installs it)")
    return found


def _config(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """`docker-compose config` on a copy of the deployment files, with a .env made from
    .env.example as docs/deploy.md says."""
    for name in ("docker-compose.yml", "Dockerfile", ".dockerignore", ".env.example"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    lines = (ROOT / ".env.example").read_text().splitlines()
    values = {
        "DJANGO_SECRET_KEY": "a-long-random-secret-key-for-this-test-only-0123456789",
        "POSTGRES_PASSWORD": "a-database-password",
        "LEADPILOT_DOMAIN": "leads.example.com",
        **env,
    }
    out = [line for line in lines if line.split("=", 1)[0].lstrip("# ") not in values]
    out += [f"{k}={v}" for k, v in values.items() if v is not None]
    (tmp_path / ".env").write_text("\n".join(out) + "\n")
    clean = {k: v for k, v in os.environ.items() if k not in values}
    return subprocess.run(
        [_compose(), "config"], cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def resolved(tmp_path) -> dict:
    result = _config(tmp_path)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def test_compose_builds_the_image_it_runs(resolved):
    for name in APP_SERVICES:
        assert "build" in resolved[name], name
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "\nFROM python:3.11-slim\n" in dockerfile
    assert "collectstatic" in dockerfile
    user = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert user and user[-1] not in ("root", "0")
    ignored = (ROOT / ".dockerignore").read_text().split()
    # Secrets are passed at run time, never baked in; the simulated world never ships.
    assert {".env", "sandbox", "tests", "bench"} <= set(ignored)
    assert "deploy" not in ignored  # the health check script lives there


def test_compose_migrates_once_before_the_app_starts(resolved):
    assert resolved["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert resolved["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        depends = resolved[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["postgres"] == {"condition": "service_healthy"}, name


def test_compose_publishes_only_the_tls_proxy(resolved):
    published = {name for name, service in resolved.items() if service.get("ports")}
    assert published == {"caddy"}
    assert {p["target"] for p in resolved["caddy"]["ports"]} == {80, 443}
    assert resolved["caddy"]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert resolved["web"]["environment"]["LEADPILOT_TRUSTED_PROXIES"] == "1"
    caddy_mounts = {v.split(":")[1] for v in resolved["caddy"]["volumes"] if ":" in v}
    assert "/etc/caddy/Caddyfile" in caddy_mounts
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile
    # The client cannot choose its address: the header is replaced by the connecting address.
    assert "header_up X-Forwarded-For {remote_host}" in caddyfile


def test_compose_has_health_checks(resolved):
    for name in ("caddy", "web", "worker", "postgres", "redis"):
        assert resolved[name]["healthcheck"]["test"], name
    assert resolved["web"]["healthcheck"]["test"] == ["CMD", "python", "deploy/healthcheck.py"]
    assert (ROOT / "deploy" / "healthcheck.py").is_file()


def test_compose_refuses_to_start_without_its_secrets(tmp_path):
    # Proves the validation above can fail: no database password, no configuration.
    result = _config(tmp_path, POSTGRES_PASSWORD="")
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr
