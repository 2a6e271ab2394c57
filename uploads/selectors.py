"""Reads of own-list uploads: an organisation's uploads, one upload, its rows and report."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from organizations.models import Organization

from .models import RowOutcome, Upload, UploadRow
from .validation import mapping_problems

REPORT_PROBLEMS_MAX = 200


def uploads_of_organization(*, organization: Organization) -> QuerySet[Upload]:
    return Upload.objects.for_org(organization).order_by("-created_at", "-id")


def upload_get(*, organization: Organization, upload_id: int) -> Upload:
    """The organisation's upload; Upload.DoesNotExist (404) for another organisation's."""
    return Upload.objects.for_org(organization).get(pk=upload_id)


def upload_rows(*, organization: Organization, upload: Upload) -> QuerySet[UploadRow]:
    return UploadRow.objects.for_org(organization).filter(upload=upload).order_by("line")


def upload_report(*, organization: Organization, upload: Upload) -> dict:
    """The validation report: what is wrong with the mapping as a whole (no key column ...),
    counts, and each row's problem with its line and field (the first REPORT_PROBLEMS_MAX;
    `problems_total` says how many rows have one)."""
    invalid = upload_rows(organization=organization, upload=upload).filter(
        outcome=RowOutcome.INVALID
    )
    problems = [
        {"line": line, "field": p.get("field", ""), "message": p.get("message", "")}
        for line, row_problems in invalid.values_list("line", "problems")[:REPORT_PROBLEMS_MAX]
        for p in row_problems
    ]
    mapping_problems_ = mapping_problems(upload.kind, upload.mapping, columns=len(upload.header))
    if mapping_problems_:
        mapping_problems_.append(
            _("The file's columns: %(columns)s.")
            % {"columns": ", ".join(h[:40] for h in upload.header[:30])}
        )
    return {
        "mapping_problems": mapping_problems_,
        "rows_total": upload.rows_total,
        "rows_valid": upload.rows_valid,
        "rows_invalid": upload.rows_total - upload.rows_valid,
        "mapping": upload.mapping,
        "header": upload.header,
        "problems": problems,
        "problems_total": upload.rows_total - upload.rows_valid,
    }
