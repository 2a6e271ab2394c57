"""A refused or foreign request is logged as one line, never with a traceback: a 403 or 404 is the
client's mistake, and a traceback in the log (or an error tracker) reads as a crash."""

from __future__ import annotations

import logging
import sys

import pytest

from leadpilot.log_filters import ClientErrorWithoutTraceback
from organizations.models import Membership


def _request_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request"]


@pytest.mark.django_db
def test_a_forbidden_page_is_logged_without_a_traceback(tenant_a, tenant_b, caplog):
    caplog.set_level(logging.INFO)
    member = tenant_a.client_for(tenant_a.member)

    assert member.get("/o/alpha/api-keys/").status_code == 403  # admins only
    assert member.post(f"/o/alpha/members/{tenant_a.owner.pk}/remove/").status_code == 403

    records = _request_records(caplog)
    assert [r.getMessage() for r in records] == [
        "Forbidden (Permission denied): /o/alpha/api-keys/",
        f"Forbidden (Permission denied): /o/alpha/members/{tenant_a.owner.pk}/remove/",
    ]
    assert {r.levelno for r in records} == {logging.WARNING}
    assert [r for r in records if r.exc_info or r.exc_text] == []
    assert "Traceback" not in caplog.text


@pytest.mark.django_db
def test_api_403_and_foreign_404_are_logged_without_a_traceback(tenant_a, tenant_b, caplog):
    caplog.set_level(logging.INFO)
    member = tenant_a.client_for(tenant_a.member)
    owner = tenant_a.client_for(tenant_a.owner)
    foreign = Membership.objects.for_org(tenant_b.org).get(user=tenant_b.member)

    assert member.post("/api/v1/orgs/alpha/api-keys/", {"name": "x"}).status_code == 403
    assert member.get("/o/bravo/").status_code == 404
    assert owner.get(f"/api/v1/orgs/alpha/members/{foreign.pk}/").status_code == 404
    assert owner.get("/api/v1/orgs/bravo/members/").status_code == 404

    records = _request_records(caplog)
    assert [getattr(r, "status_code", None) for r in records] == [403, 404, 404, 404]
    assert [r for r in caplog.records if r.exc_info or r.exc_text] == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.django_db
def test_a_server_error_keeps_its_traceback():
    """The filter only touches 4xx: a 5xx record still carries the exception."""
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: /", (), exc_info
    )
    record.status_code = 500
    assert ClientErrorWithoutTraceback().filter(record)
    assert record.exc_info == exc_info
