"""Candidate addresses from a person's name, and the per-domain address pattern.

Patterns (CONTRACTS A): first.last | firstlast | f.last | flast | first | last | first_last.
"""

from __future__ import annotations

import functools
import re
import unicodedata

PATTERNS = ("first.last", "firstlast", "f.last", "flast", "first", "first_last", "last")

_FOLD = str.maketrans(
    {"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "u", "ß": "ss", "þ": "th",
     "ð": "d", "ł": "l", "đ": "d", "œ": "oe"}
)  # fmt: skip


def name_fold(value: str) -> str:
    """'Bjørn-Åge' -> 'bjorn-age': lower-case ASCII letters, digits, '-' and spaces only."""
    value = value.strip().lower().translate(_FOLD)
    value = unicodedata.normalize("NFKD", value)
    value = "".join(c for c in value if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9 \-]", "", value)


@functools.lru_cache(maxsize=65536)
def name_parts(first: str, last: str) -> tuple[str, str]:
    """First given name and the whole family name, joined ('van der Berg' -> 'vanderberg').
    Pure, kept per process: every candidate address and pattern check of a person folds the
    same two names."""
    firsts = name_fold(first).replace("-", " ").split()
    lasts = name_fold(last).split()
    f = firsts[0] if firsts else ""
    la = "".join(p.replace("-", "") for p in lasts)
    return f, la


def local_part_for(pattern: str, first: str, last: str) -> str | None:
    f, la = name_parts(first, last)
    if not f or not la:
        return None
    table = {
        "first.last": f"{f}.{la}",
        "firstlast": f"{f}{la}",
        "f.last": f"{f[0]}.{la}",
        "flast": f"{f[0]}{la}",
        "first": f,
        "last": la,
        "first_last": f"{f}_{la}",
    }
    return table.get(pattern)


def email_candidates(
    *, first: str, last: str, domain: str, pattern: str | None = None
) -> list[str]:
    """The learned pattern alone when known, else every pattern in order of prevalence."""
    order = [pattern] if pattern in PATTERNS else list(PATTERNS)
    seen: list[str] = []
    for p in order:
        local = local_part_for(p, first, last)
        if local and f"{local}@{domain}" not in seen:
            seen.append(f"{local}@{domain}")
    return seen


def pattern_infer(*, first: str, last: str, local_part: str) -> str | None:
    """Which pattern produced this local part for this person (None if none did)."""
    local = local_part.lower()
    for p in PATTERNS:
        if local_part_for(p, first, last) == local:
            return p
    return None
