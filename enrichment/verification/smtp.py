"""One SMTP probe session (aiosmtplib): banner, EHLO, MAIL FROM, RCPT TO x N, QUIT.

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
    # One entry per requested recipient that got an answer, in order.
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


async def session_run(
    *, config: VerificationConfig, host: str, address: str, recipients: list[str]
) -> SessionResult:
    result = SessionResult(host=host, address=address, started_at=config.clock.now().isoformat())
    t = config.timeouts
    client = aiosmtplib.SMTP(
        hostname=address,
        port=config.smtp_port,
        timeout=t.smtp_command,
        local_hostname=config.ehlo_name,
        start_tls=False,
        use_tls=False,
        validate_certs=False,
    )
    log = result.transcript

    def server(reply) -> Reply:
        r = Reply(int(reply.code), reply.message)
        log.extend(r.raw_lines())
        return r

    try:
        try:
            banner = await client.connect(timeout=t.smtp_connect)
        except aiosmtplib.SMTPConnectResponseError as exc:
            result.early_reply = server(exc)
            return result
        server(banner)
        for verb, arg in (
            (b"EHLO", config.ehlo_name.encode("ascii")),
            (b"MAIL", b"FROM:" + _q(config.mail_from)),
        ):
            log.append(f"C: {verb.decode()} {arg.decode()}")
            reply = server(await client.execute_command(verb, arg))
            if not 200 <= reply.code < 300:
                result.early_reply = reply
                return result
        for rcpt in recipients:
            log.append(f"C: RCPT TO:<{rcpt}>")
            reply = server(await client.execute_command(b"RCPT", b"TO:" + _q(rcpt)))
            result.rcpt_replies.append(reply)
            if reply.code == 421:  # the server is closing the channel
                return result
        # Say goodbye without waiting for "221": the verdict is known, and one round trip less
        # per probe matters when every reply costs 100 ms. close() flushes the QUIT first.
        log.append("C: QUIT")
        if client.protocol is not None:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                client.protocol.write(b"QUIT\r\n")
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
    finally:
        client.close()
    return result
