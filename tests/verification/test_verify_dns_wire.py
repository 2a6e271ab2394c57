"""The stub resolver's wire reader against dnspython, on generated answers and on garbage.

The reader is hand-written because dnspython's parser cost a millisecond per answer on this
machine; these properties hold it to dnspython's reading of the same bytes (records after CNAMEs,
the TTL the cache keeps) and make sure a hostile datagram can only fail the way the resolver
expects (it then tries the next nameserver), never with another exception.
"""

import contextlib
import ipaddress
import struct

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enrichment.verification import dns as vdns

READER_ERRORS = (ValueError, IndexError, struct.error)
LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
TTL = st.integers(min_value=0, max_value=86_400)


@st.composite
def names(draw, zone="no"):
    labels = draw(st.lists(LABEL, min_size=1, max_size=3))
    return ".".join(labels) + "." + zone


@st.composite
def rdatas(draw, rdtype):
    if rdtype == "A":
        return ".".join(str(draw(st.integers(0, 255))) for _ in range(4))
    if rdtype == "AAAA":
        groups = draw(st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8))
        return ":".join(f"{g:x}" for g in groups)
    if rdtype == "MX":
        exchange = draw(st.one_of(st.just("."), names().map(lambda n: n + ".")))
        return f"{draw(st.integers(0, 65535))} {exchange}"
    chunks = draw(st.lists(st.text(alphabet="abc =-;", max_size=20), min_size=1, max_size=3))
    return " ".join(f'"{chunk}"' for chunk in chunks)


@st.composite
def answers(draw):
    """A response to qname/rdtype, as plain data (dnspython builds it in the test): 0-3 CNAMEs
    before the records, a record of another owner mixed in, maybe an SOA in the authority."""
    rdtype = draw(st.sampled_from(["A", "AAAA", "MX", "TXT"]))
    qname = draw(names())
    rrsets = []
    owner = qname
    for target in draw(st.lists(names(zone="cdn.no"), max_size=3, unique=True)):
        rrsets.append(("answer", owner, draw(TTL), "CNAME", [target + "."]))
        owner = target
    records = draw(st.lists(rdatas(rdtype), max_size=4, unique=True))
    if records:
        rrsets.append(("answer", owner, draw(TTL), rdtype, records))
    if draw(st.booleans()):  # a record the question did not ask for
        rrsets.append(("answer", draw(names(zone="elsewhere.no")), draw(TTL), "A", ["192.0.2.1"]))
    if draw(st.booleans()):
        soa = f"ns.no. hostmaster.no. 1 3600 600 86400 {draw(TTL)}"
        rrsets.append(("authority", "no", draw(TTL), "SOA", [soa]))
    nxdomain = not records and draw(st.booleans())
    return qname, rdtype, rrsets, nxdomain


def _wire(answer):
    qname, rdtype, rrsets, nxdomain = answer
    response = dns.message.make_response(dns.message.make_query(qname, rdtype, id=4711))
    for section, owner, ttl, kind, rdata in rrsets:
        rrset = dns.rrset.from_text(owner + ".", ttl, "IN", kind, *rdata)
        getattr(response, section).append(rrset)
    if nxdomain:
        response.set_rcode(dns.rcode.NXDOMAIN)
    return response.to_wire(), qname, dns.rdatatype.from_text(rdtype)


def _dnspython_reading(wire, rdtype):
    message = dns.message.from_wire(wire)
    chain = message.resolve_chaining()
    found = []
    for rdata in chain.answer or ():
        if rdtype == dns.rdatatype.MX:
            exchange = rdata.exchange.to_text(omit_final_dot=True).lower()
            found.append((rdata.preference, "" if exchange == "." else exchange))  # null MX
        elif rdtype == dns.rdatatype.TXT:
            found.append(b"".join(rdata.strings))
        else:
            found.append(rdata.address)
    soa_present = any(r.rdtype == dns.rdatatype.SOA for r in message.authority)
    return message.rcode(), _spelled_alike(found, rdtype), chain.minimum_ttl, soa_present


def _spelled_alike(records, rdtype):
    """Sorted records, IPv6 addresses in one spelling: an address has several (dnspython writes
    ::0.1.0.0 where inet_ntop writes ::1:0), and the engine connects to the address, not the text."""
    if rdtype == dns.rdatatype.AAAA:
        return sorted(ipaddress.ip_address(r) for r in records)
    return sorted(records)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers())
def test_the_reader_agrees_with_dnspython_on_generated_answers(answer):
    wire, qname, rdtype = _wire(answer)
    rcode, expected, minimum_ttl, soa_present = _dnspython_reading(wire, rdtype)

    parsed = vdns._parse(wire, qname, rdtype)

    assert parsed.rcode == rcode
    assert _spelled_alike(parsed.records, rdtype) == expected
    assert not parsed.truncated
    if expected or soa_present:
        assert parsed.ttl == minimum_ttl
    else:  # no records and no SOA: dnspython's resolver then caches for 300 s, as we do
        assert parsed.ttl <= vdns.NEGATIVE_TTL_WITHOUT_SOA


@settings(max_examples=400, deadline=None)
@given(answers(), st.data())
def test_a_damaged_answer_fails_only_the_way_the_resolver_catches(answer, data):
    wire, qname, rdtype = _wire(answer)
    damaged = bytearray(wire)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(damaged) - 1))
        damaged[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(damaged)))
    with contextlib.suppress(READER_ERRORS):
        vdns._parse(bytes(damaged[:cut] if data.draw(st.booleans()) else damaged), qname, rdtype)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=300))
def test_random_bytes_fail_only_the_way_the_resolver_catches(blob):
    with contextlib.suppress(READER_ERRORS):
        vdns._parse(blob, "acme.no", dns.rdatatype.MX)


def test_a_name_longer_than_dns_allows_is_a_bad_answer_not_a_crash():
    for label in (b"a" * 63, b"\x01" * 63):  # plain, and one dnspython must escape
        owner = (bytes((63,)) + label) * 5 + b"\x00"  # 320 octets
        header = struct.pack("!HHHHHH", 1, 0x8180, 0, 1, 0, 0)
        record = struct.pack("!HHIH", 15, 1, 60, 4) + b"\x00\x0a\xc0\x0c"
        with pytest.raises(ValueError, match="255"):
            vdns._parse(header + owner + record, "acme.no", dns.rdatatype.MX)
