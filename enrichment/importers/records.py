"""Normalised records the parsers yield and the merge stages, plus the value mappings shared by
the Python parsers and the SQL fast path (one table, two renderings)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field

COMPANY_FIELDS = (
    "country",
    "registry_id",
    "name",
    "legal_form",
    "legal_form_raw",
    "status",
    "incorporated_on",
    "nace_primary",
    "nace_raw",
    "employees_min",
    "employees_max",
    "employees_source",
    "size_band",
    "address",
    "postcode",
    "postcode_prefix",
    "municipality",
    "region",
    "website_domain",
    "email_domain",
    "phone",
    "lei",
    "marketing_blocked",
    "payload_hash",
)
ROLE_FIELDS = (
    "country",
    "registry_id",
    "person_key",
    "full_name",
    "first_name",
    "middle_name",
    "last_name",
    "birth_year",
    "kind",
    "kind_raw",
    "details",
    "started_on",
    "ended_on",
    "is_current",
)


@dataclass(slots=True)
class CompanyRecord:
    line: int
    country: str
    registry_id: str
    name: str
    legal_form: str = "other"
    legal_form_raw: str = ""
    status: str = "active"
    incorporated_on: dt.date | None = None
    nace_primary: int | None = None
    nace_raw: str = ""
    employees_min: int | None = None
    employees_max: int | None = None
    employees_source: str = ""
    size_band: str = ""
    address: str = ""
    postcode: str = ""
    postcode_prefix: str = ""
    municipality: str = ""
    region: str = ""
    website_domain: str = ""
    email_domain: str = ""
    phone: str = ""
    lei: str = ""
    marketing_blocked: bool = False
    payload_hash: str = ""
    # (nace_class, code_system, raw_code, is_primary)
    industries: list[tuple[int, str, str, bool]] = field(default_factory=list)

    def row(self) -> tuple:
        return (self.line, *(getattr(self, f) for f in COMPANY_FIELDS))


@dataclass(slots=True)
class RoleRecord:
    line: int
    country: str
    registry_id: str
    person_key: str
    full_name: str
    first_name: str
    middle_name: str
    last_name: str
    birth_year: int | None
    kind: str
    kind_raw: str
    details: dict
    started_on: dt.date | None
    ended_on: dt.date | None
    is_current: bool

    def row(self) -> tuple:
        values = [getattr(self, f) for f in ROLE_FIELDS]
        values[ROLE_FIELDS.index("details")] = json.dumps(self.details, sort_keys=True)
        return (self.line, *values)


@dataclass(slots=True)
class Rejected:
    line: int
    reason: str
    raw: str = ""
    registry_id: str = ""  # when the row names its company (it is in the file, if unimported)


@dataclass(slots=True)
class Skipped:
    """A row read and deliberately not imported (statement, corporate owner, sole trader…)."""

    line: int
    why: str


@dataclass(slots=True)
class Trailer:
    """A file's own totals (PSC snapshot), checked against what was read."""

    counts: dict


class RowError(ValueError):
    """A row that cannot be imported; the message names the field."""


# ---------------------------------------------------------------- shared mappings

CH_CATEGORY = {
    "private limited company": "limited",
    "pri/ltd by guar/nsc (private, limited by guarantee, no share capital)": "limited",
    "pri/lbg/nsc (private, limited by guarantee, no share capital, use of 'limited' exemption)": "limited",
    "private unlimited company": "limited",
    "private unlimited": "limited",
    "community interest company": "limited",
    "public limited company": "public_limited",
    "limited liability partnership": "llp",
    "limited partnership": "partnership",
    "scottish partnership": "partnership",
    "overseas entity": "branch",
    "other company type": "other",
    "registered society": "cooperative",
    "industrial and provident society": "cooperative",
    "charitable incorporated organisation": "foundation",
    "scottish charitable incorporated organisation": "foundation",
}
CH_STATUS = {
    "active": "active",
    "active - proposal to strike off": "active",
    "liquidation": "liquidation",
    "in administration": "liquidation",
    "administration order": "liquidation",
    "administrative receiver": "liquidation",
    "receivership": "liquidation",
    "receiver action": "liquidation",
    "voluntary arrangement": "liquidation",
    "live but receiver manager on at least one charge": "active",
    "dissolved": "dissolved",
    "converted/closed": "dissolved",
    "closed": "dissolved",
    "removed": "dissolved",
}
CH_SIZE = {
    "micro entity": "micro",
    "total exemption full": "small",
    "total exemption small": "small",
    "small": "small",
    "unaudited abridged": "small",
    "audited abridged": "small",
    "abridged": "small",
    "filing exemption subsidiary": "small",
    "medium": "medium",
    "full": "large",
    "group": "large",
    "dormant": "dormant",
}

