"""The sandbox's test certificate authority (trustme): a CA made at start, a certificate per host
issued on first use (SNI), and the CA's PEM file for clients to trust
(LEADPILOT_HTTP_CA_FILE)."""

from __future__ import annotations

import ssl
import tempfile
import threading
from pathlib import Path

import trustme


class SandboxCA:
    def __init__(self) -> None:
        self.ca = trustme.CA(organization_name="LeadPilot sandbox CA")
        self._dir = tempfile.TemporaryDirectory(prefix="lp-sandbox-ca-")
        self.ca_file = str(Path(self._dir.name) / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def _context_for(self, host: str) -> ssl.SSLContext:
        base = host.lower().rstrip(".").removeprefix("www.")
        with self._lock:
            ctx = self._contexts.get(base)
            if ctx is None:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                self.ca.issue_cert(base, f"www.{base}").configure_cert(ctx)
                self._contexts[base] = ctx
        return ctx

    def server_context(self) -> ssl.SSLContext:
        """A server context that answers each SNI name with a certificate for it."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ca.issue_cert("localhost").configure_cert(ctx)

        def sni(sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
            if name:
                sock.context = self._context_for(name)

        ctx.sni_callback = sni  # type: ignore[assignment]
        return ctx

    def close(self) -> None:
        self._dir.cleanup()
