"""A segment's criteria: a typed, validated schema stored as JSON on Segment.criteria.

`SegmentCriteria.from_dict(data)` is the only way in: it checks every field, collects every
problem as (field, message), and raises `CriteriaError` naming them all. `to_dict()` gives the
canonical JSON that is stored, so what is stored always parses back.

Semantics (every given criterion narrows; an empty list means "any"):
- countries: ISO 3166-1 alpha-2 codes.
- industries: NACE Rev. 2 codes at any level (section "J", division "62", group "62.0", class
  "62.01"), expanded to class integers; a company matches when any of its codes is in the set
  (`industry_scope="any"`) or its primary code is (`"primary"`).
- regions, municipalities: exact names as the registry gives them.
- postcode_prefixes: the company's postcode starts with one of them (spaces ignored, upper-case).
- employees_min/employees_max: the company's employee range overlaps the wanted one. Companies of
  unknown size are left out unless `include_unknown_employees` is true.
- size_bands, legal_forms: enum values of enrichment.SizeBand / enrichment.LegalForm.
- incorporated_from/incorporated_to (dates) or min_age_years/max_age_years (whole years, counted
  back from the day the query runs); not both kinds at once.
- statuses: company statuses; default active only.
- roles: wanted decision-maker role kinds, in priority order (first = most wanted).
- name_keywords: the company name contains any of them (case-insensitive).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.utils.translation import gettext

from enrichment.models import CompanyStatus, LegalForm, RoleKind, SizeBand

from . import nace

MAX_LIST = 200
WANTABLE_ROLES = tuple(k for k in RoleKind.values if k != RoleKind.AUDITOR)
DEFAULT_ROLES = (RoleKind.CEO.value,)
INDUSTRY_SCOPES = ("any", "primary")
_COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS) - {"001"}


class CriteriaError(ValueError):
    """Invalid criteria. `errors` maps field name -> list of problems."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(
            "; ".join(f"{name}: {msg}" for name, msgs in errors.items() for msg in msgs)
        )


