"""Contact discovery for one decision-maker (DESIGN.md section 5), free of the database.

For each (company, person), stopping at the first verified result:
  1. the domain: registry website, else registry e-mail domain, else name-derived candidates
     confirmed by DNS and by the website naming the registry number;
  2. e-mail: an address of this person on the company website, else the domain's learned pattern,
     else every pattern in order; each verified (SMTP) until one is chargeable or the domain's
     answer makes further guesses pointless (catch-all, unverifiable provider, dead DNS...);
  3. phone: a number the company's website lists next to the person's name, validated for the
     company's country. Only such a number is the person's (attribution "person"); the registry
     phone and the site's other numbers are the company's (switchboard) and never chargeable, and
     so is a number equal to the registry phone or listed for someone else too, even when a page
     prints it next to the person.
Company-level contacts found on the way (registry phone, switchboard, info@/post@) are reported
as `company_contacts`: shown on the lead as company data, never charged.
`services.decision_maker_contacts_find` loads the rows, runs `contacts_find` and persists.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from enrichment.people import officer_on_site, site_people
from enrichment.verification import verdicts as v
from enrichment.verification.candidates import email_candidates, name_fold, pattern_infer
from enrichment.verification.config import VerificationConfig
from enrichment.verification.discovery import Discovery, SiteVisit, WebPage
from enrichment.verification.engine import Verifier
from enrichment.verification.lists import is_role_account
from enrichment.verification.phone import phone_verify
from enrichment.web import WebConfig

T = TypeVar("T")

# Reasons that hold for the whole domain: trying another local part cannot change the answer.
DOMAIN_WIDE_REASONS = frozenset(
    {
        v.NXDOMAIN,
        v.NULL_MX,
        v.NO_MX,
        v.DNS_ERROR,
        v.PROVIDER_UNVERIFIABLE,
        v.SMTP_TIMEOUT,
        v.SMTP_BLOCKED,
        v.CATCH_ALL,
    }
)


@dataclass(frozen=True)
class CompanyFacts:
    id: int
    name: str
    country: str
    registry_id: str
    website_domain: str = ""
    email_domain: str = ""
    phone: str = ""


@dataclass(frozen=True)
class PersonFacts:
    id: int
    first_name: str
    last_name: str


@dataclass(frozen=True)
class DomainFacts:
    pattern: str | None = None


@dataclass
class Attempt:
    """One contact we checked; `origin` is a ContactOrigin value."""

    kind: str  # email | phone
    value: str
    origin: str
    verdict: v.EmailVerdict | v.PhoneVerdict


@dataclass
class CandidateResult:
    company_id: int
    person_id: int
    domain: str | None = None
    domain_source: str | None = None  # registry_website | registry_email | discovered
    discovery: dict[str, Any] | None = None
    attempts: list[Attempt] = field(default_factory=list)
    chosen: Attempt | None = None  # the verified contact, else the most informative attempt
    learned_pattern: str | None = None
    # Company-level contacts seen (never charged): {"kind", "value", "label", "source"}, label
    # "registry_phone" | "switchboard" | "general_email".
    company_contacts: list[dict[str, str]] = field(default_factory=list)
    # The company's site: {"state": ok | no_site | unreachable, "reason", "pages": [log lines]}.
    site: dict[str, Any] | None = None
    # How the site names the person (enrichment.people.Mention as a dict), if it does.
    site_person: dict[str, Any] | None = None

    @property
    def verified(self) -> bool:
        return self.chosen is not None and self.chosen.verdict.is_chargeable


def domain_normalize(value: str) -> str:
    """'https://www.Nordlys.no/kontakt' -> 'nordlys.no'; 'post@nordlys.no' -> 'nordlys.no'."""
    value = (value or "").strip().lower()
    value = value.rpartition("@")[2]
    value = re.sub(r"^[a-z][a-z0-9+.\-]*://", "", value)
    value = value.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0].rstrip(".")
    return value.removeprefix("www.")


@dataclass(frozen=True)
class PhoneListing:
    """One phone number printed on a page, with the plain text of the block around it and the
    page's URL."""

    raw: str
    block: str
    url: str = ""


def page_phone_listings(pages: Sequence[WebPage]) -> list[PhoneListing]:
    """Every phone number of the pages with its block's text (tel: links, else +-numbers in
    text): a number is "next to" a name when both sit in one list item, paragraph, table row or
    division, as contact and team pages print "Kari Nordmann, CEO, +47 912 34 567"."""
    return [
        PhoneListing(raw=n, block=b.text, url=page.url)
        for page in pages
        for b in page.blocks
        for n in b.phones
    ]


def block_names_person(block: str, *, first: str, last: str) -> bool:
    """The block names the person: their first and last name as whole words (letters folded)."""
    words = set(name_fold(block).replace("-", " ").split())
    firsts = name_fold(first).replace("-", " ").split()
    lasts = name_fold(last).replace("-", " ").split()
    return bool(firsts and lasts) and firsts[0] in words and all(w in words for w in lasts)


