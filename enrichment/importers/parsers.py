"""Streaming parsers: registry file -> normalised records, one row at a time.

Columns are mapped by header name (stripped), never by position; a missing required column fails
the whole file with a clear error, a bad row yields ``Rejected`` with its line number and the
import goes on. Personal identity numbers never leave this module.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator

import ijson

from enrichment import nace
from enrichment.importers.records import (
    CH_CATEGORY,
    CH_HASHED,
    CH_SIZE,
    CH_STATUS,
    NO_FORMS,
    SE_FORMS,
    SE_SCB_FORMS,
    CompanyRecord,
    Rejected,
    RoleRecord,
    RowError,
    Skipped,
    Trailer,
    ch_date,
    domain_from,
    iso_date,
    md5_fields,
    person_key,
    sha256_text,
    uk_postcode_prefix,
)
from enrichment.importers.streams import Opened, text_lines

Item = CompanyRecord | RoleRecord | Rejected | Skipped | Trailer

csv.field_size_limit(10 * 1024 * 1024)


class FileFormatError(ValueError):
    """The file as a whole cannot be read as this source (wrong header, wrong format)."""


def _header_index(names: list[str], required: tuple[str, ...], source: str) -> dict[str, int]:
    index = {n.strip(): i for i, n in enumerate(names) if n.strip()}
    missing = [r for r in required if r not in index]
    if missing:
        raise FileFormatError(f"{source}: header lacks required column(s) {', '.join(missing)}")
    return index


def _csv_rows(opened: Opened, **fmt) -> Iterator[tuple[int, list[str]]]:
    """(start line, fields) per record; quoted fields may span lines."""
    reader = csv.reader(text_lines(opened), **fmt)
    prev = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield prev + 1, [f"\x00csv error: {exc}"]
            prev = reader.line_num
            continue
        yield prev + 1, fields
        prev = reader.line_num


def _excerpt(fields: list[str]) -> str:
    return ",".join(fields)[:300]


def _mask_ids(text: str) -> str:
    """Rejection excerpts of Swedish files: digit runs that may be personal identity numbers
    (10 or 12 digits, with or without a dash) are masked."""
    return re.sub(r"\d{6,8}-?\d{4}", "<id>", text)


def _csv_error(fields: list[str]) -> str | None:
    if len(fields) == 1 and fields[0].startswith("\x00csv error: "):
        return fields[0][1:]
    return None


# ---------------------------------------------------------------- Companies House

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
    rows = _csv_rows(opened)
    try:
        _, header = next(rows)
    except StopIteration:
        raise FileFormatError("ch_basic: empty file") from None
    idx = _header_index(header, CH_REQUIRED, "ch_basic")
    width = len(header)
    for line, fields in rows:
        if not fields or fields == [""]:
            continue
        if error := _csv_error(fields):
            yield Rejected(line, f"unparseable CSV: {error}")
            continue
        if len(fields) != width:
            yield Rejected(line, f"expected {width} fields, found {len(fields)}", _excerpt(fields))
            continue
        try:
            yield ch_basic_record(idx, fields, line)
        except RowError as exc:
            yield Rejected(line, str(exc), _excerpt(fields))


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
    rows = _csv_rows(opened)
    try:
        _, header = next(rows)
    except StopIteration:
        raise FileFormatError("no_enheter: empty file") from None
    idx = _header_index(header, BRREG_REQUIRED, "no_enheter")
    width = len(header)
    for line, fields in rows:
        if not fields or fields == [""]:
            continue
        if error := _csv_error(fields):
            yield Rejected(line, f"unparseable CSV: {error}")
            continue
        if len(fields) != width:
            yield Rejected(line, f"expected {width} fields, found {len(fields)}", _excerpt(fields))
            continue

        def get(name: str, _f=fields):
            i = idx.get(name)
            return _f[i] if i is not None else None

        try:
            yield brreg_record(get, line, "\x1f".join(fields))
        except RowError as exc:
            yield Rejected(line, str(exc), _excerpt(fields))


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

BV_REQUIRED = ("organisationsidentitet", "organisationsnamn", "organisationsform")


def _split_semicolon_quoted(line: str) -> list[str] | None:
    body = line.rstrip("\r\n")
    if len(body) >= 2 and body[0] == '"' and body[-1] == '"':
        parts = body[1:-1].split('";"')
        if all('"' not in p.replace('""', "") for p in parts):
            return [p.replace('""', '"') for p in parts]
    try:
        return next(csv.reader([body], delimiter=";", strict=True))
    except (csv.Error, StopIteration):
        return None


def _compound(value: str) -> list[list[str]]:
    return [item.split("$") for item in value.split("|") if item.strip()]


def parse_se_bolagsverket(opened: Opened) -> Iterator[Item]:
    """``;``-separated, one record per physical line; ``$``/``|`` compounds.

    Parsed line by line so a stray quote costs one row, not the rest of the file. Sole traders
    (``PERSON-IDORG``) are skipped and their identity number is not kept, not even in rejections.
    """
    text = text_lines(opened)
    header = text.readline().rstrip("\r\n").lstrip("\ufeff")
    names = [h.strip().strip('"') for h in header.split(";")]
    idx = _header_index(names, BV_REQUIRED, "se_bolagsverket")
    width = len(names)
    for line_no, line in enumerate(text, 2):
        if not line.strip():
            continue
        fields = _split_semicolon_quoted(line)
        if fields is None or len(fields) != width:
            found = "unparseable quoting" if fields is None else f"{len(fields)} fields"
            yield Rejected(
                line_no,
                f"malformed line: expected {width} fields, found {found}",
                _mask_ids(line[:200]),
            )
            continue
        ident = _compound(fields[idx["organisationsidentitet"]])
        if not ident or len(ident[0]) < 2:
            yield Rejected(line_no, "organisationsidentitet: missing id type")
            continue
        number, id_type = ident[0][0].strip(), ident[0][1].strip()
        if id_type == "PERSON-IDORG":
            yield Skipped(line_no, "sole trader keyed by personal identity number")
            continue
        if id_type != "ORGNR-IDORG" or not re.fullmatch(r"\d{10}", number):
            yield Rejected(
                line_no, f"organisationsidentitet: not an organisation number ({id_type})"
            )
            continue

        def col(name: str, _f=fields) -> str:
            i = idx.get(name)
            return _f[i] if i is not None else ""

        names_c = _compound(col("organisationsnamn"))
        main = next(
            (n for n in names_c if len(n) > 1 and n[1] == "FORETAGSNAMN-ORGNAM"),
            names_c[0] if names_c else None,
        )
        name = main[0].strip() if main else ""
        if not name:
            yield Rejected(line_no, "organisationsnamn: empty")
            continue
        form = col("organisationsform").split("-ORGFO")[0].strip()
        status = "active"
        if col("avregistreringsdatum").strip():
            status = "dissolved"
        else:
            proc = col("pagandeAvvecklingsEllerOmstruktureringsforfarande")
            codes = {p[0].split("-")[0] for p in _compound(proc)}
            if "KK" in codes:
                status = "bankrupt"
            elif "LI" in codes:
                status = "liquidation"
        addr = col("postadress").split("$")
        addr += [""] * (5 - len(addr))
        street, co, city, postcode = (a.strip() for a in addr[:4])
        try:
            registered = iso_date(col("registreringsdatum"), column="registreringsdatum")
        except RowError as exc:
            yield Rejected(line_no, str(exc))
            continue
        postcode = postcode.replace(" ", "")
        yield CompanyRecord(
            line=line_no,
            country="SE",
            registry_id=number,
            name=name[:300],
            legal_form=SE_FORMS.get(form, "other"),
            legal_form_raw=form[:120],
            status=status,
            incorporated_on=registered,
            address=", ".join(p for p in (co, street) if p)[:300],
            postcode=postcode[:16],
            postcode_prefix=postcode[:2],
            municipality=city[:100],
            payload_hash=sha256_text(line.rstrip("\r\n")),
        )


SCB_REQUIRED = ("PeOrgNr", "Ng1", "Reklamsparrtyp")


def parse_se_scb(opened: Opened) -> Iterator[Item]:
    """Tab-separated, latin-1 (detected), header ends with a tab; SNI codes Ng1..Ng5."""
    text = text_lines(opened)
    names = text.readline().rstrip("\r\n").lstrip("\ufeff").split("\t")
    while names and not names[-1].strip():
        names.pop()  # the trailing tab
    idx = _header_index(names, SCB_REQUIRED, "se_scb")
    width = len(names)
    for line_no, line in enumerate(text, 2):
        body = line.rstrip("\r\n")
        if not body.strip():
            continue
        fields = body.split("\t")
        if len(fields) > width and not any(f.strip() for f in fields[width:]):
            fields = fields[:width]
        if len(fields) != width:
            yield Rejected(
                line_no, f"expected {width} fields, found {len(fields)}", _mask_ids(body[:300])
            )
            continue

        def col(name: str, _f=fields) -> str:
            i = idx.get(name)
            return _f[i].strip() if i is not None else ""

        pe = col("PeOrgNr")
        if not re.fullmatch(r"16\d{10}", pe):
            if re.fullmatch(r"\d{12}", pe):
                yield Skipped(line_no, "personal identity number, not an organisation")
            else:
                yield Rejected(line_no, "PeOrgNr: not 16 + 10 digits")
            continue
        raws, industries = [], []
        for n in range(1, 6):
            code = col(f"Ng{n}")
            if not code:
                continue
            raws.append(code)
            cls = nace.nace_class_from_code(raw=code, system=nace.SNI2007)
            if cls is not None and all(cls != i[0] for i in industries):
                industries.append((cls, nace.SNI2007, code, not industries))
        block = col("Reklamsparrtyp")
        postcode = col("PostNr").replace(" ", "")
        name = col("Foretagsnamn") or col("Namn")
        yield CompanyRecord(
            line=line_no,
            country="SE",
            registry_id=pe[2:],
            name=name[:300],
            legal_form=SE_SCB_FORMS.get(col("JurForm"), "other"),
            legal_form_raw=col("JurForm")[:120],
            nace_primary=industries[0][0] if industries else None,
            nace_raw=";".join(raws),
            address=col("Gatuadress")[:300],
            postcode=postcode[:16],
            postcode_prefix=postcode[:2],
            municipality=col("PostOrt")[:100],
            marketing_blocked=block not in ("", "0"),
            payload_hash=sha256_text(body),
            industries=industries,
        )


# ---------------------------------------------------------------- GLEIF

GLEIF_REQUIRED = (
    "LEI",
    "Entity.LegalName",
    "Entity.RegistrationAuthority.RegistrationAuthorityEntityID",
    "Entity.LegalJurisdiction",
)
GLEIF_COUNTRIES = {"GB", "NO", "SE"}


def parse_gleif(opened: Opened) -> Iterator[Item]:
    """Golden Copy CSV (dotted header): a crosswalk LEI -> national registry id."""
    rows = _csv_rows(opened)
    try:
        _, header = next(rows)
    except StopIteration:
        raise FileFormatError("gleif: empty file") from None
    idx = _header_index(header, GLEIF_REQUIRED, "gleif")
    width = len(header)
    for line, fields in rows:
        if not fields or fields == [""]:
            continue
        if error := _csv_error(fields):
            yield Rejected(line, f"unparseable CSV: {error}")
            continue
        if len(fields) != width:
            yield Rejected(line, f"expected {width} fields, found {len(fields)}", _excerpt(fields))
            continue
        lei = fields[idx["LEI"]].strip()
        if not re.fullmatch(r"[A-Z0-9]{20}", lei):
            yield Rejected(line, f"LEI: not 20 characters A-Z0-9: {lei[:24]!r}")
            continue
        country = fields[idx["Entity.LegalJurisdiction"]].strip().upper()[:2]
        if country not in GLEIF_COUNTRIES:
            yield Skipped(line, f"jurisdiction {country or '?'} not in the directory")
            continue
        rid = fields[idx["Entity.RegistrationAuthority.RegistrationAuthorityEntityID"]].strip()
        if country == "SE":
            rid = rid.replace("-", "")
        if country == "NO":
            rid = rid.replace(" ", "")
        if not rid:
            yield Skipped(line, "no registration-authority entity id")
            continue
        yield CompanyRecord(
            line=line,
            country=country,
            registry_id=rid[:32],
            name=fields[idx["Entity.LegalName"]].strip()[:300],
            lei=lei,
            payload_hash=sha256_text(lei + rid),
        )
