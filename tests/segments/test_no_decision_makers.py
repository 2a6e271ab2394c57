"""A segment that can produce no decision-maker (matching companies, none with a wanted role: a
Swedish segment while Bolagsverket's file names no officers) says so in its preview and is
activated only when confirmed: the editor asks, the API needs confirm_no_decision_makers: true."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from segments.models import Segment
from segments.services import SegmentNeedsConfirmation, segment_activate, segment_create
from tests.api.problems import field_errors

from .helpers import company, role

pytestmark = pytest.mark.django_db


def swedish_segment(org, name="Swedish IT"):
    for i in range(3):
        company(name=f"Svensk Data {i} AB", country="SE", industries=(6201,))
    return segment_create(
        organization=org, name=name, criteria={"countries": ["SE"], "industries": ["J"]}
    )


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_service_refuses_until_confirmed_and_a_role_lifts_the_refusal(tenant_a, tenant_b):
    seg = swedish_segment(tenant_a.org)
    with pytest.raises(SegmentNeedsConfirmation) as refused:
        segment_activate(organization=tenant_a.org, segment_id=seg.pk)
    assert "confirm_no_decision_makers" in refused.value.errors
    assert Segment.objects.for_org(tenant_a.org).get(pk=seg.pk).status == "draft"

    seg = segment_activate(
        organization=tenant_a.org, segment_id=seg.pk, confirm_no_decision_makers=True
    )
    assert seg.status == "active"

    # Data-driven: once someone in a wanted role is known there (the website discovery, a new
    # registry file), no confirmation is asked. Organisation B's own segment, same criteria.
    other = swedish_segment(tenant_b.org, name="B Swedish IT")
    role(company(name="Svensk Kod AB", country="SE", industries=(6201,)), "ceo")
    assert segment_activate(organization=tenant_b.org, segment_id=other.pk).status == "active"
    assert not Segment.objects.for_org(tenant_b.org).filter(pk=seg.pk).exists()


def test_a_segment_matching_no_company_needs_no_confirmation(tenant_a):
    seg = segment_create(organization=tenant_a.org, name="Nothing", criteria={"countries": ["DK"]})
    assert segment_activate(organization=tenant_a.org, segment_id=seg.pk).status == "active"


def test_the_api_preview_says_so_and_activation_needs_the_confirmation(tenant_a, tenant_b):
    seg = swedish_segment(tenant_a.org)
    client = api(tenant_a.admin)
    base = f"/api/v1/orgs/{tenant_a.org.slug}/segments/{seg.pk}"

    preview = client.get(f"{base}/preview/").json()
    assert preview["companies"] == 3 and preview["with_decision_maker"] == 0
    assert preview["no_decision_makers"] is True

    response = client.post(f"{base}/activate/", {}, format="json")
    assert "decision-maker" in field_errors(response)["confirm_no_decision_makers"][0]
    assert Segment.objects.for_org(tenant_a.org).get(pk=seg.pk).status == "draft"

    response = client.post(f"{base}/activate/", {"confirm_no_decision_makers": "maybe"})
    assert response.status_code == 400

    response = client.post(f"{base}/activate/", {"confirm_no_decision_makers": True}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "active"

    # Another organisation's admin cannot reach it, confirmed or not.
    foreign = api(tenant_b.admin).post(
        f"/api/v1/orgs/{tenant_a.org.slug}/segments/{seg.pk}/activate/",
        {"confirm_no_decision_makers": True},
        format="json",
    )
    assert foreign.status_code in (403, 404)


def test_the_editor_shows_the_warning_and_asks_before_activating(tenant_a):
    seg = swedish_segment(tenant_a.org)
    client = tenant_a.client_for(tenant_a.admin)
    edit = f"/o/{tenant_a.org.slug}/segments/{seg.pk}/"

    preview = client.get(f"/o/{tenant_a.org.slug}/segments/{seg.pk}/preview/")
    assert b'data-testid="no-decision-makers"' in preview.content

    response = client.post(f"{edit}activate/")
    assert response.status_code == 302 and response["Location"] == f"{edit}?confirm=activate"
    assert Segment.objects.for_org(tenant_a.org).get(pk=seg.pk).status == "draft"
    page = client.get(response["Location"]).content.decode()
    assert 'name="confirm_no_decision_makers"' in page and "required" in page
    assert "would deliver nothing" in page
    assert "style=" not in page.split("<body", 1)[1].split("</header>", 1)[0]

    response = client.post(f"{edit}activate/", {"confirm_no_decision_makers": "yes"})
    assert response.status_code == 302 and response["Location"] == edit
    assert Segment.objects.for_org(tenant_a.org).get(pk=seg.pk).status == "active"
