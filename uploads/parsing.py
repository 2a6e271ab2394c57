"""Reading an uploaded list: CSV (encoding and separator detected, streamed) or XLSX (first sheet,
read with python-calamine after the archive's sizes are checked, so a zip bomb is refused before
anything is inflated), and detecting the column mapping from the header (English, Swedish,
Norwegian).

A file that cannot be read at all raises `UploadFileError` naming the problem and, where there is
one, the line; nothing is stored then. Problems of single rows are the validation's
(uploads/validation.py) and are reported per row.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO
from xml.etree.ElementTree import iterparse

from django.conf import settings
from django.utils.translation import gettext as _

from blocklists.csv_io import csv_delimiter_of, csv_text_encoding

# A cell longer than this is refused with its row: no field we read is longer than an e-mail
# address or a company name, and a megabyte cell is a broken export or an attack.
CELL_MAX_CHARS = 1000
# The csv module's own limit on a field, above ours so that a long cell reaches the row check.
_CSV_FIELD_LIMIT = 64 * 1024
# XLSX: the archive's members may inflate to this in total, and no member more than this ratio.
XLSX_MAX_UNCOMPRESSED = 200 * 1024 * 1024
XLSX_MAX_RATIO = 100
_SAMPLE = 64 * 1024


class UploadFileError(ValueError):
    """The file as a whole cannot be taken. `line` is 0 for the file, else where it went wrong."""

    def __init__(self, message: str, *, line: int = 0) -> None:
        self.message, self.line = message, line
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.line:
            return _("Line %(line)d: %(message)s") % {"line": self.line, "message": self.message}
        return self.message


@dataclass
class Table:
    """A file's header and a stream of (line, cells) of its non-empty rows."""

    file_format: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str = ""
    delimiter: str = ""


def max_bytes() -> int:
    return int(settings.LEADPILOT_UPLOAD_MAX_MB) * 1024 * 1024


def max_rows() -> int:
    return int(settings.LEADPILOT_UPLOAD_MAX_ROWS)


def table_open(*, file: IO[bytes], filename: str, size: int) -> Table:
    """The table of an uploaded file, by its content (an XLSX is a zip archive; anything else is
    read as CSV text). Raises UploadFileError for an empty, oversized, binary or broken file."""
    if size == 0:
        raise UploadFileError(_("The file is empty."))
    if size > max_bytes():
        raise UploadFileError(
            _("The file is larger than %(limit)d MB.") % {"limit": settings.LEADPILOT_UPLOAD_MAX_MB}
        )
    file.seek(0)
    head = file.read(_SAMPLE)
    file.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return _xlsx_open(file)
    if filename.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise UploadFileError(
            _(
                "The file is named like a spreadsheet but is not an XLSX workbook (save it as .xlsx)."
            )
        )
    return _csv_open(file, head)


def _csv_open(file: IO[bytes], head: bytes) -> Table:
    try:
        encoding = csv_text_encoding(head)
    except ValueError as exc:
        raise UploadFileError(_("The file %(problem)s.") % {"problem": exc}) from None
    text = io.TextIOWrapper(file, encoding=encoding, newline="", errors="strict")
    try:
        first = text.readline()
        while first and not first.strip():
            first = text.readline()
    except UnicodeDecodeError:
        raise UploadFileError(
            _("The header is not valid %(enc)s text.") % {"enc": encoding}
        ) from None
    if not first.strip():
        raise UploadFileError(_("The file holds no text."))
    delimiter = csv_delimiter_of(first)
    header_cells = next(csv.reader([first], delimiter=delimiter))
    header = [h.strip().lstrip("\ufeff") for h in header_cells]
    if len(header) < 2 and not _known_field(header[0] if header else ""):
        raise UploadFileError(
            _(
                "The header has one column (%(header)s): separate the columns with a comma, a "
                "semicolon or a tab."
            )
            % {"header": (header[0] if header else "")[:80]},
            line=1,
        )
    return Table(
        file_format="csv",
        header=header,
        rows=_csv_rows(text, delimiter=delimiter, encoding=encoding),
        encoding=encoding,
        delimiter=delimiter,
    )


