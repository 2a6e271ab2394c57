"""The matching query: a segment's criteria compiled to one SQL statement over the directory
(with countries in the criteria, after one small read of their company-id range that bounds it).

Contract:
- Rows are (company, person, role kind, contact rank): for every company that matches the
  criteria, the current role whose kind comes first in the segment's wanted roles (ties: lowest
  person id), ordered by company id. Deterministic: same data, same rows, same order. The contact
  rank says how likely the company's registry entry leads to a verified contact (0: a website or
  e-mail domain, 1: a phone number, 2: neither, which needs domain discovery and rarely
  verifies); the nightly search tries the likelier ones of a page first.
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
from collections.abc import Sequence
from functools import reduce
from operator import or_

from django.db.models import (
    Case,
    Exists,
    Expression,
    F,
    Func,
    IntegerField,
    Max,
    Min,
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

# Registry data that makes a verified contact likely; see contact_rank().
RANK_DOMAIN, RANK_PHONE, RANK_NONE = 0, 1, 2


class _Sha256Hex(Func):
    function = "lp_sha256_hex"
    output_field = Company._meta.get_field("name")


class _NameKey(Func):
    function = "lp_name_key"
    output_field = Company._meta.get_field("name")


def in_id_ranges(field: str, ranges: Sequence[tuple[int, int]]) -> Q:
    """`field` lies in one of the inclusive ranges (OR'ed: one index range scan each)."""
    return reduce(or_, (Q(**{f"{field}__gte": lo, f"{field}__lte": hi}) for lo, hi in ranges))


def company_filters(
    *,
    criteria: SegmentCriteria,
    prefix: str,
    company_ref: str,
    today: dt.date,
    id_bounds: tuple[int, int] | None = None,
    id_ranges: Sequence[tuple[int, int]] | None = None,
) -> list[Q | Exists]:
    """The criteria as WHERE conditions on a company reached through `prefix` ("" or "company__").

    `company_ref` names the company's id from the outer query ("pk" or "company_id"), for the
    industry semi-join. `id_bounds` (country_id_bounds) repeats the countries' id range inside
    that semi-join, so its index is read from the first company of the country, too.
    `id_ranges` (the preview's sample, segments/counting.py) limits the companies to those id
    ranges, in the semi-join as well: it then reads the sample's industries, not every company
    of the criteria's industries.
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
            industries = CompanyIndustry.objects.filter(
                company_id=OuterRef(company_ref), nace_class__in=classes
            )
            if id_bounds is not None:
                industries = industries.filter(
                    company_id__gte=id_bounds[0], company_id__lte=id_bounds[1]
                )
            if id_ranges:
                industries = industries.filter(in_id_ranges("company_id", id_ranges))
            conds.append(Exists(industries))
    if id_ranges:
        conds.append(in_id_ranges(prefix + "id", id_ranges))
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


def company_blocks(*, organization: Organization, prefix: str, company_ref: str) -> list[Exists]:
    """EXISTS conditions: the company is on the organisation's block list.

    Name entries are resolved to company ids inside the subquery (through the lp_name_key
    expression index), so the anti-join compares ids and never computes a name key for every
    company of a broad segment. Registry ids and domains compare directly (cheap per row).
    """
    blocks = BlockEntry.objects.for_org(organization)
    return [
        Exists(
            blocks.filter(
                kind=BlockKind.COMPANY,
                value=Concat(
                    OuterRef(prefix + "country"), Value(":"), OuterRef(prefix + "registry_id")
                ),
            )
        ),
        Exists(blocks.filter(kind=BlockKind.DOMAIN, value=OuterRef(prefix + "website_domain"))),
        Exists(blocks.filter(kind=BlockKind.DOMAIN, value=OuterRef(prefix + "email_domain"))),
        Exists(
            Company.objects.annotate(name_key=_NameKey("name")).filter(
                pk=OuterRef(company_ref),
                name_key__in=blocks.filter(kind=BlockKind.COMPANY_NAME).values("value"),
            )
        ),
    ]


def company_delivered(*, organization: Organization, company_ref: str) -> Exists:
    """EXISTS: the organisation already received a lead from this company. Every such company
    has one record with company_first (its first), so the lookup is one probe of the unique
    index delivery_record_company_once."""
    return Exists(
        DeliveryRecord.objects.for_org(organization).filter(
            company_id=OuterRef(company_ref), company_first=True
        )
    )


def company_exclusions(
    *, organization: Organization, prefix: str, company_ref: str
) -> list[Expression]:
    """NOT EXISTS conditions that drop a whole company for this organisation."""
    return [
        *(
            ~block
            for block in company_blocks(
                organization=organization, prefix=prefix, company_ref=company_ref
            )
        ),
        ~company_delivered(organization=organization, company_ref=company_ref),
    ]


def person_blocks(*, organization: Organization) -> list[Exists]:
    """EXISTS conditions on a Role row's person: blocked by the organisation (the person, or a
    known e-mail/phone of theirs)."""
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
    return [
        Exists(blocks.filter(kind=BlockKind.PERSON, person_id=OuterRef("person_id"))),
        Exists(blocked_contact),
    ]


def person_suppressed() -> Exists:
    """EXISTS: a known e-mail/phone of the Role row's person is on the global suppression list."""
    return Exists(
        ContactPoint.objects.annotate(identifier=_Sha256Hex("normalized")).filter(
            person__isnull=False,
            person_id=OuterRef("person_id"),
            identifier__in=Suppression.objects.values("identifier_hash"),
        )
    )


