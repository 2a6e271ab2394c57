"""The sandbox peers themselves, checked with plain clients (dnspython, smtplib, urllib)."""

import json
import smtplib
import urllib.request

import dns.exception
import dns.resolver
import pytest

from sandbox.servers import ManifestError, Sandbox
from sandbox.servers.manifest import domains_load, domains_write
from sandbox.servers.worlds import domain_entry, world_mix


def resolver(sb, lifetime=0.5):
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = ["127.0.0.1"]
    r.port = sb.dns_port
    r.lifetime = lifetime
    return r


def test_dns_answers_nxdomain_nodata_servfail_timeout_and_null_mx(sandbox_factory):
    sb = sandbox_factory(
        [
            domain_entry("ok.no", spf="v=spf1 mx -all"),
            domain_entry("amx.no", mx=[]),
            domain_entry("null.no", behaviour=None, mx=[[0, "."]]),
            domain_entry("gone.no", dns="nxdomain"),
            domain_entry("broken.no", dns="servfail"),
            domain_entry("silent.no", dns="timeout"),
        ]
    )
    r = resolver(sb)
    mx = sorted((rr.preference, rr.exchange.to_text()) for rr in r.resolve("ok.no", "MX"))
    assert mx == [(10, "mx1.ok.no."), (20, "mx2.ok.no.")]
    assert [rr.address for rr in r.resolve("mx1.ok.no", "A")] == ["127.0.0.1"]
    assert b"v=spf1 mx -all" in r.resolve("ok.no", "TXT")[0].strings
    with pytest.raises(dns.resolver.NoAnswer):  # the name exists: NODATA, not NXDOMAIN
        r.resolve("amx.no", "MX")
    assert [rr.address for rr in r.resolve("amx.no", "A")] == ["127.0.0.1"]
    (null,) = r.resolve("null.no", "MX")
    assert (null.preference, null.exchange.to_text()) == (0, ".")
    for name in ("gone.no", "mail.gone.no", "unknown-name.no"):
        with pytest.raises(dns.resolver.NXDOMAIN):
            r.resolve(name, "MX")
    with pytest.raises(dns.resolver.NoNameservers):
        r.resolve("broken.no", "MX")
    with pytest.raises(dns.exception.Timeout):
        r.resolve("silent.no", "MX")


def smtp(sb, timeout=2.0):
    c = smtplib.SMTP("127.0.0.1", sb.smtp_port, timeout=timeout)
    c.ehlo("probe.leadpilot.no")
    c.mail("probe@leadpilot.no")
    return c


def test_smtp_mailboxes_full_disabled_and_unknown(sandbox_factory):
    sb = sandbox_factory([domain_entry("a.no", mailboxes=["kari"], full=["f"], disabled=["d"])])
    c = smtp(sb)
    assert c.rcpt("kari@a.no")[0] == 250
    assert c.rcpt("f@a.no") == (
        452,
        b"4.2.2 The email account that you tried to reach is over quota.",
    )
    assert c.rcpt("d@a.no")[0] == 550
    code, msg = c.rcpt("nobody@a.no")
    assert (code, msg.startswith(b"5.1.1")) == (550, True)
    c.quit()


def test_smtp_greylisting_follows_the_injected_clock(sandbox_factory, clock):
    sb = sandbox_factory(
        [domain_entry("g.no", behaviour="greylist", mailboxes=["kari"], greylist_seconds=300)]
    )
    c = smtp(sb)
    assert c.rcpt("kari@g.no")[0] == 450
    clock.advance(299)
    assert c.rcpt("kari@g.no")[0] == 450
    clock.advance(2)
    assert c.rcpt("kari@g.no")[0] == 250
    assert c.rcpt("other@g.no")[0] == 450  # a new triple starts its own delay
    c.quit()


def test_smtp_second_rcpt_is_rejected_like_consumer_outlook(sandbox_factory):
    sb = sandbox_factory([domain_entry("o.no", behaviour="second_rcpt_reject", mailboxes=["k"])])
    c = smtp(sb)
    assert c.rcpt("k@o.no")[0] == 250
    assert c.rcpt("k@o.no") == (452, b"4.5.3 Too many recipients")
    c.quit()


