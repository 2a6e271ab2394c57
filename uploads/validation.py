"""The per-row validation report of an uploaded list, before anything runs.

A company row needs a key: a registry number with its country (Norwegian organisation numbers
pass MOD11, Swedish ones Luhn, UK company numbers have Companies House's shape), a domain, or a
name with a city or a postcode. A contact row needs an e-mail address or a phone number. A row
that repeats an earlier row's key is a duplicate. Rows with a problem are never processed and
never charged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from django.utils.translation import gettext as _

from blocklists.normalize import (
    InvalidIdentifier,
    name_key,
    normalize_domain,
    normalize_email,
)

from .parsing import CELL_MAX_CHARS, FORMULA_MARK, NUL_MARK

# The registries the directory is built from.
COUNTRIES = ("GB", "NO", "SE", "DK", "FI")
_COUNTRY_NAMES = {
    "UK": "GB",
    "UNITEDKINGDOM": "GB",
    "GREATBRITAIN": "GB",
    "ENGLAND": "GB",
    "STORBRITANNIEN": "GB",
    "STORBRITANNIA": "GB",
    "NORWAY": "NO",
    "NORGE": "NO",
    "NORGEN": "NO",
    "SWEDEN": "SE",
    "SVERIGE": "SE",
    "DENMARK": "DK",
    "DANMARK": "DK",
    "FINLAND": "FI",
    "SUOMI": "FI",
}
_GB_NUMBER = re.compile(r"(\d{8}|[A-Z]{2}\d{6}|R0\d{6})")


@dataclass
class RowCheck:
    """A row's values by our field names, its problems and its duplicate key."""

    values: dict[str, str] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)
    key: str = ""

    def problem(self, field_name: str, message: str) -> None:
        self.problems.append({"field": field_name, "message": message})

    def fields_with_problems(self) -> set[str]:
        return {p["field"] for p in self.problems}


def mod11_no_valid(number: str) -> bool:
    """Norwegian organisation number: 9 digits, the last a MOD11 check digit (weights 3 2 7 6 5
    4 3 2); a remainder of 1 gives no valid number."""
    if not re.fullmatch(r"\d{9}", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:8], (3, 2, 7, 6, 5, 4, 3, 2), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(number[8])


