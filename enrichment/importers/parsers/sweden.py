"""Sweden: the Bolagsverket bulk file and the SCB legal-entity (JE) file."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from enrichment import nace
from enrichment.importers.parsers.common import (
    Item,
    header_index,
    mask_ids,
)
from enrichment.importers.records import (
    SE_FORMS,
    SE_SCB_FORMS,
    CompanyRecord,
    Rejected,
    RowError,
    Skipped,
    iso_date,
    sha256_text,
)
from enrichment.importers.streams import Opened, text_lines

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
    idx = header_index(names, BV_REQUIRED, "se_bolagsverket")
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
                mask_ids(line[:200]),
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
    idx = header_index(names, SCB_REQUIRED, "se_scb")
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
                line_no, f"expected {width} fields, found {len(fields)}", mask_ids(body[:300])
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