@pytest.mark.parametrize(
    ("behaviour", "code", "text"),
    [
        ("catch_all", 250, b"2.1.5"),
        ("yahoo_like", 250, b"2.1.5"),
        ("blacklist", 554, b"spamhaus"),
        ("dbeb", 550, b"AS(201806281)"),
    ],
)
def test_smtp_behaviours_for_strangers(sandbox_factory, behaviour, code, text):
    sb = sandbox_factory([domain_entry("b.no", behaviour=behaviour, mailboxes=["k"])])
    c = smtp(sb)
    got_code, msg = c.rcpt("stranger@b.no")
    assert got_code == code and text in msg
    c.quit()


def test_smtp_disconnect_and_tarpit(sandbox_factory):
    sb = sandbox_factory(
        [
            domain_entry("drop.no", behaviour="disconnect", mailboxes=["k"]),
            domain_entry("slow.no", behaviour="tarpit", mailboxes=["k"]),
        ],
        tarpit_seconds=5.0,
    )
    c = smtp(sb)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        c.rcpt("k@drop.no")
    c = smtp(sb, timeout=0.3)
    with pytest.raises((TimeoutError, smtplib.SMTPServerDisconnected)):
        c.rcpt("k@slow.no")


def test_smtp_latency_is_added_to_every_reply(sandbox_factory):
    sb = sandbox_factory([domain_entry("a.no", mailboxes=["k"])], smtp_latency_ms=1500)
    with pytest.raises((TimeoutError, smtplib.SMTPServerDisconnected)):
        smtplib.SMTP("127.0.0.1", sb.smtp_port, timeout=0.3)


def test_smtp_refuses_an_impossible_helo(sandbox_factory):
    sb = sandbox_factory([domain_entry("a.no", mailboxes=["k"])])
    c = smtplib.SMTP("127.0.0.1", sb.smtp_port, timeout=2)
    code, _ = c.ehlo("gmail.com")
    assert code == 550
    c.close()


def test_http_serves_company_pages_by_host_header(sandbox_factory):
    page = {
        "company_name": "Fjord Bygg AS",
        "country": "NO",
        "registry_id": "912345678",
        "emails": ["post@fjord-bygg.no"],
        "phones": ["+47 22 33 44 55"],
    }
    sb = sandbox_factory([domain_entry("fjord-bygg.no", web=page), domain_entry("noweb.no")])

    def get(host):
        req = urllib.request.Request(f"http://127.0.0.1:{sb.http_port}/", headers={"Host": host})
        try:
            with urllib.request.urlopen(req, timeout=2) as resp:  # noqa: S310 - loopback
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, ""

    status, body = get("www.fjord-bygg.no")
    assert status == 200
    assert "Fjord Bygg AS" in body and "912 345 678" in body and "mailto:post@fjord-bygg.no" in body
    assert get("noweb.no")[0] == 404
    assert get("elsewhere.no")[0] == 404


def test_manifest_errors_name_the_line_and_field(tmp_path):
    path = tmp_path / "internet" / "domains.jsonl"
    path.parent.mkdir()
    good = json.dumps(domain_entry("a.no"))
    path.write_text(good + "\n" + json.dumps({**domain_entry("b.no"), "dns": "maybe"}) + "\n")
    with pytest.raises(ManifestError, match=r"domains.jsonl:2.*field 'dns'"):
        domains_load(tmp_path)
    path.write_text(good + "\n{not json\n")
    with pytest.raises(ManifestError, match=r"domains.jsonl:2: not JSON"):
        domains_load(tmp_path)
    path.write_text(json.dumps(domain_entry("x.test")) + "\n")
    with pytest.raises(ManifestError, match="special-use"):
        domains_load(tmp_path)


def test_world_round_trips_through_domains_jsonl(tmp_path):
    domains, probes = world_mix(seed=1, domains=40, addresses=400)
    domains_write(tmp_path, domains)
    loaded = domains_load(tmp_path)
    assert len(loaded) == 40
    assert len(probes) == 400
    with Sandbox.from_world(tmp_path) as sb:
        assert sb.dns_port and sb.smtp_port and sb.http_port


def test_smtp_domain_latency_applies_once_the_domain_is_known(sandbox_factory):
    sb = sandbox_factory(
        [
            domain_entry("fast.no", mailboxes=["k"]),
            domain_entry("slow.no", mailboxes=["k"], latency_ms=1500),
        ]
    )
    c = smtp(sb, timeout=0.5)
    assert c.rcpt("k@fast.no")[0] == 250
    c.rset()
    c.mail("probe@leadpilot.no")
    with pytest.raises((TimeoutError, smtplib.SMTPServerDisconnected)):
        c.rcpt("k@slow.no")