@dataclass(frozen=True)
class SegmentCriteria:
    countries: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    industry_scope: str = "any"
    regions: tuple[str, ...] = ()
    municipalities: tuple[str, ...] = ()
    postcode_prefixes: tuple[str, ...] = ()
    employees_min: int | None = None
    employees_max: int | None = None
    include_unknown_employees: bool = False
    size_bands: tuple[str, ...] = ()
    incorporated_from: dt.date | None = None
    incorporated_to: dt.date | None = None
    min_age_years: int | None = None
    max_age_years: int | None = None
    legal_forms: tuple[str, ...] = ()
    statuses: tuple[str, ...] = (CompanyStatus.ACTIVE.value,)
    roles: tuple[str, ...] = DEFAULT_ROLES
    name_keywords: tuple[str, ...] = ()
    # Derived, not stored: the classes the industry codes expand to.
    nace_classes: tuple[int, ...] = field(default=(), compare=False)

    # ---- parsing ----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any) -> SegmentCriteria:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise CriteriaError({"criteria": [gettext("must be an object of criteria")]})
        errors: dict[str, list[str]] = {}
        known = {f for f in cls.__dataclass_fields__ if f != "nace_classes"}
        for key in data:
            if key not in known:
                errors.setdefault(_printable(str(key)), []).append(
                    gettext("is not a known criterion")
                )
        p = _Parser(data, errors)

        countries = p.str_list("countries", upper=True)
        for c in countries:
            if c not in _COUNTRIES:
                p.error("countries", f"{c!r} is not an ISO 3166-1 alpha-2 country code")
        industries: list[str] = []
        classes: set[int] = set()
        for code in p.str_list("industries"):
            try:
                canonical = nace.normalize_code(code)
            except nace.UnknownIndustryCode as exc:
                p.error("industries", str(exc))
                continue
            if canonical not in industries:
                industries.append(canonical)
                classes.update(nace.expand_code(canonical))
        scope = p.choice("industry_scope", INDUSTRY_SCOPES, default="any")
        prefixes = [
            "".join(x.split()) for x in p.str_list("postcode_prefixes", upper=True) if x.strip()
        ]
        emp_min = p.integer("employees_min", minimum=0)
        emp_max = p.integer("employees_max", minimum=0)
        if emp_min is not None and emp_max is not None and emp_min > emp_max:
            p.error(
                "employees_max",
                gettext("must be at least employees_min (%(min)s)") % {"min": emp_min},
            )
        include_unknown = p.boolean("include_unknown_employees", default=False)
        inc_from = p.date("incorporated_from")
        inc_to = p.date("incorporated_to")
        if inc_from and inc_to and inc_from > inc_to:
            p.error("incorporated_to", gettext("must not be before incorporated_from"))
        min_age = p.integer("min_age_years", minimum=0, maximum=500)
        max_age = p.integer("max_age_years", minimum=0, maximum=500)
        if min_age is not None and max_age is not None and min_age > max_age:
            p.error(
                "max_age_years",
                gettext("must be at least min_age_years (%(min)s)") % {"min": min_age},
            )
        if (inc_from or inc_to) and (min_age is not None or max_age is not None):
            p.error(
                "min_age_years" if min_age is not None else "max_age_years",
                gettext("use either an age range or an incorporation date range, not both"),
            )
        statuses = p.enum_list("statuses", CompanyStatus.values, default=cls.statuses)
        if "statuses" in data and not statuses and "statuses" not in errors:
            p.error("statuses", gettext("pick at least one company status"))
        roles = p.enum_list("roles", WANTABLE_ROLES, default=DEFAULT_ROLES)
        if not roles and "roles" not in errors:
            p.error("roles", gettext("pick at least one wanted decision-maker role"))
        keywords = [k.strip() for k in p.str_list("name_keywords") if k.strip()]
        for k in keywords:
            if len(k) < 2:
                p.error(
                    "name_keywords",
                    gettext("%(value)s is too short (2 characters at least)") % {"value": repr(k)},
                )

        regions = p.str_list("regions")
        municipalities = p.str_list("municipalities")
        size_bands = p.enum_list("size_bands", SizeBand.values)
        legal_forms = p.enum_list("legal_forms", LegalForm.values)
        if errors:
            raise CriteriaError(errors)
        return cls(
            countries=tuple(countries),
            industries=tuple(industries),
            industry_scope=scope,
            regions=tuple(regions),
            municipalities=tuple(municipalities),
            postcode_prefixes=tuple(prefixes),
            employees_min=emp_min,
            employees_max=emp_max,
            include_unknown_employees=include_unknown,
            size_bands=tuple(size_bands),
            incorporated_from=inc_from,
            incorporated_to=inc_to,
            min_age_years=min_age,
            max_age_years=max_age,
            legal_forms=tuple(legal_forms),
            statuses=tuple(statuses),
            roles=tuple(roles),
            name_keywords=tuple(keywords),
            nace_classes=tuple(sorted(classes)),
        )

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON: only what differs from the defaults, dates as ISO strings."""
        out: dict[str, Any] = {}
        defaults = SegmentCriteria()
        for name in self.__dataclass_fields__:
            if name == "nace_classes":
                continue
            value = getattr(self, name)
            if value == getattr(defaults, name):
                continue
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        # Always explicit, so a stored segment reads the same if a default ever changes.
        out["statuses"] = list(self.statuses)
        out["roles"] = list(self.roles)
        return out

    # ---- derived ----------------------------------------------------------------------------
    def incorporation_window(self, *, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """(earliest, latest) incorporation date, from dates or from ages counted back from today."""
        if self.min_age_years is None and self.max_age_years is None:
            return self.incorporated_from, self.incorporated_to
        latest = _years_before(today, self.min_age_years) if self.min_age_years else None
        earliest = (
            _years_before(today, self.max_age_years + 1) + dt.timedelta(days=1)
            if self.max_age_years is not None
            else None
        )
        return earliest, latest


def _lone_surrogate(text: str) -> str | None:
    """The first lone surrogate of `text` as "U+D800" (a JSON "\\ud800" escape decodes to one),
    or None when `text` is all text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"U+{ord(exc.object[exc.start]):04X}"
    return None


