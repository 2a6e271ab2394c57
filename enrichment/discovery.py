"""Contact discovery for one decision-maker (DESIGN.md section 5), free of the database.

For each (company, person), stopping at the first verified result:
  1. the domain: registry website, else registry e-mail domain, else name-derived candidates
     confirmed by DNS and by the website naming the registry number;
  2. e-mail: an address of this person on the company website, else the domain's learned pattern,
     else every pattern in order; each verified (SMTP) until one is chargeable or the domain's
     answer makes further guesses pointless (catch-all, unverifiable provider, dead DNS...);
  3. phone: the registry number, then the website's numbers, validated for the company's country.
`services.decision_maker_contacts_find` loads the rows, runs `contacts_find` and persists.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from enrichment.verification import verdicts as v
from enrichment.verification.candidates import email_candidates, pattern_infer
from enrichment.verification.config import VerificationConfig
from enrichment.verification.discovery import Discovery, WebPage
from enrichment.verification.engine import Verifier
from enrichment.verification.phone import phone_verify

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
    def __init__(self, config: VerificationConfig, verifier: Verifier | None = None) -> None:
        self.config = config
        self.verifier = verifier or Verifier(config)
        self.discovery = Discovery(config, self.verifier.dns)
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

    async def _page(self, domain: str) -> WebPage | None:
        return await self._pages.get(domain, lambda: self.discovery.website_fetch(domain))

    async def find(
        self, company: CompanyFacts, person: PersonFacts, known: DomainFacts | None = None
    ) -> CandidateResult:
        result = CandidateResult(company_id=company.id, person_id=person.id)
        domain, source, evidence = await self._domain_for(company)
        result.domain, result.domain_source = domain, source
        result.discovery = evidence or None
        page = await self._page(domain) if domain else None
        if domain:
            await self._emails_try(result, domain, person, page, known)
        if result.verified:
            return result
        await self._phones_try(result, company, page)
        return result

    async def _emails_try(
        self,
        result: CandidateResult,
        domain: str,
        person: PersonFacts,
        page: WebPage | None,
        known: DomainFacts | None,
    ) -> None:
        first, last = person.first_name, person.last_name
        ordered: list[tuple[str, str]] = []  # (address, origin)
        pattern = known.pattern if known else None
        for email in page.emails if page else []:
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

    async def _phones_try(
        self, result: CandidateResult, company: CompanyFacts, page: WebPage | None
    ) -> None:
        numbers = [(company.phone, "registry")] if company.phone else []
        numbers += [(p, "website") for p in (page.phones if page else [])]
        for raw, origin in numbers:
            verdict = phone_verify(raw, country=company.country or None)
            attempt = Attempt("phone", raw, origin, verdict)
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
        finder.verifier.close()
