"""Real Celery worker processes against Redis for the nightly-search tests.

The worker reads the test database (pytest-django's test_<name>), so tests using it must commit
(transactional_db). The broker is the test settings' CELERY_BROKER_URL; its Redis database is
flushed before and after, so no message of one test reaches another.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class Workers:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []
        db = connection.settings_dict
        user = db.get("USER") or "postgres"
        self.database_url = f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
        self.broker_url = settings.CELERY_BROKER_URL

    def flush_broker(self) -> None:
        redis.Redis.from_url(self.broker_url).flushdb()

    def start(
        self, *, concurrency: int = 1, env: dict[str, str] | None = None, pool: str = "prefork"
    ) -> subprocess.Popen:
        n = len(self.procs)
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.leads.worker_settings",
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": self.broker_url,
            "LEADPILOT_DNS_NAMESERVER": settings.LEADPILOT_DNS_NAMESERVER,
            "LEADPILOT_SMTP_PORT": str(settings.LEADPILOT_SMTP_PORT),
            "LEADPILOT_HTTP_PORT": str(settings.LEADPILOT_HTTP_PORT),
            "EMAIL_URL": "consolemail://",
            "LOG_LEVEL": "INFO",
            **(env or {}),
        }
        log = (self.log_dir / f"worker{n}.log").open("wb")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "leadpilot",
                "worker",
                f"--pool={pool}",
                f"--concurrency={concurrency}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=nightly-test{n}@%h",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() takes the pool children too
        )
        self.procs.append(proc)
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool children at once: nothing is acked or cleaned up."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.log_dir.glob("worker*.log"))
        )
