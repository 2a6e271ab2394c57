"""DNS step: MX lookup with null MX, implicit MX (A/AAAA fallback) and a per-process cache.

Outcomes map to verdicts in engine.py: nxdomain/null_mx/no_mx are permanent (invalid), dns_error
(SERVFAIL, no nameserver, timeout) is never invalid.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver

from enrichment.verification.config import VerificationConfig

MX = "mx"  # explicit MX records
IMPLICIT = "implicit"  # no MX, the domain's own A/AAAA (RFC 5321 section 5.1)
NULL_MX = "null_mx"
NXDOMAIN = "nxdomain"
NO_MX = "no_mx"
DNS_ERROR = "dns_error"
ROUTE_TTL = 300.0
ROUTE_ERROR_TTL = 60.0

_caches: dict[tuple[str, int] | None, dns.resolver.LRUCache] = {}
_caches_lock = threading.Lock()


def dns_cache(nameserver: tuple[str, int] | None) -> dns.resolver.LRUCache:
    """One LRU cache per nameserver per process (negative answers are cached too, TTL-bound)."""
    with _caches_lock:
        cache = _caches.get(nameserver)
        if cache is None:
            cache = _caches[nameserver] = dns.resolver.LRUCache(max_size=100_000)
        return cache


def dns_cache_clear() -> None:
    with _caches_lock:
        for cache in _caches.values():
            cache.flush()


def resolver_build(config: VerificationConfig) -> dns.asyncresolver.Resolver:
    """The system resolver, or one that only asks `config.nameserver` (sandbox, tests)."""
    if config.nameserver is None:
        resolver = dns.asyncresolver.Resolver(configure=True)
    else:
        host, port = config.nameserver
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = port
    resolver.lifetime = config.timeouts.dns
    # Several tries within the lifetime: one lost UDP answer must not become a dns_error.
    resolver.timeout = max(config.timeouts.dns / 3, 0.1)
    resolver.cache = dns_cache(config.nameserver)
    return resolver


@dataclass(frozen=True)
class MailHost:
    preference: int
    name: str
    addresses: tuple[str, ...]

    def as_list(self) -> list:
        return [self.preference, self.name, list(self.addresses)]


@dataclass(frozen=True)
class MailRoute:
    outcome: str  # MX | IMPLICIT | NULL_MX | NXDOMAIN | NO_MX | DNS_ERROR
    hosts: tuple[MailHost, ...] = ()
    detail: str | None = None

    @property
    def deliverable(self) -> bool:
        return self.outcome in (MX, IMPLICIT) and bool(self.hosts)

    def as_evidence(self) -> dict:
        out: dict = {"dns": self.outcome, "mx": [h.as_list() for h in self.hosts]}
        if self.detail:
            out["dns_detail"] = self.detail
        return out


class _Transient(Exception):
    pass


class DnsClient:
    """Async lookups against one resolver. Address filter: globally routable only, unless the
    config names its own nameserver (the sandbox), where loopback/private answers are allowed."""

    def __init__(self, config: VerificationConfig, resolver=None) -> None:
        self.config = config
        self.resolver = resolver or resolver_build(config)
        self._inflight: dict[str, asyncio.Future[MailRoute]] = {}
        # Caps queries in flight; callers waiting on a shared lookup do not hold a slot.
        self._sem = asyncio.Semaphore(max(config.concurrency, 1))
        # Routes per domain for this client's lifetime (errors briefly), on top of the DNS cache.
        self._routes: dict[str, tuple[MailRoute, float]] = {}

    def _usable(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        if ip.is_global:
            return True
        return self.config.allow_private_addresses and not ip.is_unspecified

    async def _query(self, name: str, rdtype: str):
        """Answer rrset list, [] for NODATA; raises NXDOMAIN, or _Transient."""
        try:
            async with self._sem:
                answer = await self.resolver.resolve(name, rdtype, search=False)
            return list(answer)
        except dns.resolver.NoAnswer:
            return []
        except dns.resolver.NXDOMAIN:
            raise
        except (dns.resolver.NoNameservers, dns.exception.Timeout) as exc:
            raise _Transient(f"{rdtype} {name}: {type(exc).__name__}") from exc
        except dns.exception.DNSException as exc:
            raise _Transient(f"{rdtype} {name}: {type(exc).__name__}") from exc

    async def host_addresses(self, name: str) -> tuple[str, ...]:
        """A then AAAA of a host, filtered; NXDOMAIN/NODATA give ()."""
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                rrs = await self._query(name, rdtype)
            except dns.resolver.NXDOMAIN:
                return ()
            found.extend(rr.address for rr in rrs if self._usable(rr.address))
            if found:
                break
        return tuple(found)

    async def domain_exists(self, domain: str) -> tuple[str, ...] | None:
        """Addresses of a web host name, () if the name exists without usable A, None if absent."""
        try:
            return await self.host_addresses(domain)
        except _Transient:
            return None

    async def mail_route(self, domain: str) -> MailRoute:
        """Concurrent callers for the same domain share one lookup."""
        loop = asyncio.get_running_loop()
        hit = self._routes.get(domain)
        if hit is not None and hit[1] > loop.time():
            return hit[0]
        fut = self._inflight.get(domain)
        if fut is not None:
            return await asyncio.shield(fut)
        fut = loop.create_future()
        self._inflight[domain] = fut
        try:
            route = await self._mail_route(domain)
            ttl = ROUTE_ERROR_TTL if route.outcome == DNS_ERROR else ROUTE_TTL
            self._routes[domain] = (route, loop.time() + ttl)
            fut.set_result(route)
            return route
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # mark retrieved
            raise
        finally:
            self._inflight.pop(domain, None)

    async def _mail_route(self, domain: str) -> MailRoute:
        try:
            records = await self._query(domain, "MX")
        except dns.resolver.NXDOMAIN:
            return MailRoute(NXDOMAIN)
        except _Transient as exc:
            return MailRoute(DNS_ERROR, detail=str(exc))
        if records:
            mx = sorted((rr.preference, rr.exchange) for rr in records)
            real = [(p, n) for p, n in mx if n != dns.name.root]
            if not real:
                return MailRoute(NULL_MX)  # RFC 7505: "MX 0 ." = this domain takes no mail
            try:
                resolved = await asyncio.gather(
                    *(self.host_addresses(n.to_text(omit_final_dot=True)) for _, n in real)
                )
            except _Transient as exc:
                return MailRoute(DNS_ERROR, detail=str(exc))
            hosts = tuple(
                MailHost(p, n.to_text(omit_final_dot=True).lower(), addrs)
                for (p, n), addrs in zip(real, resolved, strict=True)
                if addrs
            )
            if not hosts:
                return MailRoute(NO_MX, detail="no MX host has a usable address")
            return MailRoute(MX, hosts)
        # NODATA for MX: implicit MX from the domain's own A/AAAA.
        try:
            addrs = await self.host_addresses(domain)
            if addrs:
                txt = await self._query(domain, "TXT")
                spf = [b"".join(rr.strings).decode("ascii", "replace") for rr in txt]
                if any(s.strip().lower() == "v=spf1 -all" for s in spf):
                    return MailRoute(NO_MX, detail="no MX, SPF 'v=spf1 -all' (sends no mail)")
        except dns.resolver.NXDOMAIN:
            return MailRoute(NXDOMAIN)
        except _Transient as exc:
            return MailRoute(DNS_ERROR, detail=str(exc))
        if not addrs:
            return MailRoute(NO_MX, detail="no MX and no usable A/AAAA")
        return MailRoute(IMPLICIT, (MailHost(0, domain, addrs),))
