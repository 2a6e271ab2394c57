"""Sandbox internet: DNS, SMTP and HTTP peers on 127.0.0.1 serving a world manifest.

    with Sandbox.from_world("var/world") as sb:      # or Sandbox(domains=[{...}, ...])
        sb.dns_port, sb.smtp_port, sb.http_port, sb.https_port, sb.ca_file

Started in-process by tests, the demo and the benches, or by `manage.py sandbox --world DIR`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from enrichment.verification.state import verification_caches_clear
from sandbox.servers.dns import SandboxDNS
from sandbox.servers.http import SandboxHTTP
from sandbox.servers.manifest import DomainSpec, ManifestError, domains_load, domains_parse
from sandbox.servers.smtp import SandboxSMTPServer

__all__ = ["DomainSpec", "ManifestError", "Sandbox"]


class Sandbox:
    def __init__(
        self,
        domains: Iterable[Mapping | DomainSpec] | dict[str, DomainSpec],
        *,
        dns_latency_ms: float = 0.0,
        smtp_latency_ms: float = 0.0,
        tarpit_seconds: float = 60.0,
        time_fn: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(domains, dict):
            self.domains = domains
        else:
            self.domains = domains_parse(domains)
        self.dns = SandboxDNS(self.domains, latency_ms=dns_latency_ms)
        self.smtp = SandboxSMTPServer(
            self.domains,
            latency_ms=smtp_latency_ms,
            tarpit_seconds=tarpit_seconds,
            time_fn=time_fn,
        )
        self.http = SandboxHTTP(self.domains)
        self.dns_port: int | None = None
        self.smtp_port: int | None = None
        self.http_port: int | None = None
        self.https_port: int | None = None

    @property
    def ca_file(self) -> str | None:
        """PEM file of the test CA that signed the HTTPS server's certificates."""
        return self.http.ca_file

    @classmethod
    def from_world(cls, world_dir: str | Path, **kwargs) -> Sandbox:
        return cls(domains_load(world_dir), **kwargs)

    @property
    def nameserver(self) -> tuple[str, int]:
        assert self.dns_port is not None, "sandbox not started"
        return ("127.0.0.1", self.dns_port)

    def start(
        self,
        *,
        dns_port: int = 0,
        smtp_port: int | None = None,
        http_port: int = 0,
        https_port: int | None = 0,
    ) -> Sandbox:
        # The engine's per-process caches key on nameserver and ports; this world may get ports
        # an earlier one used.
        verification_caches_clear()
        try:
            self.dns_port = self.dns.start(dns_port)
            self.smtp_port = self.smtp.start(smtp_port)
            self.http_port = self.http.start(http_port, https_port)
            self.https_port = self.http.https_port
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in (self.http, self.smtp, self.dns):
            try:
                server.stop()
            except Exception:  # noqa: S112 - best effort on shutdown
                continue

    def __enter__(self) -> Sandbox:
        return self.start() if self.dns_port is None else self

    def __exit__(self, *exc) -> None:
        self.stop()
