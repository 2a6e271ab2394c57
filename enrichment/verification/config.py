"""Engine configuration. `VerificationConfig.from_settings()` reads the LEADPILOT_* settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from enrichment.verification.clock import Clock, SystemClock


@dataclass(frozen=True)
class Timeouts:
    dns: float = 5.0  # dnspython lifetime per query (email-validator's default is 15 s)
    smtp_connect: float = 10.0  # TCP connect + banner
    smtp_command: float = 30.0  # each reply after the banner (antispam RCPTs can be slow)
    http: float = 10.0


@dataclass(frozen=True)
class VerificationConfig:
    """Everything the engine needs from the outside world.

    When `nameserver` is set (the sandbox, a local test world) MX hosts and A-fallbacks may resolve
    to loopback/private addresses; with the system resolver only globally routable ones are used.
    """

    nameserver: tuple[str, int] | None = None
    smtp_port: int = 25
    http_port: int = 80
    ehlo_name: str = "probe.leadpilot.localhost"
    mail_from: str = "probe@leadpilot.localhost"
    timeouts: Timeouts = field(default_factory=Timeouts)
    per_mx_concurrency: int = 2
    concurrency: int = 64
    catch_all_ttl: float = 3 * 24 * 3600.0
    # A settled verdict (valid, accept_all, mailbox not found/disabled) answers the same address
    # again for this long without a new probe; 0 turns that off. As long as the DNS answers.
    verdict_ttl: float = 300.0
    # After a timeout or a block reply, leave that MX host alone for this long.
    mx_cooldown: float = 600.0
    # Greylisted/temp-failed addresses are re-checked after these delays (seconds).
    recheck_delays: tuple[float, ...] = (300.0, 900.0, 2700.0)
    clock: Clock = field(default_factory=SystemClock)

    @property
    def allow_private_addresses(self) -> bool:
        return self.nameserver is not None

    @classmethod
    def from_settings(cls, **overrides) -> VerificationConfig:
        from django.conf import settings

        nameserver = parse_hostport(getattr(settings, "LEADPILOT_DNS_NAMESERVER", "") or "")
        values = {
            "nameserver": nameserver,
            "smtp_port": int(getattr(settings, "LEADPILOT_SMTP_PORT", 25)),
            "http_port": int(getattr(settings, "LEADPILOT_HTTP_PORT", 80)),
            "ehlo_name": getattr(settings, "LEADPILOT_EHLO_NAME", "") or cls.ehlo_name,
            "mail_from": getattr(settings, "LEADPILOT_MAIL_FROM", "") or cls.mail_from,
        }
        values.update(overrides)
        return cls(**values)


def parse_hostport(value: str, *, default_port: int = 53) -> tuple[str, int] | None:
    """'127.0.0.1:5353' -> ('127.0.0.1', 5353); '' -> None. Raises ValueError on garbage."""
    value = value.strip()
    if not value:
        return None
    host, sep, port = value.rpartition(":")
    if not sep:
        return value, default_port
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)