NO_FORMS = {
    "AS": "limited",
    "ASA": "public_limited",
    "ENK": "sole_trader",
    "NUF": "branch",
    "ANS": "partnership",
    "DA": "partnership",
    "KS": "partnership",
    "SA": "cooperative",
    "STI": "foundation",
    "FLI": "association",
    "BA": "limited",
}
SE_FORMS = {
    "AB": "limited",
    "E": "sole_trader",
    "HB": "partnership",
    "KB": "partnership",
    "EK": "cooperative",
    "BF": "cooperative",
    "IF": "association",
    "SF": "foundation",
    "FL": "branch",
    "BAB": "limited",
}
SE_SCB_FORMS = {
    "49": "limited",
    "10": "sole_trader",
    "21": "partnership",
    "22": "partnership",
    "51": "cooperative",
    "61": "association",
    "71": "foundation",
}


def sql_case(expr: str, mapping: dict[str, str], default: str) -> str:
    """Render a mapping as a SQL CASE over ``expr`` (keys are compared as given)."""
    whens = " ".join(
        "WHEN '{}' THEN '{}'".format(k.replace("'", "''"), v) for k, v in mapping.items()
    )
    return f"(CASE {expr} {whens} ELSE '{default}' END)"


_DMY = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


def ch_date(value: str, *, column: str) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    m = _DMY.match(value)
    # The same range as the SQL fast path's date table (fastpath.DATE_YEARS).
    if m and 1700 <= int(m.group(3)) <= 2199:
        try:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            pass
    raise RowError(f"{column}: not a DD/MM/YYYY date: {value[:40]!r}")


def iso_date(value: str | None, *, column: str) -> dt.date | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        if len(value) == 8 and value.isdigit():  # 20200102
            try:
                return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
            except ValueError:
                pass
        raise RowError(f"{column}: not a date: {value[:40]!r}") from None


def uk_postcode_prefix(postcode: str) -> str:
    pc = postcode.strip().upper()
    if " " in pc:
        return pc.split(" ", 1)[0][:8]
    if 5 <= len(pc) <= 7:
        return pc[:-3]
    return pc[:8]


def domain_from(value: str) -> str:
    """'https://www.Example.no/om-oss' -> 'example.no'; 'post@x.no' -> 'x.no'; '' -> ''."""
    v = value.strip().lower()
    if not v:
        return ""
    if "@" in v:
        v = v.rsplit("@", 1)[1]
    v = re.sub(r"^[a-z][a-z0-9+.-]*://", "", v)
    v = v.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0].strip(".")
    if v.startswith("www."):
        v = v[4:]
    if "." not in v or not re.fullmatch(r"[a-z0-9.-]+", v):
        return ""
    return v[:253]


# The Companies House columns the directory keeps. The payload hash covers only these, so a
# monthly file whose accounts/confirmation due dates moved for everyone is not a change.
CH_HASHED = (
    "CompanyName", "CompanyNumber", "RegAddress.CareOf", "RegAddress.POBox",
    "RegAddress.AddressLine1", "RegAddress.AddressLine2", "RegAddress.PostTown",
    "RegAddress.County", "RegAddress.PostCode", "CompanyCategory", "CompanyStatus",
    "IncorporationDate", "Accounts.AccountCategory", "SICCode.SicText_1", "SICCode.SicText_2",
    "SICCode.SicText_3", "SICCode.SicText_4",
)  # fmt: skip


def md5_fields(fields: list[str]) -> str:
    """The payload hash of a CSV row: md5 of the fields joined by U+001F (the SQL fast path
    computes the same)."""
    return hashlib.md5("\x1f".join(fields).encode("utf-8"), usedforsecurity=False).hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def person_key(*parts: object) -> str:
    """A stable key for a person as one source sees them (never a personal identity number)."""
    norm = "|".join("" if p is None else str(p).strip().lower() for p in parts)
    return hashlib.sha256(norm.encode()).hexdigest()[:40]
