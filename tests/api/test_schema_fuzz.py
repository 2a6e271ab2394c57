"""Property-based API fuzzing with Schemathesis: every operation of the OpenAPI schema, called with
generated (also hostile) path parameters, query strings and bodies, as a key of each scope (read,
write, billing, admin) and as an owner's session.

What a caller would notice: no 5xx for any input, and every documented answer matches its schema.
Path ids are generated, so most land on missing objects (404); the tenant's own slug is pinned so
the calls reach the views, and org B's rows exist to show they never appear.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from organizations.services import api_key_create


def _schema_dict() -> dict:
    # The same document /api/schema/ serves, rendered without a request (collection time).
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))


schema = schemathesis.openapi.from_dict(_schema_dict())
schema.app = WSGIHandler()

# Examples per operation: small in the test run (CI), raised by `make fuzz`
# (LEADPILOT_FUZZ_EXAMPLES=100) for a longer hunt. Each example is sent as every principal.
EXAMPLES = int(os.environ.get("LEADPILOT_FUZZ_EXAMPLES", "3"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples in every run: a CI failure reproduces locally
    suppress_health_check=list(HealthCheck),
)
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
# Calls and answers of this run, printed at its end (`make fuzz` reports them).
TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_tally():
    yield
    if TALLY:
        statuses = " ".join(
            f"status_{k[7:]}={v}" for k, v in sorted(TALLY.items()) if k[:7] == "status_"
        )
        print(
            f"\nfuzz: examples_per_operation={EXAMPLES} operations={TALLY['operations']} "
            f"calls={TALLY['calls']} server_errors={TALLY['server_errors']} "
            f"schema_violations={TALLY['schema_violations']} {statuses}"
        )


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The app runs in-process inside the test's transaction: as Django's test client does, the
    request signals must not close that connection."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def principals(tenant_a) -> dict[str, dict]:
    """A key of each scope (read; read and write; read and billing, from an owner; read and
    admin) and an owner's session with its CSRF token, as schemathesis call arguments."""
    principals = {}
    for name, scopes in {
        "read": ["read"],
        "write": ["read", "write"],
        "billing": ["read", "billing"],
        "admin": ["read", "admin"],
    }.items():
        _key, full = api_key_create(
            organization=tenant_a.org, actor=tenant_a.owner, name=f"fuzz {name}", scopes=scopes
        )
        principals[name] = {"headers": {"Authorization": f"Api-Key {full}"}}
    client = Client()
    client.force_login(tenant_a.owner)
    csrf = "f" * 32  # an unmasked secret: the cookie and the header must match
    principals["owner session"] = {
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
        "headers": {"X-CSRFToken": csrf},
    }
    return principals


def _pin_org(case, tenant) -> None:
    if "org_slug" in (case.path_parameters or {}):
        case.path_parameters["org_slug"] = tenant.org.slug


def _call(case, principal: str, kwargs: dict) -> None:
    TALLY["calls"] += 1
    response = case.call(**kwargs)
    TALLY[f"status_{response.status_code}"] += 1
    if response.status_code >= 500:
        TALLY["server_errors"] += 1
    try:
        case.validate_response(response, checks=CHECKS)
    except Exception as exc:
        if response.status_code < 500:
            TALLY["schema_violations"] += 1
        raise AssertionError(f"as {principal}: {exc}") from exc
    assert "bravo" not in response.text.lower(), principal


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_every_operation_as_every_principal(case, tenant_a, tenant_b, principals, settings):
    """Each generated request is sent as a key of each scope and as an owner's session: no 5xx,
    every answer (2xx or problem) matches its schema and content type, nothing of B shows."""
    settings.LEADPILOT_API_RATES = {}
    _pin_org(case, tenant_a)
    TALLY["operations_seen:" + case.operation.label] = 1
    TALLY["operations"] = sum(1 for k in TALLY if k.startswith("operations_seen:"))
    for principal, kwargs in principals.items():
        _call(case, principal, kwargs)
