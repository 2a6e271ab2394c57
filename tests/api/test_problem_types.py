"""A problem's `type` resolves to a page a person can read (RFC 9457 §3.1.1)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.problems import problem_of

pytestmark = pytest.mark.django_db


def test_the_type_of_a_real_answer_resolves_to_its_explanation(tenant_a, tenant_b):
    client = Client()
    answer = problem_of(client.get(f"/api/v1/orgs/{tenant_a.org.slug}/leads/"), 401)
    page = client.get(answer["type"])
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    assert answer["title"] in text and "Authorization: Api-Key" in text
    assert "HTTP status: 401." in text


def test_a_service_code_gets_the_general_page_and_a_hostile_code_a_problem():
    client = Client()
    page = client.get("/api/problems/email_confirmed")
    assert page.status_code == 200 and "Email confirmed" in page.content.decode()
    problem_of(client.get("/api/problems/%3Cscript%3E"), 404)


def test_the_page_speaks_swedish():
    page = Client().get("/api/problems/throttled", headers={"accept-language": "sv"})
    assert page.status_code == 200
    assert page["Content-Language"] == "sv"
