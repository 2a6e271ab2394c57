"""Sandbox SMTP server (aiosmtpd) that behaves like the world's mail hosts.

All MX hosts resolve to 127.0.0.1 and share this one server, so a session learns which domain it
is talking for from its first RCPT. Behaviours per domain (CONTRACTS.md A): normal, catch_all,
greylist (keyed on client IP + sender + recipient, clock injectable), tarpit, disconnect,
second_rcpt_reject, blacklist, yahoo_like, dbeb; mailboxes can be full or disabled; latency is
added before every final reply line (global + the domain's own once the domain is known).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import inspect
import logging
import re
import socket
import threading
import time
from collections.abc import Callable

from aiosmtpd import smtp as smtp_module
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from sandbox.servers.manifest import DomainSpec

LOOPBACK = "127.0.0.1"
IMPOSSIBLE_HELO = frozenset({"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "localhost"})

R_OK = "250 2.1.5 OK"
R_UNKNOWN = "550 5.1.1 <{addr}>: Recipient address rejected: User unknown in virtual mailbox table"
R_GMAIL_UNKNOWN = (
    "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n"
    "550-5.1.1 double-checking the recipient's email address for typos or\r\n"
    "550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser - gsmtp"
)
R_DISABLED = "550 5.2.1 The email account that you tried to reach is disabled."
R_FULL = "452 4.2.2 The email account that you tried to reach is over quota."
R_GREYLIST = (
    "450 4.2.0 <{addr}>: Recipient address rejected: Greylisted, "
    "see http://postgrey.schweikert.ch/help/{domain}.html"
)
R_BLACKLIST = (
    "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; "
    "https://www.spamhaus.org/query/ip/{ip}"
)
R_DBEB = (
    "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) "
    "[AM4PEPF00027A5F.eurprd04.prod.protection.outlook.com 2026-01-05T09:00:00.000Z]"
)
R_TOO_MANY = "452 4.5.3 Too many recipients"
R_HELO = "550 5.7.1 <{name}>: Helo command rejected: impossible HELO name"
# <dot-atom@domain> and what follows (parameters): the header parser gives the same for these.
_PLAIN_ANGLE_ADDR = re.compile(
    r"\s*<([A-Za-z0-9%+_\-]+(?:\.[A-Za-z0-9%+_\-]+)*@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*)>"
    r"\s*(.*)\Z",
    re.DOTALL,
)


def free_port() -> int:
    """aiosmtpd's Controller cannot bind port 0 (start() connects to self.port): pick one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


class SMTPStats:
    """Counters the tests read (thread-safe enough: updated from the server's loop thread)."""

    def __init__(self) -> None:
        self.sessions = 0
        self.active = 0
        self.max_active = 0
        self.active_by_domain: dict[str, int] = {}
        self.max_active_by_domain: dict[str, int] = {}
        self.rcpts: list[tuple[str, str]] = []  # (recipient, first reply line)
        self.helos: list[str] = []
        self.mail_froms: list[str] = []

    def rcpts_to(self, address: str) -> list[str]:
        return [line for a, line in self.rcpts if a == address.lower()]


