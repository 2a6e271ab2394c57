"""Sandbox HTTP server: every world domain with a `web` entry gets a small company home page.

Virtual hosting by the Host header (`example.no` and `www.example.no`); unknown hosts get 404.
One asyncio server on its own thread, one request per connection, each host's page rendered once: the
sandbox spends little CPU per request next to the engine under test.
The page names the registry number the way real sites do ("Org.nr. 912 345 678"), and the people
the world lists on it with their direct numbers ("Kari Nordmann, Daglig leder · +47 912 34 567").
"""

from __future__ import annotations

import asyncio
import html
import threading
from collections import Counter

from sandbox.servers.manifest import DomainSpec, WebSpec

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
        f"<footer>{e(web.company_name)} &middot; {reg}</footer></body></html>"
    )


_NOT_FOUND = (404, "text/plain", b"not found")
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 501: "Not Implemented"}
_MAX_HEAD = 64 * 1024


def _response(status: int, ctype: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.0 {status} {_REASONS[status]}\r\nServer: SandboxHTTP/1\r\n"
        f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class _HTTPProtocol(asyncio.Protocol):
    """One request per connection (HTTP/1.0 style): read the head, answer, close. Pages are
    rendered once per host (the world is static)."""

    def __init__(self, server: SandboxHTTP) -> None:
        self.server = server
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
            reply = _response(*self.server.page(host, parts[1]))
        assert self.transport is not None
        self.transport.write(reply)
        self.transport.close()


class SandboxHTTP:
    def __init__(self, domains: dict[str, DomainSpec]) -> None:
        self.domains = domains
        self.port: int | None = None
        self._pages: dict[str, tuple[int, str, bytes]] = {}
        self.requests: Counter[str] = Counter()  # Host header -> requests served (tests read it)
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

    def start(self, port: int = 0) -> int:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(
            loop.create_server(lambda: _HTTPProtocol(self), LOOPBACK, port)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._thread = threading.Thread(target=loop.run_forever, daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        server = self._server

        def close() -> None:
            if server is not None:
                server.close()
            loop.stop()

        loop.call_soon_threadsafe(close)
        if self._thread is not None:
            self._thread.join(timeout=5)
        loop.close()
