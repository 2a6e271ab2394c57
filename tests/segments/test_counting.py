"""The preview's counts (segments/counting.py): exact on a small directory, an estimate close to the
exact count and labelled as one above the sample size, and never a statement longer than the
preview's timeout (a count that cannot be had in time says so: 503 in the API, a message in the
editor, never a hanging request or a 500)."""

from __future__ import annotations

import datetime as dt
import random
import threading

import psycopg
import pytest
from django.db import connection
from rest_framework.test import APIClient

from blocklists.services import block_entry_add, delivery_record_add, suppression_add
from segments.counting import PreviewTimeout, _statement_timeout, round_estimate, sample_ranges
from segments.criteria import SegmentCriteria
from segments.matching import candidate_roles, matching_companies
from segments.selectors import segment_preview

from .helpers import company, contact, role

pytestmark = pytest.mark.django_db

BROAD = {"countries": ["GB"], "roles": ["ceo", "chair"]}


def exact(org, criteria: dict) -> tuple[int, int]:
    crit = SegmentCriteria.from_dict(criteria)
    today = dt.date.today()
    companies = matching_companies(organization=org, criteria=crit, today=today).count()
    with_dm = (
        candidate_roles(organization=org, criteria=crit, today=today)
        .values("company_id")
        .distinct()
        .count()
    )
    return companies, with_dm


@pytest.fixture
def world(tenant_a, tenant_b):
    """300 British companies (about two thirds with a CEO, chair or director, a tenth dissolved),
    20 Norwegian ones; some decision-makers suppressed; A blocks and already received some
    companies and people, B others."""
    rng = random.Random(17)
    british = []
    for i in range(300):
        c = company(
            country="GB",
            registry_id=f"{i:08d}",
            status="dissolved" if rng.random() < 0.1 else "active",
            website_domain=f"c{i}.co.uk",
        )
        british.append(c)
        if rng.random() < 0.67:
            r = role(c, rng.choice(["ceo", "chair", "director"]))
            if i % 4 == 0:
                contact(r.person, "email", f"p{i}@c{i}.co.uk")
            if i % 12 == 0:  # objected to contact: no organisation gets them
                suppression_add(kind="email", value=f"p{i}@c{i}.co.uk")
            if i % 16 == 4:
                block_entry_add(organization=tenant_a.org, kind="email", value=f"p{i}@c{i}.co.uk")
            if i % 7 == 0:
                delivery_record_add(
                    organization=tenant_a.org, company_id=c.id, person_id=r.person_id, lead_id=i
                )
    for i in range(20):
        role(company(country="NO", registry_id=f"9{i:08d}"))
    for c in british[::11]:
        block_entry_add(organization=tenant_a.org, kind="domain", value=c.website_domain)
    for c in british[1::5]:
        block_entry_add(organization=tenant_b.org, kind="domain", value=c.website_domain)
    return british


def test_a_directory_within_the_sample_is_counted_exactly(world, tenant_a, tenant_b):
    for org in (tenant_a.org, tenant_b.org):
        preview = segment_preview(organization=org, segment=SegmentCriteria.from_dict(BROAD))
        assert not preview.estimated
        assert (preview.companies, preview.with_decision_maker) == exact(org, BROAD)
    # Each organisation's own exclusions: A's and B's counts differ.
    assert exact(tenant_a.org, BROAD) != exact(tenant_b.org, BROAD)


def test_above_the_sample_the_counts_are_estimated_close_to_the_exact_ones(
    world, tenant_a, tenant_b, settings
):
    settings.LEADPILOT_PREVIEW_SAMPLE_COMPANIES = 120
    settings.LEADPILOT_PREVIEW_EXACT_MAX = 0  # never count exactly
    for org in (tenant_a.org, tenant_b.org):
        companies, with_dm = exact(org, BROAD)
        preview = segment_preview(organization=org, segment=SegmentCriteria.from_dict(BROAD))
        assert preview.estimated
        assert abs(preview.companies - companies) <= 0.2 * companies, (preview, companies)
        assert abs(preview.with_decision_maker - with_dm) <= 0.2 * with_dm, (preview, with_dm)
    # A Norwegian segment's id range (20 companies) fits in the sample: counted exactly.
    preview = segment_preview(
        organization=tenant_a.org, segment=SegmentCriteria.from_dict({"countries": ["NO"]})
    )
    assert (preview.companies, preview.with_decision_maker, preview.estimated) == (20, 20, False)