def _printable(text: str) -> str:
    """`text` with lone surrogates written as \\udXXX escapes, so an error can name it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class _Parser:
    def __init__(self, data: dict[str, Any], errors: dict[str, list[str]]) -> None:
        self.data = data
        self.errors = errors

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def _present(self, name: str) -> bool:
        value = self.data.get(name)
        return value is not None and value != ""

    def str_list(self, name: str, *, upper: bool = False) -> list[str]:
        if not self._present(name):
            return []
        value = self.data[name]
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list | tuple):
            self.error(name, gettext("must be a list of strings"))
            return []
        if len(value) > MAX_LIST:
            self.error(
                name,
                gettext("has %(n)d entries; at most %(max)d are allowed")
                % {"n": len(value), "max": MAX_LIST},
            )
            return []
        out: list[str] = []
        for item in value:
            if not isinstance(item, str):
                self.error(name, gettext("%(value)s is not a string") % {"value": repr(item)})
                continue
            if "\x00" in item:  # PostgreSQL text cannot hold it: the preview query would fail
                self.error(
                    name, gettext("%(value)s contains a NUL character") % {"value": repr(item)}
                )
                continue
            surrogate = _lone_surrogate(item)
            if surrogate:  # not text: UTF-8, and so PostgreSQL, cannot encode it
                self.error(
                    name,
                    gettext("%(value)s contains a lone surrogate (%(code)s), which is not text")
                    % {"value": repr(item), "code": surrogate},
                )
                continue
            text = " ".join(item.split())
            if upper:
                text = text.upper()
            if text and text not in out:
                out.append(text)
        return out

    def enum_list(
        self, name: str, allowed: Iterable[str], *, default: Iterable[str] = ()
    ) -> list[str]:
        if name not in self.data or self.data[name] is None:
            return list(default)
        allowed = list(allowed)
        out = []
        for item in self.str_list(name):
            value = item.lower()
            if value not in allowed:
                self.error(
                    name,
                    gettext("%(value)s is not one of %(allowed)s")
                    % {"value": repr(item), "allowed": ", ".join(allowed)},
                )
            elif value not in out:
                out.append(value)
        return out

    def choice(self, name: str, allowed: Iterable[str], *, default: str) -> str:
        if not self._present(name):
            return default
        value = self.data[name]
        allowed = list(allowed)
        if value not in allowed:
            self.error(
                name,
                gettext("%(value)s is not one of %(allowed)s")
                % {"value": repr(value), "allowed": ", ".join(allowed)},
            )
            return default
        return value

    def integer(
        self, name: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        if not self._present(name):
            return None
        value = self.data[name]
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.error(name, gettext("must be a whole number"))
            return None
        try:
            number = int(value)
        except ValueError:
            self.error(name, gettext("%(value)s is not a whole number") % {"value": repr(value)})
            return None
        if minimum is not None and number < minimum:
            self.error(name, gettext("must be at least %(min)s") % {"min": minimum})
            return None
        if maximum is not None and number > maximum:
            self.error(name, gettext("must be at most %(max)s") % {"max": maximum})
            return None
        return number

    def boolean(self, name: str, *, default: bool) -> bool:
        if name not in self.data or self.data[name] is None:
            return default
        value = self.data[name]
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false", "on", "off", "1", "0"}:
            return value.lower() in {"true", "on", "1"}
        self.error(name, gettext("must be true or false"))
        return default

    def date(self, name: str) -> dt.date | None:
        if not self._present(name):
            return None
        value = self.data[name]
        if isinstance(value, dt.date):
            return value
        if not isinstance(value, str):
            self.error(name, "must be a date (YYYY-MM-DD)")
            return None
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            self.error(name, f"{value!r} is not a date (YYYY-MM-DD)")
            return None
