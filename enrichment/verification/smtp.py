"""SMTP probe sessions (aiosmtplib): banner, EHLO, MAIL FROM, RCPT TO, then RSET + MAIL + RCPT
for the next address on the same connection, QUIT.

No DATA is ever sent. Every reply is kept raw in the transcript. TLS is off on purpose: the probe
carries no content, and opportunistic STARTTLS with certificate checks would only add failures.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import aiosmtplib

from enrichment.verification.classify import ReplyClass, reply_classify
from enrichment.verification.config import VerificationConfig

# Session-level failures (no reply to classify).
TIMEOUT = "timeout"
DISCONNECTED = "disconnected"
REFUSED = "refused"
BACKOFF = "backoff"  # not attempted: the host is in its cool-down
RATE_LIMITED = "rate_limited"  # not attempted: the sending IP's daily cap is reached


@dataclass
class Reply:
    code: int
    message: str

    @property
    def cls(self) -> ReplyClass:
        return reply_classify(self.code, self.message)

    def raw_lines(self) -> list[str]:
        lines = self.message.split("\n") or [""]
        return [f"{self.code}-{ln}" for ln in lines[:-1]] + [f"{self.code} {lines[-1]}"]


@dataclass
class SessionResult:
    host: str
    address: str
    transcript: list[str] = field(default_factory=list)
    # One entry per requested recipient that got an answer, in order (the target, then the
    # catch-all probe when it was asked in the same transaction).
    rcpt_replies: list[Reply] = field(default_factory=list)
    # A reply before RCPT that ended the session (banner/EHLO/MAIL refusal).
    early_reply: Reply | None = None
    error: str | None = None  # TIMEOUT | DISCONNECTED | REFUSED
    started_at: str | None = None

    def as_evidence(self) -> dict:
        out = {
            "host": self.host,
            "ip": self.address,
            "at": self.started_at,
            "lines": self.transcript,
        }
        if self.error:
            out["error"] = self.error
        return out


def _q(address: str) -> bytes:
    return b"<" + address.encode("utf-8") + b">"


class ProbeConnection:
    """One SMTP connection to one MX address, usable for several probe transactions:
    first `banner, EHLO, MAIL, RCPT`; later `RSET, MAIL, RCPT` on the same connection."""

    def __init__(self, *, config: VerificationConfig, host: str, address: str) -> None:
        self.config = config
        self.host = host
        self.address = address
        self.client: aiosmtplib.SMTP | None = None
        self.transactions = 0
        self.opened_at: str | None = None

    @property
    def usable(self) -> bool:
        c = self.client
        return c is not None and c.protocol is not None and c.is_connected

    def close(self, *, quit: bool = True) -> None:
        """Say goodbye without waiting for "221": the verdict is known, and a round trip less
        per probe matters when every reply costs 100 ms. close() flushes the QUIT first."""
        client, self.client = self.client, None
        if client is None:
            return
        if quit and client.protocol is not None:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                client.protocol.write(b"QUIT\r\n")
        client.close()

    async def probe(self, recipient: str, then: str | None = None) -> SessionResult:
        """One transaction asking about `recipient`; if the server accepts it and `then` is given,
        a second RCPT for `then` in the same transaction (the catch-all probe: two round trips
        fewer than RSET + MAIL + RCPT). On any failure the connection is closed."""
        config, t = self.config, self.config.timeouts
        result = SessionResult(
            host=self.host, address=self.address, started_at=config.clock.now().isoformat()
        )
        log = result.transcript

        def server(reply) -> Reply:
            r = Reply(int(reply.code), reply.message)
            log.extend(r.raw_lines())
            return r

        async def command(verb: bytes, arg: bytes | None = None) -> Reply:
            assert self.client is not None
            log.append(f"C: {verb.decode()} {arg.decode()}" if arg else f"C: {verb.decode()}")
            args = (verb, arg) if arg else (verb,)
            return server(await self.client.execute_command(*args))

        try:
            if self.client is None:
                self.client = aiosmtplib.SMTP(
                    hostname=self.address,
                    port=config.smtp_port,
                    timeout=t.smtp_command,
                    local_hostname=config.ehlo_name,
                    start_tls=False,
                    use_tls=False,
                    validate_certs=False,
                )
                self.opened_at = result.started_at
                try:
                    server(await self.client.connect(timeout=t.smtp_connect))
                except aiosmtplib.SMTPConnectResponseError as exc:
                    result.early_reply = server(exc)
                    self.close(quit=False)
                    return result
                greeting = await command(b"EHLO", config.ehlo_name.encode("ascii"))
            else:
                log.append(f"~: same connection as {self.opened_at}")
                greeting = await command(b"RSET")
            if not 200 <= greeting.code < 300:
                result.early_reply = greeting
                self.close()
                return result
            sender = await command(b"MAIL", b"FROM:" + _q(config.mail_from))
            if not 200 <= sender.code < 300:
                result.early_reply = sender
                self.close()
                return result
            reply = await command(b"RCPT", b"TO:" + _q(recipient))
            result.rcpt_replies.append(reply)
            self.transactions += 1
            if reply.code == 421:  # the server is closing the channel
                self.close(quit=False)
            elif then is not None and 200 <= reply.code < 300:
                second = await command(b"RCPT", b"TO:" + _q(then))
                result.rcpt_replies.append(second)
                if second.code == 421:
                    self.close(quit=False)
            return result
        except aiosmtplib.SMTPConnectTimeoutError:
            result.error = TIMEOUT
            log.append("!: connect/banner timeout")
        except aiosmtplib.SMTPConnectError as exc:
            result.error = REFUSED
            log.append(f"!: connect failed: {exc}")
        except aiosmtplib.SMTPTimeoutError:
            result.error = TIMEOUT
            log.append("!: reply timeout")
        except aiosmtplib.SMTPServerDisconnected:
            result.error = DISCONNECTED
            log.append("!: server disconnected")
        except OSError as exc:
            result.error = DISCONNECTED
            log.append(f"!: {type(exc).__name__}: {exc}")
        self.close(quit=False)
        return result


async def session_run(
    *, config: VerificationConfig, host: str, address: str, recipient: str, then: str | None = None
) -> SessionResult:
    """A one-off probe on a fresh connection, closed afterwards."""
    conn = ProbeConnection(config=config, host=host, address=address)
    result = await conn.probe(recipient, then)
    if conn.usable:
        result.transcript.append("C: QUIT")
    conn.close()
    return result