# Words a general contact line carries beside its number ("Tel.", "Sentralbord", "Växel").
_GENERAL_WORDS = frozenset(
    {"tel", "tlf", "telefon", "phone", "telephone", "switchboard", "sentralbord", "vaxel",
     "vxl", "kontor", "office", "main", "call", "us", "ring", "oss", "mobil", "mobile"}
)  # fmt: skip


def block_is_general(block: str) -> bool:
    """The block holds a number and no name: a line of the company's general contact list."""
    words = re.findall(r"[a-z]+", name_fold(block))
    return all(w in _GENERAL_WORDS for w in words)


@dataclass(frozen=True)
class PhoneCandidate:
    raw: str
    origin: str  # ContactOrigin value
    attribution: str
    source: str  # page URL or "registry"
    listed_with: str | None = None


def phone_candidates(
    *, company: CompanyFacts, person: PersonFacts, pages: Sequence[WebPage]
) -> list[PhoneCandidate]:
    """The numbers of a company and whose each is: person-attributed ones first.

    A number is the person's only when a block of the company's page names the person next to
    it, no other block (the general contact list, another person) lists it too, and it is not
    the company's registry phone. The registry phone and numbers of the general contact list
    are the company's. A number printed only next to someone else is theirs: left out."""
    country = company.country or None

    def key(raw: str) -> str:
        return phone_verify(raw, country=country).e164 or re.sub(r"[^\d+]", "", raw)

    registry = key(company.phone) if company.phone else None
    personal: list[PhoneCandidate] = []
    shared: list[PhoneCandidate] = []
    if company.phone:
        shared.append(PhoneCandidate(company.phone, "registry", v.ATTRIBUTION_COMPANY, "registry"))
    if pages:
        listings = page_phone_listings(pages)
        named: dict[str, bool] = {}  # number -> every block listing it names the person
        general: dict[str, bool] = {}  # number -> some block lists it without a name
        first_raw: dict[str, str] = {}
        source: dict[str, str] = {}  # number -> the first page naming the person next to it
        for listing in listings:
            k = key(listing.raw)
            first_raw.setdefault(k, listing.raw)
            names = block_names_person(
                listing.block, first=person.first_name, last=person.last_name
            )
            named[k] = named.get(k, True) and names
            general[k] = general.get(k, False) or block_is_general(listing.block)
            if names:
                source.setdefault(k, listing.url)
            source.setdefault("company:" + k, listing.url)
        for k, raw in first_raw.items():
            if k == registry or not (named[k] or general[k]):
                continue
            if named[k]:
                personal.append(
                    PhoneCandidate(
                        raw,
                        "website",
                        v.ATTRIBUTION_PERSON,
                        source[k],
                        f"{person.first_name} {person.last_name}",
                    )
                )
            else:
                shared.append(
                    PhoneCandidate(raw, "website", v.ATTRIBUTION_COMPANY, source["company:" + k])
                )
    return personal + shared


