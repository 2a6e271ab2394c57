"""The matching query: criteria narrow, exclusions exclude, other organisations change nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from blocklists.services import block_entry_add, delivery_record_add, suppression_add
from segments.criteria import SegmentCriteria
from segments.selectors import Candidate, segment_candidates, segment_preview
from segments.services import segment_create

from .helpers import company, contact, role

pytestmark = pytest.mark.django_db


def ids(org, criteria: dict, **kw) -> list[int]:
    crit = SegmentCriteria.from_dict(criteria)
    return [c.company_id for c in segment_candidates(organization=org, segment=crit, **kw)]


# Each row: a criterion, a company field change that must fall outside it.
NARROWING = [
    ({"countries": ["GB"]}, {"country": "NO", "registry_id": "912345678"}),
    ({"industries": ["J"]}, {"nace_primary": 4321}),
    ({"industries": ["62"]}, {"nace_primary": 6311}),
    ({"industries": ["62.0"]}, {"nace_primary": 6311}),
    ({"industries": ["62.01"]}, {"nace_primary": 6202}),
    ({"industries": ["62.01"], "industry_scope": "primary"}, {"nace_primary": 6202}),
    ({"regions": ["London"]}, {"region": "Wales"}),
    ({"municipalities": ["Westminster"]}, {"municipality": "Camden"}),
    ({"postcode_prefixes": ["SW1A"]}, {"postcode": "NW1 4RY"}),
    ({"postcode_prefixes": ["sw1a 1"]}, {"postcode": "SW1A 2AA"}),
    ({"employees_min": 10, "employees_max": 60}, {"employees_min": 100, "employees_max": 249}),
    ({"employees_min": 10}, {"employees_min": None, "employees_max": None}),
    ({"size_bands": ["small"]}, {"size_band": "medium"}),
    ({"incorporated_from": "2010-01-01"}, {"incorporated_on": dt.date(2005, 1, 1)}),
    ({"incorporated_to": "2020-01-01"}, {"incorporated_on": dt.date(2021, 1, 1)}),
    ({"min_age_years": 3}, {"incorporated_on": dt.date.today() - dt.timedelta(days=300)}),
    ({"max_age_years": 20}, {"incorporated_on": dt.date(1990, 1, 1)}),
    ({"legal_forms": ["limited"]}, {"legal_form": "llp"}),
    ({}, {"status": "dissolved"}),  # active only by default
    ({"statuses": ["active"]}, {"status": "liquidation"}),
    ({"name_keywords": ["widget"]}, {"name": "Gadgets Ltd"}),
    ({}, {"marketing_blocked": True}),
]


@pytest.mark.parametrize(("criteria", "outside"), NARROWING)
def test_every_criterion_narrows(tenant_a, criteria, outside):
    inside = company(name="Widget Works Ltd")
    role(inside)
    excluded = company(**{"name": "Widget Works Two Ltd", **outside})
    role(excluded)

    assert ids(tenant_a.org, criteria) == [inside.id]
    # Without the criterion the second company is found, so the criterion did the narrowing
    # (except for defaults that always apply).
    if criteria and "status" not in outside and "marketing_blocked" not in outside:
        assert excluded.id in ids(tenant_a.org, {"statuses": ["active", "dissolved"]})


def test_industry_any_scope_matches_secondary_codes(tenant_a):
    secondary = company(nace_primary=4321, industries=(4321, 6201))
    role(secondary)
    assert ids(tenant_a.org, {"industries": ["62.01"]}) == [secondary.id]
    assert ids(tenant_a.org, {"industries": ["62.01"], "industry_scope": "primary"}) == []


def test_unknown_size_needs_the_explicit_switch(tenant_a):
    unknown = company(employees_min=None, employees_max=None)
    role(unknown)
    known = company(employees_min=20, employees_max=49)
    role(known)
    assert ids(tenant_a.org, {"employees_min": 10, "employees_max": 60}) == [known.id]
    assert ids(
        tenant_a.org,
        {"employees_min": 10, "employees_max": 60, "include_unknown_employees": True},
    ) == sorted([unknown.id, known.id])


def test_best_current_role_by_wanted_priority(tenant_a):
    c = company()
    chair = role(c, "chair")
    role(c, "board_member")
    role(c, "ceo", is_current=False, ended_on=dt.date(2020, 1, 1))
    ceo = role(c, "ceo")
    crit = SegmentCriteria.from_dict({"roles": ["ceo", "chair"]})
    assert segment_candidates(organization=tenant_a.org, segment=crit) == [
        Candidate(c.id, ceo.person_id, "ceo")
    ]
    crit = SegmentCriteria.from_dict({"roles": ["chair", "ceo"]})
    assert segment_candidates(organization=tenant_a.org, segment=crit) == [
        Candidate(c.id, chair.person_id, "chair")
    ]


def test_company_without_wanted_role_is_no_candidate(tenant_a):
    c = company()
    role(c, "board_member")
    role(c, "ceo", is_current=False)
    assert ids(tenant_a.org, {"roles": ["ceo"]}) == []
    preview = segment_preview(organization=tenant_a.org, segment=SegmentCriteria.from_dict({}))
    assert (preview.companies, preview.with_decision_maker) == (1, 0)


def test_order_is_deterministic_and_limit_applies(tenant_a):
    made = [company() for _ in range(5)]
    for c in reversed(made):
        role(c)
    expected = sorted(c.id for c in made)
    assert ids(tenant_a.org, {}) == expected
    assert ids(tenant_a.org, {}, limit=2) == expected[:2]


def test_countries_interleaved_in_the_directory_are_all_found(tenant_a):
    # The query reads only the countries' company-id range: companies of other countries before,
    # between and after them must not cut a country's own companies off at either end.
    made = {}
    for i, country in enumerate(["SE", "NO", "GB", "NO", "SE", "GB", "NO", "SE"]):
        c = company(country=country, registry_id=f"9{i:08d}", industries=(6201, 4321))
        role(c)
        made.setdefault(country, []).append(c.id)
    assert ids(tenant_a.org, {"countries": ["NO"]}) == made["NO"]
    assert ids(tenant_a.org, {"countries": ["NO"], "industries": ["43"]}) == made["NO"]
    assert ids(tenant_a.org, {"countries": ["GB", "SE"]}) == sorted(made["GB"] + made["SE"])
    assert ids(tenant_a.org, {"countries": ["NO"]}, limit=2) == made["NO"][:2]
    assert ids(tenant_a.org, {"countries": ["DK"]}) == []


@pytest.mark.parametrize(
    ("kind", "value", "field"),
    [
        ("company", "GB:00000777", "registry_id"),
        ("company", "777", "registry_id"),  # UK ids are zero-padded like Companies House
        ("domain", "https://www.blocked-co.co.uk/about", "website_domain"),
        ("domain", "blocked-co.co.uk", "email_domain"),
        ("company_name", "BLOCKED CO. LIMITED", "name"),
    ],
)
def test_blocked_company_is_never_a_candidate(tenant_a, tenant_b, kind, value, field):
    fields = {
        "registry_id": "00000777",
        "website_domain": "blocked-co.co.uk",
        "email_domain": "blocked-co.co.uk",
        "name": "Blocked Co Ltd",
    }
    blocked = company(**{field: fields[field]})
    role(blocked)
    other = company()
    role(other)
    assert ids(tenant_a.org, {}) == sorted([blocked.id, other.id])

    block_entry_add(organization=tenant_a.org, kind=kind, value=value, country="GB")

    assert ids(tenant_a.org, {}) == [other.id]
    # Another organisation's block list changes nothing for this one (and vice versa).
    assert ids(tenant_b.org, {}) == sorted([blocked.id, other.id])


def test_blocked_person_falls_back_to_next_wanted_role(tenant_a, tenant_b):
    c = company()
    ceo = role(c, "ceo")
    chair = role(c, "chair")
    crit = SegmentCriteria.from_dict({"roles": ["ceo", "chair"]})
    block_entry_add(organization=tenant_a.org, kind="person", value=str(ceo.person_id))
    assert segment_candidates(organization=tenant_a.org, segment=crit) == [
        Candidate(c.id, chair.person_id, "chair")
    ]
    assert segment_candidates(organization=tenant_b.org, segment=crit) == [
        Candidate(c.id, ceo.person_id, "ceo")
    ]


@pytest.mark.parametrize(
    ("kind", "stored", "typed", "country"),
    [
        ("email", "kari.nordmann@nordlys.no", " Kari.Nordmann@NORDLYS.no ", ""),
        ("phone", "+4722334455", "22 33 44 55", "NO"),
    ],
)
def test_person_with_blocked_contact_is_never_a_candidate(
    tenant_a, tenant_b, kind, stored, typed, country
):
    c = company()
    r = role(c)
    contact(r.person, kind, stored)
    block_entry_add(organization=tenant_a.org, kind=kind, value=typed, country=country)
    assert ids(tenant_a.org, {}) == []
    assert ids(tenant_b.org, {}) == [c.id]


def test_delivered_person_is_never_a_candidate_again(tenant_a, tenant_b):
    first = company()
    r = role(first)
    delivery_record_add(
        organization=tenant_a.org, company_id=first.id, person_id=r.person_id, lead_id=1
    )
    # The same person now runs another company: still excluded for tenant A.
    moved = company()
    role(moved, person=r.person)
    assert ids(tenant_a.org, {}) == []
    assert ids(tenant_b.org, {}) == sorted([first.id, moved.id])


def test_company_already_delivered_is_skipped_even_with_another_person(tenant_a, tenant_b):
    c = company()
    ceo = role(c, "ceo")
    role(c, "chair")
    delivery_record_add(
        organization=tenant_a.org, company_id=c.id, person_id=ceo.person_id, lead_id=1
    )
    assert ids(tenant_a.org, {"roles": ["ceo", "chair"]}) == []
    assert ids(tenant_b.org, {"roles": ["ceo", "chair"]}) == [c.id]


@pytest.mark.parametrize(
    ("kind", "stored", "objected"),
    [("email", "ola@firma.no", "OLA@firma.no"), ("phone", "+447911123456", "+44 7911 123456")],
)
def test_suppression_applies_to_every_organisation(tenant_a, tenant_b, kind, stored, objected):
    c = company()
    ceo = role(c, "ceo")
    chair = role(c, "chair")
    contact(ceo.person, kind, stored)
    suppression_add(kind=kind, value=objected, reason="objected by e-mail")
    crit = SegmentCriteria.from_dict({"roles": ["ceo", "chair"]})
    for org in (tenant_a.org, tenant_b.org):
        assert segment_candidates(organization=org, segment=crit) == [
            Candidate(c.id, chair.person_id, "chair")
        ]


def test_segment_candidates_refuses_a_foreign_segment(tenant_a, tenant_b):
    seg = segment_create(organization=tenant_b.org, name="B's")
    with pytest.raises(ValueError, match="another organisation"):
        segment_candidates(organization=tenant_a.org, segment=seg)


def test_saved_segment_matches_like_its_criteria(tenant_a):
    inside = company(country="GB")
    role(inside)
    role(company(country="NO", registry_id="999888777"))
    seg = segment_create(organization=tenant_a.org, name="UK", criteria={"countries": ["gb"]})
    assert [c.company_id for c in segment_candidates(organization=tenant_a.org, segment=seg)] == [
        inside.id
    ]
