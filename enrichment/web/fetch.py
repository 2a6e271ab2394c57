"""The crawler: httpx (async) with TLS verification, bounded same-site redirects, robots.txt
(protego), a delay between requests to one site, size and time limits (see the package doc)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from enrichment.web.parse import WebPage, body_decode, page_parse, same_site

if TYPE_CHECKING:  # the engine imports this package (discovery): no import of it at load time
    from enrichment.verification.dns import DnsClient

# httpx logs every request at INFO: thousands a night. What was read is in SiteVisit.log.
logging.getLogger("httpx").setLevel(logging.WARNING)

OK, NO_SITE, UNREACHABLE = "ok", "no_site", "unreachable"
# Why a page was not read (recorded per page).
SKIP_ROBOTS = "robots"
SKIP_SIZE = "size"
SKIP_TIME = "time"
SKIP_OFF_SITE = "off_site_redirect"
SKIP_REDIRECTS = "too_many_redirects"
SKIP_UNREACHABLE = "unreachable"
SKIP_STATUS = "http_status"
SKIP_NOT_HTML = "not_html"
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
# Words of the links worth following, in the languages of our markets: contact, about and team
# pages are where companies name their people and their direct numbers.
LINK_WORDS = (
    "contact", "kontakt", "about", "om-oss", "om oss", "omoss", "om-foretaget", "om foretaget",
    "team", "people", "our-people", "management", "leadership", "board", "staff",
    "ansatte", "ledelse", "ledelsen", "medarbetare", "medarbeidere", "personal", "personale",
    "ledning", "ledningsgrupp", "styrelse", "styret", "vi-er", "who-we-are",
)  # fmt: skip
TEAM_WORDS = ("team", "people", "management", "leadership", "board", "staff", "ansatte",
              "ledelse", "medarbetare", "medarbeidere", "personal", "ledning", "styrelse", "styret")  # fmt: skip


class FetchSkipped(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.reason, self.detail = reason, detail


class SiteUnreachable(FetchSkipped):
    """An outage: DNS failure, refused connection, TLS error, time-out, 5xx."""


class NoAddress(FetchSkipped):
    """The host name does not exist or has no address: there is no site there."""


@dataclass(frozen=True)
class WebConfig:
    http_port: int = 80
    https_port: int = 443
    ca_file: str | None = None  # PEM bundle to trust instead of the system's (tests, sandbox)
    contact_url: str = "https://leadpilot.localhost/crawler"
    timeout: float = 10.0  # connect / each read
    page_deadline: float = 15.0  # one page, redirects included
    max_bytes: int = 1_000_000
    max_redirects: int = 5
    max_pages: int = 4  # the home page and up to three contact/about/team pages
    delay: float = 1.0  # seconds between two requests to one site
    max_crawl_delay: float = 10.0  # a robots.txt Crawl-delay above this is capped

    @property
    def user_agent(self) -> str:
        return f"LeadPilotBot/1.0 (+{self.contact_url})"

    @classmethod
    def from_settings(cls, *, own_world: bool | None = None, **overrides: Any) -> WebConfig:
        """The LEADPILOT_HTTP* settings; `own_world` (a nameserver of our own is configured)
        turns the default politeness delay off."""
        from django.conf import settings

        values: dict[str, Any] = {
            "http_port": int(getattr(settings, "LEADPILOT_HTTP_PORT", 80)),
            "https_port": int(getattr(settings, "LEADPILOT_HTTPS_PORT", 443)),
            "ca_file": getattr(settings, "LEADPILOT_HTTP_CA_FILE", "") or None,
            "contact_url": getattr(settings, "LEADPILOT_CRAWLER_CONTACT_URL", "")
            or cls.contact_url,
            "max_bytes": int(getattr(settings, "LEADPILOT_HTTP_MAX_BYTES", 1_000_000)),
            "max_pages": int(getattr(settings, "LEADPILOT_HTTP_MAX_PAGES", 4)),
        }
        # Politeness towards real sites; a world of our own (a nameserver is configured: the
        # sandbox, test worlds) needs none unless the setting says so.
        delay = getattr(settings, "LEADPILOT_HTTP_DELAY", None)
        if delay is None:
            if own_world is None:
                own_world = bool(getattr(settings, "LEADPILOT_DNS_NAMESERVER", ""))
            delay = 0.0 if own_world else cls.delay
        values["delay"] = float(delay)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class SiteVisit:
    """What reading one company's site gave: its state, the pages read (home first) and a log
    line per page read or skipped ({"url", "status", "skipped", "detail"})."""

    domain: str
    state: str  # ok | no_site | unreachable
    reason: str = ""
    pages: list[WebPage] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)

    @property
    def home(self) -> WebPage | None:
        return self.pages[0] if self.pages else None

    @property
    def emails(self) -> list[str]:
        return sorted({e for p in self.pages for e in p.emails})


@dataclass
class _Response:
    url: str
    status: int
    content_type: str
    body: bytes
    location: str = ""


class _Politeness:
    """One request at a time per site, `delay` seconds apart (the site's Crawl-delay if
    larger, capped)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.locks: dict[str, asyncio.Lock] = {}
        self.last: dict[str, float] = {}
        self.crawl_delay: dict[str, float] = {}

    @contextlib.asynccontextmanager
    async def turn(self, site: str):
        lock = self.locks.setdefault(site, asyncio.Lock())
        async with lock:
            wait = self.last.get(site, -1e9) + max(self.delay, self.crawl_delay.get(site, 0.0))
            pause = wait - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            try:
                yield
            finally:
                self.last[site] = time.monotonic()