class WorldHandler:
    def __init__(
        self,
        domains: dict[str, DomainSpec],
        *,
        time_fn: Callable[[], float] = time.time,
        tarpit_seconds: float = 60.0,
    ) -> None:
        self.domains = domains
        self.time_fn = time_fn
        self.tarpit_seconds = tarpit_seconds
        self.greylist_first_seen: dict[tuple[str, str, str], float] = {}
        self.stats = SMTPStats()
        self._lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.stats.helos.append(hostname)
        if hostname.lower() in IMPOSSIBLE_HELO:
            return [R_HELO.format(name=hostname)]
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.stats.mail_froms.append(address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    def _mailbox_reply(self, spec: DomainSpec, local: str, addr: str) -> str:
        mail = spec.mail
        assert mail is not None
        if local in mail.disabled:
            return R_DISABLED
        if local in mail.full:
            return R_FULL
        if local in mail.mailboxes or mail.behaviour in ("catch_all", "yahoo_like"):
            return R_OK
        if mail.behaviour == "dbeb":
            return R_DBEB
        if any(h.endswith(".google.com") for _, h in spec.mx):
            return R_GMAIL_UNKNOWN
        return R_UNKNOWN.format(addr=addr)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        addr = address.lower()
        local, _, domain = addr.rpartition("@")
        spec = self.domains.get(domain)
        count = getattr(session, "lp_rcpts", 0) + 1
        session.lp_rcpts = count
        if spec is not None:
            # Replies from here on are as slow as the domain being asked about.
            session.lp_latency = (spec.mail.latency_ms / 1000.0) if spec.mail else 0.0
            if count == 1:
                self._session_domain(session, domain, spec)
        reply = await self._rcpt_reply(server, session, envelope, spec, local, domain, addr, count)
        if reply is None:  # the connection was dropped
            self.stats.rcpts.append((addr, "(disconnect)"))
            return "421 4.4.2 connection dropped"
        self.stats.rcpts.append((addr, reply.split("\r\n", 1)[0]))
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
        return reply

    async def _rcpt_reply(self, server, session, envelope, spec, local, domain, addr, count):
        if spec is None or spec.mail is None or spec.dns != "ok":
            return f"554 5.7.1 <{addr}>: Relay access denied"
        mail = spec.mail
        b = mail.behaviour
        if b == "tarpit":
            await asyncio.sleep(self.tarpit_seconds)
            return "451 4.7.1 Try again later"
        if b == "disconnect":
            server.transport.close()
            return None
        if b == "blacklist":
            ip = session.peer[0] if session.peer else LOOPBACK
            return R_BLACKLIST.format(ip=ip)
        if b == "second_rcpt_reject" and count > 1:
            return R_TOO_MANY
        if b == "greylist":
            key = (session.peer[0] if session.peer else "", envelope.mail_from or "", addr)
            now = self.time_fn()
            with self._lock:
                first = self.greylist_first_seen.setdefault(key, now)
            if now - first < mail.greylist_seconds:
                return R_GREYLIST.format(addr=addr, domain=domain)
        return self._mailbox_reply(spec, local, addr)

    def _session_domain(self, session, domain: str, spec: DomainSpec) -> None:
        session.lp_domain = domain
        s = self.stats
        s.active_by_domain[domain] = s.active_by_domain.get(domain, 0) + 1
        s.max_active_by_domain[domain] = max(
            s.max_active_by_domain.get(domain, 0), s.active_by_domain[domain]
        )

    def session_closed(self, session) -> None:
        domain = getattr(session, "lp_domain", None)
        if domain:
            self.stats.active_by_domain[domain] -= 1


class _MemberNames:
    """Stands in for `inspect` and `dir` inside aiosmtpd.smtp (set once, below).

    aiosmtpd's SMTP.__init__ finds its command methods and the handler's hooks by scanning every
    attribute of both objects (inspect.getmembers, dir) for each new connection, a fifth of the
    sandbox's CPU in the nightly bench. The names depend on the class (plus the rare instance
    attribute), so the class's are listed once. aiosmtpd.smtp keeps only the members whose names
    start with auth_, smtp_ or handle_, which is all this returns; the hook signatures it checks
    are kept per function; anything else it asks of `inspect` is the real module. Only the sandbox's SMTP server imports aiosmtpd."""

    _PREFIXES = ("auth_", "smtp_", "handle_")

    def __init__(self) -> None:
        self._names: dict[type, list[str]] = {}
        self._signatures: dict[tuple[object, bool], inspect.Signature] = {}

    def dir(self, obj: object) -> list[str]:
        cls = type(obj)
        names = self._names.get(cls)
        if names is None:
            names = [n for n in builtins.dir(cls) if n.startswith(self._PREFIXES)]
            self._names[cls] = names
        own = [n for n in getattr(obj, "__dict__", {}) if n.startswith(self._PREFIXES)]
        return sorted({*names, *own}) if own else list(names)

    def getmembers(self, obj: object) -> list[tuple[str, object]]:
        return [(n, getattr(obj, n)) for n in self.dir(obj)]

    def signature(self, obj: object) -> inspect.Signature:
        # Of the handler's bound handle_EHLO: the same for every connection.
        key = (getattr(obj, "__func__", obj), hasattr(obj, "__self__"))
        sig = self._signatures.get(key)
        if sig is None:
            sig = self._signatures[key] = inspect.signature(obj)  # type: ignore[arg-type]
        return sig

    def __getattr__(self, name: str) -> object:
        return getattr(inspect, name)


_MEMBER_NAMES = _MemberNames()
smtp_module.inspect = _MEMBER_NAMES  # type: ignore[attr-defined]
smtp_module.dir = _MEMBER_NAMES.dir  # type: ignore[attr-defined]


class SandboxSMTP(SMTP):
    def __init__(self, handler: WorldHandler, *, latency: float, **kwargs) -> None:
        super().__init__(handler, **kwargs)  # built per connection: see _MemberNames
        self.lp_latency = latency

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        stats = self.event_handler.stats
        stats.sessions += 1
        stats.active += 1
        stats.max_active = max(stats.max_active, stats.active)

    def connection_lost(self, error) -> None:
        stats = self.event_handler.stats
        stats.active -= 1
        if self.session is not None:
            self.event_handler.session_closed(self.session)
        super().connection_lost(error)

    def _getaddr(self, arg: str):
        # aiosmtpd parses every MAIL/RCPT argument with the e-mail header parser (and defines a
        # class per call); a plain <local@domain> needs none of that. Anything else: as before.
        m = _PLAIN_ANGLE_ADDR.match(arg)
        if m is None:
            return super()._getaddr(arg)
        addr, rest = m.group(1), m.group(2)
        if self.local_part_limit and len(addr.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return addr, rest

    async def push(self, status) -> None:
        text = status if isinstance(status, str) else status.decode("ascii", "replace")
        final = len(text) < 4 or text[3] != "-"  # latency once per reply, not per line
        if final:
            delay = self.lp_latency + getattr(self.session, "lp_latency", 0.0)
            if delay:
                await asyncio.sleep(delay)
        if self.transport is None or self.transport.is_closing():
            return
        with contextlib.suppress(ConnectionError):
            await super().push(status)


class _Controller(Controller):
    def __init__(self, handler: WorldHandler, *, latency: float, **kwargs) -> None:
        self.lp_latency = latency
        super().__init__(handler, **kwargs)

    def factory(self):
        return SandboxSMTP(self.handler, latency=self.lp_latency, **self.SMTP_kwargs)


class SandboxSMTPServer:
    def __init__(
        self,
        domains: dict[str, DomainSpec],
        *,
        latency_ms: float = 0.0,
        tarpit_seconds: float = 60.0,
        time_fn: Callable[[], float] = time.time,
    ) -> None:
        self.handler = WorldHandler(domains, time_fn=time_fn, tarpit_seconds=tarpit_seconds)
        self.latency = latency_ms / 1000.0
        self.controller: _Controller | None = None
        self.port: int | None = None

    @property
    def stats(self) -> SMTPStats:
        return self.handler.stats

    def start(self, port: int | None = None) -> int:
        # aiosmtpd logs every session at INFO on "mail.log": noise in tests, benches and demos.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.port = port or free_port()
        self.controller = _Controller(
            self.handler,
            latency=self.latency,
            hostname=LOOPBACK,
            port=self.port,
            server_hostname="mx.sandbox.leadpilot",
            ready_timeout=10,
            timeout=120,
        )
        self.controller.start()
        return self.port

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
