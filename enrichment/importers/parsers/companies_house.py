"""Companies House: BasicCompanyData CSV and the PSC snapshot (NDJSON)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from enrichment import nace
from enrichment.importers.parsers.common import (
    Item,
    csv_table,
    excerpt,
)
from enrichment.importers.records import (
    CH_CATEGORY,
    CH_HASHED,
    CH_SIZE,
    CH_STATUS,
    CompanyRecord,
    Rejected,
    RoleRecord,
    RowError,
    Skipped,
    Trailer,
    ch_date,
    iso_date,
    md5_fields,
    person_key,
    uk_postcode_prefix,
)
from enrichment.importers.streams import Opened, text_lines

CH_REQUIRED = (
    "CompanyName",
    "CompanyNumber",
    "CompanyCategory",
    "CompanyStatus",
    "IncorporationDate",
    "RegAddress.PostCode",
)


def ch_basic_record(idx: dict[str, int], fields: list[str], line: int) -> CompanyRecord:
    def col(name: str) -> str:
        i = idx.get(name)
        return fields[i] if i is not None and i < len(fields) else ""

    number = col("CompanyNumber").strip()
    name = col("CompanyName").strip()
    if not number:
        raise RowError("CompanyNumber: empty")
    if len(number) > 32:
        raise RowError(f"CompanyNumber: too long ({len(number)} characters)")
    if not name:
        raise RowError("CompanyName: empty")
    inc = ch_date(col("IncorporationDate"), column="IncorporationDate")
    category = col("CompanyCategory").strip()
    status = CH_STATUS.get(col("CompanyStatus").strip().lower(), "active")
    account = col("Accounts.AccountCategory").strip()
    raws: list[str] = []
    industries: list[tuple[int, str, str, bool]] = []
    dormant = account.upper() == "DORMANT"
    for n in range(1, 5):
        parsed = nace.uk_sic_parse(col(f"SICCode.SicText_{n}"))
        if parsed is None:
            continue
        seen = parsed.raw in raws
        raws.append(parsed.raw)
        dormant = dormant or parsed.raw == "99999"
        if parsed.nace_class is not None and not seen:
            industries.append((parsed.nace_class, nace.UK_SIC2007, parsed.raw, not industries))
    if status == "active" and dormant:
        status = "dormant"
    postcode = col("RegAddress.PostCode").strip().upper()
    address = ", ".join(
        v
        for v in (
            col(c).strip()
            for c in (
                "RegAddress.CareOf",
                "RegAddress.POBox",
                "RegAddress.AddressLine1",
                "RegAddress.AddressLine2",
            )
        )
        if v
    )
    return CompanyRecord(
        line=line,
        country="GB",
        registry_id=number,
        name=name[:300],
        legal_form=CH_CATEGORY.get(category.lower(), "other"),
        legal_form_raw=category[:120],
        status=status,
        incorporated_on=inc,
        nace_primary=industries[0][0] if industries else None,
        nace_raw=";".join(raws)[:200],
        size_band=CH_SIZE.get(account.lower(), ""),
        address=address[:300],
        postcode=postcode[:16],
        postcode_prefix=uk_postcode_prefix(postcode),
        municipality=col("RegAddress.PostTown").strip()[:100],
        region=col("RegAddress.County").strip()[:100],
        payload_hash=md5_fields([col(n) for n in CH_HASHED]),
        industries=industries,
    )


def parse_ch_basic(opened: Opened) -> Iterator[Item]:
    idx, rows = csv_table(opened, required=CH_REQUIRED, source="ch_basic")
    for row in rows:
        if isinstance(row, Rejected):
            yield row
            continue
        line, fields = row
        try:
            yield ch_basic_record(idx, fields, line)
        except RowError as exc:
            number = (
                fields[idx["CompanyNumber"]].strip() if idx["CompanyNumber"] < len(fields) else ""
            )
            yield Rejected(line, str(exc), excerpt(fields), registry_id=number[:32])


PSC_PEOPLE = {"individual-person-with-significant-control"}


def parse_ch_psc(opened: Opened) -> Iterator[Item]:
    """NDJSON lines; individual owners become roles, everything else is counted and skipped."""
    text = text_lines(opened)
    for line_no, line in enumerate(text, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            data = obj["data"]
            kind = data["kind"]
        except (ValueError, KeyError, TypeError) as exc:
            yield Rejected(line_no, f"not a PSC JSON record: {exc}", line[:300])
            continue
        if kind.startswith("totals#"):
            yield Trailer({k: v for k, v in data.items() if k.endswith("_count")})
            continue
        number = str(obj.get("company_number") or "").strip()
        if not number:
            yield Rejected(line_no, "company_number: empty", line[:300])
            continue
        if kind not in PSC_PEOPLE:
            yield Skipped(line_no, kind)
            continue
        el = data.get("name_elements") or {}
        first = (el.get("forename") or "").strip()
        last = (el.get("surname") or "").strip()
        middle = (el.get("middle_name") or "").strip()
        if not last:
            yield Rejected(line_no, "name_elements.surname: empty", line[:300])
            continue
        if last.isupper() and len(last) > 1:
            last = last.title()
        dob = data.get("date_of_birth") or {}
        try:
            notified = iso_date(data.get("notified_on"), column="notified_on")
            ceased = iso_date(data.get("ceased_on"), column="ceased_on")
        except RowError as exc:
            yield Rejected(line_no, str(exc), line[:300])
            continue
        full = " ".join(p for p in (first, middle, last) if p)
        yield RoleRecord(
            line=line_no,
            country="GB",
            registry_id=number,
            person_key=person_key(
                "GB", number, first, middle, last, dob.get("year"), dob.get("month")
            ),
            full_name=full[:200],
            first_name=first[:100],
            middle_name=middle[:100],
            last_name=last[:100],
            birth_year=dob.get("year"),
            kind="owner",
            kind_raw=kind,
            details={"natures_of_control": sorted(data.get("natures_of_control") or [])},
            started_on=notified,
            ended_on=ceased,
            is_current=ceased is None,
        )


# ---------------------------------------------------------------- Brønnøysund
