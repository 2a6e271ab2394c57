"""Writes of own-list uploads: create (read, map, validate), change the mapping or roles, start,
cancel, delete after the retention period. The enrichment job itself is uploads/jobs.py.

Contract: an upload's rows are the organisation's alone and never reach the shared directory; a
row with a problem is never processed and never charged; nothing is charged before `upload_start`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.models import Organization, User
from segments.criteria import DEFAULT_ROLES, WANTABLE_ROLES

from .models import (
    ACTIVE_STATUSES,
    RowOutcome,
    Upload,
    UploadKind,
    UploadRow,
    UploadStatus,
)
from .parsing import (
    UploadFileError,
    cells_storable,
    fields_of,
    mapping_detect,
    max_rows,
    table_open,
)
from .validation import mapping_problems, row_check

_BATCH = 2000


@dataclass(frozen=True)
class UploadInput:
    """What a customer sends: the file, its kind, and optionally the mapping and roles."""

    file: IO[bytes]
    filename: str
    size: int
    kind: str
    mapping: dict[str, int] | None = None
    roles: Sequence[str] | None = None


def roles_clean(roles: Sequence[str] | None) -> list[str]:
    """Wanted decision-maker roles as in a segment: known kinds, in priority order; none given is
    the segment's default (CEO). ValidationError names an unknown role."""
    if not roles:
        return list(DEFAULT_ROLES)
    unknown = [r for r in roles if r not in WANTABLE_ROLES]
    if unknown:
        raise ValidationError(
            {
                "roles": _("Unknown role(s) %(roles)s; choose from %(known)s.")
                % {"roles": ", ".join(map(str, unknown)), "known": ", ".join(WANTABLE_ROLES)}
            }
        )
    return list(dict.fromkeys(roles))


def mapping_clean(
    *, kind: str, mapping: dict[str, Any] | None, header: list[str]
) -> dict[str, int]:
    """A mapping from the customer (field -> column index, or column name) checked against the
    file's header: ValidationError naming the field or column."""
    if mapping is None:
        # What the header names; when that is no key column the upload is still taken, its
        # report says so and the customer maps the columns before starting.
        return mapping_detect(kind=kind, header=header)
    fields = fields_of(kind)
    clean: dict[str, int] = {}
    for name, column in mapping.items():
        if column in (None, ""):
            continue
        if name not in fields:
            raise ValidationError(
                {
                    "mapping": _("%(field)s is not a field of this list; use %(fields)s.")
                    % {"field": name, "fields": ", ".join(fields)}
                }
            )
        if isinstance(column, str) and not column.lstrip("-").isdigit():
            if column not in header:
                raise ValidationError(
                    {
                        "mapping": _("%(field)s: the file has no column %(column)s.")
                        % {"field": name, "column": column}
                    }
                )
            clean[name] = header.index(column)
        else:
            clean[name] = int(column)
    problems = mapping_problems(kind, clean, columns=len(header))
    if problems:
        raise ValidationError({"mapping": problems})
    return clean


def upload_create(
    *, organization: Organization, created_by: User | None, data: UploadInput
) -> Upload:
    """Read the file, detect or take the mapping, validate every row and store the upload with
    its rows and report (status `validated`; nothing runs, nothing is charged).

    Raises ValidationError: {"file": ...} for a file that cannot be taken as a whole (empty,
    too large, binary, broken, more than LEADPILOT_UPLOAD_MAX_ROWS rows; the line where known),
    {"kind"|"mapping"|"roles": ...} for bad options. Nothing is stored then.
    """
    if data.kind not in UploadKind.values:
        raise ValidationError({"kind": _("Choose companies or contacts.")})
    roles = roles_clean(data.roles) if data.kind == UploadKind.COMPANIES else []
    try:
        table = table_open(file=data.file, filename=data.filename, size=data.size)
    except UploadFileError as exc:
        raise ValidationError({"file": str(exc)}) from None
    mapping = mapping_clean(kind=data.kind, mapping=data.mapping, header=table.header)
    with transaction.atomic():
        upload = Upload.objects.create(
            organization=organization,
            kind=data.kind,
            filename=data.filename[:255],
            file_format=table.file_format,
            encoding=table.encoding,
            delimiter=table.delimiter,
            header=table.header,
            mapping=mapping,
            roles=roles,
            created_by=created_by,
        )
        batch: list[UploadRow] = []
        total = valid = 0
        seen: dict[str, int] = {}
        limit = max_rows()
        try:
            for line, cells in table.rows:
                total += 1
                if total > limit:
                    raise UploadFileError(
                        _("the file has more than %(limit)s rows") % {"limit": f"{limit:,}"},
                        line=line,
                    )
                row = UploadRow(
                    organization=organization,
                    upload=upload,
                    line=line,
                    cells=cells_storable(cells),
                )
                # Checked as it is read: one INSERT per batch, no second pass over the rows.
                valid += _row_check(upload=upload, row=row, seen=seen)
                batch.append(row)
                if len(batch) >= _BATCH:
                    UploadRow.objects.bulk_create(batch)
                    batch = []
        except UploadFileError as exc:
            transaction.set_rollback(True)
            raise ValidationError({"file": str(exc)}) from None
        UploadRow.objects.bulk_create(batch)
        if total == 0:
            transaction.set_rollback(True)
            raise ValidationError({"file": _("The file has a header but no rows.")})
        upload.rows_total, upload.rows_valid = total, valid
        upload.save(update_fields=["rows_total", "rows_valid"])
    return upload


