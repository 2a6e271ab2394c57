"""Shared pieces of the streaming parsers: header mapping, CSV rows with line numbers,
rejection excerpts.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from enrichment.importers.records import (
    CompanyRecord,
    Rejected,
    RoleRecord,
    Skipped,
    Trailer,
)
from enrichment.importers.streams import Opened, text_lines

Item = CompanyRecord | RoleRecord | Rejected | Skipped | Trailer

csv.field_size_limit(10 * 1024 * 1024)


class FileFormatError(ValueError):
    """The file as a whole cannot be read as this source (wrong header, wrong format)."""


def header_index(names: list[str], required: tuple[str, ...], source: str) -> dict[str, int]:
    index = {n.strip(): i for i, n in enumerate(names) if n.strip()}
    missing = [r for r in required if r not in index]
    if missing:
        raise FileFormatError(f"{source}: header lacks required column(s) {', '.join(missing)}")
    return index


def csv_rows(opened: Opened, **fmt) -> Iterator[tuple[int, list[str]]]:
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


def excerpt(fields: list[str]) -> str:
    return ",".join(fields)[:300]


def mask_ids(text: str) -> str:
    """Rejection excerpts of Swedish files: digit runs that may be personal identity numbers
    (10 or 12 digits, with or without a dash) are masked."""
    return re.sub(r"\d{6,8}-?\d{4}", "<id>", text)


def csv_error(fields: list[str]) -> str | None:
    if len(fields) == 1 and fields[0].startswith("\x00csv error: "):
        return fields[0][1:]
    return None


# ---------------------------------------------------------------- Companies House


def csv_table(
    opened: Opened, *, required: tuple[str, ...], source: str
) -> tuple[dict[str, int], Iterator[tuple[int, list[str]] | Rejected]]:
    """A registry CSV by header name: the column index, and its data rows as (line, fields), or as
    a Rejected naming the line when a row cannot be parsed or has the wrong number of fields.
    Blank lines are skipped. Raises FileFormatError for an empty file or a missing column."""
    rows = csv_rows(opened)
    try:
        _, header = next(rows)
    except StopIteration:
        raise FileFormatError(f"{source}: empty file") from None
    idx = header_index(header, required, source)
    width = len(header)

    def checked() -> Iterator[tuple[int, list[str]] | Rejected]:
        for line, fields in rows:
            if not fields or fields == [""]:
                continue
            if error := csv_error(fields):
                yield Rejected(line, f"unparseable CSV: {error}")
            elif len(fields) != width:
                yield Rejected(
                    line, f"expected {width} fields, found {len(fields)}", excerpt(fields)
                )
            else:
                yield line, fields

    return idx, checked()
