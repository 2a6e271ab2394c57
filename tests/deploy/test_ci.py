"""CI starts from nothing an earlier run left (issue 12): a bench database built by older code
kept `make test` green on one machine and red on every new one."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


def _databases(server: str) -> set[str]:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


def test_fresh_state_drops_the_test_and_bench_databases_of_earlier_runs(django_db_setup):
    db = connection.settings_dict
    server = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}"
    base = f"{db['NAME']}_ci_{uuid.uuid4().hex[:6]}"
    left_behind = [base, f"test_{base}", f"test_{base}_gw0", f"{base}_bench_match_quick"]
    unrelated = f"{base}x"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        for name in [*left_behind, unrelated]:
            conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f"COMMENT ON DATABASE \"{base}\" IS 'from an earlier run'")
    try:
        result = subprocess.run(
            ["bash", "scripts/fresh_state.sh"],
            cwd=ROOT,
            env={
                **os.environ,
                "TEST_DATABASE_URL": f"{server}/{base}",
                "BENCH_PREFIX": f"{base}_bench",
                "FRESH_REDIS_DBS": "",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        after = _databases(server)
        assert not (set(left_behind[1:]) & after)
        assert unrelated in after  # only the names make test uses
        # The database make test names is there again, new (no comment from the earlier run).
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            comment = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [base],
            ).fetchone()
        assert comment == (None,)
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            for name in [*left_behind, unrelated]:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_ci_runs_the_fresh_state_before_the_suite():
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "bash scripts/fresh_state.sh" in lines
    assert lines.index("bash scripts/fresh_state.sh") < lines.index("make test")