def _row_check(*, upload: Upload, row: UploadRow, seen: dict[str, int]) -> bool:
    """Check one row against the upload's mapping (problems, duplicate of an earlier row's key)
    and set its problems, outcome and values; True when it is valid."""
    check = row_check(upload.kind, row.cells, upload.mapping)
    if check.key and not check.problems:
        first = seen.setdefault(check.key, row.line)
        if first != row.line:
            check.problem("row", _("is a duplicate of line %(line)d") % {"line": first})
    row.problems = check.problems
    row.outcome = RowOutcome.INVALID if check.problems else RowOutcome.PENDING
    row.result = {"values": check.values}
    return not check.problems


def _rows_validate(*, upload: Upload) -> None:
    """Check every row against the mapping: problems, and duplicates of an earlier row's key."""
    seen: dict[str, int] = {}
    valid = 0
    rows = UploadRow.objects.for_org(upload.organization).filter(upload=upload).order_by("line")
    changed: list[UploadRow] = []
    for row in rows.iterator(chunk_size=_BATCH):
        valid += _row_check(upload=upload, row=row, seen=seen)
        changed.append(row)
        if len(changed) >= _BATCH:
            UploadRow.objects.for_org(upload.organization).bulk_update(
                changed, ["problems", "outcome", "result"], batch_size=500
            )
            changed = []
    UploadRow.objects.for_org(upload.organization).bulk_update(
        changed, ["problems", "outcome", "result"], batch_size=500
    )
    upload.rows_total = rows.count()
    upload.rows_valid = valid
    upload.save(update_fields=["rows_total", "rows_valid"])


def upload_options_set(
    *,
    organization: Organization,
    upload_id: int,
    mapping: dict[str, Any] | None = None,
    roles: Sequence[str] | None = None,
) -> Upload:
    """Change the mapping (every row is validated again) or the roles of an upload that has not
    started. ValidationError once it has, or for a bad mapping or role."""
    with transaction.atomic():
        upload = Upload.objects.for_org(organization).select_for_update().get(pk=upload_id)
        if upload.status != UploadStatus.VALIDATED:
            raise ValidationError(_("This upload has started; its mapping can no longer change."))
        if roles is not None and upload.kind == UploadKind.COMPANIES:
            upload.roles = roles_clean(roles)
            upload.save(update_fields=["roles"])
        if mapping is not None:
            upload.mapping = mapping_clean(kind=upload.kind, mapping=mapping, header=upload.header)
            upload.save(update_fields=["mapping"])
            _rows_validate(upload=upload)
    return upload


def upload_start(*, organization: Organization, upload_id: int) -> Upload:
    """Queue the job (uploads.process, after commit). Idempotent: a started upload is returned
    as it is. ValidationError when no row is valid."""
    from .tasks import upload_process_task

    with transaction.atomic():
        upload = Upload.objects.for_org(organization).select_for_update().get(pk=upload_id)
        if upload.status != UploadStatus.VALIDATED:
            return upload
        if not upload.rows_valid:
            raise ValidationError(_("No row of this upload is valid: nothing to start."))
        upload.status = UploadStatus.QUEUED
        upload.started_at = timezone.now()
        upload.save(update_fields=["status", "started_at"])
        transaction.on_commit(
            lambda: upload_process_task.delay(organization_id=organization.id, upload_id=upload.id)
        )
    return upload


def upload_cancel(*, organization: Organization, upload_id: int) -> Upload:
    """Stop an upload: one not started or queued is cancelled at once; a running job stops before
    its next chunk (rows done stay done and charged, the rest are never processed). Idempotent."""
    with transaction.atomic():
        upload = Upload.objects.for_org(organization).select_for_update().get(pk=upload_id)
        if upload.is_finished:
            return upload
        upload.cancel_requested = True
        fields = ["cancel_requested"]
        if upload.status in (UploadStatus.VALIDATED, UploadStatus.QUEUED):
            upload.status = UploadStatus.CANCELLED
            upload.finished_at = timezone.now()
            upload.stop_reason = _("Cancelled before it started.")
            fields += ["status", "finished_at", "stop_reason"]
        upload.save(update_fields=fields)
    return upload


def uploads_expired_delete(*, now: dt.datetime | None = None) -> int:
    """Delete every upload (any organisation: the retention sweep's escape hatch) made more than
    LEADPILOT_UPLOAD_RETENTION_DAYS ago and not running, with its rows. Leads made from it stay
    (they were delivered); the charges stay (the ledger names rows by id only). Idempotent.
    Returns the number of uploads deleted."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.LEADPILOT_UPLOAD_RETENTION_DAYS)
    expired = Upload.all_orgs.filter(created_at__lt=cutoff).exclude(status__in=ACTIVE_STATUSES)
    deleted = 0
    for upload_id in list(expired.values_list("id", flat=True)[:1000]):
        with transaction.atomic():
            UploadRow.all_orgs.filter(upload_id=upload_id).delete()
            deleted += Upload.all_orgs.filter(pk=upload_id).delete()[0] and 1
    return deleted
