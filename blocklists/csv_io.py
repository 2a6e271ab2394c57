"""CSV import and export of an organisation's block list.

Format (a header row is required; column names are case-insensitive, order free):
    kind,value,country,note
    company,01234567,GB,old customer
    company,NO:912345678,,
    domain,https://www.example.co.uk/,,
    company_name,Acme Widgets Ltd,,
    email,Kari.Nordmann@Example.no,,
    phone,22 33 44 55,NO,
    person,4711,,
`kind` is one of blocklists.models.BlockKind; `country` is needed for registry ids and national
phone numbers. Separators `,` `;` or tab; any common encoding (UTF-8 with or without BOM, UTF-16,
Windows-1252/Latin-1; other encodings are guessed).

All or nothing: every row is checked first; if any row is wrong, nothing is written and every
problem is reported as (line, field, message). Rows already on the list, and repeats within the
file, are not errors: they are counted as skipped.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from charset_normalizer import from_bytes
from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _

from organizations.models import Organization, User

from .models import BlockEntry, BlockKind
from .services import BlockEntryError, block_entries_statistics_refresh, block_value_normalize

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_ERRORS = 200
NOTE_MAX_LENGTH = 200
COLUMNS = ("kind", "value", "country", "note")
_FORMULA_START = ("=", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]\d+(\.\d+)?")


@dataclass(frozen=True)
class RowError:
    line: int  # 0 = the file as a whole
    field: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line else ""
        return f"{where}{self.field}: {self.message}"


@dataclass
class ImportResult:
    created: int = 0
    skipped: int = 0
    rows: int = 0


@dataclass
class BlockImportError(Exception):
    errors: list[RowError] = field(default_factory=list)
    truncated: bool = False

    def __str__(self) -> str:
        return "; ".join(str(e) for e in self.errors[:5])


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BlockImportError(
            [RowError(0, "file", _("is not a CSV text file (export it as CSV)"))]
        )
    for bom, codec in ((b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                raise BlockImportError([RowError(0, "file", _("is not valid UTF-16"))]) from None
    # UTF-8 first; then Windows-1252, what spreadsheet programs in our markets write (statistical
    # detection misreads short Nordic texts as Central European); only then guess.
    for codec in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    best = from_bytes(data).best()
    if best is None:
        raise BlockImportError(
            [RowError(0, "file", _("its text encoding could not be recognised"))]
        )
    return str(best).lstrip("\ufeff")


def csv_text_encoding(sample: bytes) -> str:
    """The text encoding of a CSV file judged from its first bytes, in the order `_decode` tries
    for a whole file (own-list uploads stream files too large to decode at once): UTF-16 by its
    BOM, UTF-8 with or without BOM, Windows-1252, then a guess. ValueError with a message fit for
    the user for a binary file or one whose encoding cannot be recognised."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in sample[:4096]:
        raise ValueError(_("is not a CSV text file (export it as CSV)"))
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        decoder.decode(sample, final=False)  # a character cut at the sample's end is no error
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        pass
    best = from_bytes(sample).best()
    if best is None:
        raise ValueError(_("its text encoding could not be recognised"))
    return str(best.encoding)


def csv_delimiter_of(header_line: str) -> str:
    """The separator a header line uses: the most frequent of `,` `;` and tab. (csv.Sniffer
    guesses from the rows too, and a quoted note spanning lines misleads it.)"""
    return max(",;\t", key=header_line.count)


def _unescape(value: str) -> str:
    # Our export prefixes formula-like cells with a quote (spreadsheet safety); drop it again.
    if value.startswith("'") and value[1:2] in ("=", "@", "+", "-"):
        return value[1:]
    return value


def parse_rows(data: bytes) -> Iterator[tuple[int, dict[str, str], int]]:
    """(line, cells by column name, number of non-empty cells beyond the header's columns)."""
    if len(data) > MAX_BYTES:
        raise BlockImportError(
            [
                RowError(
                    0, "file", _("is larger than %(mb)d MB") % {"mb": MAX_BYTES // (1024 * 1024)}
                )
            ]
        )
    text = _decode(data)
    if not text.strip():
        raise BlockImportError([RowError(0, "file", _("is empty"))])
    # The separator is the one the required header uses. csv.Sniffer guessed from the rows too,
    # and a quoted note spanning lines made it turn off doubled quotes: the note came back
    # mangled and a stray column was dropped without a word.
    header_line = text.lstrip("\r\n").partition("\n")[0]
    delimiter = csv_delimiter_of(header_line)
    # strict: a quote left open is an error, not a field that swallows the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise BlockImportError(
            [RowError(1, "header", _("cannot be read (%(error)s)") % {"error": exc})]
        ) from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in ("kind", "value") if c not in names]
    if missing:
        raise BlockImportError(
            [
                RowError(
                    1,
                    "header",
                    _("needs the column(s) %(missing)s; found %(found)s (expected %(expected)s)")
                    % {
                        "missing": ", ".join(missing),
                        "found": ", ".join(names) or _("none"),
                        "expected": ",".join(COLUMNS),
                    },
                )
            ]
        )
    index = {name: names.index(name) for name in COLUMNS if name in names}
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            message = str(exc)
            if message == "unexpected end of data":
                message = _("a quoted field that starts here is never closed")
            elif "expected after" in message:
                message = _(
                    "text follows the closing quote of a field (quote the whole field and "
                    'double the quotes inside it: "say ""hi""")'
                )
            raise BlockImportError([RowError(start, "row", message)]) from None
        if not any(cell.strip() for cell in row):
            continue
        yield (
            reader.line_num,
            {name: _unescape(row[i].strip()) if i < len(row) else "" for name, i in index.items()},
            sum(1 for cell in row[len(header) :] if cell.strip()),
        )


