"""Criteria parsing: every invalid input names its field and the problem; valid input is
canonical and round-trips; NACE codes at every level expand to classes."""

from __future__ import annotations

import datetime as dt

import pytest

from segments.criteria import CriteriaError, SegmentCriteria


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"countries": ["XX"]}, "countries", "'XX' is not an ISO 3166-1"),
        ({"countries": "GB,UK"}, "countries", "'UK'"),
        ({"countries": 5}, "countries", "must be a list"),
        ({"industries": ["Z"]}, "industries", "'Z' is not a NACE code"),
        ({"industries": ["04"]}, "industries", "not a NACE Rev. 2 division"),
        ({"industries": ["62.99"]}, "industries", "not a NACE Rev. 2"),
        ({"industry_scope": "some"}, "industry_scope", "not one of any, primary"),
        ({"employees_min": -1}, "employees_min", "at least 0"),
        ({"employees_min": "ten"}, "employees_min", "not a whole number"),
        ({"employees_min": 50, "employees_max": 10}, "employees_max", "at least employees_min"),
        ({"include_unknown_employees": "maybe"}, "include_unknown_employees", "true or false"),
        ({"size_bands": ["huge"]}, "size_bands", "'huge' is not one of"),
        ({"incorporated_from": "01/02/2020"}, "incorporated_from", "YYYY-MM-DD"),
        (
            {"incorporated_from": "2020-01-01", "incorporated_to": "2019-01-01"},
            "incorporated_to",
            "before incorporated_from",
        ),
        ({"min_age_years": 5, "max_age_years": 2}, "max_age_years", "at least min_age_years"),
        (
            {"min_age_years": 2, "incorporated_from": "2020-01-01"},
            "min_age_years",
            "not both",
        ),
        ({"legal_forms": ["gmbh"]}, "legal_forms", "'gmbh' is not one of"),
        ({"statuses": []}, "statuses", "at least one company status"),
        ({"statuses": ["gone"]}, "statuses", "'gone' is not one of"),
        ({"roles": []}, "roles", "at least one wanted decision-maker"),
        ({"roles": ["auditor"]}, "roles", "'auditor' is not one of"),
        ({"name_keywords": ["a"]}, "name_keywords", "too short"),
        ({"colour": "blue"}, "colour", "not a known criterion"),
        ({"regions": ["x"] * 201}, "regions", "at most 200"),
    ],
)
def test_invalid_criteria_name_the_field(data, field, fragment):
    with pytest.raises(CriteriaError) as info:
        SegmentCriteria.from_dict(data)
    assert field in info.value.errors, info.value.errors
    assert any(fragment in message for message in info.value.errors[field])
    assert field in str(info.value)


def test_all_problems_are_reported_at_once():
    with pytest.raises(CriteriaError) as info:
        SegmentCriteria.from_dict({"countries": ["XX"], "roles": [], "size_bands": ["huge"]})
    assert set(info.value.errors) == {"countries", "roles", "size_bands"}


def test_not_an_object():
    with pytest.raises(CriteriaError) as info:
        SegmentCriteria.from_dict(["GB"])
    assert "criteria" in info.value.errors


@pytest.mark.parametrize(
    ("code", "canonical", "size", "contains"),
    [
        ("J", "J", 26, 6201),  # section J = divisions 58-63
        ("j", "J", 26, 5811),
        ("62", "62", 4, 6209),
        ("62.0", "62.0", 4, 6203),
        ("620", "62.0", 4, 6201),
        ("62.01", "62.01", 1, 6201),
        ("6201", "62.01", 1, 6201),
    ],
)
def test_industries_expand_at_every_level(code, canonical, size, contains):
    crit = SegmentCriteria.from_dict({"industries": [code]})
    assert crit.industries == (canonical,)
    assert len(crit.nace_classes) == size
    assert contains in crit.nace_classes


def test_defaults_and_canonical_round_trip():
    crit = SegmentCriteria.from_dict({})
    assert crit.statuses == ("active",)
    assert crit.roles == ("ceo",)
    data = {
        "countries": ["gb", "NO", "gb"],
        "industries": ["62", "J"],
        "postcode_prefixes": ["sw1a 1"],
        "employees_min": "10",
        "include_unknown_employees": "on",
        "incorporated_from": "2010-01-01",
        "roles": ["chair", "CEO", "chair"],
        "name_keywords": [" software ", ""],
    }
    crit = SegmentCriteria.from_dict(data)
    stored = crit.to_dict()
    assert stored["countries"] == ["GB", "NO"]
    assert stored["postcode_prefixes"] == ["SW1A1"]
    assert stored["employees_min"] == 10
    assert stored["include_unknown_employees"] is True
    assert stored["roles"] == ["chair", "ceo"]
    assert stored["name_keywords"] == ["software"]
    assert SegmentCriteria.from_dict(stored) == crit


def test_age_counts_back_from_today():
    crit = SegmentCriteria.from_dict({"min_age_years": 2, "max_age_years": 5})
    earliest, latest = crit.incorporation_window(today=dt.date(2026, 6, 15))
    assert latest == dt.date(2024, 6, 15)
    assert earliest == dt.date(2020, 6, 16)
