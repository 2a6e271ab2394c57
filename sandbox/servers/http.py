"""Sandbox HTTP(S) server: every world domain with a `web` entry gets a small company site.

Virtual hosting by the Host header (`example.no` and `www.example.no`); unknown hosts get 404.
Plain HTTP and HTTPS (a test CA, `sandbox.servers.tls`, a certificate per SNI name) from one
asyncio loop on its own thread, one request per connection, each page rendered once: the
sandbox spends little CPU per request next to the engine under test.
The home page names the registry number the way real sites do ("Org.nr. 912 345 678"), and the
people the world lists on it with their direct numbers ("Kari Nordmann, Daglig leder · +47 912 34
567"); `web.pages` adds team/contact pages (linked from the home page) in Norwegian, Swedish or
English, some slow (time-outs) or huge. A site with `https` redirects plain HTTP there, one with
`www` redirects the bare name to www.; `robots_disallow` goes into /robots.txt. Every request is
logged (`SandboxHTTP.log`: scheme, host, path) so tests can assert what a crawler did not fetch.
"""

from __future__ import annotations

import asyncio
import html
import threading
from collections import Counter

from sandbox.servers.manifest import DomainSpec, WebPageSpec, WebSpec
from sandbox.servers.tls import SandboxCA

LOOPBACK = "127.0.0.1"
REGISTRY_LABEL = {
    "NO": "Org.nr.",
    "SE": "Org.nr",
    "DK": "CVR-nr.",
    "FI": "Y-tunnus",
    "GB": "Company No.",
}
PEOPLE_HEADING = {"NO": "Kontaktpersoner", "SE": "Kontaktpersoner", "GB": "Our people"}


def _group(registry_id: str) -> str:
    digits = "".join(c for c in registry_id if c.isdigit())
    if len(digits) == 9:  # Norwegian style: 912 345 678
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    return registry_id


PAGE_HEADINGS = {"no": "Våre ansatte", "sv": "Våra medarbetare", "en": "Our team"}


def _people_items(people) -> str:
    e = html.escape
    return "".join(
        f"<li><strong>{e(p.name)}</strong>"
        + (f", {e(p.title)}" if p.title else "")
        + (
            f' &middot; <a href="tel:{e(p.phone.replace(" ", ""))}">{e(p.phone)}</a>'
            if p.phone
            else ""
        )
        + (f' &middot; <a href="mailto:{e(p.email)}">{e(p.email)}</a>' if p.email else "")
        + "</li>"
        for p in people
    )


def subpage_render(web: WebSpec, page: WebPageSpec) -> str:
    e = html.escape
    heading = PAGE_HEADINGS.get(page.lang, "Our team")
    pad = ""
    if page.huge_bytes:
        pad = "<!-- " + "x" * page.huge_bytes + " -->"
    return (
        f"<!doctype html><html lang='{e(page.lang)}'><head><meta charset='utf-8'>"
        f"<title>{e(page.title)} - {e(web.company_name)}</title></head><body>"
        f"<h1>{e(page.title)}</h1><h2>{e(heading)}</h2>"
        f"<ul>{_people_items(page.people)}</ul>{pad}"
        f"<p><a href='/'>{e(web.company_name)}</a></p></body></html>"
    )


def page_render(domain: str, web: WebSpec) -> str:
    e = html.escape
    label = REGISTRY_LABEL.get((web.country or "").upper(), "Registration no.")
    contacts = "".join(f'<li><a href="mailto:{e(m)}">{e(m)}</a></li>' for m in web.emails)
    phones = "".join(
        f'<li><a href="tel:{e(p.replace(" ", ""))}">{e(p)}</a></li>' for p in web.phones
    )
    reg = f"<p>{e(label)} {e(_group(web.registry_id))}</p>" if web.registry_id else ""
    # The people the site names, each with their number in the same list item, as team and
    # contact pages print them.
    people = "".join(
        f"<li><strong>{e(p.name)}</strong>"
        + (f", {e(p.title)}" if p.title else "")
        + (
            f' &middot; <a href="tel:{e(p.phone.replace(" ", ""))}">{e(p.phone)}</a>'
            if p.phone
            else ""
        )
        + "</li>"
        for p in web.people
    )
    team = f"<h2>{e(PEOPLE_HEADING.get(web.country or '', 'Our people'))}</h2><ul>{people}</ul>"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{e(web.company_name)}</title></head><body>"
        f"<h1>{e(web.company_name)}</h1><p>Welcome to {e(domain)}.</p>"
        f"<h2>Contact</h2><ul>{contacts}{phones}</ul>"
        f"{team if people else ''}"
        + "".join(f"<p><a href='{e(p.path)}'>{e(p.title)}</a></p>" for p in web.pages)
        + f"<footer>{e(web.company_name)} &middot; {reg}</footer></body></html>"
    )


_NOT_FOUND = (404, "text/plain", b"not found")
_REASONS = {
    200: "OK", 301: "Moved Permanently", 400: "Bad Request", 404: "Not Found",
    501: "Not Implemented",
}  # fmt: skip
_MAX_HEAD = 64 * 1024


