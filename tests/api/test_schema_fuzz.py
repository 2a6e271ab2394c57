"""Property-based API fuzzing with Schemathesis: every operation of the OpenAPI schema, called with
generated (also hostile) path parameters, query strings and bodies, through a write-scoped API key
and through an owner's session.

What a caller would notice: no 5xx for any input, and every documented answer matches its schema.
Path ids are generated, so most land on missing objects (404); the tenant's own slug is pinned so
the calls reach the views, and org B's rows exist to show they never appear.
"""

from __future__ import annotations

import json

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

FUZZ = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,  # the same examples in every run: a CI failure reproduces locally
    suppress_health_check=list(HealthCheck),
)
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


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
def key_headers(tenant_a, tenant_b) -> dict[str, str]:
    _key, full = api_key_create(
        organization=tenant_a.org, actor=tenant_a.admin, name="fuzz", scope="write"
    )
    return {"Authorization": f"Api-Key {full}"}


def _pin_org(case, tenant) -> None:
    if "org_slug" in (case.path_parameters or {}):
        case.path_parameters["org_slug"] = tenant.org.slug


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_api_key_calls_never_fail_with_5xx(case, tenant_a, key_headers, settings):
    settings.LEADPILOT_API_RATES = {}
    _pin_org(case, tenant_a)
    response = case.call_and_validate(headers=key_headers, checks=CHECKS)
    assert "bravo" not in response.text.lower()


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_owner_session_calls_never_fail_with_5xx(case, tenant_a, tenant_b, settings):
    settings.LEADPILOT_API_RATES = {}
    _pin_org(case, tenant_a)
    client = Client(enforce_csrf_checks=False)
    client.force_login(tenant_a.owner)
    session = client.cookies["sessionid"].value
    response = case.call_and_validate(cookies={"sessionid": session}, checks=CHECKS)
    assert "bravo" not in response.text.lower()
