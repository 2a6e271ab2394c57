"""The sandbox's HTTPS server: a test CA, a certificate for each SNI name, redirects, robots.txt
and slow pages, as the crawler tests rely on."""

import socket
import ssl
import time

from sandbox.servers import Sandbox
from sandbox.servers.worlds import domain_entry


def _get(sb: Sandbox, host: str, path: str, *, tls: bool, timeout: float = 5.0) -> str:
    port = sb.https_port if tls else sb.http_port
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock: socket.socket = raw
    if tls:
        ctx = ssl.create_default_context(cafile=sb.ca_file)
        sock = ctx.wrap_socket(raw, server_hostname=host)  # checks the name against the cert
    try:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    finally:
        sock.close()
    return data.decode("utf-8", "replace")


WEB = {
    "company_name": "Nordlys AS",
    "country": "NO",
    "registry_id": "912345678",
    "https": True,
    "www": True,
    "robots_disallow": ["/om-oss/ansatte"],
    "pages": [
        {"path": "/om-oss/ansatte", "title": "Ansatte", "lang": "no",
         "people": [{"name": "Kari Nordmann", "title": "Daglig leder"}]},
        {"path": "/kontakt", "title": "Kontakt", "slow_seconds": 0.5,
         "people": [{"name": "Ola Lund", "title": "Styreleder"}]},
    ],
}  # fmt: skip


def test_https_with_a_test_ca_redirects_robots_and_slow_pages():
    with Sandbox([domain_entry("nordlys.no", web=WEB)]).start() as sb:
        assert sb.https_port and sb.ca_file
        plain = _get(sb, "nordlys.no", "/", tls=False)
        assert plain.startswith("HTTP/1.0 301") and "Location: https://www.nordlys.no/" in plain
        bare = _get(sb, "nordlys.no", "/kontakt", tls=True)
        assert "Location: https://www.nordlys.no/kontakt" in bare
        home = _get(sb, "www.nordlys.no", "/", tls=True)
        assert home.startswith("HTTP/1.0 200") and "href='/om-oss/ansatte'" in home
        robots = _get(sb, "www.nordlys.no", "/robots.txt", tls=True)
        assert "User-agent: *\nDisallow: /om-oss/ansatte" in robots
        team = _get(sb, "www.nordlys.no", "/om-oss/ansatte", tls=True)
        assert "<strong>Kari Nordmann</strong>, Daglig leder" in team and "Våre ansatte" in team
        started = time.monotonic()
        assert "Ola Lund" in _get(sb, "www.nordlys.no", "/kontakt", tls=True)
        assert time.monotonic() - started >= 0.5
        # Any host gets a certificate for its name (SNI); an unknown one a 404 page.
        assert _get(sb, "unknown.example", "/", tls=True).startswith("HTTP/1.0 404")
        assert ("http", "nordlys.no", "/") in sb.http.log
    spec = Sandbox([domain_entry("nordlys.no", web=WEB)]).domains["nordlys.no"].web
    assert spec.findable_people() == {}  # one page disallowed, the other too slow


def test_findable_people_leave_out_disallowed_slow_and_huge_pages():
    web = {
        **WEB,
        "people": [{"name": "Per Hansen", "title": "Innehaver"}],
        "pages": [
            *WEB["pages"],
            {"path": "/team", "title": "Team", "huge_bytes": 2_000_000,
             "people": [{"name": "Eva Berg", "title": "CEO"}]},
            {"path": "/om-oss", "title": "Om oss",
             "people": [{"name": "Liv Moe", "title": "Styreleder"}]},
        ],
    }  # fmt: skip
    spec = Sandbox([domain_entry("nordlys.no", web=web)]).domains["nordlys.no"].web
    assert spec.findable_people() == {"Per Hansen": "/", "Liv Moe": "/om-oss"}
