"""Sandbox DNS server (dnslib) answering from the world manifest.

A custom BaseResolver, because dnslib's ZoneResolver answers NXDOMAIN for an existing name asked
for a missing type; here absent names get NXDOMAIN and present names without the type get NODATA.
Per-domain modes: ok | nxdomain | servfail | timeout (no answer at all).

UDP is served by one asyncio datagram endpoint on its own thread: answers are computed once per
distinct question (the world is static) and sent after the injected latency with a timer, not a
sleeping thread per request, so the sandbox spends little CPU per query next to the engine under
test. TCP (truncated answers) keeps dnslib's threaded server.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

from dnslib import AAAA, MX, QTYPE, RCODE, RR, TXT, A, DNSLabel, DNSRecord
from dnslib.server import BaseResolver, DNSError, DNSLogger, DNSServer

from sandbox.servers.manifest import DomainSpec

TTL = 300
LOOPBACK = "127.0.0.1"


class QuietLogger(DNSLogger):
    def __init__(self) -> None:
        super().__init__(log="-request,-reply,-truncated,-error,-recv,-send,-data")


class WorldResolver(BaseResolver):
    def __init__(self, domains: dict[str, DomainSpec], *, latency_ms: float = 0.0) -> None:
        self.latency = latency_ms / 1000.0
        self.modes: dict[str, str] = {}  # domain -> nxdomain | servfail | timeout
        self.records: dict[str, dict[int, list[RR]]] = {}
        self.queries = 0
        self.client_ports: Counter[int] = Counter()  # UDP queries per client source port
        for spec in domains.values():
            self._add_domain(spec)

    def _add(self, name: str, rtype: int, rdata) -> None:
        name = name.lower().rstrip(".")
        self.records.setdefault(name, {}).setdefault(rtype, []).append(
            RR(rname=DNSLabel(name), rtype=rtype, rdata=rdata, ttl=TTL)
        )

    def _touch(self, name: str) -> None:
        self.records.setdefault(name.lower().rstrip("."), {})

    def _add_domain(self, spec: DomainSpec) -> None:
        if spec.dns != "ok":
            self.modes[spec.domain] = spec.dns
            return
        self._touch(spec.domain)
        for pref, host in spec.mx:
            if host.strip(".") == "":
                self._add(spec.domain, QTYPE.MX, MX(".", pref))
                continue
            self._add(spec.domain, QTYPE.MX, MX(host, pref))
            # MX hosts live on loopback; a host shared by many domains is added once.
            if QTYPE.A not in self.records.get(host, {}):
                self._add(host, QTYPE.A, A(LOOPBACK))
        for addr in spec.a:
            if ":" in addr:
                self._add(spec.domain, QTYPE.AAAA, AAAA(addr))
            else:
                self._add(spec.domain, QTYPE.A, A(addr))
        if spec.web is not None:
            web_addrs = list(spec.a) or [LOOPBACK]
            for addr in web_addrs:
                if ":" not in addr:
                    self._add(f"www.{spec.domain}", QTYPE.A, A(addr))
        if spec.spf:
            self._add(spec.domain, QTYPE.TXT, TXT(spec.spf))

    def _mode(self, qname: str) -> str | None:
        labels = qname.split(".")
        for i in range(len(labels) - 1):
            mode = self.modes.get(".".join(labels[i:]))
            if mode:
                return mode
        return None

    def resolve(self, request, handler):
        """dnslib's entry point (TCP): the latency, then the answer."""
        self.queries += 1
        if self.latency:
            time.sleep(self.latency)  # one thread per request (ThreadingMixIn)
        return self.answer(request)

    def answer(self, request):
        """The reply to a parsed request; raises DNSError for a domain that never answers."""
        reply = request.reply()
        qname = str(request.q.qname).lower().rstrip(".")
        mode = self._mode(qname)
        if mode == "timeout":
            raise DNSError("sandbox: this domain's nameserver never answers")
        if mode == "servfail":
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        names = self.records.get(qname)
        if names is None:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        qtype = request.q.qtype
        for rr in names.get(qtype, ()):
            reply.add_answer(rr)
        if qtype == QTYPE.ANY:
            for rrs in names.values():
                for rr in rrs:
                    reply.add_answer(rr)
        return reply  # no answers + NOERROR = NODATA


def _serve(server: DNSServer) -> None:
    # A short poll interval makes shutdown() quick (tests start many sandboxes).
    threading.Thread(
        target=server.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()


_NO_REPLY = b""
_CACHE_MAX = 500_000


class _UDPProtocol(asyncio.DatagramProtocol):
    """Answers from a cache keyed by the query without its 2-byte id (same question, flags and
    EDNS: same answer), each sent `latency` seconds later by a timer."""

    def __init__(self, resolver: WorldResolver) -> None:
        self.resolver = resolver
        self.cache: dict[bytes, bytes] = {}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.resolver.queries += 1
        self.resolver.client_ports[addr[1]] += 1
        key = data[2:]
        body = self.cache.get(key)
        if body is None:
            try:
                body = self.resolver.answer(DNSRecord.parse(data)).pack()[2:]
            except Exception:  # DNSError (never answers) or a query dnslib cannot parse
                body = _NO_REPLY
            if len(self.cache) >= _CACHE_MAX:
                self.cache.clear()
            self.cache[key] = body
        if body is _NO_REPLY or not body:
            return
        reply = data[:2] + body
        if self.resolver.latency:
            asyncio.get_running_loop().call_later(self.resolver.latency, self._send, reply, addr)
        else:
            self._send(reply, addr)

    def _send(self, reply: bytes, addr) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)


class SandboxDNS:
    def __init__(self, domains: dict[str, DomainSpec], *, latency_ms: float = 0.0) -> None:
        self.resolver = WorldResolver(domains, latency_ms=latency_ms)
        self.tcp: DNSServer | None = None
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._transport: asyncio.DatagramTransport | None = None

    def start(self, port: int = 0) -> int:
        loop = asyncio.new_event_loop()
        self._loop = loop
        transport, _ = loop.run_until_complete(
            loop.create_datagram_endpoint(
                lambda: _UDPProtocol(self.resolver), local_addr=(LOOPBACK, port)
            )
        )
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        self._thread = threading.Thread(target=loop.run_forever, daemon=True)
        self._thread.start()
        try:  # TCP on the same port number, for truncated answers
            self.tcp = DNSServer(
                self.resolver, address=LOOPBACK, port=self.port, tcp=True, logger=QuietLogger()
            )
            _serve(self.tcp)
        except OSError:
            self.tcp = None
        return self.port

    def stop(self) -> None:
        if self.tcp is not None:
            self.tcp.server.shutdown()
            self.tcp.server.server_close()
            self.tcp = None
        loop, self._loop = self._loop, None
        if loop is not None:
            transport = self._transport

            def close() -> None:
                if transport is not None:
                    transport.close()
                loop.stop()

            loop.call_soon_threadsafe(close)
            if self._thread is not None:
                self._thread.join(timeout=5)
            loop.close()
