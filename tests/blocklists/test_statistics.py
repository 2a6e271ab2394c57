"""A bulk block-list import leaves the planner's statistics fresh: after an import of 50,000 rows
the organisation's segment preview took 10-32 s until someone ran ANALYZE by hand."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from blocklists.csv_io import block_entries_import
from blocklists.models import BlockEntry
from blocklists.services import BULK_ANALYZE_MIN_ROWS, block_entries_statistics_refresh

ROWS = 20_000


def _csv(org: str, rows: int) -> bytes:
    lines = ["kind,value,country,note"]
    lines += [f"domain,shop-{i}.{org}-import.example,,bulk" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _last_analyze(cursor):
    cursor.execute("SELECT pg_stat_clear_snapshot()")  # stats are cached per transaction
    cursor.execute(
        "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = %s",
        [BlockEntry._meta.db_table],
    )
    return cursor.fetchone()[0]


def _planned_rows(cursor, organization_id: int) -> int:
    cursor.execute(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM blocklists_blockentry WHERE organization_id = %s",
        [organization_id],
    )
    (plan,) = cursor.fetchone()[0]
    return int(plan["Plan"]["Plan Rows"])


@pytest.mark.django_db
def test_a_bulk_import_refreshes_the_planner_statistics(
    tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    block_entries_import(organization=tenant_b.org, data=_csv("bravo", 20))
    with connection.cursor() as cursor:
        before = _last_analyze(cursor)
    time.sleep(0.01)  # last_analyze has microseconds; a new ANALYZE is strictly later

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = block_entries_import(organization=tenant_a.org, data=_csv("alpha", ROWS))
    assert result.created == ROWS

    with connection.cursor() as cursor:
        after = _last_analyze(cursor)
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [BlockEntry._meta.db_table]
        )
        reltuples = cursor.fetchone()[0]
        alpha_rows = _planned_rows(cursor, tenant_a.org.id)
        bravo_rows = _planned_rows(cursor, tenant_b.org.id)
    assert after is not None
    assert before is None or after > before
    assert reltuples >= ROWS
    # The planner knows alpha's list is large and bravo's small (it guessed 0.5% of the table
    # for any organisation before).
    assert alpha_rows >= ROWS * 0.9
    assert bravo_rows < 200
    assert len(callbacks) == 1  # ANALYZE ran after the import's commit, not inside it


@pytest.mark.django_db
def test_a_small_write_leaves_statistics_to_autovacuum(
    tenant_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        block_entries_import(organization=tenant_a.org, data=_csv("alpha", 20))
    assert callbacks == []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert block_entries_statistics_refresh(written=BULK_ANALYZE_MIN_ROWS)
    assert len(callbacks) == 1
