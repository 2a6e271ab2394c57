"""A small directory and its sandbox internet for nightly-search tests.

Company i gets the domain `<prefix>NNN.co.uk` and a CEO. Where `verifiable(i)` is true the domain's
mail server has the CEO's first.last mailbox (the engine verifies it); elsewhere only `post@`
exists, so the CEO's contact cannot be verified and must never be charged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from enrichment.models import Company, Person
from organizations.models import Organization
from sandbox.servers.worlds import FIRST, LAST, domain_entry
from segments.models import Segment
from segments.services import segment_activate, segment_create
from tests.factories import CompanyFactory, PersonFactory, RoleFactory


@dataclass
class World:
    prefix: str
    domains: list[dict] = field(default_factory=list)
    companies: list[Company] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    verifiable_people: set[int] = field(default_factory=set)


def world_build(
    *,
    prefix: str,
    size: int,
    verifiable: Callable[[int], bool] = lambda i: True,
    latency_ms: float = 0,
) -> World:
    world = World(prefix=prefix)
    for i in range(size):
        domain = f"{prefix}{i:03d}.co.uk"
        first = FIRST[i % len(FIRST)]
        last = LAST[(i // len(FIRST) + i) % len(LAST)]
        company = CompanyFactory(
            name=f"{prefix.title()} Trading {i:03d} Ltd",
            country="GB",
            status="active",
            nace_primary=6201,
            website_domain=domain,
        )
        person = PersonFactory(
            first_name=first.title(), last_name=last.title(), full_name=f"{first} {last}".title()
        )
        RoleFactory(company=company, person=person, kind="ceo")
        ok = verifiable(i)
        mailboxes = [f"{first}.{last}", "post"] if ok else ["post"]
        world.domains.append(
            domain_entry(domain, mailboxes=mailboxes, pattern="first.last", latency_ms=latency_ms)
        )
        world.companies.append(company)
        world.people.append(person)
        if ok:
            world.verifiable_people.add(person.id)
    return world


def segment_for(
    world: World,
    organization: Organization,
    *,
    nightly_cap: int = 25,
    delivery_mode: str | None = None,
    name: str | None = None,
) -> Segment:
    """An active segment matching exactly this world's companies (by name keyword)."""
    segment = segment_create(
        organization=organization,
        name=name or f"{organization.slug} {world.prefix}",
        criteria={"countries": ["GB"], "name_keywords": [world.prefix]},
        nightly_cap=nightly_cap,
        delivery_mode=delivery_mode,
    )
    return segment_activate(organization=organization, segment_id=segment.id)
