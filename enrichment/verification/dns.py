"""DNS step: MX lookup with null MX, implicit MX (A/AAAA fallback) and per-process caches.

Outcomes map to verdicts in engine.py: nxdomain/null_mx/no_mx are permanent (invalid), dns_error
(SERVFAIL, no nameserver, timeout) is never invalid.

The stub resolver is our own, small and cheap per query (dnspython's Resolver built a socket,
a Resolution and an Answer per query, a quarter of a search worker's CPU): one connected UDP
socket per nameserver per event loop for every query of that loop, queries and answers read and
written by hand (dnspython only for the names it would escape), TCP when an answer is truncated.
Answers, NODATA and NXDOMAIN are cached per process for their TTL (negative ones for the SOA's
minimum, 300 s without one, as dnspython); the mail route built from them is cached per process
too (`ROUTE_TTL`, `ROUTE_ERROR_TTL` for a failure: RFC 2308 allows caching a server failure for up
to five minutes). A long-lived socket keeps its source port, so answers are only accepted from
the nameserver it is connected to, with the query's random id and question.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import secrets
import socket
import struct
import threading
import time
from dataclasses import dataclass

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
NEGATIVE_TTL_WITHOUT_SOA = 300  # dnspython's choice when a negative answer carries no SOA
CACHE_MAX = 200_000

RDTYPES = {"A": 1, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}
_CNAME, _SOA = 5, 6
_RCODE_NOERROR, _RCODE_NXDOMAIN = 0, 3
# EDNS0 OPT record (root owner, type 41, UDP payload 1232, no flags), as dnspython sends it.
_OPT = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
_PLAIN_LABEL = re.compile(rb"[A-Za-z0-9_\-*]+")


class NameNotFound(Exception):
    """NXDOMAIN: the name does not exist (for any type)."""


class TransientDnsError(Exception):
    """SERVFAIL, refused, no answer within the lifetime, a bad name: never a verdict."""


# -- the process-wide caches ----------------------------------------------------------------------

_NX = object()  # cached NXDOMAIN marker


class AnswerCache:
    """Records per (name, type) until their TTL runs out; NXDOMAIN per name (any type).
    Thread-safe (one process, many event loops). `hits`/`misses` are approximate counters."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, int], tuple[float, object]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, name: str, rdtype: int) -> tuple | None:
        """The cached records (maybe empty: NODATA), None on a miss; raises NameNotFound."""
        now = time.monotonic()
        hit = self._data.get((name, 0))
        if hit is not None and hit[0] > now:
            self.hits += 1
            raise NameNotFound(name)
        hit = self._data.get((name, rdtype))
        if hit is not None and hit[0] > now:
            self.hits += 1
            return hit[1]  # type: ignore[return-value]
        self.misses += 1
        return None

    def put(self, name: str, rdtype: int, records: object, ttl: float) -> None:
        """`records` is a tuple, or _NX for NXDOMAIN (stored for every type of the name)."""
        if ttl <= 0:
            return
        key = (name, 0) if records is _NX else (name, rdtype)
        with self._lock:
            if len(self._data) >= CACHE_MAX:
                now = time.monotonic()
                self._data = {k: v for k, v in self._data.items() if v[0] > now}
                if len(self._data) >= CACHE_MAX:
                    self._data.clear()
            self._data[key] = (time.monotonic() + ttl, records)

    def size(self) -> int:
        return len(self._data)

    def flush(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0


_caches: dict[tuple, AnswerCache] = {}
_routes: dict[tuple, tuple[MailRoute, float]] = {}
_caches_lock = threading.Lock()


def dns_cache(nameservers: tuple) -> AnswerCache:
    """One answer cache per nameserver list per process."""
    with _caches_lock:
        cache = _caches.get(nameservers)
        if cache is None:
            cache = _caches[nameservers] = AnswerCache()
        return cache


def dns_cache_clear() -> None:
    """Forget every answer and mail route (a new sandbox world may reuse an old one's port).
    Part of `state.verification_caches_clear()`, which forgets the engine's other caches too."""
    with _caches_lock:
        for cache in _caches.values():
            cache.flush()
        _routes.clear()


def dns_cache_size() -> int:
    """Answers (and NXDOMAIN names) cached, over every nameserver list."""
    with _caches_lock:
        return sum(cache.size() for cache in _caches.values())


def dns_routes_size() -> int:
    """Mail routes cached."""
    return len(_routes)


# -- the wire format ------------------------------------------------------------------------------


def _question(name: str, rdtype: int) -> bytes:
    """QNAME QTYPE QCLASS(IN); raises TransientDnsError for a name DNS cannot carry."""
    try:
        labels = [label.encode("ascii") for label in name.split(".")]
    except UnicodeEncodeError as exc:
        raise TransientDnsError(f"{name!r}: not an ASCII (A-label) name") from exc
    if not all(0 < len(label) < 64 for label in labels) or len(name) > 253:
        raise TransientDnsError(f"{name!r}: not a valid DNS name")
    wire = b"".join(bytes((len(label),)) + label for label in labels)
    return wire + b"\x00" + struct.pack("!HH", rdtype, 1)


def _read_name(msg: bytes, off: int) -> tuple[str, int]:
    """The (lower-cased, no final dot) name at `off` and the offset after it; follows
    compression pointers. Raises ValueError on a malformed name."""
    labels: list[bytes] = []
    end = -1
    hops = 0
    while True:
        n = msg[off]
        if n == 0:
            off += 1
            break
        if n >= 0xC0:
            if end < 0:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            hops += 1
            if hops > 64:
                raise ValueError("compression loop")
            continue
        if n > 63:
            raise ValueError("bad label type")
        label = msg[off + 1 : off + 1 + n]
        if len(label) != n:
            raise ValueError("truncated label")
        labels.append(label)
        off += 1 + n
    if sum(len(label) + 1 for label in labels) + 1 > 255:
        raise ValueError("name longer than 255 octets")
    if all(_PLAIN_LABEL.fullmatch(label) for label in labels):
        text = b".".join(labels).decode("ascii").lower()
    else:  # escape what needs it exactly as dnspython would
        text = dns.name.Name(labels).to_text(omit_final_dot=True).lower()
    return text, (end if end >= 0 else off)


@dataclass(frozen=True)
class _Parsed:
    rcode: int
    truncated: bool
    records: tuple  # of the asked type, owned by the name (after CNAMEs)
    ttl: float


def _parse(msg: bytes, qname: str, rdtype: int) -> _Parsed:
    """Decode an answer to (qname, rdtype). A: address strings; AAAA: address strings; MX:
    (preference, exchange) with "" for the root (null MX); TXT: the joined character strings."""
    _, flags, qd, an, ns, _ = struct.unpack_from("!HHHHHH", msg)
    rcode, truncated = flags & 0x000F, bool(flags & 0x0200)
    off = 12
    for _ in range(qd):
        _, off = _read_name(msg, off)
        off += 4
    rrs: list[tuple[str, int, int, int, int]] = []  # owner, type, ttl, rdata offset, length
    soa_ttl: int | None = None
    for i in range(an + ns):
        owner, off = _read_name(msg, off)
        rtype, _, ttl, rdlen = struct.unpack_from("!HHIH", msg, off)
        off += 10
        if off + rdlen > len(msg):
            raise ValueError("truncated record")
        if i < an:
            rrs.append((owner, rtype, ttl, off, rdlen))
        elif rtype == _SOA:
            _, p = _read_name(msg, off)  # MNAME
            _, p = _read_name(msg, p)  # RNAME
            minimum = struct.unpack_from("!I", msg, p + 16)[0]
            soa_ttl = min(ttl, minimum) if soa_ttl is None else min(soa_ttl, ttl, minimum)
        off += rdlen
    # Follow CNAMEs from the question to the canonical name, as dnspython's Answer does.
    canonical, min_ttl = qname, None
    for _ in range(16):
        step = next((r for r in rrs if r[1] == _CNAME and r[0] == canonical), None)
        if step is None or rdtype == _CNAME:
            break
        canonical = _read_name(msg, step[3])[0]
        min_ttl = step[2] if min_ttl is None else min(min_ttl, step[2])
    records: list = []
    for owner, rtype, ttl, roff, rdlen in rrs:
        if rtype != rdtype or owner != canonical:
            continue
        min_ttl = ttl if min_ttl is None else min(min_ttl, ttl)
        if rtype == 1 and rdlen == 4:
            records.append(socket.inet_ntop(socket.AF_INET, msg[roff : roff + 4]))
        elif rtype == 28 and rdlen == 16:
            records.append(str(ipaddress.IPv6Address(msg[roff : roff + 16])))
        elif rtype == 15:
            exchange = _read_name(msg, roff + 2)[0]
            records.append((struct.unpack_from("!H", msg, roff)[0], exchange))
        elif rtype == 16:
            strings, p, stop = [], roff, roff + rdlen
            while p < stop:
                strings.append(msg[p + 1 : p + 1 + msg[p]])
                p += 1 + msg[p]
            records.append(b"".join(strings))
        else:
            records.append(msg[roff : roff + rdlen])
    if not records:  # NODATA or NXDOMAIN: the SOA's negative TTL
        negative = NEGATIVE_TTL_WITHOUT_SOA if soa_ttl is None else soa_ttl
        min_ttl = negative if min_ttl is None else min(min_ttl, negative)
    return _Parsed(rcode, truncated, tuple(records), float(min_ttl or 0))


class _Endpoint(asyncio.DatagramProtocol):
    """One connected UDP socket to one nameserver; answers matched to queries by id + question."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, tuple[bytes, asyncio.Future[bytes]]] = {}

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        if len(data) < 12:
            return
        entry = self.pending.get((data[0] << 8) | data[1])
        if entry is None:
            return  # late answer to a query that was retried or gave up
        question, fut = entry
        if not fut.done() and data[12 : 12 + len(question)].lower() == question:
            fut.set_result(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and the like: every query in flight on this socket failed.
        for _, fut in self.pending.values():
            if not fut.done():
                fut.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.error_received(exc or ConnectionError("DNS socket closed"))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _expire(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError())


class StubResolver:
    """Asks its nameservers in order, resending every `timeout` seconds until `lifetime` runs out.
    SERVFAIL/REFUSED from every nameserver fails at once (like dnspython's NoNameservers)."""

    def __init__(
        self, nameservers: list[tuple[str, int]], *, lifetime: float, timeout: float
    ) -> None:
        self.nameservers = list(nameservers)
        self.key = tuple(self.nameservers)
        self.lifetime = lifetime
        self.timeout = timeout
        self.cache = dns_cache(self.key)

    async def _tcp(self, nameserver: tuple[str, int], query: bytes, timeout: float) -> bytes:
        async def run() -> bytes:
            reader, writer = await asyncio.open_connection(*nameserver)
            try:
                writer.write(struct.pack("!H", len(query)) + query)
                size = struct.unpack("!H", await reader.readexactly(2))[0]
                return await reader.readexactly(size)
            finally:
                writer.close()

        return await asyncio.wait_for(run(), timeout)

    async def resolve(
        self, endpoints: dict[tuple[str, int], _Endpoint], name: str, rdtype: int
    ) -> tuple:
        """Records of the type (empty: NODATA); raises NameNotFound or TransientDnsError. Caches
        what it learns. `endpoints`: the caller's sockets for this event loop."""
        question = _question(name, rdtype)
        lowered = question.lower()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lifetime
        failed: set[tuple[str, int]] = set()
        last_error = "timeout"
        while True:
            for nameserver in self.nameservers:
                if nameserver in failed:
                    continue
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TransientDnsError(f"{name} {rdtype}: {last_error}")
                endpoint = endpoints.get(nameserver)
                if (
                    endpoint is None
                    or endpoint.transport is None
                    or endpoint.transport.is_closing()
                ):
                    _, endpoint = await loop.create_datagram_endpoint(
                        _Endpoint, remote_addr=nameserver
                    )
                    endpoints[nameserver] = endpoint
                qid = secrets.randbits(16)
                while qid in endpoint.pending:
                    qid = secrets.randbits(16)
                fut: asyncio.Future[bytes] = loop.create_future()
                endpoint.pending[qid] = (lowered, fut)
                timer = loop.call_later(min(self.timeout, remaining), _expire, fut)
                try:
                    assert endpoint.transport is not None
                    endpoint.transport.sendto(
                        struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1) + question + _OPT
                    )
                    data = await fut
                except TimeoutError:
                    last_error = "timeout"
                    continue
                except OSError as exc:
                    last_error = type(exc).__name__
                    failed.add(nameserver)
                    continue
                finally:
                    timer.cancel()
                    endpoint.pending.pop(qid, None)
                try:
                    parsed = _parse(data, name, rdtype)
                    if parsed.truncated:
                        query = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1) + question + _OPT
                        data = await self._tcp(nameserver, query, max(deadline - loop.time(), 0))
                        parsed = _parse(data, name, rdtype)
                except (ValueError, IndexError, struct.error, OSError, TimeoutError) as exc:
                    last_error = f"bad answer ({type(exc).__name__})"
                    failed.add(nameserver)
                    continue
                if parsed.rcode == _RCODE_NXDOMAIN:
                    self.cache.put(name, rdtype, _NX, parsed.ttl)
                    raise NameNotFound(name)
                if parsed.rcode == _RCODE_NOERROR:
                    self.cache.put(name, rdtype, parsed.records, parsed.ttl)
                    return parsed.records
                last_error = f"rcode {parsed.rcode}"  # SERVFAIL, REFUSED...: next nameserver
                failed.add(nameserver)
            if len(failed) == len(self.nameservers):
                raise TransientDnsError(f"{name} {rdtype}: no nameserver answered ({last_error})")


