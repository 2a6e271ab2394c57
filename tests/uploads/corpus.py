"""Files customers send: good ones and a corpus of malformed ones, built in memory."""

from __future__ import annotations

import io
import zipfile

GOOD_NO = "923609016"  # valid MOD11 (checked in test_validation)
GOOD_SE = "5560360793"  # valid Luhn


def xlsx(rows: list[list[object]], *, formula_at: tuple[int, int] | None = None) -> bytes:
    """A minimal XLSX workbook (inline strings) with `rows`; `formula_at` (row, col), 0-based,
    makes that cell a formula with a cached value."""

    def col(i: int) -> str:
        return chr(ord("A") + i)

    sheet_rows = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{col(c)}{r}"
            if formula_at == (r - 1, c):
                cells.append(f'<c r="{ref}"><f>1+1</f><v>2</v></c>')
            elif isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                text = str(value).replace("&", "&amp;").replace("<", "&lt;")
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
        sheet_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(sheet_rows)}</sheetData></worksheet>"
    )
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024))
    return out.getvalue()


HEADER = "org_number,country,company name,city\n"


def csv_rows(n: int) -> bytes:
    return (HEADER + "".join(f"{GOOD_NO},NO,Firma {i},Oslo\n" for i in range(n))).encode()


# (name, filename, content, expected words in the refusal or the report, refused as a whole?)
MALFORMED: list[tuple[str, str, bytes, tuple[str, ...], bool]] = [
    ("empty", "empty.csv", b"", ("empty",), True),
    ("header only", "header.csv", HEADER.encode(), ("header", "no rows"), True),
    ("blank lines only", "blank.csv", b"\n\n\r\n  \n", ("no text",), True),
    (
        "wrong delimiter",
        "pipes.csv",
        b"org_number|country|name\n923609016|NO|Firma\n",
        ("one column", "comma"),
        True,
    ),
    ("binary", "data.csv", bytes(range(256)) * 40, ("not a CSV text file",), True),
    (
        "png renamed csv",
        "logo.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64,
        ("not a CSV",),
        True,
    ),
    ("zip bomb renamed xlsx", "bomb.xlsx", b"", ("zip bomb",), True),  # filled in below
    (
        "broken zip named xlsx",
        "broken.xlsx",
        b"PK\x03\x04garbage" * 10,
        ("not a readable XLSX",),
        True,
    ),
    ("text named xlsx", "list.xlsx", HEADER.encode() + b"x,y,z,w\n", ("not an XLSX",), True),
    (
        "unclosed quote",
        "quote.csv",
        (HEADER + f'{GOOD_NO},NO,"Firma AS,Oslo\n').encode(),
        ("Line 2", "never closed"),
        True,
    ),
    (
        "a cell of 1 MB",
        "big_cell.csv",
        (HEADER + f"{GOOD_NO},NO,{'x' * 1_000_000},Oslo\n").encode(),
        ("Line 2", "longer than 1000"),
        True,
    ),
    ("too many rows", "many.csv", b"", ("more than", "rows"), True),  # filled in below
    ("oversized", "huge.csv", b"", ("larger than",), True),  # filled in below
    (
        "invalid utf-8 after a good start",
        "mixed.csv",
        (HEADER + f"{GOOD_NO},NO,Firma,Oslo\n" * 3000).encode()
        + b"\xff\xfe\xfa,NO,x,y\n"
        + b"\x81\x8d\x8f\x90\x9d,NO,x,y\n",
        ("not valid",),
        True,
    ),
    # Reported per row (the file is taken, the row names the problem):
    ("missing key", "nokey.csv", (HEADER + ",NO,,\n").encode(), ("Line 2", "no key"), False),
    (
        "bad MOD11",
        "mod11.csv",
        (HEADER + "912345678,NO,Firma,Oslo\n").encode(),
        ("Line 2", "MOD11"),
        False,
    ),
    (
        "bad Luhn",
        "luhn.csv",
        (HEADER + "5560360794,SE,Bolag,Lund\n").encode(),
        ("Line 2", "Luhn"),
        False,
    ),
    (
        "bad UK shape",
        "uk.csv",
        (HEADER + "ABC12,GB,Ltd,London\n").encode(),
        ("Line 2", "UK company number"),
        False,
    ),
    (
        "unknown country",
        "cc.csv",
        (HEADER + f"{GOOD_NO},Atlantis,Firma,Oslo\n").encode(),
        ("Line 2", "Atlantis", "not a country"),
        False,
    ),
    (
        "duplicate rows",
        "dups.csv",
        (HEADER + f"{GOOD_NO},NO,Firma,Oslo\n{GOOD_NO},NO,Firma,Oslo\n").encode(),
        ("Line 3", "duplicate of line 2"),
        False,
    ),
    ("missing columns", "cols.csv", b"colour,size\nred,big\n", ("Line 2", "no key"), False),
    ("xlsx with formulas", "formula.xlsx", b"", ("Line 3", "formula"), False),  # filled in below
    (
        "latin-1",
        "latin1.csv",
        "organisasjonsnummer;land;navn;poststed\n923609016;NO;Bjørn Å AS;Tromsø\n;NO;;\n".encode(
            "latin-1"
        ),
        ("Line 3", "no key"),
        False,
    ),
    (
        "UTF-16 with BOM",
        "utf16.csv",
        "organisationsnummer\tland\tföretag\tort\n5560360794\tSE\tÅngström AB\tUppsala\n".encode(
            "utf-16"
        ),
        ("Line 2", "Luhn"),
        False,
    ),
    (
        "country missing for a registry number",
        "nocc.csv",
        b"org_number,name\n923609016,Firma\n",
        ("Line 2", "country", "needed"),
        False,
    ),
]


def corpus() -> list[tuple[str, str, bytes, tuple[str, ...], bool]]:
    filled = []
    for name, filename, content, words, refused in MALFORMED:
        if name == "zip bomb renamed xlsx":
            content = zip_bomb()
        elif name == "too many rows":
            content = csv_rows(101)  # the test lowers LEADPILOT_UPLOAD_MAX_ROWS to 100
        elif name == "oversized":
            content = csv_rows(40_000)  # ~1.2 MB; the test lowers LEADPILOT_UPLOAD_MAX_MB to 1
        elif name == "xlsx with formulas":
            content = xlsx(
                [["org_number", "country", "name"], [GOOD_NO, "NO", "Firma"], [1, "NO", "Sum"]],
                formula_at=(2, 0),
            )
        filled.append((name, filename, content, words, refused))
    return filled
