"""Directory rows for matching tests: a company with industries and a current decision-maker."""

from __future__ import annotations

import datetime as dt
from typing import Any

from enrichment.models import Company, CompanyIndustry, ContactPoint, Person, Role
from tests.factories import CompanyFactory, PersonFactory, RoleFactory

BASE = {
    "country": "GB",
    "legal_form": "limited",
    "status": "active",
    "incorporated_on": dt.date(2015, 6, 1),
    "nace_primary": 6201,
    "employees_min": 20,
    "employees_max": 49,
    "size_band": "small",
    "postcode": "SW1A 1AA",
    "postcode_prefix": "SW1A",
    "municipality": "Westminster",
    "region": "London",
    "website_domain": "",
    "email_domain": "",
}


def company(*, industries: tuple[int, ...] | None = None, **fields: Any) -> Company:
    data = {**BASE, **fields}
    obj = CompanyFactory(**data)
    codes = industries if industries is not None else (data["nace_primary"],)
    for i, code in enumerate(c for c in codes if c is not None):
        CompanyIndustry.objects.create(
            company=obj,
            nace_class=code,
            code_system="uk_sic2007",
            raw_code=f"{code}0",
            is_primary=i == 0,
        )
    return obj


def role(company: Company, kind: str = "ceo", *, person: Person | None = None, **kw: Any) -> Role:
    if person is None:
        return RoleFactory(company=company, kind=kind, **kw)
    return RoleFactory(company=company, person=person, kind=kind, **kw)


def person(**kw: Any) -> Person:
    return PersonFactory(**kw)


def contact(person: Person, kind: str, normalized: str) -> ContactPoint:
    return ContactPoint.objects.create(
        person=person, kind=kind, value=normalized, normalized=normalized, origin="pattern"
    )