def test_a_small_result_is_counted_exactly_after_the_sample(world, tenant_a, settings):
    settings.LEADPILOT_PREVIEW_SAMPLE_COMPANIES = 120
    settings.LEADPILOT_PREVIEW_EXACT_MAX = 1000
    preview = segment_preview(organization=tenant_a.org, segment=SegmentCriteria.from_dict(BROAD))
    assert not preview.estimated
    assert (preview.companies, preview.with_decision_maker) == exact(tenant_a.org, BROAD)


def test_the_api_and_the_editor_label_an_estimate(world, tenant_a, tenant_b, settings):
    settings.LEADPILOT_PREVIEW_SAMPLE_COMPANIES = 120
    settings.LEADPILOT_PREVIEW_EXACT_MAX = 0
    client = APIClient()
    client.force_authenticate(tenant_a.member)
    base = f"/api/v1/orgs/{tenant_a.org.slug}/segments/"
    data = client.post(f"{base}preview/", {"criteria": BROAD}, format="json").json()
    assert data["estimated"] is True
    page = tenant_a.client_for(tenant_a.member).post(
        f"/o/{tenant_a.org.slug}/segments/preview/",
        {"countries": "GB", "statuses": ["active"], "role_1": "ceo", "role_2": "chair"},
        HTTP_HX_REQUEST="true",
    )
    body = page.content.decode()
    assert f'<strong data-testid="companies">about {data["companies"]}</strong>' in body
    assert 'data-testid="estimated"' in body and "Estimated from a sample" in body
    settings.LEADPILOT_PREVIEW_EXACT_MAX = 1000
    data = client.post(f"{base}preview/", {"criteria": BROAD}, format="json").json()
    assert data["estimated"] is False
    assert (data["companies"], data["with_decision_maker"]) == exact(tenant_a.org, BROAD)


def test_sample_blocks_cover_the_ranges_evenly():
    ranges = [(1, 1000), (5001, 6000)]
    blocks = sample_ranges(ranges, 200)
    assert sum(hi - lo + 1 for lo, hi in blocks) == 200
    assert all(any(lo >= a and hi <= b for a, b in ranges) for lo, hi in blocks)
    # Half the sample in each range, as each holds half the ids.
    assert sum(hi - lo + 1 for lo, hi in blocks if hi <= 1000) == 100
    assert sample_ranges([(1, 50)], 200) == [(1, 50)]


def test_estimates_are_rounded_to_two_significant_digits():
    assert [round_estimate(v) for v in (7.4, 99.6, 48_213, 1_234_567)] == [
        7,
        100,
        48_000,
        1_200_000,
    ]


def test_a_statement_past_the_timeout_is_cut_off_and_the_setting_restored():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]
    with pytest.raises(PreviewTimeout), _statement_timeout(100), connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(5)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == before
        cursor.execute("SELECT 1")  # the connection is usable


@pytest.mark.django_db(transaction=True)
def test_a_count_that_cannot_be_had_in_time_answers_rather_than_hangs(tenant_a, settings):
    """A migration holds the company table: the preview gives up after its timeout."""
    settings.LEADPILOT_PREVIEW_STATEMENT_TIMEOUT_MS = 300
    role(company(country="GB"))
    db = connection.settings_dict
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with psycopg.connect(
            host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]
        ) as other:
            other.execute("LOCK TABLE enrichment_company IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        client = APIClient()
        client.force_authenticate(tenant_a.member)
        base = f"/api/v1/orgs/{tenant_a.org.slug}/segments/"
        response = client.post(f"{base}preview/", {"criteria": BROAD}, format="json")
        assert response.status_code == 503
        assert "could not be computed in time" in response.content.decode()
        page = tenant_a.client_for(tenant_a.member).post(
            f"/o/{tenant_a.org.slug}/segments/preview/",
            {"countries": "GB", "statuses": ["active"], "role_1": "ceo"},
            HTTP_HX_REQUEST="true",
        )
        assert page.status_code == 200
        assert 'data-testid="preview-unavailable"' in page.content.decode()
    finally:
        release.set()
        holder.join()
