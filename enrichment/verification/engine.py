"""The email verification ladder: syntax -> lists -> DNS -> provider rules -> SMTP -> verdict.

Contract (DESIGN.md section 5): a timeout, a 4xx or a block reply is never `invalid` and never
`valid`; `valid` needs a 250 on a domain proven not catch-all; a rejected address is `invalid`
whatever its flags. One Verifier instance lives inside one event loop; its catch-all cache is
process-wide (keyed by the DNS server and SMTP port, so two sandbox worlds never mix), and so is
its cache of settled verdicts (`valid`, `accept_all`, a mailbox-level `invalid`; never `unknown`),
kept `verdict_ttl` seconds: a mailbox asked about again soon (another organisation's search of
an overlapping segment) is answered with the first probe's verdict and evidence, marked
`reused`, instead of a second probe of the same mail server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from enrichment.verification import classify as rc
from enrichment.verification import dns as vdns
from enrichment.verification import verdicts as v
from enrichment.verification.config import VerificationConfig
from enrichment.verification.lists import is_disposable, is_free_provider, is_role_account
from enrichment.verification.providers import ProviderRule, provider_for
from enrichment.verification.smtp import (
    BACKOFF,
    DISCONNECTED,
    RATE_LIMITED,
    REFUSED,
    TIMEOUT,
    ProbeConnection,
    Reply,
    SessionResult,
    session_run,
)
from enrichment.verification.smtp_limits import SendingLimits, process_sending_limits
from enrichment.verification.state import (
    PROCESS_CATCH_ALL_CACHE,
    PROCESS_MX_STATES,
    PROCESS_VERDICT_CACHE,
    CatchAllCache,
    Recheck,
    VerdictCache,
    catch_all_local_part,
    verdict_is_settled,
)
from enrichment.verification.syntax import AddressSyntaxError, ParsedAddress, address_parse

logger = logging.getLogger(__name__)

HOST_STRIKES = 2
# Workers per SMTP slot in verify_many: enough to keep every slot busy while others wait on
# DNS, a per-MX cap or a shared catch-all probe.
WORKERS_PER_SLOT = 4
# Probes per SMTP connection before it is closed and a fresh one opened.
MAX_TRANSACTIONS_PER_CONNECTION = 20


@dataclass
class _HostState:
    down_until: dt.datetime
    reason: str  # smtp_timeout | smtp_blocked
    last_line: str


@dataclass
class _RcptOutcome:
    kind: str  # a classify kind, or "error"
    reply: rc.ReplyClass | None = None
    sessions: list[SessionResult] = field(default_factory=list)
    error_reason: str | None = None  # smtp_timeout | smtp_blocked when kind == "error"
    # The reply to the catch-all probe asked in the same transaction, after an accepted target.
    then_reply: Reply | None = None


class Verifier:
    def __init__(
        self,
        config: VerificationConfig | None = None,
        *,
        resolver=None,
        catch_all_cache: CatchAllCache | None = None,
        verdict_cache: VerdictCache | None = None,
        limits: SendingLimits | None = None,
    ) -> None:
        self.config = config or VerificationConfig()
        # Per-MX-domain rate and the sending IP's daily cap (smtp_limits.py), process-wide.
        self.limits = limits or _default_limits()
        self.clock = self.config.clock
        self.dns = vdns.DnsClient(self.config, resolver=resolver)
        self.catch_all_cache = catch_all_cache or PROCESS_CATCH_ALL_CACHE
        self.verdict_cache = verdict_cache or PROCESS_VERDICT_CACHE
        self._world = (self.config.nameserver, self.config.smtp_port)
        self._mx_sems: dict[str, asyncio.Semaphore] = {}
        self._smtp_sem = asyncio.Semaphore(self.config.concurrency)
        # Back-off state per MX host, shared by every Verifier of the process in the same world:
        # a tarpit or a block found by one chunk of the nightly search is not queued on again
        # by the next chunks (each waited out the time-out before).
        self._hosts: dict[str, _HostState]
        self._strikes: dict[str, int]
        self._hosts, self._strikes = PROCESS_MX_STATES.for_world(self._world)
        # Idle probe connections per (MX host, address); never more than the per-MX cap exist.
        self._idle: dict[tuple[str, str], list[ProbeConnection]] = {}
        self._no_reuse: set[str] = set()
        self._catch_all_inflight: dict[str, asyncio.Future] = {}
        self.rechecks: dict[str, Recheck] = {}

    # -- public API ---------------------------------------------------------------------------

    async def verify_many(self, addresses: Iterable[str]) -> list[EmailVerdictT]:
        """Verdicts in input order. A bounded set of workers pulls addresses, so 10,000 inputs do
        not start 10,000 coroutines at once (each would parse and queue before any I/O runs)."""
        items = list(addresses)
        results: list[EmailVerdictT | None] = [None] * len(items)
        next_index = iter(range(len(items)))

        async def worker() -> None:
            for i in next_index:
                try:
                    results[i] = await self.verify_email(items[i])
                except Exception as exc:  # one odd address must not sink a batch of thousands
                    logger.exception("verification of %r failed", items[i])
                    results[i] = v.EmailVerdict(
                        address=items[i],
                        normalized=None,
                        status=v.UNKNOWN,
                        reason=None,
                        evidence={"error": f"{type(exc).__name__}: {exc}"},
                        checked_at=self.clock.now(),
                    )

        workers = min(len(items), max(self.config.concurrency * WORKERS_PER_SLOT, 1))
        try:
            await asyncio.gather(*(worker() for _ in range(workers)))
        finally:
            self.close()
        return [r for r in results if r is not None]

    async def verify_email(self, address: str) -> EmailVerdictT:
        checked_at = self.clock.now()
        try:
            parsed = address_parse(address)
        except AddressSyntaxError as exc:
            return v.EmailVerdict(
                address, None, v.INVALID, v.SYNTAX, (), {"syntax": str(exc)}, checked_at
            )
        ttl = self.config.verdict_ttl
        if ttl <= 0:
            return await self._verify_parsed(address, parsed, checked_at)
        # The mailbox as probed (A-label domain): Kari@ and kari@ are one question.
        key = (*self._world, f"{parsed.local_part}@{parsed.domain}")
        cached = self.verdict_cache.get(key, now=checked_at, ttl=ttl)
        if cached is not None:
            self.rechecks.pop(parsed.normalized, None)
            evidence = {**cached.evidence, "reused": True}
            return dataclasses.replace(cached, address=address, evidence=evidence)
        verdict = await self._verify_parsed(address, parsed, checked_at)
        if verdict_is_settled(verdict):
            self.verdict_cache.put(key, verdict)
        return verdict

    async def _verify_parsed(
        self, address: str, parsed: ParsedAddress, checked_at: dt.datetime
    ) -> EmailVerdictT:
        flags: list[str] = []
        if is_disposable(parsed.domain):
            flags.append(v.FLAG_DISPOSABLE)
        if is_role_account(parsed.local_part):
            flags.append(v.FLAG_ROLE)
        if is_free_provider(parsed.domain):
            flags.append(v.FLAG_FREE)

        route = await self.dns.mail_route(parsed.domain)
        evidence: dict = route.as_evidence()

        def verdict(status: str, reason: str | None, *extra: str) -> v.EmailVerdict:
            return v.EmailVerdict(
                address=address,
                normalized=parsed.normalized,
                status=status,
                reason=reason,
                flags=tuple(flags) + tuple(f for f in extra if f not in flags),
                evidence=evidence,
                checked_at=checked_at,
            )

        if route.outcome == vdns.NXDOMAIN:
            return verdict(v.INVALID, v.NXDOMAIN)
        if route.outcome == vdns.NULL_MX:
            return verdict(v.INVALID, v.NULL_MX)
        if route.outcome == vdns.NO_MX:
            return verdict(v.INVALID, v.NO_MX)
        if route.outcome == vdns.DNS_ERROR or not route.hosts:
            return verdict(v.UNKNOWN, v.DNS_ERROR)

        provider = provider_for(parsed.domain, [h.name for h in route.hosts])
        evidence["provider"] = provider.name
        if not provider.smtp_verifiable:
            return verdict(v.UNKNOWN, v.PROVIDER_UNVERIFIABLE)

        # RCPT in the A-label form DNS was asked about (no SMTPUTF8 needed for IDN domains).
        then = self._catch_all_claim(parsed.domain, route, provider)
        try:
            outcome = await self._rcpt(
                route, provider, f"{parsed.local_part}@{parsed.domain}", then
            )
        except BaseException:
            if then is not None:
                self._catch_all_settle(parsed.domain, None)
            raise
        in_transaction = self._catch_all_settle(parsed.domain, outcome) if then else None
        evidence["smtp"] = [s.as_evidence() for s in outcome.sessions]
        kind = outcome.kind
        if kind == rc.NOT_FOUND:
            self.rechecks.pop(parsed.normalized, None)
            return verdict(v.INVALID, v.MAILBOX_NOT_FOUND)
        if kind == rc.DISABLED:
            self.rechecks.pop(parsed.normalized, None)
            return verdict(v.INVALID, v.DISABLED, v.FLAG_DISABLED)
        if kind == rc.FULL:
            return verdict(v.UNKNOWN, v.MAILBOX_FULL, v.FLAG_FULL)
        if kind == rc.GREYLISTED:
            # Start the catch-all probe's own greylist clock now, so the re-check can finish.
            if provider.catch_all_probe:
                state, probe = await self._catch_all(parsed.domain, route, provider)
                evidence["catch_all"] = self._catch_all_evidence(parsed.domain, state, probe)
            self._recheck_schedule(parsed.normalized)
            return verdict(v.UNKNOWN, v.GREYLISTED, v.FLAG_GREYLISTED)
        if kind == rc.BLOCKED:
            return verdict(v.UNKNOWN, v.SMTP_BLOCKED, v.FLAG_BLOCKED)
        if kind == "error" and outcome.error_reason == v.RATE_LIMITED:
            return verdict(v.UNKNOWN, v.RATE_LIMITED)
        if kind == "error":
            reason = outcome.error_reason or v.SMTP_TIMEOUT
            extra = (v.FLAG_BLOCKED,) if reason == v.SMTP_BLOCKED else ()
            return verdict(v.UNKNOWN, reason, *extra)
        if kind in (rc.REJECTED_OTHER, rc.UNCLASSIFIED):
            # An error about neither the mailbox nor us (a 5.7.1 "relay denied", a reply code
            # outside 2xx-5xx): its own reason, so it is not mistaken for a block of our IP.
            return verdict(v.UNKNOWN, v.SMTP_UNCLASSIFIED)
        if kind != rc.ACCEPTED:
            return verdict(v.UNKNOWN, v.SMTP_BLOCKED)

        # Accepted: worth something only if the domain rejects a random local part.
        if not provider.catch_all_probe:
            self.rechecks.pop(parsed.normalized, None)
            return verdict(v.VALID, None)
        if in_transaction is not None:
            state, probe = in_transaction
        else:
            state, probe = await self._catch_all(parsed.domain, route, provider)
        evidence["catch_all"] = self._catch_all_evidence(parsed.domain, state, probe)
        if state is False:
            self.rechecks.pop(parsed.normalized, None)
            return verdict(v.VALID, None)
        if state is True:
            self.rechecks.pop(parsed.normalized, None)
            return verdict(v.ACCEPT_ALL, v.CATCH_ALL, v.FLAG_CATCH_ALL)
        # Catch-all state undetermined: the 250 proves nothing yet.
        reason = v.SMTP_TIMEOUT
        if probe is not None:
            if probe.kind == rc.GREYLISTED:
                reason = v.GREYLISTED
                self._recheck_schedule(parsed.normalized)
            elif probe.kind == rc.BLOCKED:
                reason = v.SMTP_BLOCKED
            elif probe.kind == "error":
                reason = probe.error_reason or v.SMTP_TIMEOUT
            elif probe.kind == rc.FULL:
                reason = v.GREYLISTED
        return verdict(v.UNKNOWN, reason)

    def rechecks_due(self) -> list[str]:
        now = self.clock.now()
        return sorted(a for a, r in self.rechecks.items() if r.due <= now)

    async def recheck_due(self) -> list[EmailVerdictT]:
        """Re-verify every greylisted address whose re-check time has come (injectable clock)."""
        due = self.rechecks_due()
        return await self.verify_many(due)

    # -- internals ----------------------------------------------------------------------------

    def _recheck_schedule(self, normalized: str) -> None:
        delays = self.config.recheck_delays
        prev = self.rechecks.get(normalized)
        now = self.clock.now()
        if prev is not None and prev.due > now:
            return  # already waiting
        attempt = 1 if prev is None else prev.attempt + 1
        if attempt > len(delays):
            self.rechecks.pop(normalized, None)  # gave up: stays unknown
            return
        self.rechecks[normalized] = Recheck(
            normalized, now + dt.timedelta(seconds=delays[attempt - 1]), attempt
        )

    def _catch_all_evidence(self, domain: str, state, probe: _RcptOutcome | None) -> dict:
        out: dict = {"state": state, "probe": f"{catch_all_local_part(domain)}@{domain}"}
        if probe is not None:
            out["sessions"] = [s.as_evidence() for s in probe.sessions]
        else:
            out["cached"] = True
        return out

    def _mx_sem(self, host: str, provider: ProviderRule) -> asyncio.Semaphore:
        sem = self._mx_sems.get(host)
        if sem is None:
            cap = self.config.per_mx_concurrency
            if provider.sessions_per_mx:
                cap = provider.sessions_per_mx
            sem = self._mx_sems[host] = asyncio.Semaphore(max(cap, 1))
        return sem

    def _host_down(self, host: str) -> _HostState | None:
        state = self._hosts.get(host)
        if state is None:
            return None
        if state.down_until <= self.clock.now():
            self._hosts.pop(host, None)
            return None
        return state

    def _host_strike(self, host: str, line: str) -> None:
        """Back off after HOST_STRIKES timeouts in a row: one slow reply on a busy server must
        not turn a whole domain unknown, a tarpit (every session stalls) must not be queued on."""
        self._strikes[host] = self._strikes.get(host, 0) + 1
        if self._strikes[host] >= HOST_STRIKES:
            self._strikes.pop(host, None)
            self._host_mark_down(host, v.SMTP_TIMEOUT, line)

    def _host_mark_down(self, host: str, reason: str, line: str) -> None:
        until = self.clock.now() + dt.timedelta(seconds=self.config.mx_cooldown)
        self._hosts[host] = _HostState(until, reason, line)

    async def _rcpt(
        self,
        route: vdns.MailRoute,
        provider: ProviderRule,
        recipient: str,
        then: str | None = None,
    ) -> _RcptOutcome:
        """Ask the MX hosts, in preference order, about one recipient (and about `then` in the
        same transaction if the recipient is accepted: see _catch_all_claim)."""
        outcome = _RcptOutcome(kind="error", error_reason=v.SMTP_TIMEOUT)
        for host in route.hosts:
            for ip in host.addresses:
                result = await self._session(host.name, ip, provider, recipient, then)
                if result.error == DISCONNECTED:
                    # Hang-up mid-session: reconnect once before giving up on this address.
                    outcome.sessions.append(result)
                    result = await self._session(host.name, ip, provider, recipient, then)
                outcome.sessions.append(result)
                if result.error == RATE_LIMITED:
                    outcome.kind, outcome.error_reason = "error", v.RATE_LIMITED
                    return outcome
                if result.error == BACKOFF:
                    down = self._hosts.get(host.name)
                    outcome.error_reason = down.reason if down else v.SMTP_TIMEOUT
                    break
                reply = result.rcpt_replies[0] if result.rcpt_replies else result.early_reply
                if reply is not None:
                    self._strikes.pop(host.name, None)
                    cls = reply.cls
                    if result.early_reply is not None and cls.kind in (
                        rc.NOT_FOUND,
                        rc.REJECTED_OTHER,
                        rc.DISABLED,
                    ):
                        # Refused before RCPT: about us, not the mailbox.
                        cls = rc.ReplyClass(rc.BLOCKED, cls.enhanced)
                    if cls.kind == rc.BLOCKED:
                        # A listing of our IP applies to every MX host of the domain.
                        for h in route.hosts:
                            self._host_mark_down(h.name, v.SMTP_BLOCKED, result.transcript[-1])
                    outcome.kind, outcome.reply = cls.kind, cls
                    if len(result.rcpt_replies) > 1:
                        outcome.then_reply = result.rcpt_replies[1]
                    if cls.kind == rc.GREYLISTED and reply.code == 421:
                        break  # closing channel: try the next MX host
                    return outcome
                if result.error in (TIMEOUT, REFUSED):
                    self._host_strike(host.name, result.transcript[-1])
                outcome.kind, outcome.error_reason = "error", v.SMTP_TIMEOUT
                if result.error == TIMEOUT:
                    # A live host that stalls is tarpitting the probe; a backup MX would only
                    # queue for it. Only refused connections move on to the next host.
                    return outcome
        return outcome

    async def _session(
        self, host: str, ip: str, provider: ProviderRule, recipient: str, then: str | None = None
    ) -> SessionResult:
        # The MX domain's token bucket first: waiting for it holds no session slot.
        await self.limits.rate.wait(host)
        async with self._mx_sem(host, provider), self._smtp_sem:
            # Checked after the wait: an earlier session may have found the host tarpitting.
            down = self._host_down(host)
            if down is not None:
                return SessionResult(
                    host=host,
                    address=ip,
                    transcript=[f"!: skipped, host backed off after: {down.last_line}"],
                    error=BACKOFF,
                    started_at=self.clock.now().isoformat(),
                )
            if not self.limits.daily.take():
                return SessionResult(
                    host=host,
                    address=ip,
                    transcript=["!: not asked, the sending IP's daily cap is reached"],
                    error=RATE_LIMITED,
                    started_at=self.clock.now().isoformat(),
                )
            if not (provider.reuse_connections and host not in self._no_reuse):
                return await session_run(
                    config=self.config, host=host, address=ip, recipient=recipient
                )
            idle = self._idle.setdefault((host, ip), [])
            while idle:
                conn = idle.pop()
                if not conn.usable:
                    continue
                result = await conn.probe(recipient, then)
                reply = result.rcpt_replies[0] if result.rcpt_replies else None
                if reply is not None and not 400 <= reply.code < 500:
                    self._connection_after(conn, idle, result)
                    return result
                # A failure or a 4xx on a reused connection is asked again on a fresh one:
                # servers that punish a second transaction (consumer Outlook) must not turn
                # that into a verdict. Such a host gets fresh connections from now on, and no
                # second RCPT in a transaction either.
                conn.close()
                if reply is not None:
                    self._no_reuse.add(host)
                    then = None
                break
            conn = ProbeConnection(config=self.config, host=host, address=ip)
            result = await conn.probe(recipient, then)
            reply = result.rcpt_replies[0] if result.rcpt_replies else None
            if reply is not None and not 400 <= reply.code < 500:
                self._connection_after(conn, idle, result)
            else:
                conn.close()
            return result

    def _connection_after(
        self, conn: ProbeConnection, idle: list[ProbeConnection], result: SessionResult
    ) -> None:
        """Back to the pool, unless a second RCPT of the transaction got a 4xx: a server that
        punishes it (outlook.fr: 452 on the 2nd RCPT) gets fresh connections and one address
        per transaction from now on."""
        second = result.rcpt_replies[1] if len(result.rcpt_replies) > 1 else None
        if second is not None and 400 <= second.code < 500:
            self._no_reuse.add(conn.host)
            conn.close()
            return
        self._connection_release(conn, idle)

    def _connection_release(self, conn: ProbeConnection, idle: list[ProbeConnection]) -> None:
        if conn.usable and conn.transactions < MAX_TRANSACTIONS_PER_CONNECTION:
            idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        """Close pooled connections (QUIT). verify_many and contact searches call it at the end."""
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        self.dns.close()

    def _catch_all_claim(
        self, domain: str, route: vdns.MailRoute, provider: ProviderRule
    ) -> str | None:
        """The catch-all probe address to ask right after the target, in the target's own
        transaction (RCPT target, then RCPT probe: no RSET + MAIL of a transaction of its own),
        when the domain's state is not known yet and no other probe of it is under way. Not for
        providers whose connections are not shared (Microsoft 365 counts recipients per session)
        nor hosts that punished a second RCPT; those get the probe in its own transaction. The
        claim stands for the domain's one probe: others wait for it (_catch_all)."""
        if not (provider.catch_all_probe and provider.reuse_connections):
            return None
        if any(h.name in self._no_reuse for h in route.hosts):
            return None
        key = (*self._world, domain)
        known = self.catch_all_cache.get(key, now=self.clock.now(), ttl=self.config.catch_all_ttl)
        if known is not None or domain in self._catch_all_inflight:
            return None
        self._catch_all_inflight[domain] = asyncio.get_running_loop().create_future()
        return f"{catch_all_local_part(domain)}@{domain}"

    def _catch_all_settle(
        self, domain: str, outcome: _RcptOutcome | None
    ) -> tuple[bool, _RcptOutcome] | None:
        """End a claim: the state if the probe in the target's transaction settled it (accepted:
        catch-all; mailbox unknown: not), else None (target not accepted, a 4xx, a hang-up: the
        probe is asked in its own transaction, as before)."""
        fut = self._catch_all_inflight.pop(domain, None)
        reply = outcome.then_reply if outcome is not None else None
        settled: tuple[bool, _RcptOutcome] | None = None
        if reply is not None and outcome is not None:
            key = (*self._world, domain)
            self.catch_all_cache.count_probe(key)
            cls = reply.cls
            state = {rc.ACCEPTED: True, rc.NOT_FOUND: False, rc.DISABLED: False}.get(cls.kind)
            if state is not None:
                self.catch_all_cache.put(key, state, now=self.clock.now())
                probe = _RcptOutcome(kind=cls.kind, reply=cls, sessions=outcome.sessions[-1:])
                settled = (state, probe)
        if fut is not None and not fut.done():
            fut.set_result(settled)
        return settled

    async def _catch_all(
        self, domain: str, route: vdns.MailRoute, provider: ProviderRule
    ) -> tuple[bool | None, _RcptOutcome | None]:
        """Once per domain per TTL; concurrent callers share one probe session."""
        key = (*self._world, domain)
        while True:
            ttl = self.config.catch_all_ttl
            cached = self.catch_all_cache.get(key, now=self.clock.now(), ttl=ttl)
            if cached is not None:
                return cached, None
            fut = self._catch_all_inflight.get(domain)
            if fut is None:
                break
            shared = await asyncio.shield(fut)
            if shared is not None:
                return shared
            # A probe claimed for a target's transaction was not asked or settled nothing.
        fut = asyncio.get_running_loop().create_future()
        self._catch_all_inflight[domain] = fut
        try:
            self.catch_all_cache.count_probe(key)
            probe = await self._rcpt(route, provider, f"{catch_all_local_part(domain)}@{domain}")
            if probe.kind == rc.ACCEPTED:
                state: bool | None = True
            elif probe.kind in (rc.NOT_FOUND, rc.DISABLED):
                state = False
            else:
                state = None
            if state is not None:
                self.catch_all_cache.put(key, state, now=self.clock.now())
            fut.set_result((state, probe))
            return state, probe
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()
            raise
        finally:
            self._catch_all_inflight.pop(domain, None)


EmailVerdictT = v.EmailVerdict


def _default_limits() -> SendingLimits:
    from django.conf import settings

    if not settings.configured:
        return SendingLimits()
    return process_sending_limits()


def verify_emails(
    addresses: Sequence[str], *, config: VerificationConfig | None = None
) -> list[v.EmailVerdict]:
    """Synchronous entry point: verify many addresses concurrently in a fresh event loop."""

    async def run() -> list[v.EmailVerdict]:
        return await Verifier(config).verify_many(addresses)

    return asyncio.run(run())
