"""Raw INSERTs outside the apps (benches, tests) keep working when the schema grows.

The apps' own SQL runs in the suite; a bench's generator does not, so a new NOT NULL column with
only a Python default broke `bench/match.py --quick` on every machine without an old bench
database (issue 12). Every raw INSERT names each column that has no database default, and the
match bench's generator runs here, small, on the current schema.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)
# `INSERT INTO table (col, ...)` or a column-less `INSERT INTO table SELECT|VALUES ...`.
INSERT = re.compile(r"INSERT\s+INTO\s+(\w+)\s*(\(([^)]*)\)|(?=SELECT|VALUES))", re.IGNORECASE)


def _raw_inserts() -> list[tuple[str, str, set[str] | None]]:
    found = []
    for path in sorted([*ROOT.glob("bench/*.py"), *ROOT.glob("tests/**/*.py")]):
        if path == Path(__file__):
            continue
        for match in INSERT.finditer(path.read_text()):
            columns = None
            if match.group(3) is not None:
                columns = {c.strip().strip('"') for c in match.group(3).split(",")}
            found.append((str(path.relative_to(ROOT)), match.group(1), columns))
    return found


def _columns_without_db_default(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s"
            " AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'",
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


def test_the_scan_finds_the_bench_generators_inserts():
    # Proves the check below has something to check (a regex gone blind would pass anything).
    tables = {table for path, table, _ in _raw_inserts() if path == "bench/match.py"}
    assert {"enrichment_company", "blocklists_deliveryrecord"} <= tables


@pytest.mark.django_db
def test_every_raw_insert_names_each_column_without_a_database_default():
    missing = []
    for path, table, columns in _raw_inserts():
        if columns is None:
            missing.append(f"{path}: INSERT INTO {table} names no columns")
            continue
        if unnamed := _columns_without_db_default(table) - columns:
            missing.append(f"{path}: INSERT INTO {table} leaves out {sorted(unnamed)}")
    assert missing == []


@pytest.mark.django_db
def test_delivery_record_company_first_has_a_database_default():
    # Raw SQL (benches, the import's set-based merges) that predates the column still inserts.
    assert "company_first" not in _columns_without_db_default("blocklists_deliveryrecord")


def _bench_module(name: str):
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_match_bench_generates_its_directory_on_the_current_schema():
    match = _bench_module("match")
    with connection.cursor() as cursor:
        match.generate(cursor, companies=400, orgs=2, blocks=40, delivered=40)
        have = match.counts(cursor)
    assert have["companies"] == 400
    assert have["orgs"] == 2
    assert have["block_entries"] > 0
    assert have["delivered"] > 0
