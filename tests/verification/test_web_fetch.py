"""The crawler against the sandbox's HTTPS server (test CA trusted through settings): redirects,
robots.txt, size and time limits, off-site redirects, and outages that are not facts."""

import asyncio

import pytest

from enrichment.verification import Timeouts
from enrichment.verification.discovery import Discovery, web_config_for
from enrichment.verification.dns import DnsClient
from enrichment.web import SiteFetcher
from sandbox.servers.worlds import domain_entry

pytestmark = pytest.mark.django_db  # settings only; no rows

TEAM = [
    {"name": "Anna Lindqvist", "title": "VD", "phone": "+46 70 123 45 67"},
    {"name": "Erik Berg", "title": "Säljare"},
]


def site(domain, dns="ok", **web):
    base = {"company_name": "Fjäll AB", "country": "SE", "registry_id": "5566778899"}
    return domain_entry(domain, dns=dns, web={**base, **web})


def visit(sb, config_for, domain, **config):
    cfg = config_for(sb, **config)

    async def go():
        disc = Discovery(cfg, DnsClient(cfg))
        try:
            return await disc.site_visit(domain)
        finally:
            await disc.aclose()

    return asyncio.run(go())


def test_http_redirects_to_https_www_and_the_team_page_is_read(sandbox_factory, config_for):
    sb = sandbox_factory(
        [
            site(
                "fjall.se",
                https=True,
                www=True,
                pages=[{"path": "/om-oss/medarbetare", "title": "Medarbetare", "people": TEAM}],
            )
        ]
    )
    v = visit(sb, config_for, "fjall.se")
    assert v.state == "ok"
    assert [p.url for p in v.pages] == [
        "https://www.fjall.se/",
        "https://www.fjall.se/om-oss/medarbetare",
    ]
    assert any("Anna Lindqvist" in b.text for b in v.pages[1].blocks)
    # The bare name was asked once over HTTPS and redirected to www; TLS was checked (test CA).
    assert ("https", "fjall.se", "/robots.txt") in sb.http.log
    assert ("https", "www.fjall.se", "/om-oss/medarbetare") in sb.http.log


def test_plain_http_is_redirected_to_https(sandbox_factory, config_for, settings):
    sb = sandbox_factory([site("berg.se", https=True)])
    settings.LEADPILOT_HTTPS_PORT = 1  # nothing listens there: HTTPS fails, HTTP redirects
    v = visit(sb, config_for, "berg.se")
    # http://berg.se/ answered 301 to https://, which cannot be reached: not "no site".
    assert v.state == "unreachable"
    assert ("http", "berg.se", "/robots.txt") in sb.http.log


def test_robots_txt_is_honoured_the_disallowed_team_page_is_never_fetched(
    sandbox_factory, config_for
):
    sb = sandbox_factory(
        [
            site(
                "stangd.se",
                https=True,
                robots_disallow=["/om-oss/medarbetare"],
                pages=[{"path": "/om-oss/medarbetare", "title": "Medarbetare", "people": TEAM}],
            )
        ]
    )
    v = visit(sb, config_for, "stangd.se")
    assert v.state == "ok" and len(v.pages) == 1
    assert {"url": "https://stangd.se/om-oss/medarbetare", "status": None, "skipped": "robots"} in (
        v.log
    )
    assert not [entry for entry in sb.http.log if entry[2].startswith("/om-oss")]


def test_huge_and_slow_pages_are_skipped_with_their_reason(sandbox_factory, config_for):
    sb = sandbox_factory(
        [
            site(
                "tung.se",
                pages=[
                    {"path": "/om-oss", "title": "Om oss", "people": TEAM, "huge_bytes": 1_200_000},
                    {"path": "/kontakt", "title": "Kontakt", "people": TEAM, "slow_seconds": 5},
                ],
            )
        ]
    )
    v = visit(sb, config_for, "tung.se", timeouts=Timeouts(dns=1.0, http=0.5))
    skipped = {e["url"].rsplit("/", 1)[1]: e["skipped"] for e in v.log if e["skipped"]}
    assert skipped == {"om-oss": "size", "kontakt": "time"}
    assert v.state == "ok" and len(v.pages) == 1  # the home page still counts


def test_a_redirect_to_another_host_is_refused_and_recorded(sandbox_factory, config_for):
    from sandbox.servers import http as sandbox_http

    sb = sandbox_factory([site("flytt.se"), site("annan.se")])
    original = sb.http.answer

    def answer(scheme, host, path):
        if host == "flytt.se" and path == "/":
            return 0.0, sandbox_http._response(301, "text/plain", b"", "https://annan.se/")
        return original(scheme, host, path)

    sb.http.answer = answer
    v = visit(sb, config_for, "flytt.se")
    assert v.state == "no_site"
    assert any(e["skipped"] == "off_site_redirect" for e in v.log)
    assert not [e for e in sb.http.log if e[1] == "annan.se"]


def test_an_unreachable_site_is_not_recorded_as_no_website(sandbox_factory, config_for, settings):
    sb = sandbox_factory([site("nere.se"), site("borta.se", dns="servfail")])
    settings.LEADPILOT_HTTPS_PORT = 1
    # Both web ports closed: refused connections are an outage, not a fact about the company.
    v = visit(sb, config_for, "nere.se", http_port=1)
    assert (v.state, v.reason) == ("unreachable", "connect_error")
    assert visit(sb, config_for, "borta.se").state == "unreachable"  # resolver failure
    assert visit(sb, config_for, "finnsinte.se").state == "no_site"  # NXDOMAIN: no site
    from enrichment.verification.discovery import PROCESS_PAGE_CACHE

    assert PROCESS_PAGE_CACHE.size() == 1  # only the NXDOMAIN answer is kept


def test_a_wrong_ca_is_a_tls_error_not_a_page(sandbox_factory, config_for, settings, tmp_path):
    import trustme

    sb = sandbox_factory([site("tls.se", https=True)])
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    settings.LEADPILOT_HTTP_CA_FILE = str(other)
    v = visit(sb, config_for, "tls.se")
    assert v.state == "unreachable"
    assert any(e.get("skipped") == "tls_error" for e in v.log)


def test_requests_to_one_site_wait_the_politeness_delay(sandbox_factory, config_for, settings):
    import time

    sb = sandbox_factory(
        [site("sakta.se", pages=[{"path": "/kontakt", "title": "Kontakt", "people": TEAM}])]
    )
    settings.LEADPILOT_HTTP_DELAY = 0.3
    started = time.monotonic()
    v = visit(sb, config_for, "sakta.se")
    assert len(v.pages) == 2
    assert time.monotonic() - started >= 0.6  # robots.txt, home, /kontakt: two waits


def test_the_user_agent_names_the_contact_url(settings, config_for, sandbox_factory):
    sb = sandbox_factory([site("ua.se")])
    settings.LEADPILOT_CRAWLER_CONTACT_URL = "https://example.org/bot"
    cfg = web_config_for(config_for(sb))
    assert cfg.user_agent == "LeadPilotBot/1.0 (+https://example.org/bot)"
    assert isinstance(SiteFetcher(cfg, DnsClient(config_for(sb))), SiteFetcher)


def test_a_site_that_disallows_everything_is_not_read(sandbox_factory, config_for):
    sb = sandbox_factory([site("privat.se", https=True, www=True, robots_disallow=["/"])])
    v = visit(sb, config_for, "privat.se")
    assert (v.state, v.reason, v.pages) == ("no_site", "robots", [])
    assert {path for _, _, path in sb.http.log} == {"/robots.txt"}
