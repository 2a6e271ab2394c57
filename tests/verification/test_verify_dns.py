"""The engine's own stub resolver: one socket per event loop, per-process caches, the wire format."""

import asyncio
import socket
import struct
import time

import dns.message
import dns.rrset

from enrichment.verification import dns as vdns
from sandbox.servers.worlds import domain_entry


def _world(sandbox_factory):
    return sandbox_factory(
        [
            domain_entry("nordlys.no", mailboxes=["kari.nordmann"]),
            domain_entry("silent.no", dns="timeout"),
            domain_entry("gone.no", dns="nxdomain"),
        ]
    )


def test_one_socket_carries_every_query_and_survives_a_silent_nameserver(
    sandbox_factory, config_for
):
    sb = _world(sandbox_factory)
    config = config_for(sb)

    async def go():
        client = vdns.DnsClient(config)
        try:
            silent = await client.mail_route("silent.no")
            found = await client.mail_route("nordlys.no")
            gone = await client.mail_route("gone.no")
        finally:
            client.close()
        return silent, found, gone

    started = time.monotonic()
    silent, found, gone = asyncio.run(go())
    assert silent.outcome == vdns.DNS_ERROR  # unknown, never invalid
    assert time.monotonic() - started < config.timeouts.dns + 1.0
    assert found.outcome == vdns.MX
    assert [h.name for h in found.hosts] == ["mx1.nordlys.no", "mx2.nordlys.no"]
    assert found.hosts[0].addresses == ("127.0.0.1",)
    assert gone.outcome == vdns.NXDOMAIN
    # The silent name was asked again within its lifetime, and the answers after the time-out
    # came over the same socket: one source port for every query of the loop.
    ports = sb.dns.resolver.client_ports
    assert len(ports) == 1
    assert sum(ports.values()) >= 2 + 4  # silent.no at least twice, MX + 2 x A, gone.no


def test_answers_and_routes_are_kept_per_process_until_cleared(sandbox_factory, config_for):
    sb = _world(sandbox_factory)
    config = config_for(sb)

    def lookup(*names: str):
        async def go():
            client = vdns.DnsClient(config)
            try:
                return [await client.domain_exists(n) for n in names] + [
                    await client.mail_route("nordlys.no")
                ]
            finally:
                client.close()

        return asyncio.run(go())

    first = lookup("gone.no", "gone.no")
    assert first[:2] == [(), ()]  # NXDOMAIN: no addresses
    asked = sb.dns.resolver.queries
    assert asked == 1 + 3  # gone.no once (cached NXDOMAIN), MX + A of two hosts
    # A second event loop (another chunk of the nightly search) asks the network nothing.
    again = lookup("gone.no")
    assert sb.dns.resolver.queries == asked
    assert again[-1] == first[-1]
    vdns.dns_cache_clear()
    lookup("gone.no")
    assert sb.dns.resolver.queries > asked


def _response(qname: str, rdtype: str, answers=(), authority=(), rcode=0) -> bytes:
    query = dns.message.make_query(qname, rdtype)
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    for name, ttl, rtype, *rdatas in answers:
        response.answer.append(dns.rrset.from_text(name, ttl, "IN", rtype, *rdatas))
    for name, ttl, rtype, *rdatas in authority:
        response.authority.append(dns.rrset.from_text(name, ttl, "IN", rtype, *rdatas))
    return response.to_wire()  # compressed names, as real servers send them


