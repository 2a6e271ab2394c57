"""NACE Rev. 2 structure for picking industries at any level.

A customer picks a section ("J"), a division ("62"), a group ("62.0") or a class ("62.01");
matching works on class integers (62.01 -> 6201), so every pick expands to the classes under it.

The class list is the set of 4-digit prefixes of the UK SIC 2007 condensed list (UK SIC equals
NACE Rev. 2 down to the class; its three UK-only codes 74990/98000/99999 are left out), and the
section ranges come from NACE Rev. 2 itself. Both files ship in segments/data/ (see its README
in shared/data); no labels below section level exist there, so none are invented here.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
_UK_ONLY = {"74990", "98000", "99999"}


@dataclass(frozen=True)
class Section:
    letter: str
    division_from: int
    division_to: int
    label: str


@cache
def sections() -> dict[str, Section]:
    with (DATA_DIR / "nace_rev2_sections.csv").open(encoding="utf-8", newline="") as fh:
        return {
            row["section"]: Section(
                letter=row["section"],
                division_from=int(row["division_from"]),
                division_to=int(row["division_to"]),
                label=row["label"],
            )
            for row in csv.DictReader(fh)
        }


@cache
def classes() -> tuple[int, ...]:
    """Every NACE Rev. 2 class as an integer, ascending."""
    with (DATA_DIR / "uk_sic2007_condensed.csv").open(encoding="utf-8", newline="") as fh:
        found = {int(row["code"][:4]) for row in csv.DictReader(fh) if row["code"] not in _UK_ONLY}
    return tuple(sorted(found))


_CODE = re.compile(r"^(?:(?P<section>[A-U])|(?P<div>\d{2})(?:\.?(?P<grp>\d)(?P<cls>\d)?)?)$")


class UnknownIndustryCode(ValueError):
    pass


def normalize_code(code: str) -> str:
    """Canonical display form: "J", "62", "62.0", "62.01". Raises UnknownIndustryCode."""
    raw = str(code).strip().upper()
    match = _CODE.match(raw)
    if not match:
        raise UnknownIndustryCode(
            f"{code!r} is not a NACE code (use a section letter A-U, or 62, 62.0, 62.01)"
        )
    if match["section"]:
        if match["section"] not in sections():
            raise UnknownIndustryCode(f"{code!r} is not a NACE Rev. 2 section")
        return match["section"]
    text = match["div"]
    if match["grp"] is not None:
        text += "." + match["grp"] + (match["cls"] or "")
    if not expand_code(text):
        raise UnknownIndustryCode(f"{code!r} is not a NACE Rev. 2 division, group or class")
    return text


def expand_code(code: str) -> tuple[int, ...]:
    """The classes under a canonical code (empty when the code names nothing)."""
    if code in sections():
        section = sections()[code]
        return tuple(
            c for c in classes() if section.division_from <= c // 100 <= section.division_to
        )
    digits = code.replace(".", "")
    if len(digits) == 2:
        return tuple(c for c in classes() if c // 100 == int(digits))
    if len(digits) == 3:
        return tuple(c for c in classes() if c // 10 == int(digits))
    if len(digits) == 4:
        return (int(digits),) if int(digits) in classes() else ()
    return ()


def class_label(value: int) -> str:
    """62.01 style display of a class integer."""
    return f"{value // 100:02d}.{value % 100:02d}"