def person_delivered(*, organization: Organization) -> Exists:
    """EXISTS: the organisation already received this person (at any company)."""
    return Exists(
        DeliveryRecord.objects.for_org(organization).filter(person_id=OuterRef("person_id"))
    )


def person_exclusions(*, organization: Organization, suppression: bool = True) -> list[Expression]:
    """NOT EXISTS conditions on a Role row's person. `suppression=False` leaves out the global
    suppression list, for a caller that applies it to the few people it fetched
    (segments/counting.py: the anti-join hashes the whole list, whatever the rows)."""
    person_block, contact_block = person_blocks(organization=organization)
    return [
        ~person_block,
        ~person_delivered(organization=organization),
        ~contact_block,
        *([~person_suppressed()] if suppression else []),
    ]


def role_priority(roles: tuple[str, ...]) -> Case:
    return Case(
        *(When(kind=kind, then=Value(rank)) for rank, kind in enumerate(roles)),
        default=Value(len(roles)),
        output_field=IntegerField(),
    )


def contact_rank(prefix: str = "company__") -> Case:
    """How likely the registry entry leads to a verified contact (lower first)."""

    def filled(field: str) -> Q:
        return ~Q(**{prefix + field: ""})

    return Case(
        When(filled("website_domain") | filled("email_domain"), then=Value(RANK_DOMAIN)),
        When(filled("phone"), then=Value(RANK_PHONE)),
        default=Value(RANK_NONE),
        output_field=IntegerField(),
    )


def country_id_bounds(countries: Sequence[str]) -> tuple[int, int] | None:
    """(lowest, highest) id of the companies in these countries; None when there are none.

    Two probes of the (country, id) index per country. A company imported after this read and
    before the query it bounds waits for the next page or night (as one imported after the
    query would)."""
    lows, highs = [], []
    for country in countries:
        bounds = Company.objects.filter(country=country).aggregate(lo=Min("id"), hi=Max("id"))
        if bounds["lo"] is not None:
            lows.append(bounds["lo"])
            highs.append(bounds["hi"])
    return (min(lows), max(highs)) if lows else None


def candidate_roles(
    *,
    organization: Organization,
    criteria: SegmentCriteria,
    today: dt.date,
    id_bounds: tuple[int, int] | None = None,
) -> QuerySet[Role]:
    """Every wanted current role at a matching company whose person is not excluded.

    `id_bounds` (the criteria's countries' company-id range, country_id_bounds) changes no row:
    it lets the role index be read from the countries' first company instead of from the
    directory's (a country imported after another one would otherwise be reached only after
    walking every role of the first)."""
    return wanted_roles(
        criteria=criteria,
        today=today,
        id_bounds=id_bounds,
        exclusions=[
            *company_exclusions(
                organization=organization, prefix="company__", company_ref="company_id"
            ),
            *person_exclusions(organization=organization),
        ],
    )


