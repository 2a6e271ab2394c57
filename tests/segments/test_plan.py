"""Plan guard: every exclusion of the matching query is an anti-join, never a SubPlan.

A SubPlan runs once per outer row (a correlated NOT IN / OR'ed EXISTS / correlated IN does
that); at directory size it turns a 100 ms query into minutes. EXPLAIN (FORMAT JSON) is walked
for every statement the nightly search and the preview run.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef, Q

from blocklists.models import BlockEntry
from blocklists.services import block_entry_add, delivery_record_add, suppression_add
from enrichment.models import Role
from segments.criteria import SegmentCriteria
from segments.matching import candidate_queryset, candidate_roles, matching_companies

from .helpers import company, contact, role

pytestmark = pytest.mark.django_db

FULL = {
    "countries": ["GB"],
    "industries": ["J", "62.01"],
    "regions": ["London"],
    "postcode_prefixes": ["SW1"],
    "employees_min": 5,
    "employees_max": 500,
    "include_unknown_employees": True,
    "size_bands": ["small", "medium"],
    "min_age_years": 1,
    "legal_forms": ["limited"],
    "roles": ["ceo", "chair", "owner"],
    "name_keywords": ["works"],
}


def plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def subplans(queryset) -> list[str]:
    raw = queryset.explain(format="json")
    data = json.loads(raw) if isinstance(raw, str) else raw
    return [
        node.get("Subplan Name") or node["Node Type"]
        for node in plan_nodes(data[0]["Plan"])
        if node.get("Parent Relationship") in ("SubPlan", "InitPlan") or node.get("Subplan Name")
    ]


@pytest.fixture
def directory(tenant_a, tenant_b):
    for i in range(30):
        c = company(name=f"Works {i} Ltd", website_domain=f"works{i}.co.uk")
        r = role(c, "ceo")
        role(c, "chair")
        contact(r.person, "email", f"ceo{i}@works{i}.co.uk")
        if i % 3 == 0:
            delivery_record_add(
                organization=tenant_a.org, company_id=c.id, person_id=r.person_id, lead_id=i
            )
    for kind, value in [
        ("domain", "works1.co.uk"),
        ("company", "GB:12345678"),
        ("company_name", "works 2"),
        ("email", "ceo4@works4.co.uk"),
        ("phone", "+447911123456"),
    ]:
        block_entry_add(organization=tenant_a.org, kind=kind, value=value)
    suppression_add(kind="email", value="ceo5@works5.co.uk")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return tenant_a.org


@pytest.mark.parametrize("criteria", [{}, FULL, {**FULL, "industry_scope": "primary"}])
def test_no_subplan_in_candidate_and_preview_queries(directory, criteria):
    crit = SegmentCriteria.from_dict(criteria)
    today = dt.date.today()
    candidates = candidate_queryset(organization=directory, criteria=crit, today=today)
    queries = {
        "candidates": candidates.distinct("company_id"),
        "candidates_capped": candidates.distinct("company_id")[:25],
        "companies": matching_companies(organization=directory, criteria=crit, today=today),
        "with_decision_maker": candidate_roles(
            organization=directory, criteria=crit, today=today
        ).values("company_id"),
    }
    for name, qs in queries.items():
        assert subplans(qs) == [], f"{name} uses a SubPlan"


def test_guard_detects_a_subplan(directory):
    """The walker is not vacuous: an OR'ed NOT EXISTS cannot be an anti-join and is caught."""
    blocked = BlockEntry.objects.for_org(directory)
    qs = Role.objects.filter(
        ~Exists(blocked.filter(value=OuterRef("company__website_domain")))
        | Q(company__country="NO")
    )
    assert subplans(qs)
