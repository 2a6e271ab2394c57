"""The matching query: a segment's criteria compiled to one SQL statement over the directory.

Contract:
- Rows are (company, person, role kind): for every company that matches the criteria, the
  current role whose kind comes first in the segment's wanted roles (ties: lowest person id),
  ordered by company id. Deterministic: same data, same rows, same order.
- Never returned: companies with the registry advertising opt-out (`marketing_blocked`); anything
  on the organisation's block list (company registry id, website or e-mail domain, company name,
  person, or a person whose known e-mail/phone is blocked); people whose known e-mail/phone hashes
  into the global suppression list; and the organisation's delivery record — a person it already
  received (at any company) and every company it already received a lead from (one lead per
  company per organisation, ever).
- Company-level exclusions drop the company; person-level exclusions drop only that person, so
  the next wanted role at the same company can still be chosen.
- Every exclusion is a `NOT EXISTS` (Django `~Exists`), which PostgreSQL plans as an anti-join;
  tests/segments/test_plan.py fails if any of them turns into a SubPlan.

Only the organisation's own block list and delivery record are consulted: another organisation's
rows never change the result.
"""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import or_

from django.db.models import (
    Case,
    Exists,
    Expression,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Concat, Replace, Upper
from django.db.models.lookups import StartsWith

from blocklists.models import BlockEntry, BlockKind, DeliveryRecord, Suppression
from enrichment.models import Company, CompanyIndustry, ContactPoint, Role
from organizations.models import Organization

from .criteria import SegmentCriteria


class _Sha256Hex(Func):
    function = "lp_sha256_hex"
    output_field = Company._meta.get_field("name")


class _NameKey(Func):
    function = "lp_name_key"
    output_field = Company._meta.get_field("name")


def company_filters(
    *, criteria: SegmentCriteria, prefix: str, company_ref: str, today: dt.date
) -> list[Q | Exists]:
    """The criteria as WHERE conditions on a company reached through `prefix` ("" or "company__").

    `company_ref` names the company's id from the outer query ("pk" or "company_id"), for the
    industry semi-join.
    """

    def q(**kwargs: object) -> Q:
        return Q(**{prefix + key: value for key, value in kwargs.items()})

    conds: list[Q | Exists] = [q(marketing_blocked=False)]
    c = criteria
    if c.statuses:
        conds.append(q(status__in=list(c.statuses)))
    if c.countries:
        conds.append(q(country__in=list(c.countries)))
    if c.industries:
        classes = list(c.nace_classes)
        if c.industry_scope == "primary":
            conds.append(q(nace_primary__in=classes))
        else:
            conds.append(
                Exists(
                    CompanyIndustry.objects.filter(
                        company_id=OuterRef(company_ref), nace_class__in=classes
                    )
                )
            )
    if c.regions:
        conds.append(q(region__in=list(c.regions)))
    if c.municipalities:
        conds.append(q(municipality__in=list(c.municipalities)))
    if c.postcode_prefixes:
        compact = Upper(Replace(F(prefix + "postcode"), Value(" "), Value("")))
        conds.append(reduce(or_, (Q(StartsWith(compact, Value(p))) for p in c.postcode_prefixes)))
    if c.employees_min is not None or c.employees_max is not None:
        size = Q()
        if c.employees_min is not None:
            size &= q(employees_max__gte=c.employees_min) | q(
                employees_max__isnull=True, employees_min__gte=c.employees_min
            )
        if c.employees_max is not None:
            size &= q(employees_min__lte=c.employees_max) | q(
                employees_min__isnull=True, employees_max__lte=c.employees_max
            )
        if c.include_unknown_employees:
            size |= q(employees_min__isnull=True, employees_max__isnull=True)
        conds.append(size)
    if c.size_bands:
        conds.append(q(size_band__in=list(c.size_bands)))
    earliest, latest = c.incorporation_window(today=today)
    if earliest:
        conds.append(q(incorporated_on__gte=earliest))
    if latest:
        conds.append(q(incorporated_on__lte=latest))
    if c.legal_forms:
        conds.append(q(legal_form__in=list(c.legal_forms)))
    if c.name_keywords:
        conds.append(reduce(or_, (q(name__icontains=k) for k in c.name_keywords)))
    return conds


def company_exclusions(
    *, organization: Organization, prefix: str, company_ref: str
) -> list[Expression]:
    """NOT EXISTS conditions that drop a whole company for this organisation.

    Name entries are resolved to company ids inside the subquery (through the lp_name_key
    expression index), so the anti-join compares ids and never computes a name key for every
    company of a broad segment. Registry ids and domains compare directly (cheap per row).
    """
    blocks = BlockEntry.objects.for_org(organization)
    return [
        ~Exists(
            blocks.filter(
                kind=BlockKind.COMPANY,
                value=Concat(
                    OuterRef(prefix + "country"), Value(":"), OuterRef(prefix + "registry_id")
                ),
            )
        ),
        ~Exists(blocks.filter(kind=BlockKind.DOMAIN, value=OuterRef(prefix + "website_domain"))),
        ~Exists(blocks.filter(kind=BlockKind.DOMAIN, value=OuterRef(prefix + "email_domain"))),
        ~Exists(
            Company.objects.annotate(name_key=_NameKey("name")).filter(
                pk=OuterRef(company_ref),
                name_key__in=blocks.filter(kind=BlockKind.COMPANY_NAME).values("value"),
            )
        ),
        ~Exists(
            DeliveryRecord.objects.for_org(organization).filter(company_id=OuterRef(company_ref))
        ),
    ]


def person_exclusions(*, organization: Organization) -> list[Expression]:
    """NOT EXISTS conditions on a Role row's person."""
    blocks = BlockEntry.objects.for_org(organization)
    # Uncorrelated IN: planned as a join (a correlated one would be a SubPlan per contact).
    # E-mails and E.164 phones cannot collide, so the kinds need not be paired.
    # person__isnull=False lets the planner use the partial contact-point indexes (migration
    # blocklists 0003): the few blocked/suppressed identifiers are looked up, not every contact.
    blocked_contact = ContactPoint.objects.filter(
        person__isnull=False,
        person_id=OuterRef("person_id"),
        normalized__in=blocks.filter(kind__in=[BlockKind.EMAIL, BlockKind.PHONE]).values("value"),
    )
    suppressed_contact = ContactPoint.objects.annotate(identifier=_Sha256Hex("normalized")).filter(
        person__isnull=False,
        person_id=OuterRef("person_id"),
        identifier__in=Suppression.objects.values("identifier_hash"),
    )
    return [
        ~Exists(blocks.filter(kind=BlockKind.PERSON, person_id=OuterRef("person_id"))),
        ~Exists(
            DeliveryRecord.objects.for_org(organization).filter(person_id=OuterRef("person_id"))
        ),
        ~Exists(blocked_contact),
        ~Exists(suppressed_contact),
    ]


def role_priority(roles: tuple[str, ...]) -> Case:
    return Case(
        *(When(kind=kind, then=Value(rank)) for rank, kind in enumerate(roles)),
        default=Value(len(roles)),
        output_field=IntegerField(),
    )


def candidate_roles(
    *, organization: Organization, criteria: SegmentCriteria, today: dt.date
) -> QuerySet[Role]:
    """Every wanted current role at a matching company whose person is not excluded."""
    return Role.objects.filter(
        *company_filters(
            criteria=criteria, prefix="company__", company_ref="company_id", today=today
        ),
        *company_exclusions(
            organization=organization, prefix="company__", company_ref="company_id"
        ),
        *person_exclusions(organization=organization),
        is_current=True,
        kind__in=list(criteria.roles),
    )


def candidate_queryset(
    *, organization: Organization, criteria: SegmentCriteria, today: dt.date
) -> QuerySet:
    """The candidate rows (company_id, person_id, kind), best role per company (PostgreSQL:
    DISTINCT ON). Other databases get the ordered rows and pick the first per company in Python."""
    return (
        candidate_roles(organization=organization, criteria=criteria, today=today)
        .order_by("company_id", role_priority(criteria.roles), "person_id")
        .values_list("company_id", "person_id", "kind")
    )


def matching_companies(
    *, organization: Organization, criteria: SegmentCriteria, today: dt.date
) -> QuerySet[Company]:
    """Companies matching the criteria, minus company-level exclusions (the preview's N)."""
    return Company.objects.filter(
        *company_filters(criteria=criteria, prefix="", company_ref="pk", today=today),
        *company_exclusions(organization=organization, prefix="", company_ref="pk"),
    )


def floor_queryset(*, criteria: SegmentCriteria, today: dt.date) -> QuerySet[Role]:
    """The same predicates without the anti-joins (the bench's floor)."""
    filters = company_filters(
        criteria=criteria, prefix="company__", company_ref="company_id", today=today
    )
    return Role.objects.filter(*filters, is_current=True, kind__in=list(criteria.roles))
