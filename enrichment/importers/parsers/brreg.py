"""Brønnøysundregistrene: Enhetsregisteret (CSV or JSON array) and roles (roller)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import ijson

from enrichment import nace
from enrichment.importers.parsers.common import (
    Item,
    csv_table,
    excerpt,
)
from enrichment.importers.records import (
    NO_FORMS,
    CompanyRecord,
    Rejected,
    RoleRecord,
    RowError,
    Skipped,
    domain_from,
    iso_date,
    person_key,
    sha256_text,
)
from enrichment.importers.streams import Opened

BRREG_REQUIRED = ("organisasjonsnummer", "navn", "organisasjonsform.kode")
_ORGNR = re.compile(r"^\d{9}$")


def _true(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def brreg_record(get, line: int, payload: str) -> CompanyRecord:
    """``get(dotted_name)`` returns the value (str, bool, int, list or None)."""
    orgnr = str(get("organisasjonsnummer") or "").strip()
    if not _ORGNR.match(orgnr):
        raise RowError(f"organisasjonsnummer: not 9 digits: {orgnr[:20]!r}")
    name = str(get("navn") or "").strip()
    if not name:
        raise RowError("navn: empty")
    form = str(get("organisasjonsform.kode") or "").strip()
    raws: list[str] = []
    industries: list[tuple[int, str, str, bool]] = []
    for n in (1, 2, 3):
        code = str(get(f"naeringskode{n}.kode") or "").strip()
        if not code:
            continue
        raws.append(code)
        cls = nace.nace_class_from_code(raw=code, system=nace.SN2007)
        if cls is not None and all(cls != i[0] for i in industries):
            industries.append((cls, nace.SN2007, code, not industries))
    emp_min = emp_max = None
    source = ""
    raw_emp = get("antallAnsatte")
    # Unknown stays NULL: a count only counts when the register says one is registered.
    if _true(get("harRegistrertAntallAnsatte")) and raw_emp not in (None, ""):
        try:
            emp_min = emp_max = int(raw_emp)
            source = "brreg"
        except (TypeError, ValueError):
            raise RowError(f"antallAnsatte: not a number: {str(raw_emp)[:20]!r}") from None
    if _true(get("konkurs")):
        status = "bankrupt"
    elif _true(get("underAvvikling")) or _true(get("underTvangsavviklingEllerTvangsopplosning")):
        status = "liquidation"
    else:
        status = "active"
    addr = get("forretningsadresse.adresse")
    if isinstance(addr, list):
        addr = ", ".join(str(a).strip() for a in addr if a)
    addr = ", ".join(p.strip() for p in str(addr or "").splitlines() if p.strip())
    postcode = str(get("forretningsadresse.postnummer") or "").strip()
    website = str(get("hjemmeside") or "")
    email = str(get("epostadresse") or "")
    phone = str(get("telefon") or get("mobil") or "").strip()
    band = ""
    if emp_min is not None:
        band = (
            "micro"
            if emp_min < 10
            else "small"
            if emp_min < 50
            else ("medium" if emp_min < 250 else "large")
        )
    return CompanyRecord(
        line=line,
        country="NO",
        registry_id=orgnr,
        name=name[:300],
        legal_form=NO_FORMS.get(form, "other"),
        legal_form_raw=form[:120],
        status=status,
        incorporated_on=iso_date(
            str(
                get("stiftelsesdato")
                or get("registreringsdatoEnhetsregisteret")
                or get("registreringsdatoenhetsregisteret")
                or ""
            ),
            column="stiftelsesdato",
        ),
        nace_primary=industries[0][0] if industries else None,
        nace_raw=";".join(raws),
        employees_min=emp_min,
        employees_max=emp_max,
        employees_source=source,
        size_band=band,
        address=addr[:300],
        postcode=postcode[:16],
        postcode_prefix=postcode[:2],
        municipality=str(get("forretningsadresse.kommune") or "").strip()[:100],
        region=str(get("forretningsadresse.kommunenummer") or "").strip()[:100],
        website_domain=domain_from(website),
        email_domain=domain_from(email),
        phone=phone[:40],
        payload_hash=sha256_text(payload),
        industries=industries,
    )


def _first_char(opened: Opened) -> bytes:
    head = opened.stream.peek(64)[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1]


def parse_no_enheter(opened: Opened) -> Iterator[Item]:
    """Enhetsregisteret as CSV (quoted multi-line fields) or as a JSON array."""
    if _first_char(opened) == b"[":
        yield from _parse_no_enheter_json(opened)
        return
    idx, rows = csv_table(opened, required=BRREG_REQUIRED, source="no_enheter")
    for row in rows:
        if isinstance(row, Rejected):
            yield row
            continue
        line, fields = row

        def get(name: str, _f=fields):
            i = idx.get(name)
            return _f[i] if i is not None else None

        try:
            yield brreg_record(get, line, "\x1f".join(fields))
        except RowError as exc:
            yield Rejected(line, str(exc), excerpt(fields))


def _dotted(obj: dict, name: str):
    cur = obj
    for part in name.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _parse_no_enheter_json(opened: Opened) -> Iterator[Item]:
    for n, obj in enumerate(ijson.items(opened.stream, "item", use_float=True), 1):
        if not isinstance(obj, dict):
            yield Rejected(n, "array element is not an object")
            continue
        try:
            yield brreg_record(
                lambda name, _o=obj: _dotted(_o, name),
                n,
                json.dumps(obj, sort_keys=True, ensure_ascii=False),
            )
        except RowError as exc:
            yield Rejected(n, str(exc), json.dumps(obj, ensure_ascii=False)[:300])


NO_ROLE_KINDS = {
    "DAGL": "ceo",
    "LEDE": "chair",
    "NEST": "board_member",
    "MEDL": "board_member",
    "VARA": "other",
    "INNH": "owner",
    "DTPR": "owner",
    "DTSO": "owner",
    "KOMP": "owner",
    "KONT": "other",
    "BEST": "ceo",
}


def parse_no_roller(opened: Opened) -> Iterator[Item]:
    """roller/totalbestand: one element per organisation; each person role is one record.

    Line numbers are the element's position in the array (the file is one JSON document)."""
    for n, obj in enumerate(ijson.items(opened.stream, "item", use_float=True), 1):
        orgnr = (
            str((obj or {}).get("organisasjonsnummer") or "").strip()
            if isinstance(obj, dict)
            else ""
        )
        if not _ORGNR.match(orgnr):
            yield Rejected(n, f"organisasjonsnummer: not 9 digits: {orgnr[:20]!r}")
            continue
        groups = obj.get("rollegrupper") or []
        for group in groups:
            for role in group.get("roller") or []:
                code = ((role.get("type") or {}).get("kode") or "").strip()
                person = role.get("person")
                if not person:
                    yield Skipped(n, f"{code or '?'}: not a person")
                    continue
                kind = NO_ROLE_KINDS.get(code)
                if kind is None:
                    yield Skipped(n, f"{code or '?'}: role not imported")
                    continue
                nm = person.get("navn") or {}
                first = (nm.get("fornavn") or "").strip()
                middle = (nm.get("mellomnavn") or "").strip()
                last = (nm.get("etternavn") or "").strip()
                if not last:
                    yield Rejected(n, f"{code}: person without etternavn")
                    continue
                birth = str(person.get("fodselsdato") or "")
                year = int(birth[:4]) if birth[:4].isdigit() else None  # minimised: year only
                ended = bool(role.get("fratraadt"))
                details = (
                    {"rekkefolge": role.get("rekkefolge")}
                    if role.get("rekkefolge") is not None
                    else {}
                )
                yield RoleRecord(
                    line=n,
                    country="NO",
                    registry_id=orgnr,
                    person_key=person_key("NO", orgnr, first, middle, last, year),
                    full_name=" ".join(p for p in (first, middle, last) if p)[:200],
                    first_name=first[:100],
                    middle_name=middle[:100],
                    last_name=last[:100],
                    birth_year=year,
                    kind=kind,
                    kind_raw=code,
                    details=details,
                    started_on=None,
                    ended_on=None,
                    is_current=not ended,
                )


# ---------------------------------------------------------------- Sweden
