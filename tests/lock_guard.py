"""Row locks need a transaction of their own, not the test's.

A plain `django_db` test runs inside transactions that pytest-django opens around it, so a service
that locks rows (`select_for_update()`, `pg_advisory_xact_lock`) without its own
`transaction.atomic` passes its tests and answers 500 in production ("select_for_update cannot be
used outside of a transaction"; an advisory xact lock would be released at once). This fixture,
used by every test through tests/conftest.py, refuses a locking statement unless an atomic block
opened by the code under test (or by the test body itself) is open: the transactions Django's
TestCase opens are marked `_from_testcase` and do not count.

It looks at the SQL the database receives (through `connection.execute_wrapper`, Django's
documented hook), so it sees every way of locking, the ORM's and raw SQL's alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from django.db import connections
from django.db.transaction import TransactionManagementError

LOCKING_SQL = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(?:KEY\s+)?SHARE\b|\bpg_advisory_xact_lock",
    re.IGNORECASE,
)


def locking_outside_own_transaction(connection: Any) -> bool:
    """True when only the test's own wrapping transactions are open on `connection`."""
    blocks = connection.atomic_blocks
    return all(getattr(block, "_from_testcase", False) for block in blocks)


def _refuse_unowned_locks(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    connection = context["connection"]
    if (
        connection.vendor == "postgresql"
        and LOCKING_SQL.search(sql)
        and locking_outside_own_transaction(connection)
    ):
        raise TransactionManagementError(
            "A row lock was taken outside any transaction.atomic of the code under test; only the "
            "test's wrapping transaction was open, and production has none. The service that "
            "locks must own its transaction (STYLE.md). Statement: " + sql[:300]
        )
    return execute(sql, params, many, context)


@pytest.fixture(autouse=True)
def _locks_need_their_own_transaction() -> Iterator[None]:
    with ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(_refuse_unowned_locks))
        yield
