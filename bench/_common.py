"""Shared set-up for benchmark scripts: a database of their own, migrated, and Django ready.

Benchmarks use BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/leadpilot_bench),
never the development or test database.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/leadpilot_bench"


def setup_django(*, migrate: bool = True) -> str:
    """Point Django at the bench database (creating it if needed), migrate, and return its URL."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadpilot.settings.base")
    sys.path.insert(0, str(ROOT))
    if url.startswith("postgres"):
        import psycopg

        dbname = url.rsplit("/", 1)[1]
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [dbname]
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{dbname}"')
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    return url


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def figures_line(**figures: object) -> str:
    """The closing `key=value` line every bench prints last."""
    return " ".join(f"{k}={v}" for k, v in figures.items())