def resolver_build(config: VerificationConfig) -> StubResolver:
    """The system's nameservers (/etc/resolv.conf), or only `config.nameserver` (sandbox, tests)."""
    if config.nameserver is None:
        system = dns.resolver.Resolver(configure=True)
        nameservers = [(str(ns), system.port) for ns in system.nameservers]
    else:
        nameservers = [config.nameserver]
    lifetime = config.timeouts.dns
    # Several tries within the lifetime: one lost UDP answer must not become a dns_error.
    return StubResolver(nameservers, lifetime=lifetime, timeout=max(lifetime / 3, 0.1))


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


class DnsClient:
    """Async lookups through one resolver, inside one event loop (its sockets belong to that loop:
    `close()` them when done; a later loop opens its own). Address filter: globally routable only,
    unless the config names its own nameserver (the sandbox), where loopback/private answers are
    allowed."""

    def __init__(self, config: VerificationConfig, resolver: StubResolver | None = None) -> None:
        self.config = config
        self.resolver = resolver or resolver_build(config)
        self.cache = self.resolver.cache
        self._inflight: dict[str, asyncio.Future[MailRoute]] = {}
        # Caps queries in flight; cache hits and callers waiting on a shared lookup take no slot.
        self._sem = asyncio.Semaphore(max(config.concurrency, 1))
        self._endpoints: dict[tuple[str, int], _Endpoint] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._route_key = (self.resolver.key, config.allow_private_addresses)

    def close(self) -> None:
        """Close this client's sockets (Verifier.close() calls it)."""
        endpoints, self._endpoints = self._endpoints, {}
        for endpoint in endpoints.values():
            endpoint.close()

    def _usable(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        if ip.is_global:
            return True
        return self.config.allow_private_addresses and not ip.is_unspecified

    async def _query(self, name: str, rdtype: str) -> tuple:
        """Records (empty for NODATA); raises NameNotFound, or TransientDnsError."""
        name = name.lower().rstrip(".")
        code = RDTYPES[rdtype]
        cached = self.cache.get(name, code)
        if cached is not None:
            return cached
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # sockets of an earlier (closed) event loop are no use here
            self.close()
            self._loop = loop
        async with self._sem:
            return await self.resolver.resolve(self._endpoints, name, code)

    async def host_addresses(self, name: str) -> tuple[str, ...]:
        """A then AAAA of a host, filtered; NXDOMAIN/NODATA give ()."""
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                addresses = await self._query(name, rdtype)
            except NameNotFound:
                return ()
            found.extend(a for a in addresses if self._usable(a))
            if found:
                break
        return tuple(found)

    async def domain_exists(self, domain: str) -> tuple[str, ...] | None:
        """Addresses of a web host name, () if the name exists without usable A, None if absent."""
        try:
            return await self.host_addresses(domain)
        except TransientDnsError:
            return None

    async def mail_route(self, domain: str) -> MailRoute:
        """Routes are kept per process (ROUTE_TTL, ROUTE_ERROR_TTL for a DNS failure); concurrent
        callers for the same domain share one lookup."""
        key = (*self._route_key, domain)
        hit = _routes.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        fut = self._inflight.get(domain)
        if fut is not None:
            return await asyncio.shield(fut)
        fut = asyncio.get_running_loop().create_future()
        self._inflight[domain] = fut
        try:
            route = await self._mail_route(domain)
            ttl = ROUTE_ERROR_TTL if route.outcome == DNS_ERROR else ROUTE_TTL
            with _caches_lock:
                if len(_routes) >= CACHE_MAX:
                    _routes.clear()
                _routes[key] = (route, time.monotonic() + ttl)
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
        except NameNotFound:
            return MailRoute(NXDOMAIN)
        except TransientDnsError as exc:
            return MailRoute(DNS_ERROR, detail=str(exc))
        if records:
            # Equal preferences in DNSSEC canonical name order, as dnspython's Name sorts.
            mx = sorted(records, key=lambda r: (r[0], tuple(reversed(r[1].split(".")))))
            real = [(p, n) for p, n in mx if n]  # "" is the root: "MX 0 ."
            if not real:
                return MailRoute(NULL_MX)  # RFC 7505: "MX 0 ." = this domain takes no mail
            try:
                resolved = await asyncio.gather(*(self.host_addresses(n) for _, n in real))
            except TransientDnsError as exc:
                return MailRoute(DNS_ERROR, detail=str(exc))
            hosts = tuple(
                MailHost(p, n, addrs) for (p, n), addrs in zip(real, resolved, strict=True) if addrs
            )
            if not hosts:
                return MailRoute(NO_MX, detail="no MX host has a usable address")
            return MailRoute(MX, hosts)
        # NODATA for MX: implicit MX from the domain's own A/AAAA.
        try:
            addrs = await self.host_addresses(domain)
            if addrs:
                txt = await self._query(domain, "TXT")
                spf = [t.decode("ascii", "replace") for t in txt]
                if any(s.strip().lower() == "v=spf1 -all" for s in spf):
                    return MailRoute(NO_MX, detail="no MX, SPF 'v=spf1 -all' (sends no mail)")
        except NameNotFound:
            return MailRoute(NXDOMAIN)
        except TransientDnsError as exc:
            return MailRoute(DNS_ERROR, detail=str(exc))
        if not addrs:
            return MailRoute(NO_MX, detail="no MX and no usable A/AAAA")
        return MailRoute(IMPLICIT, (MailHost(0, domain, addrs),))
