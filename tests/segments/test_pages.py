"""Segment pages: list, editor with live preview (htmx), lifecycle buttons."""

from __future__ import annotations

import pytest

from segments.forms import SegmentForm
from segments.models import Segment
from segments.services import segment_create

from .helpers import company, role

pytestmark = pytest.mark.django_db


def test_nav_has_segments_and_list_shows_own_only(
    tenant_a, tenant_b, django_assert_max_num_queries
):
    for i in range(5):
        segment_create(organization=tenant_a.org, name=f"Alpha seg {i}")
    segment_create(organization=tenant_b.org, name="Bravo secret")
    client = tenant_a.client_for(tenant_a.member)
    with django_assert_max_num_queries(8):
        response = client.get(f"/o/{tenant_a.org.slug}/segments/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Alpha seg 4" in body and "Bravo secret" not in body
    assert f'href="/o/{tenant_a.org.slug}/segments/"' in body  # nav entry
    assert "New segment" not in body  # members cannot create


def test_create_edit_and_activate(tenant_a):
    role(company(country="GB"))
    client = tenant_a.client_for(tenant_a.admin)
    base = f"/o/{tenant_a.org.slug}/segments/"
    assert client.get(base + "new/").status_code == 200
    form = {
        "name": "UK software",
        "nightly_cap": "10",
        "countries": "gb",
        "industries": "62, 63.1",
        "industry_scope": "any",
        "statuses": ["active"],
        "role_1": "ceo",
        "role_2": "chair",
    }
    response = client.post(base + "new/", form)
    assert response.status_code == 302
    seg = Segment.objects.for_org(tenant_a.org).get(name="UK software")
    assert seg.criteria["industries"] == ["62", "63.1"]
    assert seg.criteria["roles"] == ["ceo", "chair"]
    page = client.get(f"{base}{seg.pk}/").content.decode()
    assert "Activate" in page and 'hx-trigger="load"' in page  # the preview loads itself
    assert 'value="UK software"' in page and 'value="62, 63.1"' in page
    fragment = client.get(f"{base}{seg.pk}/preview/", HTTP_HX_REQUEST="true").content.decode()
    assert '<strong data-testid="companies">1</strong> companies match' in fragment
    response = client.post(f"{base}{seg.pk}/activate/")
    assert response.status_code == 302
    seg.refresh_from_db()
    assert seg.status == "active"
    assert "Pause" in client.get(f"{base}{seg.pk}/").content.decode()


def test_invalid_form_shows_the_field_error(tenant_a):
    client = tenant_a.client_for(tenant_a.admin)
    response = client.post(
        f"/o/{tenant_a.org.slug}/segments/new/",
        {
            "name": "X",
            "nightly_cap": "5",
            "countries": "XX",
            "statuses": ["active"],
            "role_1": "ceo",
        },
    )
    assert response.status_code == 400
    assert "&#x27;XX&#x27; is not an ISO 3166-1 alpha-2 country code" in response.content.decode()
    assert not Segment.objects.for_org(tenant_a.org).exists()


def test_live_preview_fragment(tenant_a, tenant_b):
    for _ in range(3):
        role(company(country="GB"))
    role(company(country="NO", registry_id="912345670"))
    client = tenant_a.client_for(tenant_a.member)
    url = f"/o/{tenant_a.org.slug}/segments/preview/"
    response = client.post(
        url, {"countries": "GB", "statuses": ["active"], "role_1": "ceo"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert '<strong data-testid="companies">3</strong> companies match' in body
    assert '<strong data-testid="with-dm">3</strong>' in body
    response = client.post(url, {"countries": "GB", "statuses": [], "role_1": "ceo"})
    assert "at least one company status" in response.content.decode()


def test_preview_errors_name_the_field_as_the_form_labels_it(tenant_a, tenant_b):
    client = tenant_a.client_for(tenant_a.member)
    url = f"/o/{tenant_a.org.slug}/segments/preview/"
    body = client.post(
        url, {"nightly_cap": "-3", "statuses": ["active"], "role_1": "ceo"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<li>Nightly cap: Ensure this value is greater than or equal to 1.</li>" in body
    body = client.post(
        url, {"countries": "XX", "statuses": ["active"], "role_1": "ceo"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<li>Countries: &#x27;XX&#x27; is not an ISO 3166-1 alpha-2" in body
    assert "nightly_cap" not in body and "countries:" not in body
    assert SegmentForm.error_labels({"employees_min": ["x"], "roles": ["y"]}) == {
        "Employees from": ["x"],
        "Decision-makers": ["y"],
    }
