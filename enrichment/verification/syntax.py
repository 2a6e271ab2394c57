"""Syntax check and normalisation (email-validator, no network)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


@dataclass(frozen=True)
class ParsedAddress:
    normalized: str  # lower-cased local part + IDNA-normalised domain
    local_part: str
    domain: str  # A-label (ASCII) form, what DNS is asked about


class AddressSyntaxError(ValueError):
    pass


@functools.lru_cache(maxsize=65536)
def address_parse(address: str) -> ParsedAddress:
    """Validate syntax and normalise. Local parts are lower-cased: no mail host we probe treats
    them case-sensitively, and dedupe must not see Kari@ and kari@ as two people. Pure: results
    are kept per process (the nightly search guesses the same addresses for every organisation
    whose segment holds the person); a syntax error is raised again each time."""
    try:
        info = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AddressSyntaxError(str(exc)) from exc
    local = info.local_part.lower()
    domain = (info.ascii_domain or info.domain).lower()
    return ParsedAddress(
        normalized=f"{local}@{info.domain.lower()}", local_part=local, domain=domain
    )


def address_dedupe_key(normalized: str) -> str:
    """Gmail ignores dots and +tags; other domains (even Google Workspace ones) do not."""
    local, _, domain = normalized.rpartition("@")
    if domain in GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"
