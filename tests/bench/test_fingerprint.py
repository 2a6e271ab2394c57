"""A bench's generated database is tied to the migrations and the generator that built it.

Before, bench/match.py reused any database with the right row counts: one built by older code kept
CI green on that machine while the generator failed on every new one (issue 12), and its figures
came from data the current code never made.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)
sys.path.insert(0, str(ROOT / "bench"))

from _common import file_is_current, file_mark_current, source_digest  # noqa: E402

# What a bench does first: set up its database, naming its generator's digest.
SETUP = """
import sys
sys.path.insert(0, "bench")
from _common import setup_django
db = setup_django(migrate=False, built_by=sys.argv[1])
print(f"reusable={db.reusable}")
if sys.argv[2:] == ["build"]:
    db.mark_built()
"""


@pytest.fixture
def bench_db(django_db_setup):
    # Named after the test database, so CI's clean-up of test databases covers a leftover.
    base = connection.settings_dict["NAME"]
    name = f"{base}_fp_{uuid.uuid4().hex[:8]}"
    server = "postgresql://{USER}@{HOST}:{PORT}".format(
        **{k: connection.settings_dict[k] or "" for k in ("USER", "HOST", "PORT")}
    )
    yield server, name
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _setup(server: str, name: str, digest: str, *extra: str) -> str:
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": f"{server}/{name}",
        "DJANGO_SETTINGS_MODULE": "leadpilot.settings.base",
    }
    result = subprocess.run(
        [sys.executable, "-c", SETUP, digest, *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _sql(server: str, name: str, statement: str) -> list[tuple]:
    with psycopg.connect(f"{server}/{name}", autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def _has_leftover(server: str, name: str) -> bool:
    return bool(_sql(server, name, "SELECT 1 FROM pg_tables WHERE tablename = 'leftover'"))


def test_a_bench_database_is_reused_only_when_migrations_and_generator_match(bench_db):
    server, name = bench_db
    first = _setup(server, name, "generator-1", "build")
    assert "reusable=False" in first  # new: nothing to reuse
    _sql(server, name, "CREATE TABLE leftover (id int)")

    again = _setup(server, name, "generator-1")
    assert "reusable=True" in again
    assert "dropping" not in again
    assert _has_leftover(server, name)

    # The generator changed: the old data is dropped, with a line saying why.
    changed = _setup(server, name, "generator-2", "build")
    assert "reusable=False" in changed
    assert f"dropping and rebuilding database {name}: its generator changed" in changed
    assert not _has_leftover(server, name)

    # The migrations changed (a stored fingerprint naming other migrations).
    _sql(server, name, "CREATE TABLE leftover (id int)")
    stale = json.dumps({"generator": "generator-2", "migrations": "older"}, sort_keys=True)
    _sql(server, name, f"COMMENT ON DATABASE \"{name}\" IS 'leadpilot-bench {stale}'")
    migrated = _setup(server, name, "generator-2", "build")
    assert "its migrations changed" in migrated
    assert not _has_leftover(server, name)


def test_a_bench_database_built_by_older_code_is_rebuilt(bench_db):
    # What CI machines held: a database from before fingerprints (or an interrupted build).
    server, name = bench_db
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    _sql(server, name, "CREATE TABLE leftover (id int)")
    out = _setup(server, name, "generator-1")
    assert "reusable=False" in out
    assert "it has no build fingerprint" in out
    assert not _has_leftover(server, name)


def test_a_cached_generated_file_is_tied_to_its_generator(tmp_path):
    generator = tmp_path / "gen.py"
    generator.write_text("ROWS = 1\n")
    made = tmp_path / "world.csv"
    with pytest.raises(ValueError):  # sources outside the repository have no stable name
        source_digest(generator)
    digest = source_digest("ROWS = 1", "seed=7")
    assert not file_is_current(made, digest)
    made.write_text("a,b\n")
    assert not file_is_current(made, digest)  # made by an unknown generator
    file_mark_current(made, digest)
    assert file_is_current(made, digest)
    assert not file_is_current(made, source_digest("ROWS = 2", "seed=7"))
    assert source_digest(ROOT / "sandbox" / "world") != source_digest(ROOT / "enrichment" / "data")