def wanted_roles(
    *,
    criteria: SegmentCriteria,
    today: dt.date,
    id_bounds: tuple[int, int] | None = None,
    exclusions: Sequence[Expression] = (),
    id_ranges: Sequence[tuple[int, int]] | None = None,
) -> QuerySet[Role]:
    """The wanted current roles at companies matching the criteria, with `exclusions` (the
    organisation's anti-joins) in the same WHERE; `id_bounds` as in candidate_roles, `id_ranges`
    as in company_filters (on the role's company id, so the role index reads those ranges)."""
    roles = Role.objects.filter(
        *company_filters(
            criteria=criteria,
            prefix="company__",
            company_ref="company_id",
            today=today,
            id_bounds=id_bounds,
            id_ranges=id_ranges,
        ),
        *exclusions,
        is_current=True,
        kind__in=list(criteria.roles),
    )
    if id_bounds is not None:
        roles = roles.filter(company_id__gte=id_bounds[0], company_id__lte=id_bounds[1])
    if id_ranges:
        roles = roles.filter(in_id_ranges("company_id", id_ranges))
    return roles


def candidate_queryset(
    *, organization: Organization, criteria: SegmentCriteria, today: dt.date
) -> QuerySet:
    """The candidate rows (company_id, person_id, kind, contact_rank), best role per company
    (PostgreSQL: DISTINCT ON). Other databases get the ordered rows and pick the first per
    company in Python. With countries in the criteria, their company-id range bounds the scan
    (country_id_bounds: one small read before the query)."""
    id_bounds = country_id_bounds(criteria.countries) if criteria.countries else None
    rows = (
        candidate_roles(
            organization=organization, criteria=criteria, today=today, id_bounds=id_bounds
        )
        .order_by("company_id", role_priority(criteria.roles), "person_id")
        .annotate(contact_rank=contact_rank())
        .values_list("company_id", "person_id", "kind", "contact_rank")
    )
    # No company in the criteria's countries: nothing matches.
    return rows.none() if criteria.countries and id_bounds is None else rows


