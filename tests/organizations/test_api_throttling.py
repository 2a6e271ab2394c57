"""API rate limits: per key, per person, per anonymous IP; 429 with Retry-After; no bleed."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import caches

from tests.api.problems import problem_of
from tests.organizations.test_api import api, key_client, make_key

RATES = {"api_key": "3/min", "user": "2/min", "anon": "1/min"}


@pytest.fixture
def low_rates(settings):
    settings.LEADPILOT_API_RATES = RATES


def _statuses(client, url: str, n: int) -> list[int]:
    return [client.get(url).status_code for _ in range(n)]


def test_a_key_over_its_rate_gets_429_with_retry_after(low_rates, tenant_a):
    client = key_client(make_key(tenant_a))
    assert _statuses(client, api(tenant_a), 3) == [200, 200, 200]
    response = client.get(api(tenant_a))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert problem_of(response, 429)["code"] == "throttled"


def test_one_busy_key_does_not_slow_other_keys_people_or_organisations(
    low_rates, tenant_a, tenant_b
):
    busy = key_client(make_key(tenant_a))
    assert _statuses(busy, api(tenant_a), 4)[-1] == 429
    # The same organisation's other key, its people and organisation B are unaffected.
    assert _statuses(key_client(make_key(tenant_a)), api(tenant_a), 3) == [200] * 3
    assert _statuses(tenant_a.client_for(tenant_a.member), api(tenant_a), 2) == [200] * 2
    assert _statuses(key_client(make_key(tenant_b)), api(tenant_b), 3) == [200] * 3


def test_a_signed_in_person_has_a_bucket_of_their_own(low_rates, tenant_a):
    member = tenant_a.client_for(tenant_a.member)
    assert _statuses(member, api(tenant_a), 3) == [200, 200, 429]
    assert _statuses(tenant_a.client_for(tenant_a.admin), api(tenant_a), 2) == [200, 200]


def test_anonymous_clients_are_limited_per_ip(low_rates, client, db):
    # The schema is public; anonymous callers share the per-IP bucket.
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/schema/").status_code == 429


def test_a_forged_forwarded_for_does_not_give_an_anonymous_client_a_new_bucket(
    low_rates, client, settings, db
):
    schema = "/api/schema/"
    assert client.get(schema, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    assert client.get(schema, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 429
    # Behind the TLS proxy the client is the proxy's entry; earlier entries are the client's own.
    settings.LEADPILOT_TRUSTED_PROXIES = 1
    proxied = {"REMOTE_ADDR": "10.0.0.2"}
    assert (
        client.get(schema, **proxied, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.5").status_code
        == 200
    )
    assert (
        client.get(schema, **proxied, HTTP_X_FORWARDED_FOR="2.2.2.2, 203.0.113.5").status_code
        == 429
    )
    assert client.get(schema, **proxied, HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 200


def test_default_rates_leave_normal_use_alone(tenant_a):
    client = key_client(make_key(tenant_a))
    assert set(_statuses(client, api(tenant_a), 30)) == {200}


def test_counters_work_in_a_shared_redis_cache(low_rates, settings, tenant_a):
    """Production runs several processes: the counters must live in Redis, not in memory."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": f"lp-test-{uuid.uuid4().hex}",
        }
    }
    client = key_client(make_key(tenant_a))
    assert _statuses(client, api(tenant_a), 4) == [200, 200, 200, 429]
    redis_cache = caches["default"]
    assert redis_cache.__class__.__name__ == "RedisCache"
    keys = redis_cache._cache.get_client().keys(f"*{redis_cache.key_prefix}*throttle_api_key*")
    assert len(keys) == 1  # expires with the one-minute window
