"""Idempotency-Key: a write retried with its key runs once.

What an integration notices: a POST retried after a lost answer gets the first answer back and
nothing is created twice; the same key with another body is refused (422); the same key in another
organisation is another key; after 24 hours a key is new again; eight copies of one request sent at
the same moment create one segment, against the real PostgreSQL.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from organizations.models import IdempotencyKey
from organizations.services import api_key_create
from organizations.tasks import purge_idempotency_keys
from segments.models import Segment
from tests.api.problems import field_errors, problem_of


def _client(tenant, key: str | None = None) -> Client:
    _api_key, full = api_key_create(organization=tenant.org, actor=tenant.admin, name="idem")
    headers = {"Authorization": f"Api-Key {full}"}
    if key:
        headers["Idempotency-Key"] = key
    return Client(headers=headers, raise_request_exception=False)


def _url(tenant, path: str = "segments/") -> str:
    return f"/api/v1/orgs/{tenant.org.slug}/{path}"


@pytest.mark.django_db
def test_a_retried_post_returns_the_first_answer_and_writes_once(tenant_a, tenant_b):
    client = _client(tenant_a, "create-uk-it-1")
    body = {"name": "UK IT", "criteria": {"countries": ["GB"]}}
    first = client.post(_url(tenant_a), body, content_type="application/json")
    assert first.status_code == 201
    # The same value with keys in another order and other spacing is the same body.
    again = client.post(
        _url(tenant_a),
        '{ "criteria": {"countries": ["GB"]},   "name": "UK IT" }',
        content_type="application/json",
    )
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Segment.objects.for_org(tenant_a.org).filter(name="UK IT").count() == 1

    other = client.post(_url(tenant_a), {"name": "UK IT 2"}, content_type="application/json")
    body_422 = problem_of(other, 422)
    assert body_422["code"] == "idempotency_key_reused" and "segments/" in body_422["detail"]
    assert not Segment.objects.for_org(tenant_a.org).filter(name="UK IT 2").exists()

    # Organisation B's key of the same name is its own.
    b = _client(tenant_b, "create-uk-it-1")
    assert b.post(_url(tenant_b), body, content_type="application/json").status_code == 201
    assert Segment.objects.for_org(tenant_b.org).count() == 1


@pytest.mark.django_db
def test_an_invalid_request_is_not_kept_so_the_fixed_one_runs(tenant_a):
    client = _client(tenant_a, "fix-and-retry")
    assert "name" in field_errors(client.post(_url(tenant_a), {}, content_type="application/json"))
    response = client.post(_url(tenant_a), {"name": "Fixed"}, content_type="application/json")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response


@pytest.mark.django_db
def test_a_key_expires_after_24_hours_and_is_purged(tenant_a):
    client = _client(tenant_a, "daily")
    assert client.post(_url(tenant_a), {"name": "Day 1"}, content_type="application/json")
    IdempotencyKey.objects.for_org(tenant_a.org).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    response = client.post(_url(tenant_a), {"name": "Day 2"}, content_type="application/json")
    assert response.status_code == 201  # a new request, not a 422
    assert Segment.objects.for_org(tenant_a.org).count() == 2
    IdempotencyKey.objects.for_org(tenant_a.org).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    assert purge_idempotency_keys() == 1
    assert not IdempotencyKey.objects.for_org(tenant_a.org).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "clé"])
def test_a_malformed_key_is_a_400(tenant_a, key):
    client = _client(tenant_a)
    response = client.post(
        _url(tenant_a),
        {"name": "K"},
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )
    assert problem_of(response, 400)["code"] == "invalid_idempotency_key"
    assert not Segment.objects.for_org(tenant_a.org).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_of_one_request_write_once(tenant_a):
    assert connection.vendor == "postgresql"
    client = _client(tenant_a, "burst-1")
    url = _url(tenant_a)
    start = threading.Barrier(8)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            start.wait()
            response = client.post(url, {"name": "Burst"}, content_type="application/json")
            with lock:
                answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 8
    assert {status for status, _body in answers} == {201}
    assert len({body["id"] for _status, body in answers}) == 1
    assert Segment.objects.for_org(tenant_a.org).filter(name="Burst").count() == 1
