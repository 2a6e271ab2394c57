"""Segments API: CRUD, preview, lifecycle actions, roles, other organisations invisible."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from segments.criteria import SegmentCriteria
from segments.models import Segment
from segments.services import segment_activate, segment_create
from tests.api.problems import field_errors

from .helpers import company, role

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(org, tail: str = "") -> str:
    return f"/api/v1/orgs/{org.slug}/segments/{tail}"


def test_create_validates_and_names_the_field(tenant_a):
    client = api(tenant_a.admin)
    response = client.post(
        url(tenant_a.org),
        {"name": "Bad", "criteria": {"countries": ["XX"], "roles": []}},
        format="json",
    )
    body = field_errors(response)
    assert "criteria.countries" in body and "criteria.roles" in body
    assert "'XX'" in body["criteria.countries"][0]

    response = client.post(
        url(tenant_a.org),
        {"name": "UK IT", "criteria": {"countries": ["gb"], "industries": ["J"]}, "nightly_cap": 5},
        format="json",
    )
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "draft"
    assert data["criteria"]["countries"] == ["GB"]
    assert data["effective_delivery_mode"] == tenant_a.org.delivery_mode


@pytest.mark.parametrize("criteria", [[], "", False, 0, [{"countries": ["GB"]}]])
def test_criteria_of_the_wrong_json_type_are_refused_not_read_as_match_everything(
    tenant_a, criteria
):
    response = api(tenant_a.admin).post(
        url(tenant_a.org), {"name": "Typed", "criteria": criteria}, format="json"
    )
    assert field_errors(response) == {"criteria.criteria": ["must be an object of criteria"]}
    assert not Segment.objects.for_org(tenant_a.org).exists()


@pytest.mark.parametrize(
    "field", ["regions", "municipalities", "postcode_prefixes", "name_keywords"]
)
def test_a_nul_character_in_a_criterion_is_a_field_error(tenant_a, field):
    client = api(tenant_a.admin)
    criteria = {field: ["ab\x00cd"]}
    preview = client.post(url(tenant_a.org, "preview/"), {"criteria": criteria}, format="json")
    assert "NUL" in field_errors(preview)[f"criteria.{field}"][0]
    created = client.post(url(tenant_a.org), {"name": "N", "criteria": criteria}, format="json")
    assert f"criteria.{field}" in field_errors(created)


def test_members_read_admins_write(tenant_a):
    seg = segment_create(organization=tenant_a.org, name="Seg")
    member = api(tenant_a.member)
    assert member.get(url(tenant_a.org)).status_code == 200
    assert member.get(url(tenant_a.org, f"{seg.pk}/preview/")).status_code == 200
    assert member.post(url(tenant_a.org), {"name": "x"}, format="json").status_code == 403
    assert member.post(url(tenant_a.org, f"{seg.pk}/activate/")).status_code == 403
    assert (
        member.patch(url(tenant_a.org, f"{seg.pk}/"), {"name": "y"}, format="json").status_code
        == 403
    )


def test_list_shows_only_own_segments_in_few_queries(
    tenant_a, tenant_b, django_assert_max_num_queries
):
    for i in range(5):
        segment_create(organization=tenant_a.org, name=f"A{i}")
    segment_create(organization=tenant_b.org, name="B's secret")
    client = api(tenant_a.member)
    with django_assert_max_num_queries(6):
        response = client.get(url(tenant_a.org))
    names = [row["name"] for row in response.json()["results"]]
    assert sorted(names) == [f"A{i}" for i in range(5)]
    assert client.get(url(tenant_b.org)).status_code == 404


def test_patch_and_lifecycle_actions(tenant_a):
    client = api(tenant_a.admin)
    seg = segment_create(organization=tenant_a.org, name="Seg")
    response = client.patch(
        url(tenant_a.org, f"{seg.pk}/"),
        {"criteria": {"size_bands": ["nope"]}},
        format="json",
    )
    assert "criteria.size_bands" in field_errors(response)
    response = client.patch(
        url(tenant_a.org, f"{seg.pk}/"),
        {"name": "Renamed", "delivery_mode": "calendar"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["effective_delivery_mode"] == "calendar"
    assert client.post(url(tenant_a.org, f"{seg.pk}/pause/")).status_code == 409
    assert client.post(url(tenant_a.org, f"{seg.pk}/activate/")).json()["status"] == "active"
    assert client.post(url(tenant_a.org, f"{seg.pk}/pause/")).json()["status"] == "paused"
    assert client.delete(url(tenant_a.org, f"{seg.pk}/")).status_code == 409
    assert client.post(url(tenant_a.org, f"{seg.pk}/archive/")).json()["status"] == "archived"
    response = client.post(url(tenant_a.org, f"{seg.pk}/activate/"))
    assert response.status_code == 409 and "status" in response.json()
    assert client.get(url(tenant_a.org)).json()["results"] == []
    archived = client.get(url(tenant_a.org) + "?archived=1").json()["results"]
    assert [s["name"] for s in archived] == ["Renamed"]


def test_delete_a_draft(tenant_a):
    seg = segment_create(organization=tenant_a.org, name="Draft")
    client = api(tenant_a.admin)
    assert client.delete(url(tenant_a.org, f"{seg.pk}/")).status_code == 204
    assert client.get(url(tenant_a.org, f"{seg.pk}/")).status_code == 404


def test_preview_saved_and_draft(tenant_a, tenant_b, settings):
    settings.LEADPILOT_DEFAULT_MONTHLY_LEAD_QUOTA = 500
    for _ in range(10):
        role(company(country="GB"))
    company(country="GB")  # no decision-maker
    role(company(country="NO", registry_id="987654321"))
    seg = segment_create(
        organization=tenant_a.org, name="UK", criteria={"countries": ["GB"]}, nightly_cap=2
    )
    segment_activate(organization=tenant_a.org, segment_id=seg.pk)
    client = api(tenant_a.member)
    data = client.get(url(tenant_a.org, f"{seg.pk}/preview/")).json()
    assert data["companies"] == 11
    assert data["with_decision_maker"] == 10
    assert data["estimated_charged"] == 2  # round(10 x 0.35) = 4, capped by the nightly cap
    assert data["nightly_cap"] == 2

    response = client.post(
        url(tenant_a.org, "preview/"), {"criteria": {"countries": ["NO"]}}, format="json"
    )
    assert response.json()["with_decision_maker"] == 1
    response = client.post(
        url(tenant_a.org, "preview/"), {"criteria": {"countries": ["NOPE"]}}, format="json"
    )
    assert "criteria.countries" in field_errors(response)
    # B's segment is not A's to preview.
    seg_b = segment_create(organization=tenant_b.org, name="B")
    assert client.get(url(tenant_a.org, f"{seg_b.pk}/preview/")).status_code == 404


def test_estimate_is_capped_by_the_quota(tenant_a):
    tenant_a.org.monthly_lead_quota = 1
    tenant_a.org.save(update_fields=["monthly_lead_quota"])
    for _ in range(10):
        role(company())
    response = api(tenant_a.member).post(url(tenant_a.org, "preview/"), {}, format="json")
    data = response.json()
    assert (data["with_decision_maker"], data["estimated_charged"]) == (10, 1)
    assert data["quota_remaining"] == 1


def test_api_key_can_manage_segments(tenant_a):
    from organizations.models import APIKeyScope
    from organizations.services import api_key_create

    _key, full = api_key_create(
        organization=tenant_a.org, actor=tenant_a.admin, name="k", scope=APIKeyScope.WRITE
    )
    client = APIClient(headers={"Authorization": f"Api-Key {full}"})
    response = client.post(url(tenant_a.org), {"name": "By key"}, format="json")
    assert response.status_code == 201


def test_plugged_rate_and_quota_providers_drive_the_estimate(tenant_a, no_estimate_providers):
    from segments import estimates
    from segments.selectors import segment_preview

    for _ in range(10):
        role(company())
    seen = {}

    def rate(*, organization, segment):
        seen["org"] = organization
        return 0.5

    estimates.verification_rate_provider_register(rate)
    estimates.quota_remaining_provider_register(lambda *, organization: 3)
    try:
        preview = segment_preview(organization=tenant_a.org, segment=SegmentCriteria.from_dict({}))
    finally:
        estimates.verification_rate_provider_register(None)
        estimates.quota_remaining_provider_register(None)
    assert seen["org"] == tenant_a.org
    assert (preview.verification_rate, preview.quota_remaining) == (0.5, 3)
    assert preview.estimated_charged == 3  # round(10 x 0.5) = 5, capped by the quota


def test_quota_left_counts_this_months_deliveries(tenant_a, tenant_b, no_estimate_providers):
    from blocklists.services import delivery_record_add
    from segments.estimates import quota_remaining

    tenant_a.org.monthly_lead_quota = 5
    tenant_a.org.save(update_fields=["monthly_lead_quota"])
    for _ in range(2):
        r = role(company())
        delivery_record_add(
            organization=tenant_a.org, company_id=r.company_id, person_id=r.person_id, lead_id=None
        )
    r = role(company())
    delivery_record_add(
        organization=tenant_b.org, company_id=r.company_id, person_id=r.person_id, lead_id=None
    )
    assert quota_remaining(organization=tenant_a.org) == 3
