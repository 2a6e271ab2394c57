"""Sandbox HTTP server: every world domain with a `web` entry gets a small company home page.

Virtual hosting by the Host header (`example.no` and `www.example.no`); unknown hosts get 404.
The page names the registry number the way real sites do ("Org.nr. 912 345 678").
"""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sandbox.servers.manifest import DomainSpec, WebSpec

LOOPBACK = "127.0.0.1"
REGISTRY_LABEL = {
    "NO": "Org.nr.",
    "SE": "Org.nr",
    "DK": "CVR-nr.",
    "FI": "Y-tunnus",
    "GB": "Company No.",
}


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
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{e(web.company_name)}</title></head><body>"
        f"<h1>{e(web.company_name)}</h1><p>Welcome to {e(domain)}.</p>"
        f"<h2>Contact</h2><ul>{contacts}{phones}</ul>"
        f"<footer>{e(web.company_name)} &middot; {reg}</footer></body></html>"
    )


class _Handler(BaseHTTPRequestHandler):
    server_version = "SandboxHTTP/1"
    domains: dict[str, DomainSpec] = {}

    def log_message(self, format, *args) -> None:
        return

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":", 1)[0].lower().rstrip(".")
        host = host.removeprefix("www.")
        spec = self.domains.get(host)
        if spec is None or spec.web is None or spec.dns != "ok" or self.path not in ("/", ""):
            body = b"not found"
            self.send_response(404)
            ctype = "text/plain"
        else:
            body = page_render(host, spec.web).encode("utf-8")
            self.send_response(200)
            ctype = "text/html; charset=utf-8"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class SandboxHTTP:
    def __init__(self, domains: dict[str, DomainSpec]) -> None:
        self.handler = type("WorldHTTPHandler", (_Handler,), {"domains": domains})
        self.server: ThreadingHTTPServer | None = None
        self.port: int | None = None

    def start(self, port: int = 0) -> int:
        self.server = ThreadingHTTPServer((LOOPBACK, port), self.handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self.port

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
