"""Domain discovery for companies without a website in the registry.

Candidates come from the company name (legal form stripped, letters folded) and the country's
usual TLDs. A candidate is confirmed only when DNS knows it AND its website names the company's
registry number: a look-alike domain owned by someone else never matches.
"""

from __future__ import annotations

import asyncio
import html
import re
import threading
import time
from dataclasses import dataclass, field

from enrichment.verification.candidates import name_fold
from enrichment.verification.config import VerificationConfig
from enrichment.verification.dns import DnsClient

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
MAX_PAGE_BYTES = 512 * 1024
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_TEL_RE = re.compile(r'href="tel:([^"]+)"')
_PHONE_TEXT_RE = re.compile(r"\+\d[\d \-()]{6,18}\d")


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


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


@dataclass
class WebPage:
    url: str
    status: int
    text: str
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)

    def names_registry_id(self, registry_id: str) -> bool:
        wanted = digits(registry_id)
        if len(wanted) < 5:
            return False
        plain = re.sub(r"<[^>]+>", " ", self.text)
        return any(digits(chunk) == wanted for chunk in re.findall(r"\d[\d .\-]{3,20}\d", plain))


async def http_get(
    *, host: str, address: str, port: int, path: str = "/", timeout: float = 10.0
) -> tuple[int, str]:
    """Minimal HTTP/1.0 GET (no redirects, 512 KiB cap) against a resolved address."""

    async def run() -> tuple[int, str]:
        reader, writer = await asyncio.open_connection(address, port)
        try:
            req = (
                f"GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: LeadPilot-verify/1\r\n"
                "Accept: text/html\r\nConnection: close\r\n\r\n"
            )
            writer.write(req.encode("ascii"))
            await writer.drain()
            data = b""
            while len(data) < MAX_PAGE_BYTES:  # read() returns what has arrived so far
                chunk = await reader.read(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = status_line.split()
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        return status, body.decode("utf-8", "replace")

    return await asyncio.wait_for(run(), timeout)


def page_parse(url: str, status: int, text: str) -> WebPage:
    unescaped = html.unescape(text)
    emails = sorted({e.lower().rstrip(".") for e in _EMAIL_RE.findall(unescaped)})
    phones = list(dict.fromkeys(_TEL_RE.findall(unescaped) or _PHONE_TEXT_RE.findall(unescaped)))
    return WebPage(url=url, status=status, text=text, emails=emails, phones=phones)


PAGE_TTL = 300.0  # seconds, as long as the DNS answers that led to the page (dns.ROUTE_TTL)


class PageCache:
    """Home pages fetched with status 200, per (world, domain), kept PAGE_TTL seconds; thread-safe
    and process-wide like the DNS cache. Discovery asks for the same name-derived domains again and
    again (every company whose name starts with the same word); a page that names no registry
    number is kept as well, it answers "not this company" for the next one. Failures are not kept:
    a time-out tonight is tried again."""

    def __init__(self) -> None:
        self._pages: dict[tuple, tuple[WebPage, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> WebPage | None:
        with self._lock:
            hit = self._pages.get(key)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def put(self, key: tuple, page: WebPage) -> None:
        with self._lock:
            if len(self._pages) >= 100_000:
                self._pages.clear()
            self._pages[key] = (page, time.monotonic() + PAGE_TTL)

    def size(self) -> int:
        return len(self._pages)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


PROCESS_PAGE_CACHE = PageCache()


class Discovery:
    def __init__(self, config: VerificationConfig, dns_client: DnsClient) -> None:
        self.config = config
        self.dns = dns_client
        self._pages: dict[str, WebPage | None] = {}

    async def website_fetch(self, domain: str) -> WebPage | None:
        """The domain's home page, or None (no DNS, no server, not 200). Cached per instance, and
        pages per process (PROCESS_PAGE_CACHE)."""
        if domain in self._pages:
            return self._pages[domain]
        key = (self.config.nameserver, self.config.http_port, domain)
        cached = PROCESS_PAGE_CACHE.get(key)
        if cached is not None:
            self._pages[domain] = cached
            return cached
        page = None
        addrs = await self.dns.domain_exists(domain)
        if addrs:
            try:
                status, text = await http_get(
                    host=domain,
                    address=addrs[0],
                    port=self.config.http_port,
                    timeout=self.config.timeouts.http,
                )
                if status == 200:
                    page = page_parse(f"http://{domain}/", status, text)
            except (TimeoutError, OSError, ValueError):
                page = None
        self._pages[domain] = page
        if page is not None:
            PROCESS_PAGE_CACHE.put(key, page)
        return page

    async def domain_discover(
        self, *, name: str, country: str | None, registry_id: str
    ) -> tuple[str | None, dict]:
        """First name-derived domain whose website names the registry number."""
        tried: list[dict] = []
        for candidate in domain_candidates(name=name, country=country):
            page = await self.website_fetch(candidate)
            ok = page is not None and page.names_registry_id(registry_id)
            tried.append({"domain": candidate, "website": page is not None, "confirmed": ok})
            if ok:
                return candidate, {"source": page.url, "tried": tried}
        return None, {"tried": tried}