def candidate_skips(
    *,
    organization: Organization,
    criteria: SegmentCriteria,
    today: dt.date,
    through: int | None,
    ignore: frozenset[tuple[int, int]] | set[tuple[int, int]] = frozenset(),
) -> dict[str, int]:
    """Decision-makers the matching query passed over, by reason: {"blocked", "suppressed",
    "delivered"} (the first that applies, in that order).

    Counted among the wanted current roles (distinct people) at companies matching the criteria
    with an id up to `through` (the part of the candidate order a run went through), or in the
    whole segment for None. `ignore` holds (company id, person id) pairs whose company and person
    are not counted (a run's own candidates: a lead the run delivered is no skip, nor is the
    chair of a company whose CEO it delivered). Driven from the exclusion side, which is small (an organisation's
    block list and delivery record, the suppression list): a few index-driven statements, never a
    scan of the segment. The same rules as company_exclusions() and person_exclusions(), resolved
    to ids first (tests/segments/test_matching.py holds both to the same answer).
    """
    blocks = BlockEntry.objects.for_org(organization)
    entries: dict[str, list[str]] = {}
    for kind, value in blocks.exclude(kind=BlockKind.PERSON).values_list("kind", "value"):
        entries.setdefault(kind, []).append(value)
    company_keys: list[Q] = []
    for value in entries.get(BlockKind.COMPANY, []):
        country, _, registry_id = value.partition(":")  # "GB:00000777"; a country has no ":"
        company_keys.append(Q(country=country, registry_id=registry_id))
    if entries.get(BlockKind.DOMAIN):
        company_keys.append(Q(website_domain__in=entries[BlockKind.DOMAIN]))
        company_keys.append(Q(email_domain__in=entries[BlockKind.DOMAIN]))
    blocked_companies: set[int] = set()
    if company_keys:
        blocked_companies |= set(
            Company.objects.filter(reduce(or_, company_keys)).values_list("id", flat=True)
        )
    if entries.get(BlockKind.COMPANY_NAME):
        blocked_companies |= set(
            Company.objects.annotate(name_key=_NameKey("name"))
            .filter(name_key__in=entries[BlockKind.COMPANY_NAME])
            .values_list("id", flat=True)
        )
    blocked_people = set(
        blocks.filter(kind=BlockKind.PERSON, person__isnull=False).values_list(
            "person_id", flat=True
        )
    )
    contact_values = entries.get(BlockKind.EMAIL, []) + entries.get(BlockKind.PHONE, [])
    if contact_values:
        blocked_people |= set(
            ContactPoint.objects.filter(
                person__isnull=False, normalized__in=contact_values
            ).values_list("person_id", flat=True)
        )
    suppressed_people = set(
        ContactPoint.objects.annotate(identifier=_Sha256Hex("normalized"))
        .filter(person__isnull=False, identifier__in=Suppression.objects.values("identifier_hash"))
        .values_list("person_id", flat=True)
    )
    deliveries = DeliveryRecord.objects.for_org(organization)
    counts = {"blocked": 0, "suppressed": 0, "delivered": 0}
    id_bounds = country_id_bounds(criteria.countries) if criteria.countries else None
    if criteria.countries and id_bounds is None:
        return counts  # no company in the criteria's countries
    roles = wanted_roles(criteria=criteria, today=today, id_bounds=id_bounds)
    if through is not None:
        roles = roles.filter(company_id__lte=through)
    excluded: set[tuple[int, int]] = set()
    # Each statement starts from one small set (IN a subquery or a list: a semi-join driven by
    # it), so it reads the roles of those companies/people only.
    for condition in (
        Q(company_id__in=blocked_companies) if blocked_companies else None,
        Q(person_id__in=blocked_people | suppressed_people)
        if blocked_people or suppressed_people
        else None,
        Q(company_id__in=deliveries.values("company_id")),
        Q(person_id__in=deliveries.values("person_id")),
    ):
        if condition is not None:
            excluded |= set(roles.filter(condition).values_list("company_id", "person_id"))
    if not excluded:
        return counts
    delivered_companies = set(
        deliveries.filter(company_id__in={c for c, _ in excluded}).values_list(
            "company_id", flat=True
        )
    )
    delivered_people = set(
        deliveries.filter(person_id__in={p for _, p in excluded}).values_list(
            "person_id", flat=True
        )
    )
    reasons: dict[int, str] = {}
    order = {"blocked": 0, "suppressed": 1, "delivered": 2}
    ignore_companies = {c for c, _ in ignore}
    ignore_people = {p for _, p in ignore}
    for company_id, person_id in excluded:
        if company_id in ignore_companies or person_id in ignore_people:
            continue
        if company_id in blocked_companies or person_id in blocked_people:
            reason = "blocked"
        elif person_id in suppressed_people:
            reason = "suppressed"
        elif company_id in delivered_companies or person_id in delivered_people:
            reason = "delivered"
        else:
            continue
        if person_id not in reasons or order[reason] < order[reasons[person_id]]:
            reasons[person_id] = reason
    for reason in reasons.values():
        counts[reason] += 1
    return counts


def matching_companies(
    *,
    organization: Organization,
    criteria: SegmentCriteria,
    today: dt.date,
    id_ranges: Sequence[tuple[int, int]] | None = None,
) -> QuerySet[Company]:
    """Companies matching the criteria, minus company-level exclusions (the preview's N);
    `id_ranges` as in company_filters."""
    return Company.objects.filter(
        *company_filters(
            criteria=criteria, prefix="", company_ref="pk", today=today, id_ranges=id_ranges
        ),
        *company_exclusions(organization=organization, prefix="", company_ref="pk"),
    )


def floor_queryset(*, criteria: SegmentCriteria, today: dt.date) -> QuerySet[Role]:
    """The same predicates without the anti-joins (the bench's floor)."""
    return wanted_roles(criteria=criteria, today=today)
