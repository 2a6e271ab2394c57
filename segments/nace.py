"""Picking industries at any NACE Rev. 2 level.

A customer picks a section ("J"), a division ("62"), a group ("62.0") or a class ("62.01");
matching works on class integers (62.01 -> 6201), so every pick expands to the classes under it.
The class list and section ranges are the directory's (enrichment/nace.py and its data files).
"""

from __future__ import annotations

import re
from functools import cache

from enrichment import nace as directory_nace

_CODE = re.compile(r"^(?:(?P<section>[A-U])|(?P<div>\d{2})(?:\.?(?P<grp>\d)(?P<cls>\d)?)?)$")


class UnknownIndustryCode(ValueError):
    pass


def classes() -> tuple[int, ...]:
    """Every NACE Rev. 2 class as an integer, ascending."""
    return directory_nace.nace_classes()


def normalize_code(code: str) -> str:
    """Canonical display form: "J", "62", "62.0", "62.01". Raises UnknownIndustryCode."""
    raw = str(code).strip().upper()
    match = _CODE.match(raw)
    if not match:
        raise UnknownIndustryCode(
            f"{code!r} is not a NACE code (use a section letter A-U, or 62, 62.0, 62.01)"
        )
    if match["section"]:
        if not expand_code(match["section"]):
            raise UnknownIndustryCode(f"{code!r} is not a NACE Rev. 2 section")
        return match["section"]
    text = match["div"]
    if match["grp"] is not None:
        text += "." + match["grp"] + (match["cls"] or "")
    if not expand_code(text):
        raise UnknownIndustryCode(f"{code!r} is not a NACE Rev. 2 division, group or class")
    return text


@cache
def expand_code(code: str) -> tuple[int, ...]:
    """The classes under a canonical code (empty when the code names nothing)."""
    if code.isalpha():
        return tuple(c for c in classes() if directory_nace.nace_section(c) == code)
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
