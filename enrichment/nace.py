"""Industry codes: national codes normalised to NACE Rev. 2 classes.

Contract: UK SIC 2007, SNI 2007 (SE), SN2007 (NO), DB07 (DK) and TOL 2008 (FI) equal NACE Rev. 2
down to the 4-digit class. A class is stored as an integer (62.01 -> 6201) and the raw national
code is kept beside it for display. Codes that are not an activity (UK 74990 non-trading, 98000
residents' property management, 99999 dormant, legacy 4-digit SIC 2003 values) and Brreg's
``00.000`` (not yet classified) normalise to ``None``: the "no activity / unknown" bucket.

Data (enrichment/data/, see its README): the Companies House condensed SIC 2007 list (OGL v3) and
the NACE Rev. 2 section ranges (Regulation (EC) No 1893/2006).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

UK_SIC2007 = "uk_sic2007"
SN2007 = "sn2007"
SNI2007 = "sni2007"
DB07 = "db07"
TOL2008 = "tol2008"
CODE_SYSTEMS = (UK_SIC2007, SN2007, SNI2007, DB07, TOL2008)

UK_NON_ACTIVITY = frozenset({"74990", "98000", "99999"})


@dataclass(frozen=True, slots=True)
class IndustryCode:
    """One national code as read from a file, with its NACE class (None = no activity/unknown)."""

    raw: str
    system: str
    nace_class: int | None
    label: str = ""


@cache
def uk_sic_labels() -> dict[str, str]:
    with (DATA_DIR / "uk_sic2007_condensed.csv").open(encoding="utf-8", newline="") as f:
        return {row["code"]: row["description"] for row in csv.DictReader(f)}


@cache
def _sections() -> tuple[tuple[str, int, int, str], ...]:
    with (DATA_DIR / "nace_rev2_sections.csv").open(encoding="utf-8", newline="") as f:
        return tuple(
            (r["section"], int(r["division_from"]), int(r["division_to"]), r["label"])
            for r in csv.DictReader(f)
        )


@cache
def nace_classes() -> tuple[int, ...]:
    """All NACE Rev. 2 classes (as integers), derived from the UK SIC 2007 list."""
    return tuple(sorted({int(code[:4]) for code in uk_sic_labels() if code not in UK_NON_ACTIVITY}))


def nace_section(nace_class: int) -> str | None:
    """Section letter (A-U) of a class (6201) or a division (62)."""
    division = nace_class // 100 if nace_class >= 100 else nace_class
    for letter, lo, hi, _label in _sections():
        if lo <= division <= hi:
            return letter
    return None


def nace_section_label(letter: str) -> str:
    for sec, _lo, _hi, label in _sections():
        if sec == letter:
            return label
    raise KeyError(letter)


def nace_class_label(nace_class: int) -> str:
    """An English label for a class: the first UK SIC 2007 subclass label under it."""
    prefix = f"{nace_class:04d}"
    labels = uk_sic_labels()
    exact = labels.get(prefix + "0")
    if exact:
        return exact
    for code in sorted(labels):
        if code.startswith(prefix):
            return labels[code]
    return ""


def nace_class_from_code(*, raw: str, system: str) -> int | None:
    """The NACE Rev. 2 class of a national code, or None when it is no activity or unknown.

    Strips dots and spaces; the first four digits are the class. A class that does not exist
    in NACE Rev. 2 (for example a Rev. 2.1 renumbering) also gives None.
    """
    digits = raw.replace(".", "").replace(" ", "").strip()
    if not digits.isdigit():
        return None
    if system == UK_SIC2007:
        if len(digits) != 5 or digits in UK_NON_ACTIVITY:
            return None  # 4 digits = legacy SIC 2003: not comparable
    elif system in (SN2007, SNI2007, TOL2008):
        if len(digits) != 5:
            return None
    elif system == DB07:
        if len(digits) != 6:
            return None
    else:
        raise ValueError(f"unknown code system {system!r}")
    value = int(digits[:4])
    if value == 0 or value not in _class_set():
        return None
    return value


@cache
def _class_set() -> frozenset[int]:
    return frozenset(nace_classes())


def uk_sic_parse(text: str) -> IndustryCode | None:
    """Parse a Companies House ``SicText`` value ("62012 - Business and ...").

    Empty and "None Supplied" give None. The code is the part before the first "-" when that is
    4 or 5 digits; a bare code is accepted; anything else is kept raw, without a class. (The SQL
    fast path in enrichment/importers/fastpath.py mirrors this rule.)
    """
    value = text.strip()
    if not value or value.lower() == "none supplied":
        return None
    head, sep, tail = value.partition("-")
    head = head.strip()
    if sep and len(head) in (4, 5) and head.isascii() and head.isdigit():
        code, label = head, tail.strip()
    else:
        return IndustryCode(raw=value, system=UK_SIC2007, nace_class=None, label="")
    return IndustryCode(
        raw=code,
        system=UK_SIC2007,
        nace_class=nace_class_from_code(raw=code, system=UK_SIC2007),
        label=label,
    )
