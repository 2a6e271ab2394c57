"""The SSRF guard: a webhook is only ever sent to a public address, and only over HTTPS.

Contract: `url_check` refuses, with a message naming the problem, a URL that is not https (when
LEADPILOT_WEBHOOKS_REQUIRE_HTTPS), carries credentials, or whose host resolves to any private,
loopback, link-local, multicast, reserved or otherwise non-global address. It runs when an endpoint
is saved and again before every delivery, and returns the address the delivery then connects to
(the client is pinned to it, so a DNS answer that changes between check and connect is never
used). Redirects are never followed. The escape hatch is LEADPILOT_WEBHOOKS_ALLOW_PRIVATE: on in
tests and the demo (receivers on loopback), forced off in production settings.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class UnsafeURL(ValueError):
    """The URL may not be sent to; the message says why, for the person who typed it."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written (the Host header and TLS name)
    port: int
    address: str  # the resolved IP the connection uses

    @property
    def netloc_for_ip(self) -> str:
        ip = f"[{self.address}]" if ":" in self.address else self.address
        return f"{ip}:{self.port}"


def _allow_private() -> bool:
    return bool(getattr(settings, "LEADPILOT_WEBHOOKS_ALLOW_PRIVATE", False))


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_unspecified:
        return False
    if _allow_private():
        return True
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or getattr(ip, "is_site_local", False)
    )


def _resolve(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    nameserver = getattr(settings, "LEADPILOT_DNS_NAMESERVER", "") or ""
    if nameserver:  # the sandbox's own DNS (demo, tests)
        import dns.exception
        import dns.resolver

        ns_host, _sep, ns_port = nameserver.rpartition(":")
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [ns_host]
        resolver.port = int(ns_port)
        resolver.lifetime = 5.0
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                found += [r.to_text() for r in resolver.resolve(host, rdtype)]
            except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
                continue
            except dns.exception.DNSException as exc:
                raise UnsafeURL(
                    _("The host name could not be resolved (%(error)s).")
                    % {"error": type(exc).__name__}
                ) from exc
        return found
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(_("The host name could not be resolved.")) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def url_check(url: str) -> Target:
    """The pinned target of `url`, or UnsafeURL (see the module's contract)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(_("The URL is not valid.")) from exc
    scheme = parts.scheme.lower()
    require_https = getattr(settings, "LEADPILOT_WEBHOOKS_REQUIRE_HTTPS", True)
    allowed_schemes = {"https"} if require_https else {"https", "http"}
    if scheme not in allowed_schemes:
        raise UnsafeURL(_("The URL must start with https://."))
    if parts.username or parts.password:
        raise UnsafeURL(_("The URL must not contain a user name or password."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURL(_("The URL has no host name."))
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port)
    if not addresses:
        raise UnsafeURL(_("The host name has no address."))
    for address in addresses:
        if not address_allowed(address):
            raise UnsafeURL(
                _(
                    "The host resolves to %(address)s, a private, loopback, link-local or "
                    "reserved address: webhooks are only sent to public addresses."
                )
                % {"address": address}
            )
    return Target(scheme=scheme, host=host, port=port, address=addresses[0])