def test_the_wire_reader_follows_cnames_and_compression_like_dnspython():
    wire = _response(
        "Acme.no",
        "MX",
        answers=[
            ("acme.no.", 600, "CNAME", "mail.acme.no."),
            ("mail.acme.no.", 120, "MX", "20 mx2.acme.no.", "10 MX1.Acme.no."),
        ],
    )
    parsed = vdns._parse(wire, "acme.no", 15)
    assert sorted(parsed.records) == [(10, "mx1.acme.no"), (20, "mx2.acme.no")]
    assert parsed.ttl == 120

    null_mx = vdns._parse(_response("x.no", "MX", [("x.no.", 60, "MX", "0 .")]), "x.no", 15)
    assert null_mx.records == ((0, ""),)

    txt = _response("x.no", "TXT", [("x.no.", 60, "TXT", '"v=spf1 " "-all"')])
    assert vdns._parse(txt, "x.no", 16).records == (b"v=spf1 -all",)
    aaaa = _response("x.no", "AAAA", [("x.no.", 60, "AAAA", "2001:db8::1")])
    assert vdns._parse(aaaa, "x.no", 28).records == ("2001:db8::1",)

    soa = ("no.", 900, "SOA", "ns.no. host.no. 1 3600 600 86400 120")
    nodata = vdns._parse(_response("x.no", "MX", authority=[soa]), "x.no", 15)
    assert (nodata.rcode, nodata.records, nodata.ttl) == (0, (), 120)
    nxdomain = vdns._parse(_response("y.no", "A", rcode=3), "y.no", 1)
    assert (nxdomain.rcode, nxdomain.ttl) == (3, vdns.NEGATIVE_TTL_WITHOUT_SOA)


class _TruncatingServer(asyncio.DatagramProtocol):
    """Answers every UDP query first with a stray datagram (another question), then with the
    truncation bit and no records; the full answer is only on TCP."""

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        stray = _response("other.no", "MX", [("other.no.", 60, "MX", "10 evil.no.")])
        self.transport.sendto(data[:2] + stray[2:], addr)
        header = bytearray(data[:12])
        header[2] |= 0x82  # QR + TC
        header[10:12] = b"\x00\x00"  # no additional records
        self.transport.sendto(bytes(header) + data[12:-11], addr)


async def _tcp_answer(reader, writer):
    size = struct.unpack("!H", await reader.readexactly(2))[0]
    query = dns.message.from_wire(await reader.readexactly(size))
    response = dns.message.make_response(query)
    response.answer.append(
        dns.rrset.from_text("big.no.", 60, "IN", "MX", *(f"{i} mx{i}.big.no." for i in range(60)))
    )
    wire = response.to_wire(max_size=65535)
    writer.write(struct.pack("!H", len(wire)) + wire)
    await writer.drain()
    writer.close()


def test_a_truncated_answer_is_asked_again_over_tcp_and_strays_are_ignored():
    async def go():
        loop = asyncio.get_running_loop()
        for _ in range(20):  # UDP and TCP on one port number
            udp, _ = await loop.create_datagram_endpoint(
                _TruncatingServer, local_addr=("127.0.0.1", 0)
            )
            port = udp.get_extra_info("sockname")[1]
            try:
                tcp = await asyncio.start_server(_tcp_answer, "127.0.0.1", port)
                break
            except OSError:
                udp.close()
        resolver = vdns.StubResolver([("127.0.0.1", port)], lifetime=2.0, timeout=0.7)
        endpoints: dict = {}
        try:
            return await resolver.resolve(endpoints, "big.no", 15)
        finally:
            for endpoint in endpoints.values():
                endpoint.close()
            udp.close()
            tcp.close()
            await tcp.wait_closed()

    vdns.dns_cache_clear()
    records = asyncio.run(go())
    assert len(records) == 60
    assert (0, "mx0.big.no") in records
    assert not any(name == "evil.no" for _, name in records)


def test_a_refused_port_is_a_dns_error_not_a_wait_for_the_lifetime():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there

    async def go():
        resolver = vdns.StubResolver([("127.0.0.1", port)], lifetime=5.0, timeout=2.0)
        endpoints: dict = {}
        try:
            await resolver.resolve(endpoints, "nordlys.no", 15)
        except vdns.TransientDnsError as exc:
            return exc
        finally:
            for endpoint in endpoints.values():
                endpoint.close()

    started = time.monotonic()
    assert isinstance(asyncio.run(go()), vdns.TransientDnsError)
    assert time.monotonic() - started < 2.0