def company_contacts_of(
    *,
    company: CompanyFacts,
    domain: str | None,
    pages: Sequence[WebPage],
    phones: list[PhoneCandidate],
) -> list[dict[str, str]]:
    """The company-level contacts to show as company data: registry phone, the site's other
    numbers (switchboard) and its role addresses (info@, post@)."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for c in phones:
        if c.attribution != v.ATTRIBUTION_COMPANY:
            continue
        verdict = phone_verify(c.raw, country=company.country or None)
        value = verdict.e164 or c.raw
        if verdict.status == v.VALID and value not in seen:
            seen.add(value)
            label = "registry_phone" if c.origin == "registry" else "switchboard"
            out.append({"kind": "phone", "value": value, "label": label, "source": c.source})
    for page in pages:
        for email in page.emails:
            local, _, email_domain = email.rpartition("@")
            if email_domain == domain and is_role_account(local) and email not in seen:
                seen.add(email)
                out.append(
                    {"kind": "email", "value": email, "label": "general_email", "source": page.url}
                )
    return out


class _Memo:
    """Run each keyed coroutine once; concurrent callers share the result."""

    def __init__(self) -> None:
        self._futures: dict[Any, asyncio.Future] = {}

    async def get(self, key: Any, make: Callable[[], Awaitable[T]]) -> T:
        fut = self._futures.get(key)
        if fut is None:
            fut = self._futures[key] = asyncio.ensure_future(make())
        return await asyncio.shield(fut)


class ContactFinder:
    def __init__(
        self,
        config: VerificationConfig,
        verifier: Verifier | None = None,
        web: WebConfig | None = None,
    ) -> None:
        self.config = config
        self.verifier = verifier or Verifier(config)
        self.discovery = Discovery(config, self.verifier.dns, web)
        self._domains = _Memo()
        self._pages = _Memo()
        self._emails = _Memo()

    async def _verify(self, address: str) -> v.EmailVerdict:
        # The same address for two roles of one person is verified once.
        return await self._emails.get(address.lower(), lambda: self.verifier.verify_email(address))

    async def _domain_for(self, company: CompanyFacts) -> tuple[str | None, str | None, dict]:
        if company.website_domain and domain_normalize(company.website_domain):
            return domain_normalize(company.website_domain), "registry_website", {}
        if company.email_domain and domain_normalize(company.email_domain):
            return domain_normalize(company.email_domain), "registry_email", {}
        found, evidence = await self._domains.get(
            company.id,
            lambda: self.discovery.domain_discover(
                name=company.name, country=company.country, registry_id=company.registry_id
            ),
        )
        return found, ("discovered" if found else None), evidence

    async def _site(self, domain: str) -> SiteVisit:
        return await self._pages.get(domain, lambda: self.discovery.site_visit(domain))

    async def find(
        self, company: CompanyFacts, person: PersonFacts, known: DomainFacts | None = None
    ) -> CandidateResult:
        result = CandidateResult(company_id=company.id, person_id=person.id)
        domain, source, evidence = await self._domain_for(company)
        result.domain, result.domain_source = domain, source
        result.discovery = evidence or None
        visit = await self._site(domain) if domain else None
        pages = visit.pages if visit is not None else []
        if visit is not None:
            result.site = {"state": visit.state, "reason": visit.reason, "pages": visit.log}
            mention = officer_on_site(
                site_people(pages), first=person.first_name, last=person.last_name
            )
            if mention is not None:
                result.site_person = mention.as_dict()
        phones = phone_candidates(company=company, person=person, pages=pages)
        result.company_contacts = company_contacts_of(
            company=company, domain=domain, pages=pages, phones=phones
        )
        if domain:
            await self._emails_try(result, domain, person, pages, known)
        if result.verified:
            return result
        self._phones_try(result, company, phones)
        return result

    async def _emails_try(
        self,
        result: CandidateResult,
        domain: str,
        person: PersonFacts,
        pages: Sequence[WebPage],
        known: DomainFacts | None,
    ) -> None:
        first, last = person.first_name, person.last_name
        ordered: list[tuple[str, str]] = []  # (address, origin)
        pattern = known.pattern if known else None
        # An address printed in the person's own block of a team page is theirs, whatever its
        # local part ("kn@", "kari@"), unless it is a role account.
        for email in (result.site_person or {}).get("emails") or ():
            local, _, email_domain = email.rpartition("@")
            if email_domain == domain and not is_role_account(local):
                ordered.append((email, "website"))
        for email in dict.fromkeys(e for page in pages for e in page.emails):
            local, _, email_domain = email.rpartition("@")
            if email_domain == domain and pattern_infer(first=first, last=last, local_part=local):
                ordered.append((email, "website"))
        if pattern:
            ordered += [
                (a, "pattern")
                for a in email_candidates(first=first, last=last, domain=domain, pattern=pattern)
            ]
        ordered += [
            (a, "candidate") for a in email_candidates(first=first, last=last, domain=domain)
        ]
        seen: set[str] = set()
        for address, origin in ordered:
            if address in seen:
                continue
            seen.add(address)
            verdict = await self._verify(address)
            attempt = Attempt("email", address, origin, verdict)
            result.attempts.append(attempt)
            if verdict.is_chargeable:
                result.chosen = attempt
                local = address.rpartition("@")[0]
                result.learned_pattern = pattern_infer(first=first, last=last, local_part=local)
                return
            if result.chosen is None or _rank(verdict) > _rank(result.chosen.verdict):
                result.chosen = attempt
            if verdict.reason in DOMAIN_WIDE_REASONS or verdict.status == v.ACCEPT_ALL:
                return

    def _phones_try(
        self, result: CandidateResult, company: CompanyFacts, phones: list[PhoneCandidate]
    ) -> None:
        for c in phones:
            verdict = phone_verify(
                c.raw,
                country=company.country or None,
                attribution=c.attribution,
                attribution_source=c.source,
                listed_with=c.listed_with,
            )
            attempt = Attempt("phone", c.raw, c.origin, verdict)
            result.attempts.append(attempt)
            if verdict.is_chargeable:
                result.chosen = attempt
                return
            if result.chosen is None:
                result.chosen = attempt


def _rank(verdict: v.EmailVerdict | v.PhoneVerdict) -> int:
    """How much a non-chargeable attempt tells the customer (best one is reported)."""
    return {v.VALID: 3, v.ACCEPT_ALL: 2, v.UNKNOWN: 1}.get(verdict.status, 0)


async def contacts_find(
    *,
    items: Sequence[tuple[CompanyFacts, PersonFacts, DomainFacts | None]],
    config: VerificationConfig,
    verifier: Verifier | None = None,
) -> list[CandidateResult]:
    """All candidates concurrently; shared DNS, catch-all and website work per run."""
    finder = ContactFinder(config, verifier)
    try:
        return list(await asyncio.gather(*(finder.find(c, p, d) for c, p, d in items)))
    finally:
        await finder.discovery.aclose()
        finder.verifier.close()
