"""Classification of one SMTP reply to RCPT TO (or to the banner/EHLO/MAIL FROM).

Order: reply class (2/4/5) -> enhanced status code -> text patterns -> unknown. The final line
decides; all lines are kept raw as evidence by the caller. Phrase lists are our own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ACCEPTED = "accepted"
NOT_FOUND = "not_found"
DISABLED = "disabled"
FULL = "full"
GREYLISTED = "greylisted"  # any temporary failure: re-check later
BLOCKED = "blocked"  # our IP/HELO/sender is refused: says nothing about the mailbox
REJECTED_OTHER = "rejected_other"  # 5xx we cannot attribute to the mailbox
UNCLASSIFIED = "unclassified"

_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
_DBEB = re.compile(r"AS\(2018062\d{2}\)")

_BLOCK_PHRASES = (
    "spamhaus", "blocked using", "blocklist", "blacklist", "block list", "poor reputation",
    "reverse hostname", "reverse dns", "banned sending ip", "client host rejected",
    "not allowed to send", "service unavailable; client host", "helo command rejected",
    "too many connections", "too many concurrent", "rate limit",
)  # fmt: skip
_DISABLED_PHRASES = ("disabled", "discontinued", "inactive", "deactivated", "suspended")
_FULL_PHRASES = ("insufficient", "mailbox full", "mailbox is full", "over quota", "out of storage")
_NOT_FOUND_PHRASES = (
    "user unknown", "no such user", "unknown user", "recipient rejected", "does not exist",
    "utilisateur inconnu", "permanent: 5.1.1", "mailbox unavailable", "no mailbox",
    "recipientnotfound", "invalid recipient", "address rejected", "unknown recipient",
    "mailbox not found",
)  # fmt: skip
_GREYLIST_PHRASES = ("greylist", "graylist", "try again later", "temporarily deferred")


@dataclass(frozen=True)
class ReplyClass:
    kind: str
    enhanced: str | None


def enhanced_code(message: str) -> str | None:
    m = _ENHANCED.match(message)
    return f"{m[1]}.{m[2]}.{m[3]}" if m else None


def last_line(message: str) -> str:
    lines = [ln for ln in message.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def reply_classify(code: int, message: str) -> ReplyClass:
    """Classify one reply. `message` is the text after the code (multi-line joined with \\n)."""
    final = last_line(message)
    enhanced = enhanced_code(final) or enhanced_code(message)
    text = message.lower()
    if 200 <= code < 300:
        return ReplyClass(ACCEPTED, enhanced)

    if 400 <= code < 500:
        # Temporary: never a verdict on the mailbox.
        if enhanced == "4.2.2" or any(p in text for p in _FULL_PHRASES):
            return ReplyClass(FULL, enhanced)
        if code == 421 and any(p in text for p in _BLOCK_PHRASES):
            return ReplyClass(BLOCKED, enhanced)
        if enhanced and enhanced.startswith("4.7.") and any(p in text for p in _BLOCK_PHRASES):
            return ReplyClass(BLOCKED, enhanced)
        return ReplyClass(GREYLISTED, enhanced)

    if 500 <= code < 600:
        # Microsoft 365 Directory-Based Edge Blocking: "Access denied" here means the recipient
        # is not in the tenant's directory, not that we are blocked.
        if enhanced == "5.4.1" and _DBEB.search(message):
            return ReplyClass(NOT_FOUND, enhanced)
        if enhanced is not None:
            subject_detail = enhanced[2:]
            if subject_detail in ("1.1", "1.10", "1.6"):
                return ReplyClass(NOT_FOUND, enhanced)
            if subject_detail in ("2.1",):
                return ReplyClass(DISABLED, enhanced)
            if subject_detail in ("2.2",):
                return ReplyClass(FULL, enhanced)
            if subject_detail.startswith("7."):
                # 5.7.1 is used both for "we block you" and "relay denied / user refuses".
                if any(p in text for p in _BLOCK_PHRASES) or subject_detail == "7.606":
                    return ReplyClass(BLOCKED, enhanced)
                return ReplyClass(REJECTED_OTHER, enhanced)
        if any(p in text for p in _BLOCK_PHRASES):
            return ReplyClass(BLOCKED, enhanced)
        if any(p in text for p in _DISABLED_PHRASES):
            return ReplyClass(DISABLED, enhanced)
        if any(p in text for p in _FULL_PHRASES):
            return ReplyClass(FULL, enhanced)
        if any(p in text for p in _NOT_FOUND_PHRASES) or code in (550, 551, 553):
            return ReplyClass(NOT_FOUND, enhanced)
        return ReplyClass(REJECTED_OTHER, enhanced)
    return ReplyClass(UNCLASSIFIED, enhanced)
