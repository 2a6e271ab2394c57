"""Verdict types: what the engine answers about one email address or phone number.

The status describes the mailbox (or the number), the flags describe the address, and policy
(`is_chargeable`) decides what a customer may be charged for (DESIGN.md section 5).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

VALID = "valid"
INVALID = "invalid"
ACCEPT_ALL = "accept_all"
UNKNOWN = "unknown"
STATUSES = (VALID, INVALID, ACCEPT_ALL, UNKNOWN)

# Reason codes (modelled on ZeroBounce sub_status).
MAILBOX_NOT_FOUND = "mailbox_not_found"
NXDOMAIN = "nxdomain"
NULL_MX = "null_mx"
NO_MX = "no_mx"
SYNTAX = "syntax"
DISABLED = "disabled"
MAILBOX_FULL = "mailbox_full"
CATCH_ALL = "catch_all"
GREYLISTED = "greylisted"
SMTP_TIMEOUT = "smtp_timeout"
SMTP_BLOCKED = "smtp_blocked"
DNS_ERROR = "dns_error"
PROVIDER_UNVERIFIABLE = "provider_unverifiable"
# The server answered with an error we cannot classify (a 5xx about neither the mailbox nor us):
# says nothing about the mailbox, and is not an outage either.
SMTP_UNCLASSIFIED = "smtp_unclassified"
# Not asked: the sending IP's daily cap is reached (LEADPILOT_SMTP_DAILY_CAP). Asked another day.
RATE_LIMITED = "rate_limited"
# Reasons that are about our reach of the world, not about the address: the resolver or every
# mail server could not be asked. A verdict with one of these is never a fact about a person or
# a company (DESIGN.md section 5): the nightly search does not record it as "no contact".
OUTAGE_REASONS = frozenset({DNS_ERROR, SMTP_TIMEOUT})
# Phone reasons.
PHONE_SYNTAX = "syntax"
PHONE_INVALID_NUMBER = "invalid_number"
# Not a reason about the contact: it is the company's (switchboard, role account), not the person's.
COMPANY_CONTACT = "company_contact"

# Flags.
FLAG_DISPOSABLE = "disposable"
FLAG_ROLE = "role_account"
FLAG_FREE = "free_provider"
FLAG_FULL = "full_inbox"
FLAG_DISABLED = "disabled"
FLAG_CATCH_ALL = "catch_all"
FLAG_GREYLISTED = "greylisted"
FLAG_BLOCKED = "blocked"

NOT_CHARGEABLE_FLAGS = frozenset({FLAG_DISPOSABLE, FLAG_ROLE})

# Whose contact a source says it is (DESIGN.md section 5): only a person's own contact is charged.
ATTRIBUTION_PERSON = "person"
ATTRIBUTION_COMPANY = "company"


@dataclass(frozen=True)
class EmailVerdict:
    address: str
    normalized: str | None
    status: str
    reason: str | None
    flags: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    checked_at: dt.datetime | None = None

    @property
    def is_chargeable(self) -> bool:
        """Only a proven mailbox on a non-throwaway, personal address counts as verified."""
        return self.status == VALID and not (NOT_CHARGEABLE_FLAGS & set(self.flags))

    @property
    def attribution(self) -> str:
        """A role account (info@, post@) is the company's, whoever's name led us to it."""
        return ATTRIBUTION_COMPANY if FLAG_ROLE in self.flags else ATTRIBUTION_PERSON

    @property
    def domain(self) -> str | None:
        if not self.normalized:
            return None
        return self.normalized.rpartition("@")[2]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "email",
            "address": self.address,
            "normalized": self.normalized,
            "status": self.status,
            "reason": self.reason,
            "flags": list(self.flags),
            "chargeable": self.is_chargeable,
            "attribution": self.attribution,
            "evidence": self.evidence,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
        }


@dataclass(frozen=True)
class PhoneVerdict:
    raw: str
    e164: str | None
    status: str  # "valid" | "invalid"
    reason: str | None
    line_type: str | None = None
    region: str | None = None
    extension: str | None = None
    # Whose number the source says it is: ATTRIBUTION_PERSON (named next to the person on the
    # company's site, or listed for the person by a registry) or ATTRIBUTION_COMPANY (registry
    # phone, switchboard). None: nobody said (a number checked on its own).
    attribution: str | None = None
    attribution_source: str | None = None  # the page URL or the registry file
    listed_with: str | None = None  # the name the source prints next to the number

    @property
    def is_chargeable(self) -> bool:
        """Valid means "in the numbering plan", never that the line is live or whose it is: only
        a valid number a source attributes to the person counts as theirs."""
        return self.status == VALID and self.attribution == ATTRIBUTION_PERSON

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "phone",
            "raw": self.raw,
            "e164": self.e164,
            "status": self.status,
            "reason": self.reason,
            "line_type": self.line_type,
            "region": self.region,
            "extension": self.extension,
            "attribution": self.attribution,
            "attribution_source": self.attribution_source,
            "listed_with": self.listed_with,
            "chargeable": self.is_chargeable,
        }