def _csv_rows(text: IO[str], *, delimiter: str, encoding: str) -> Iterator[tuple[int, list[str]]]:
    previous = csv.field_size_limit()
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        reader = csv.reader(text, delimiter=delimiter, strict=True)
        line = 1
        while True:
            start = line + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise UploadFileError(
                    _("the text is not valid %(enc)s (save the file as UTF-8)") % {"enc": encoding},
                    line=start,
                ) from None
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    message = _("a cell is longer than %(limit)d characters") % {
                        "limit": CELL_MAX_CHARS
                    }
                elif "unexpected end of data" in str(exc):
                    message = _("a quoted cell that starts here is never closed")
                else:
                    message = _("the row cannot be read (%(error)s)") % {"error": exc}
                raise UploadFileError(message, line=start) from None
            line = reader.line_num + 1
            if any(cell.strip() for cell in row):
                yield start, row
    finally:
        csv.field_size_limit(previous)


def _xlsx_members_check(archive: zipfile.ZipFile) -> None:
    total = 0
    for info in archive.infolist():
        total += info.file_size
        if (
            info.file_size > XLSX_MAX_RATIO * max(info.compress_size, 1)
            and info.file_size > 1 << 20
        ):
            raise UploadFileError(
                _(
                    "The workbook's part %(name)s inflates %(ratio)d times its size: refused as a "
                    "zip bomb."
                )
                % {
                    "name": info.filename[:80],
                    "ratio": info.file_size // max(info.compress_size, 1),
                }
            )
    if total > XLSX_MAX_UNCOMPRESSED:
        raise UploadFileError(
            _("The workbook inflates to more than %(limit)d MB: refused.")
            % {"limit": XLSX_MAX_UNCOMPRESSED // (1024 * 1024)}
        )


def _xlsx_formula_rows(archive: zipfile.ZipFile) -> set[int]:
    """Row numbers of the first sheet that hold a formula (the cell's value would be whatever the
    spreadsheet last computed, or nothing)."""
    names = sorted(n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
    if not names:
        return set()
    rows: set[int] = set()
    with archive.open(names[0]) as sheet:
        for _event, elem in iterparse(sheet):  # noqa: S314 - size checked, no entities in OOXML
            tag = elem.tag.rsplit("}", 1)[-1]
            if tag == "c":
                if any(child.tag.rsplit("}", 1)[-1] == "f" for child in elem):
                    ref = elem.get("r", "")
                    digits = "".join(ch for ch in ref if ch.isdigit())
                    if digits:
                        rows.add(int(digits))
                elem.clear()
            elif tag == "row":
                elem.clear()
    return rows


def _xlsx_open(file: IO[bytes]) -> Table:
    from python_calamine import CalamineWorkbook

    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError):
        raise UploadFileError(_("The file is not a readable XLSX workbook.")) from None
    with archive:
        _xlsx_members_check(archive)
        try:
            formulas = _xlsx_formula_rows(archive)
        except Exception:
            raise UploadFileError(_("The workbook's first sheet cannot be read.")) from None
    file.seek(0)
    try:
        workbook = CalamineWorkbook.from_filelike(file)
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.iter_rows()
        header_row = next(rows, None)
    except Exception:
        raise UploadFileError(_("The file is not a readable XLSX workbook.")) from None
    if header_row is None or not any(_cell_text(c).strip() for c in header_row):
        raise UploadFileError(_("The workbook's first sheet is empty."))
    header = [_cell_text(c).strip() for c in header_row]
    return Table(file_format="xlsx", header=header, rows=_xlsx_rows(rows, formulas))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 912345678.0 is how a spreadsheet keeps an organisation number
    return str(value)


# Stored in place of what PostgreSQL text cannot hold, and appended to a row holding a formula;
# the validation reports both on the row.
NUL_MARK = "\ufffd"
FORMULA_MARK = "\u2063formula"


def cells_storable(cells: list[str]) -> list[str]:
    """Cells as stored: NUL replaced, each cut just past the longest the validation accepts (so
    a megabyte cell is reported, not kept)."""
    return [c.replace("\x00", NUL_MARK)[: CELL_MAX_CHARS + 1] for c in cells]


def _xlsx_rows(rows: Iterator[list], formulas: set[int]) -> Iterator[tuple[int, list[str]]]:
    for index, row in enumerate(rows, start=2):
        cells = [_cell_text(c) for c in row]
        if index in formulas:
            cells.append(FORMULA_MARK)
        if any(c.strip() for c in cells):
            yield index, cells


# The fields of each kind and the header names (normalised: lower case, letters and digits only)
# that mean them, in English, Swedish and Norwegian.
COMPANY_FIELDS = ("registry_id", "country", "domain", "name", "city", "postcode")
CONTACT_FIELDS = (
    "email",
    "phone",
    "full_name",
    "first_name",
    "last_name",
    "company",
    "country",
)
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "registry_id": (
        "registryid",
        "registrynumber",
        "registrationnumber",
        "companynumber",
        "companyregistrationnumber",
        "crn",
        "orgnumber",
        "orgno",
        "orgnr",
        "organisationnumber",
        "organizationnumber",
        "organisationsnummer",
        "organisasjonsnummer",
        "orgnummer",
        "foretaksnummer",
        "registreringsnummer",
    ),
    "country": ("country", "countrycode", "land", "landskod", "landkode", "landskode"),
    "domain": (
        "domain",
        "website",
        "web",
        "url",
        "homepage",
        "webpage",
        "site",
        "hemsida",
        "webbplats",
        "webbadress",
        "nettside",
        "hjemmeside",
        "nettadresse",
        "doman",
        "domene",
    ),
    "name": (
        "name",
        "companyname",
        "company",
        "organisation",
        "organization",
        "foretagsnamn",
        "foretag",
        "bolag",
        "bolagsnamn",
        "firma",
        "firmanamn",
        "firmanavn",
        "foretaksnavn",
        "selskap",
        "selskapsnavn",
        "bedrift",
        "namn",
        "navn",
    ),
    "city": ("city", "town", "place", "ort", "postort", "stad", "kommun", "poststed", "sted", "by"),
    "postcode": ("postcode", "postalcode", "zip", "zipcode", "postnummer", "postnr", "postkod"),
    "email": ("email", "emailaddress", "mail", "epost", "epostadress", "epostadresse"),
    "phone": (
        "phone",
        "phonenumber",
        "telephone",
        "tel",
        "mobile",
        "mobilephone",
        "telefon",
        "telefonnummer",
        "mobil",
        "mobilnummer",
    ),
    "full_name": (
        "name",
        "fullname",
        "contact",
        "contactname",
        "person",
        "namn",
        "navn",
        "kontaktperson",
        "fulltnavn",
        "fulltnamn",
    ),
    "first_name": ("firstname", "givenname", "fornamn", "fornavn"),
    "last_name": ("lastname", "surname", "familyname", "efternamn", "etternavn"),
    "company": (
        "company",
        "companyname",
        "organisation",
        "organization",
        "foretag",
        "bolag",
        "firma",
        "selskap",
        "bedrift",
    ),
}
_FOLD = str.maketrans({"å": "a", "ä": "a", "æ": "a", "ö": "o", "ø": "o", "é": "e"})


def header_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower().translate(_FOLD))


def _known_field(name: str) -> bool:
    key = header_key(name)
    return any(key in names for names in _SYNONYMS.values())


def fields_of(kind: str) -> tuple[str, ...]:
    return COMPANY_FIELDS if kind == "companies" else CONTACT_FIELDS


def mapping_detect(*, kind: str, header: list[str]) -> dict[str, int]:
    """Our field -> the header's column index, for the columns whose names we know; each column
    is used once, the first field that claims it wins (so "company" is the name of a company
    list and the company of a contact list)."""
    keys = [header_key(h) for h in header]
    mapping: dict[str, int] = {}
    taken: set[int] = set()
    for field in fields_of(kind):
        for index, key in enumerate(keys):
            if index not in taken and key in _SYNONYMS[field]:
                mapping[field] = index
                taken.add(index)
                break
    return mapping