def _fold(value: str) -> str:
    value = unicodedata.normalize("NFKD", value.lower().replace("ø", "o").replace("æ", "ae"))
    return "".join(c for c in value if not unicodedata.combining(c))


def _link_score(url: str, text: str) -> int:
    hay = _fold(f"{urlsplit(url).path} {text}").replace("/", " ").replace("_", "-")
    spaced = hay.replace("-", " ")
    for rank, word in enumerate(LINK_WORDS):
        if word in hay or word in spaced:
            return len(LINK_WORDS) - rank
    return 0


class SiteFetcher:
    """Reads company sites for one run (one event loop); `aclose()` when done."""

    def __init__(
        self,
        config: WebConfig,
        dns: DnsClient,
        *,
        allow_private: bool = False,
    ) -> None:
        self.config = config
        self.dns = dns
        self.allow_private = allow_private
        self.polite = _Politeness(config.delay)
        self._client: httpx.AsyncClient | None = None
        self.requests = 0

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            verify: ssl.SSLContext | bool = True
            if self.config.ca_file:
                verify = ssl.create_default_context(cafile=self.config.ca_file)
            t = self.config.timeout
            self._client = httpx.AsyncClient(
                verify=verify,
                follow_redirects=False,
                trust_env=False,
                timeout=httpx.Timeout(t, connect=t),
                # Requests go to an address with the host name as SNI: a pooled connection is
                # keyed on the address, and one host's TLS session must never carry another's
                # request (shared hosting). One connection per request.
                limits=httpx.Limits(max_keepalive_connections=0),
                headers={
                    "User-Agent": self.config.user_agent,
                    "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                    "Accept-Language": "nb,sv;q=0.9,en;q=0.8",
                },
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def _address(self, host: str) -> str:
        from enrichment.verification.dns import NameNotFound, TransientDnsError

        try:
            addrs = await self.dns.host_addresses(host)
        except NameNotFound as exc:
            raise NoAddress("no_address", host) from exc
        except TransientDnsError as exc:
            raise SiteUnreachable("dns_error", host) from exc
        if not addrs:
            raise NoAddress("no_address", host)
        return addrs[0]

    async def _request(self, url: str) -> _Response:
        """One GET, no redirect: resolved by our resolver, TLS checked against the host name,
        body streamed up to max_bytes."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        https = parts.scheme == "https"
        port = parts.port or (self.config.https_port if https else self.config.http_port)
        address = await self._address(host)
        ip = f"[{address}]" if ":" in address else address
        target = f"{parts.scheme}://{ip}:{port}{parts.path or '/'}"
        if parts.query:
            target += f"?{parts.query}"
        self.requests += 1
        try:
            async with self._http().stream(
                "GET", target, headers={"Host": host}, extensions={"sni_hostname": host}
            ) as resp:
                ctype = resp.headers.get("content-type", "")
                if resp.status_code in REDIRECT_CODES:
                    location = resp.headers.get("location", "")
                    return _Response(url, resp.status_code, ctype, b"", location)
                length = resp.headers.get("content-length", "")
                if length.isdigit() and int(length) > self.config.max_bytes:
                    raise FetchSkipped(SKIP_SIZE, f"Content-Length {length}")
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > self.config.max_bytes:
                        raise FetchSkipped(SKIP_SIZE, f"over {self.config.max_bytes} bytes")
                    chunks.append(chunk)
                return _Response(url, resp.status_code, ctype, b"".join(chunks))
        except httpx.TimeoutException as exc:
            raise SiteUnreachable(SKIP_TIME, type(exc).__name__) from exc
        except httpx.ConnectError as exc:
            detail = str(exc) or type(exc).__name__
            kind = "tls_error" if "SSL" in detail or "certificate" in detail else "connect_error"
            raise SiteUnreachable(kind, detail[:200]) from exc
        except (httpx.TransportError, OSError) as exc:
            raise SiteUnreachable("transport_error", type(exc).__name__) from exc

    async def get(self, url: str, *, domain: str, robots: Protego | None = None) -> _Response:
        """GET with at most max_redirects same-site redirects (http→https and bare→www are the
        same site; another host is refused: SKIP_OFF_SITE), within page_deadline."""

        async def run() -> _Response:
            current = url
            for _ in range(self.config.max_redirects + 1):
                host = urlsplit(current).hostname or ""
                if not same_site(host, domain):
                    raise FetchSkipped(SKIP_OFF_SITE, current)
                if not self._allowed(robots, current):  # a redirect into a disallowed path
                    raise FetchSkipped(SKIP_ROBOTS, current)
                async with self.polite.turn(domain):
                    resp = await self._request(current)
                if resp.status in REDIRECT_CODES and resp.location:
                    current = urljoin(current, resp.location)
                    continue
                return resp
            raise FetchSkipped(SKIP_REDIRECTS, url)

        try:
            return await asyncio.wait_for(run(), self.config.page_deadline)
        except TimeoutError as exc:
            raise SiteUnreachable(SKIP_TIME, f"over {self.config.page_deadline} s") from exc

    async def _robots(self, origin: str, domain: str, visit: SiteVisit) -> Protego | None:
        """robots.txt of the site; None = everything allowed. A 5xx or an unreachable
        robots.txt means "disallow all" (RFC 9309 2.3.1.4), raised as SiteUnreachable."""
        url = f"{origin}/robots.txt"
        try:
            resp = await self.get(url, domain=domain)
        except SiteUnreachable:
            raise
        except FetchSkipped as exc:
            visit.log.append({"url": url, "status": None, "skipped": exc.reason})
            return None
        visit.log.append({"url": resp.url, "status": resp.status, "skipped": None})
        if resp.status >= 500:
            raise SiteUnreachable("robots_unavailable", str(resp.status))
        if resp.status != 200:
            return None
        robots = Protego.parse(body_decode(resp.body, resp.content_type))
        delay = robots.crawl_delay(self.config.user_agent)
        if delay:
            self.polite.crawl_delay[domain] = min(float(delay), self.config.max_crawl_delay)
        return robots

    def _allowed(self, robots: Protego | None, url: str) -> bool:
        return robots is None or robots.can_fetch(url, self.config.user_agent)

    async def _page(
        self, url: str, *, domain: str, robots: Protego | None, visit: SiteVisit
    ) -> WebPage | None:
        if not self._allowed(robots, url):
            visit.log.append({"url": url, "status": None, "skipped": SKIP_ROBOTS})
            return None
        resp = await self.get(url, domain=domain, robots=robots)
        if resp.status != 200:
            visit.log.append({"url": resp.url, "status": resp.status, "skipped": SKIP_STATUS})
            if resp.status >= 500:
                raise SiteUnreachable(SKIP_STATUS, str(resp.status))
            return None
        if resp.content_type and "html" not in resp.content_type.lower():
            visit.log.append({"url": resp.url, "status": resp.status, "skipped": SKIP_NOT_HTML})
            return None
        visit.log.append({"url": resp.url, "status": resp.status, "skipped": None})
        return page_parse(resp.url, resp.status, body_decode(resp.body, resp.content_type))

    async def site_visit(self, domain: str) -> SiteVisit:
        """Home page over HTTPS (else HTTP), then up to max_pages - 1 of the site's own
        contact/about/team pages, robots.txt honoured."""
        visit = SiteVisit(domain=domain, state=NO_SITE)
        home: WebPage | None = None
        robots: Protego | None = None
        failure: FetchSkipped | None = None
        for origin in (f"https://{domain}", f"http://{domain}"):
            try:
                robots = await self._robots(origin, domain, visit)
                home = await self._page(f"{origin}/", domain=domain, robots=robots, visit=visit)
            except NoAddress as exc:
                visit.log.append({"url": f"{origin}/", "status": None, "skipped": exc.reason})
                visit.reason = exc.reason
                return visit  # the name has no address: no site, whatever the scheme
            except SiteUnreachable as exc:
                visit.log.append(
                    {"url": f"{origin}/", "status": None, "skipped": exc.reason,
                     "detail": exc.detail}
                )  # fmt: skip
                failure = exc
                continue
            except FetchSkipped as exc:
                visit.log.append(
                    {"url": f"{origin}/", "status": None, "skipped": exc.reason,
                     "detail": exc.detail}
                )  # fmt: skip
                visit.reason = exc.reason
                return visit
            failure = None
            break
        if failure is not None:
            visit.state, visit.reason = UNREACHABLE, failure.reason
            return visit
        if home is None:
            robots_said_no = any(e.get("skipped") == SKIP_ROBOTS for e in visit.log)
            visit.reason = visit.reason or (SKIP_ROBOTS if robots_said_no else "no_home_page")
            return visit
        visit.state = OK
        visit.pages.append(home)
        seen = {home.url.rstrip("/")}
        ranked: list[tuple[int, int, str]] = []
        for i, link in enumerate(home.links):
            target = link.url.split("#", 1)[0]
            if urlsplit(target).scheme not in ("http", "https"):
                continue
            if not same_site(urlsplit(target).hostname or "", domain):
                continue
            score = _link_score(target, link.text)
            if score and target.rstrip("/") not in seen:
                seen.add(target.rstrip("/"))
                ranked.append((-score, i, target))
        for _, _, target in sorted(ranked)[: max(0, self.config.max_pages - 1)]:
            try:
                page = await self._page(target, domain=domain, robots=robots, visit=visit)
            except FetchSkipped as exc:
                visit.log.append(
                    {"url": target, "status": None, "skipped": exc.reason, "detail": exc.detail}
                )
                continue
            if page is not None:
                visit.pages.append(page)
        return visit