def _response(status: int, ctype: str, body: bytes, location: str = "") -> bytes:
    extra = f"Location: {location}\r\n" if location else ""
    head = (
        f"HTTP/1.0 {status} {_REASONS[status]}\r\nServer: SandboxHTTP/1\r\n{extra}"
        f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class _HTTPProtocol(asyncio.Protocol):
    """One request per connection (HTTP/1.0 style): read the head, answer, close. Pages are
    rendered once per host (the world is static)."""

    def __init__(self, server: SandboxHTTP, scheme: str = "http") -> None:
        self.server = server
        self.scheme = scheme
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > _MAX_HEAD and self.transport is not None:
                self.transport.close()
            return
        head = self.buffer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split()
        host = ""
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "host":
                host = value.strip()
        if len(parts) != 3:
            reply = _response(400, "text/plain", b"bad request")
        elif parts[0] != "GET":
            reply = _response(501, "text/plain", b"not implemented")
        else:
            delay, reply = self.server.answer(self.scheme, host, parts[1])
            if delay > 0:
                asyncio.get_running_loop().call_later(delay, self._send, reply)
                return
        self._send(reply)

    def _send(self, reply: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(reply)
            self.transport.close()


class SandboxHTTP:
    def __init__(self, domains: dict[str, DomainSpec]) -> None:
        self.domains = domains
        self.port: int | None = None
        self.https_port: int | None = None
        self.tls: SandboxCA | None = None
        self._pages: dict[str, tuple[int, str, bytes]] = {}
        self._subpages: dict[tuple[str, str], tuple[float, bytes]] = {}
        self.requests: Counter[str] = Counter()  # Host header -> requests served (tests read it)
        self.log: list[tuple[str, str, str]] = []  # (scheme, host as asked, path)
        self._https_server: asyncio.base_events.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None

    def page(self, host_header: str, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a Host header and a path."""
        host = host_header.split(":", 1)[0].lower().rstrip(".").removeprefix("www.")
        self.requests[host] += 1
        if path not in ("/", ""):
            return _NOT_FOUND
        cached = self._pages.get(host)
        if cached is None:
            spec = self.domains.get(host)
            if spec is None or spec.web is None or spec.dns != "ok":
                cached = _NOT_FOUND
            else:
                body = page_render(host, spec.web).encode("utf-8")
                cached = (200, "text/html; charset=utf-8", body)
            self._pages[host] = cached
        return cached

    @property
    def ca_file(self) -> str | None:
        return self.tls.ca_file if self.tls is not None else None

    def answer(self, scheme: str, host_header: str, path: str) -> tuple[float, bytes]:
        """(delay in seconds, the whole response) for one request."""
        host = host_header.split(":", 1)[0].lower().rstrip(".")
        base = host.removeprefix("www.")
        path = path.split("?", 1)[0] or "/"
        self.log.append((scheme, host, path))
        spec = self.domains.get(base)
        web = spec.web if spec is not None and spec.dns == "ok" else None
        if web is not None and (web.https or web.www):
            want_scheme = "https" if web.https else scheme
            want_host = f"www.{base}" if web.www else host
            if (want_scheme, want_host) != (scheme, host):
                location = f"{want_scheme}://{want_host}{path}"
                return 0.0, _response(301, "text/plain", b"moved", location)
        if web is not None and path == "/robots.txt":
            self.requests[base] += 1
            if not web.robots_disallow:
                return 0.0, _response(*_NOT_FOUND)
            rules = "".join(f"Disallow: {p}\n" for p in sorted(web.robots_disallow))
            return 0.0, _response(200, "text/plain", f"User-agent: *\n{rules}".encode())
        if web is not None and path not in ("/", ""):
            for sub in web.pages:
                if sub.path.rstrip("/") == path.rstrip("/"):
                    self.requests[base] += 1
                    hit = self._subpages.get((base, sub.path))
                    if hit is None:
                        body = subpage_render(web, sub).encode("utf-8")
                        reply = _response(200, "text/html; charset=utf-8", body)
                        hit = self._subpages[(base, sub.path)] = (sub.slow_seconds, reply)
                    return hit
        return 0.0, _response(*self.page(host_header, path))

    def start(self, port: int = 0, https_port: int | None = 0) -> int:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(
            loop.create_server(lambda: _HTTPProtocol(self), LOOPBACK, port)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if https_port is not None:
            self.tls = SandboxCA()
            self._https_server = loop.run_until_complete(
                loop.create_server(
                    lambda: _HTTPProtocol(self, "https"),
                    LOOPBACK,
                    https_port,
                    ssl=self.tls.server_context(),
                )
            )
            self.https_port = self._https_server.sockets[0].getsockname()[1]
        self._thread = threading.Thread(target=loop.run_forever, daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        servers = (self._server, self._https_server)

        def close() -> None:
            for server in servers:
                if server is not None:
                    server.close()
            loop.stop()

        loop.call_soon_threadsafe(close)
        if self._thread is not None:
            self._thread.join(timeout=5)
        loop.close()
        if self.tls is not None:
            self.tls.close()
