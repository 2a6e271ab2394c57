"""Own-list uploads (docs/uploads.md). Contract:

- An `Upload` and its `UploadRow`s belong to one organisation (TenantModel, `for_org`); the rows
  hold the customer's cells as uploaded and what the job found for each. Nothing here is ever
  written into the shared directory (enrichment/); the whole upload is deleted with its rows after
  LEADPILOT_UPLOAD_RETENTION_DAYS (uploads.services.uploads_expired_delete).
- A row is charged at most once: its outcome, its lead (companies) or its usage event (contacts)
  are written in the charge's transaction, and the charge's ids come from the lead / the row
  (billing's UNIQUE constraints), so a job resumed after a kill skips what is done and a racing
  worker's second charge is refused by the database.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.tenancy import TenantModel


class UploadKind(models.TextChoices):
    COMPANIES = "companies", _("Companies to enrich")
    CONTACTS = "contacts", _("Contacts to verify")


class UploadStatus(models.TextChoices):
    # Parsed and validated; the mapping and roles may still change.
    VALIDATED = "validated", _("Ready to start")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    STOPPED_QUOTA = "stopped_quota", _("Stopped: monthly quota reached")
    FAILED = "failed", _("Failed")


ACTIVE_STATUSES = (UploadStatus.QUEUED, UploadStatus.RUNNING)
FINISHED_STATUSES = (
    UploadStatus.COMPLETED,
    UploadStatus.CANCELLED,
    UploadStatus.STOPPED_QUOTA,
    UploadStatus.FAILED,
)


class Upload(TenantModel):
    kind = models.CharField(max_length=16, choices=UploadKind.choices)
    status = models.CharField(
        max_length=16, choices=UploadStatus.choices, default=UploadStatus.VALIDATED
    )
    filename = models.CharField(max_length=255)
    file_format = models.CharField(max_length=8)  # csv | xlsx
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    header = models.JSONField(default=list)
    # Our field -> the file's column index, detected from the header and editable before start.
    mapping = models.JSONField(default=dict)
    roles = models.JSONField(default=list)
    rows_total = models.PositiveIntegerField(default=0)
    rows_valid = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_found = models.PositiveIntegerField(default=0)
    rows_charged = models.PositiveIntegerField(default=0)
    stop_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    first_result_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)

    class Meta:
        base_manager_name = "all_orgs"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="upload_org_created"),
            models.Index(fields=["created_at"], name="upload_created"),
        ]

    def __str__(self) -> str:
        return f"upload {self.pk} ({self.filename})"

    @property
    def progress_percent(self) -> int:
        if not self.rows_valid:
            return 100 if self.status in FINISHED_STATUSES else 0
        return min(100, round(100 * self.rows_done / self.rows_valid))

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class RowOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting")
    INVALID = "invalid", _("Not processed: see the problem")
    NOT_FOUND = "not_found", _("No company found")
    NO_DECISION_MAKER = "no_decision_maker", _("No decision-maker with a wanted role")
    UNVERIFIED = "unverified", _("No verified contact found")
    FOUND = "found", _("Found and verified")
    ALREADY_DELIVERED = "already_delivered", _("Already delivered to you")
    BLOCKED = "blocked", _("On your block list")
    VALID = "valid", _("Valid")
    NOT_VALID = "not_valid", _("Not valid")
    UNKNOWN = "unknown", _("Could not be verified")
    QUOTA = "quota", _("Not processed: monthly quota reached")


class UploadRow(TenantModel):
    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()  # the row's line (CSV) or row number (XLSX) in the file
    cells = models.JSONField(default=list)
    problems = models.JSONField(default=list)  # [{"field": ..., "message": ...}]
    outcome = models.CharField(
        max_length=20, choices=RowOutcome.choices, default=RowOutcome.PENDING
    )
    reason = models.CharField(max_length=200, blank=True)
    match_method = models.CharField(max_length=16, blank=True)  # identifier | domain | name
    confidence = models.FloatField(null=True, blank=True)
    company_id = models.BigIntegerField(null=True, blank=True)
    person_id = models.BigIntegerField(null=True, blank=True)
    lead_id = models.BigIntegerField(null=True, blank=True)
    # What was found: company name, decision-maker, contact, status, reason, flags.
    result = models.JSONField(default=dict, blank=True)
    charged = models.BooleanField(default=False)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        base_manager_name = "all_orgs"
        ordering = ["upload", "line"]
        constraints = [
            models.UniqueConstraint(fields=["upload", "line"], name="upload_row_line_once"),
        ]
        indexes = [
            models.Index(fields=["upload", "outcome", "line"], name="upload_row_outcome"),
        ]

    def __str__(self) -> str:
        return f"upload {self.upload_id} line {self.line}"