def luhn_se_valid(number: str) -> bool:
    """Swedish organisation number: 10 digits, the last a Luhn check digit over the first nine."""
    if not re.fullmatch(r"\d{10}", number):
        return False
    total = 0
    for index, digit in enumerate(number[:9]):
        n = int(digit) * (2 if index % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return (10 - total % 10) % 10 == int(number[9])


def country_normalize(raw: str) -> str | None:
    text = re.sub(r"[^A-Z]", "", raw.upper())
    text = _COUNTRY_NAMES.get(text, text)
    return text if text in COUNTRIES else None


def registry_id_check(raw: str, country: str) -> tuple[str | None, str | None]:
    """(normalised registry id, problem) for a registry number in `country`."""
    text = "".join(raw.split()).upper()
    if ":" in text:
        given, text = text.split(":", 1)
        country = country_normalize(given) or country
    if country == "NO":
        digits = text.replace(".", "").replace("-", "")
        if not re.fullmatch(r"\d{9}", digits):
            return None, _("%(value)s is not a Norwegian organisation number (9 digits)") % {
                "value": raw
            }
        if not mod11_no_valid(digits):
            return None, _(
                "%(value)s fails the check digit of a Norwegian organisation number (MOD11)"
            ) % {"value": raw}
        return digits, None
    if country == "SE":
        digits = text.replace("-", "")
        if re.fullmatch(r"16\d{10}", digits):
            digits = digits[2:]
        if not re.fullmatch(r"\d{10}", digits):
            return None, _("%(value)s is not a Swedish organisation number (10 digits)") % {
                "value": raw
            }
        if not luhn_se_valid(digits):
            return None, _(
                "%(value)s fails the check digit of a Swedish organisation number (Luhn)"
            ) % {"value": raw}
        return digits, None
    if country == "GB":
        number = text.zfill(8) if text.isdigit() and len(text) < 8 else text
        if not _GB_NUMBER.fullmatch(number):
            return None, _(
                "%(value)s is not a UK company number (8 digits, or 2 letters and 6 digits)"
            ) % {"value": raw}
        return number, None
    if not re.fullmatch(r"[A-Z0-9-]{1,32}", text):
        return None, _("%(value)s is not a registry number") % {"value": raw}
    return text, None


def _cells(cells: list[str], mapping: dict[str, int], check: RowCheck) -> None:
    if FORMULA_MARK in cells:
        check.problem(
            "row",
            _("holds a spreadsheet formula: type the value itself (formulas are not evaluated)"),
        )
    for name, index in mapping.items():
        value = cells[index].strip() if index < len(cells) else ""
        if len(value) > CELL_MAX_CHARS:
            check.problem(
                name,
                _("is longer than %(limit)d characters") % {"limit": CELL_MAX_CHARS},
            )
            value = ""
        elif NUL_MARK in value:
            check.problem(name, _("contains a NUL character or text that is not valid"))
            value = ""
        check.values[name] = value


def company_row_check(cells: list[str], mapping: dict[str, int]) -> RowCheck:
    check = RowCheck()
    _cells(cells, mapping, check)
    v = check.values
    country = ""
    if v.get("country"):
        normalised = country_normalize(v["country"])
        if normalised is None:
            check.problem(
                "country",
                _("%(value)s is not a country we cover (%(countries)s)")
                % {"value": v["country"], "countries": ", ".join(COUNTRIES)},
            )
        else:
            country = normalised
    v["country"] = country
    keys: list[str] = []
    if v.get("registry_id"):
        raw = v["registry_id"]
        prefix = raw.split(":", 1)[0] if ":" in raw else ""
        if not country and prefix:
            country = country_normalize(prefix) or ""
            v["country"] = country
        if not country:
            if "country" not in check.fields_with_problems():
                check.problem(
                    "country", _("is needed with a registry number (GB, NO, SE, DK or FI)")
                )
        else:
            number, problem = registry_id_check(raw, country)
            if problem:
                check.problem("registry_id", problem)
            else:
                v["registry_id"] = number or ""
                keys.append(f"id:{country}:{number}")
    if v.get("domain"):
        try:
            v["domain"] = normalize_domain(v["domain"])
            keys.append(f"domain:{v['domain']}")
        except InvalidIdentifier as exc:
            check.problem("domain", str(exc))
    if v.get("name") and (v.get("city") or v.get("postcode")):
        place = name_key(v.get("postcode", "") or v.get("city", ""))
        keys.append(f"name:{name_key(v['name'])}:{place}")
    if not keys and not check.problems:
        check.problem(
            "row",
            _(
                "has no key: give a registry number and its country, a domain, or a company name "
                "with a city or a postcode"
            ),
        )
    check.key = keys[0] if keys else ""
    return check


def contact_row_check(cells: list[str], mapping: dict[str, int]) -> RowCheck:
    check = RowCheck()
    _cells(cells, mapping, check)
    v = check.values
    country = ""
    if v.get("country"):
        country = country_normalize(v["country"]) or ""
        if not country:
            check.problem(
                "country",
                _("%(value)s is not a country we cover (%(countries)s)")
                % {"value": v["country"], "countries": ", ".join(COUNTRIES)},
            )
    v["country"] = country
    keys = []
    if v.get("email"):
        try:
            v["email"] = normalize_email(v["email"])
            keys.append(f"email:{v['email']}")
        except (InvalidIdentifier, ValueError) as exc:
            check.problem("email", str(exc))
    if v.get("phone"):
        # Whether the number exists in its numbering plan is the verification's answer (a
        # result, `not valid`); only a text that is no phone number at all is a row problem.
        try:
            number = phonenumbers.parse(v["phone"], country or None)
            keys.append(
                "phone:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            )
        except phonenumbers.NumberParseException:
            hint = "" if country or v["phone"].startswith("+") else _(" (give +country code)")
            check.problem(
                "phone", _("%(value)s is not a phone number") % {"value": v["phone"]} + hint
            )
    if not keys and not check.problems:
        check.problem("row", _("has no e-mail address and no phone number"))
    check.key = "|".join(keys)
    return check


def row_check(kind: str, cells: list[str], mapping: dict[str, int]) -> RowCheck:
    return (company_row_check if kind == "companies" else contact_row_check)(cells, mapping)


def mapping_problems(kind: str, mapping: dict[str, int], *, columns: int) -> list[str]:
    """What is wrong with a mapping as a whole: a column that is not in the file, one column used
    twice, or no key column at all."""
    problems = []
    for name, index in mapping.items():
        if not 0 <= index < columns:
            problems.append(
                _("%(field)s points at column %(n)d; the file has %(columns)d")
                % {"field": name, "n": index + 1, "columns": columns}
            )
    if len(set(mapping.values())) != len(mapping):
        problems.append(_("one column is mapped to two fields"))
    if kind == "companies":
        if not ({"registry_id", "domain", "name"} & mapping.keys()):
            problems.append(
                _(
                    "no key column: map a registry number (with a country), a domain, or a "
                    "company name (with a city or a postcode)"
                )
            )
    elif not ({"email", "phone"} & mapping.keys()):
        problems.append(_("no key column: map an e-mail address or a phone number column"))
    return problems