def _cells_problem(row: dict[str, str], *, extra: int) -> tuple[str, str] | None:
    """(field, message) for a row that cannot be taken as it is, else None."""
    if extra:
        # "company_name,Acme, Inc" would block "acme", not "acme inc".
        return "row", (
            _("has %(n)d more field(s) than the header; quote a value that contains the separator")
            % {"n": extra}
        )
    for name, cell in row.items():
        if "\x00" in cell:
            # PostgreSQL text cannot hold NUL; the decoder only looks for it in the first 4 KB.
            return name, _("contains a NUL character (is this a text file?)")
    if len(row.get("note", "")) > NOTE_MAX_LENGTH:
        # As the form and the API: a long note is refused, not cut (it is also what a stray
        # quote that swallowed the following rows looks like).
        return "note", _("is longer than %(limit)d characters") % {"limit": NOTE_MAX_LENGTH}
    return None


def block_entries_import(
    *, organization: Organization, data: bytes, created_by: User | None = None
) -> ImportResult:
    """Import a CSV block list, all or nothing. Raises BlockImportError with every bad row (up to
    MAX_ERRORS) and writes nothing then. Idempotent: importing the same file twice adds nothing."""
    errors: list[RowError] = []
    wanted: dict[tuple[str, str], BlockEntry] = {}
    result = ImportResult()
    for line, row, extra in parse_rows(data):
        result.rows += 1
        if result.rows > MAX_ROWS:
            raise BlockImportError(
                [RowError(line, "file", _("has more than %(limit)d rows") % {"limit": MAX_ROWS})]
            )
        kind = row.get("kind", "").lower()
        problem = _cells_problem(row, extra=extra)
        if problem is not None:
            errors.append(RowError(line, *problem))
            if len(errors) >= MAX_ERRORS:
                raise BlockImportError(errors, truncated=True)
            continue
        try:
            value, person_id = block_value_normalize(
                kind=kind, value=row.get("value", ""), country=row.get("country", "")
            )
        except BlockEntryError as exc:
            errors.append(RowError(line, exc.field, exc.message))
            if len(errors) >= MAX_ERRORS:
                raise BlockImportError(errors, truncated=True) from None
            continue
        if (kind, value) in wanted:
            result.skipped += 1
            continue
        wanted[(kind, value)] = BlockEntry(
            organization=organization,
            kind=kind,
            value=value,
            raw=row.get("value", "")[:320],
            person_id=person_id,
            note=row.get("note", ""),
            created_by=created_by,
        )
    if errors:
        raise BlockImportError(errors)
    if not result.rows:
        raise BlockImportError([RowError(0, "file", _("has a header but no rows"))])
    with transaction.atomic():
        existing: set[tuple[str, str]] = set()
        values = [v for _, v in wanted]
        for start in range(0, len(values), 5000):
            existing.update(
                BlockEntry.objects.for_org(organization)
                .filter(value__in=values[start : start + 5000])
                .values_list("kind", "value")
            )
        new = [entry for key, entry in wanted.items() if key not in existing]
        BlockEntry.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
        # A large import changes what the planner must know about the organisation's list.
        block_entries_statistics_refresh(written=len(new))
    result.created = len(new)
    result.skipped += len(wanted) - len(new)
    return result


def csv_cell_formula_safe(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (every export of ours uses this one).

    A leading + or - starts a formula too ("-1+1+cmd|..."); only a plain number (an E.164
    phone, a negative figure) is left as it is."""
    if value.startswith(_FORMULA_START) or (
        value[:1] in ("+", "-") and not _NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def block_entries_export_lines(*, organization: Organization) -> Iterator[str]:
    """The block list as CSV lines (header first), re-importable as is. Streams from the DB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate(0)
        writer.writerow(cells)
        return buffer.getvalue()

    yield line([*COLUMNS, "created_at"])
    qs = (
        BlockEntry.objects.for_org(organization)
        .order_by("id")
        .values_list("kind", "value", "note", "created_at")
    )
    for kind, value, note, created_at in qs.iterator(chunk_size=2000):
        country = ""
        if kind == BlockKind.COMPANY:
            country, value = value.split(":", 1)
        yield line(
            [
                kind,
                csv_cell_formula_safe(value),
                country,
                csv_cell_formula_safe(note),
                created_at.isoformat(),
            ]
        )


def block_entries_export_response(*, organization: Organization) -> HttpResponse:
    """The block list as a CSV download (the dashboard's and the API's export answer)."""
    # Built whole: a block list is at most some 100,000 short lines.
    response = HttpResponse(
        "".join(block_entries_export_lines(organization=organization)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{organization.slug}-block-list.csv"'
    return response
