"""Domain discovery for companies without a website in the registry.

Candidates come from the company name (legal form stripped, letters folded) and the country's
usual TLDs. A candidate is confirmed only when DNS knows it AND its website names the company's
registry number: a look-alike domain owned by someone else never matches.
"""

from __future__ import annotations

import re
import threading
import time

from django.core.exceptions import ImproperlyConfigured

from enrichment.verification.candidates import name_fold
from enrichment.verification.config import VerificationConfig
from enrichment.verification.dns import DnsClient
from enrichment.web import SiteFetcher, SiteVisit, WebConfig, WebPage, page_parse
from enrichment.web.fetch import UNREACHABLE
from enrichment.web.parse import digits

__all__ = ["Discovery", "SiteVisit", "WebPage", "digits", "domain_candidates", "page_parse"]

LEGAL_FORMS = {
    "as", "asa", "ans", "da", "sa", "ab", "publ", "hb", "kb", "aps", "a/s", "is", "ivs", "oy",
    "oyj", "ay", "ky", "gmbh", "ag", "kg", "ohg", "ug", "ev", "ltd", "limited", "plc", "llp",
    "lp", "llc", "inc", "corp", "co", "company", "nuf", "ba", "bv", "nv", "srl", "spa",
    "sarl", "sas", "holding", "holdings", "group", "gruppen", "konsern",
}  # fmt: skip
COUNTRY_TLDS = {
    "NO": ("no", "com"),
    "SE": ("se", "com"),
    "DK": ("dk", "com"),
    "FI": ("fi", "com"),
    "GB": ("co.uk", "com", "uk"),
    "UK": ("co.uk", "com", "uk"),
    "DE": ("de", "com"),
    "NL": ("nl", "com"),
    "FR": ("fr", "com"),
    "US": ("com",),
}


def domain_candidates(*, name: str, country: str | None) -> list[str]:
    words = name_fold(name.replace("&", " og " if country == "NO" else " and ")).split()
    while words and words[-1].replace("/", "") in LEGAL_FORMS:
        words.pop()
    words = [w for w in words if w.strip("-")]
    if not words:
        return []
    stems: list[str] = []
    for stem in ("-".join(words), "".join(words), words[0]):
        stem = re.sub(r"-{2,}", "-", stem).strip("-")
        if stem and stem not in stems and len(stem) >= 2:
            stems.append(stem)
    tlds = COUNTRY_TLDS.get((country or "").upper(), ("com",))
    return [f"{s}.{t}" for s in stems for t in tlds]


PAGE_TTL = 300.0  # seconds, as long as the DNS answers that led to the page (dns.ROUTE_TTL)


class PageCache:
    """Site visits per (world, domain), kept PAGE_TTL seconds; thread-safe and process-wide like
    the DNS cache. Discovery asks for the same name-derived domains again and again (every company
    whose name starts with the same word); a site that names no registry number is kept as well,
    it answers "not this company" for the next one, and so is "no site" (the name has no address,
    no home page). An unreachable site (DNS failure, refused, TLS error, time-out) is never kept:
    it is not a fact about the company, and is tried again."""

    def __init__(self) -> None:
        self._pages: dict[tuple, tuple[SiteVisit, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> SiteVisit | None:
        with self._lock:
            hit = self._pages.get(key)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def put(self, key: tuple, visit: SiteVisit) -> None:
        if visit.state == UNREACHABLE:
            return
        with self._lock:
            if len(self._pages) >= 100_000:
                self._pages.clear()
            self._pages[key] = (visit, time.monotonic() + PAGE_TTL)

    def size(self) -> int:
        return len(self._pages)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


PROCESS_PAGE_CACHE = PageCache()


def web_config_for(config: VerificationConfig) -> WebConfig:
    """The crawler's settings for an engine configuration (its HTTP port and resolver)."""
    try:
        return WebConfig.from_settings(
            own_world=config.nameserver is not None,
            http_port=config.http_port,
            timeout=config.timeouts.http,
            page_deadline=config.timeouts.http * 1.5,
        )
    except ImproperlyConfigured:  # a bare script without Django settings: the defaults
        return WebConfig(
            http_port=config.http_port,
            delay=0.0 if config.nameserver else 1.0,
            timeout=config.timeouts.http,
            page_deadline=config.timeouts.http * 1.5,
        )


class Discovery:
    def __init__(
        self, config: VerificationConfig, dns_client: DnsClient, web: WebConfig | None = None
    ) -> None:
        self.config = config
        self.dns = dns_client
        self.web = web or web_config_for(config)
        self.fetcher = SiteFetcher(self.web, dns_client)
        self._visits: dict[str, SiteVisit] = {}

    async def aclose(self) -> None:
        await self.fetcher.aclose()

    async def site_visit(self, domain: str) -> SiteVisit:
        """The company's site: home page and contact/about/team pages, with the log. Kept per
        instance, and per process unless unreachable (PROCESS_PAGE_CACHE)."""
        if domain in self._visits:
            return self._visits[domain]
        key = (self.config.nameserver, self.web.http_port, self.web.https_port, domain)
        visit = PROCESS_PAGE_CACHE.get(key)
        if visit is None:
            visit = await self.fetcher.site_visit(domain)
            PROCESS_PAGE_CACHE.put(key, visit)
        self._visits[domain] = visit
        return visit

    async def website_fetch(self, domain: str) -> WebPage | None:
        """The domain's home page, or None (no site, or unreachable tonight)."""
        return (await self.site_visit(domain)).home

    async def domain_discover(
        self, *, name: str, country: str | None, registry_id: str
    ) -> tuple[str | None, dict]:
        """First name-derived domain whose website names the registry number."""
        tried: list[dict] = []
        for candidate in domain_candidates(name=name, country=country):
            visit = await self.site_visit(candidate)
            page = visit.home
            ok = page is not None and page.names_registry_id(registry_id)
            tried.append({"domain": candidate, "website": page is not None, "confirmed": ok})
            if ok:
                assert page is not None
                return candidate, {"source": page.url, "tried": tried}
        return None, {"tried": tried}
