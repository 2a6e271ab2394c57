"""An upload's results as CSV (the page's download and GET …/uploads/<id>/results.csv): one line
per row of the file, in its order, with the customer's own columns first, then what was found.
UTF-8 with BOM (spreadsheets read it), every cell formula-safe, streamed in keyset chunks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from blocklists.csv_io import csv_cell_formula_safe
from organizations.models import Organization

from .models import Upload, UploadRow

_CHUNK = 1000

RESULT_COLUMNS = (
    "line",
    "outcome",
    "reason",
    "problems",
    "match_method",
    "confidence",
    "company",
    "decision_maker",
    "role",
    "contact_kind",
    "contact",
    "status",
    "charged",
)


def _result_cells(row: UploadRow) -> list[str]:
    result = row.result or {}
    checks = result.get("checks") or []
    contact_kind = result.get("contact_kind") or ", ".join(c.get("kind", "") for c in checks)
    contact = result.get("contact") or ", ".join(c.get("value", "") for c in checks)
    status = result.get("status") or ", ".join(c.get("status", "") for c in checks)
    return [
        str(row.line),
        row.outcome,
        row.reason,
        "; ".join(f"{p.get('field')}: {p.get('message')}" for p in row.problems or ()),
        row.match_method,
        "" if row.confidence is None else f"{row.confidence:.2f}",
        str(result.get("company") or ""),
        str(result.get("person") or ""),
        str(result.get("role") or ""),
        contact_kind,
        contact,
        status,
        _("yes") if row.charged else _("no"),
    ]


def upload_results_lines(*, organization: Organization, upload: Upload) -> Iterator[str]:
    def line(cells: list[str]) -> str:
        out = io.StringIO()
        csv.writer(out).writerow([csv_cell_formula_safe(str(c)) for c in cells])
        return out.getvalue()

    header = list(upload.header)
    yield "\ufeff" + line(header + list(RESULT_COLUMNS))
    rows = UploadRow.objects.for_org(organization).filter(upload=upload)
    after = -1
    while True:
        chunk = list(rows.filter(line__gt=after).order_by("line")[:_CHUNK])
        if not chunk:
            return
        for row in chunk:
            cells = list(row.cells or [])[: len(header)]
            cells += [""] * (len(header) - len(cells))
            yield line(cells + _result_cells(row))
        after = chunk[-1].line


def upload_results_response(*, organization: Organization, upload: Upload) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        upload_results_lines(organization=organization, upload=upload),
        content_type="text/csv; charset=utf-8",
    )
    stem = get_valid_filename(upload.filename.rsplit(".", 1)[0]) or "upload"
    response["Content-Disposition"] = f'attachment; filename="{stem}-results.csv"'
    return response
