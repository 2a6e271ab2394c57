"""Read one company's site as the nightly search does and print what it found as one JSON
document: how support answers "why did this company give no lead?"."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from enrichment.discovery import (
    CompanyFacts,
    ContactFinder,
    PersonFacts,
    domain_normalize,
    phone_candidates,
)
from enrichment.models import Company, Role
from enrichment.people import mention_matches, site_people
from enrichment.verification import VerificationConfig, parse_hostport
from enrichment.verification.candidates import pattern_infer
from enrichment.verification.discovery import web_config_for
from enrichment.verification.lists import is_role_account

TLD_COUNTRY = {"no": "NO", "se": "SE", "uk": "GB", "dk": "DK", "fi": "FI", "de": "DE"}


def _company_for(domain: str) -> tuple[Company | None, list[tuple[str, str, str]]]:
    """The directory's company for the domain, if any, and its current officers
    (first, last, role kind)."""
    company = (
        Company.objects.filter(website_domain__iendswith=domain).order_by("id").first()
        or Company.objects.filter(email_domain__iexact=domain).order_by("id").first()
    )
    if company is None:
        return None, []
    roles = Role.objects.filter(company=company, is_current=True).select_related("person")
    return company, [(r.person.first_name, r.person.last_name, r.kind) for r in roles]


class Command(BaseCommand):
    help = (
        "Fetch a company's site as the nightly search would (HTTPS, redirects, robots.txt, "
        "contact/about/team pages) and print pages read, people found, contacts found and "
        "the verification verdicts as one JSON document."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--domain", required=True)
        parser.add_argument("--person", help='"First Last" to look for (default: the officers)')
        parser.add_argument("--role", default="ceo", help="role kind of --person (ceo, chair…)")
        parser.add_argument("--country", help="ISO 3166 alpha-2 (default: from the TLD)")
        parser.add_argument("--nameserver", help="HOST:PORT of the DNS server to ask")
        parser.add_argument("--smtp-port", type=int)
        parser.add_argument("--http-port", type=int)
        parser.add_argument("--https-port", type=int)
        parser.add_argument("--ca-file", help="PEM file of CAs to trust (a test CA)")

    def handle(self, *args, **opts) -> None:
        domain = domain_normalize(opts["domain"])
        if not domain or "." not in domain:
            raise CommandError("--domain: give a domain name such as nordlys.no")
        overrides: dict[str, Any] = {}
        if opts["nameserver"]:
            try:
                overrides["nameserver"] = parse_hostport(opts["nameserver"])
            except ValueError as exc:
                raise CommandError(f"--nameserver: {exc}") from exc
        if opts["smtp_port"]:
            overrides["smtp_port"] = opts["smtp_port"]
        if opts["http_port"]:
            overrides["http_port"] = opts["http_port"]
        config = VerificationConfig.from_settings(**overrides)
        web = web_config_for(config)
        if opts["https_port"]:
            web = replace(web, https_port=opts["https_port"])
        if opts["ca_file"]:
            web = replace(web, ca_file=opts["ca_file"])
        company, officers = _company_for(domain)
        country = (opts["country"] or (company.country if company else "")).upper()
        country = country or TLD_COUNTRY.get(domain.rsplit(".", 1)[-1], "")
        if opts["person"]:
            first, _, last = opts["person"].strip().rpartition(" ")
            if not first or not last:
                raise CommandError('--person: give "First Last"')
            officers = [(first, last, opts["role"])]
        facts = CompanyFacts(
            id=company.id if company else 0,
            name=company.name if company else domain,
            country=country,
            registry_id=company.registry_id if company else "",
            website_domain=domain,
            phone=company.phone if company else "",
        )
        report = asyncio.run(self._run(config, web, facts, officers))
        report["company"] = (
            {"id": company.id, "name": company.name, "registry_id": company.registry_id}
            if company
            else None
        )
        self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))

    async def _run(self, config, web, facts: CompanyFacts, officers) -> dict[str, Any]:
        finder = ContactFinder(config, web=web)
        try:
            visit = await finder.discovery.site_visit(facts.website_domain)
            mentions = site_people(visit.pages)
            people = []
            for m in mentions:
                matched = next(
                    (f"{f} {la}" for f, la, _ in officers if mention_matches(m, first=f, last=la)),
                    None,
                )
                people.append(
                    {"name": m.name, "title": m.title, "role_kind": m.kind, "page": m.page,
                     "confidence": m.confidence, "matched_officer": matched}
                )  # fmt: skip
            contacts: list[dict[str, Any]] = []
            verdicts: list[dict[str, Any]] = []
            for i, (first, last, kind) in enumerate(officers or [("", "", "")]):
                person = PersonFacts(id=i, first_name=first, last_name=last)
                contacts.extend(
                    {"value": c.raw, "kind": "phone", "attributed_to": c.listed_with
                     or "company", "source": c.source}
                    for c in phone_candidates(company=facts, person=person, pages=visit.pages)
                )  # fmt: skip
                if not first:
                    continue
                result = await finder.find(facts, person)
                verdicts.extend(
                    {"person": f"{first} {last}", "role": kind, "kind": a.kind,
                     "value": a.value, "origin": a.origin, **a.verdict.as_dict()}
                    for a in result.attempts
                )  # fmt: skip
            for page in visit.pages:
                for email in page.emails:
                    local = email.rpartition("@")[0]
                    owner = next(
                        (f"{f} {la}" for f, la, _ in officers
                         if f and pattern_infer(first=f, last=la, local_part=local)),
                        "company" if is_role_account(local) else None,
                    )  # fmt: skip
                    contacts.append(
                        {"value": email, "kind": "email", "attributed_to": owner,
                         "source": page.url}
                    )  # fmt: skip
            unique = list({json.dumps(c, sort_keys=True): c for c in contacts}.values())
            return {
                "domain": facts.website_domain,
                "site": {"state": visit.state, "reason": visit.reason},
                "pages": visit.log,
                "people": people,
                "contacts": unique,
                "verdicts": verdicts,
            }
        finally:
            await finder.discovery.aclose()
            finder.verifier.close()
