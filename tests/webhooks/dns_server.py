"""A loopback DNS server whose A records the test sets (`answers["hooks.example.com"] = "10.0.0.7"`)."""

from __future__ import annotations

from dnslib import QTYPE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class _Resolver(BaseResolver):
    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        if request.q.qtype == QTYPE.A and name in self.answers:
            reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A(self.answers[name]), ttl=1))
        return reply


class TestDNS:
    def __init__(self) -> None:
        self.answers: dict[str, str] = {}
        self.server = DNSServer(
            _Resolver(self.answers),
            port=0,
            address="127.0.0.1",
            logger=DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data"),
        )

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.server.server.server_address[1]}"

    def __enter__(self) -> TestDNS:
        self.server.start_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
