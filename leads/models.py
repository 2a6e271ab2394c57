"""Nightly search runs, the candidates they tried, and the leads they delivered.

Contract (docs/nightly.md):
- `SearchRun(organization, segment, run_date)` is UNIQUE: the database, not the scheduler, makes
  one run per segment and local date. A second dispatcher or a redelivered task finds the row.
- `SearchCandidate(run, person)` is UNIQUE: every candidate a run tried is written once, with its
  outcome, in the same transaction as its lead. A resumed run skips what it already tried, and
  run statistics are counted from these rows, so a redelivered task never counts twice.
- A `Lead` is created only for a verified contact, in one transaction with its delivery record
  (blocklists) and its usage event (billing). UNIQUE(organization, person) and
  UNIQUE(organization, company) on the delivery record, UNIQUE(organization, lead) on the event.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.tenancy import TenantModel


class SearchRunStatus(models.TextChoices):
    PENDING = "pending", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Finished")
    FAILED = "failed", _("Failed")


class StopReason(models.TextChoices):
    NONE = "", "-"
    EXHAUSTED = "exhausted", _("No more candidates")
    NIGHTLY_CAP = "nightly_cap", _("Nightly cap reached")
    QUOTA = "quota", _("Monthly quota reached")
    SEGMENT_INACTIVE = "segment_inactive", _("Segment no longer active")
    TOO_MANY_ATTEMPTS = "too_many_attempts", _("Gave up after repeated crashes")
    OUTAGE = "outage", _("Resolver or mail servers unreachable")
    SENDING_CAP = "sending_cap", _("Daily sending cap reached")
    ERROR = "error", _("Error")


class SearchRun(TenantModel):
    segment = models.ForeignKey("segments.Segment", on_delete=models.CASCADE, related_name="+")
    run_date = models.DateField(help_text="The organisation's local date of the night.")
    status = models.CharField(
        max_length=16, choices=SearchRunStatus.choices, default=SearchRunStatus.PENDING
    )
    stop_reason = models.CharField(
        max_length=24, choices=StopReason.choices, default=StopReason.NONE, blank=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # Statistics, recounted from SearchCandidate rows (exact under redelivery).
    matched = models.PositiveIntegerField(default=0)
    skipped_blocked = models.PositiveIntegerField(default=0)
    skipped_delivered = models.PositiveIntegerField(default=0)
    skipped_suppressed = models.PositiveIntegerField(default=0)
    verified = models.PositiveIntegerField(default=0)
    unverified = models.PositiveIntegerField(default=0)
    leads_created = models.PositiveIntegerField(default=0)
    charged = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Why a failed run failed, in words for the customer (run page and API).
    failure_reason = models.CharField(max_length=500, blank=True)
    # Blind attempts (most contacts unanswered by the resolver or the mail servers): such a run
    # fails with stop reason `outage` and is tried again from `retry_at` (None: no more retries).
    outage_failures = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    staff_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        base_manager_name = "all_orgs"
        ordering = ["-run_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "segment", "run_date"], name="search_run_once_per_night"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="search_run_status")]

    def __str__(self) -> str:
        return f"run {self.pk} of segment {self.segment_id} on {self.run_date}"

    @property
    def duration(self) -> dt.timedelta | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def is_finished(self) -> bool:
        return self.status in (SearchRunStatus.SUCCEEDED, SearchRunStatus.FAILED)

    @property
    def is_retryable(self) -> bool:
        """Failed blind, with a retry to come: the run resumes (leads/services/search.py)."""
        return (
            self.status == SearchRunStatus.FAILED
            and self.stop_reason == StopReason.OUTAGE
            and self.retry_at is not None
        )


class CandidateOutcome(models.TextChoices):
    LEAD = "lead", _("Lead created and charged")
    UNVERIFIED = "unverified", _("No verified contact")
    SKIPPED_DELIVERED = "skipped_delivered", _("Already delivered")
    SKIPPED_BLOCKED = "skipped_blocked", _("Blocked")
    SKIPPED_SUPPRESSED = "skipped_suppressed", _("Suppressed")
    ERROR = "error", _("Error")


class SearchCandidate(TenantModel):
    """One (company, decision-maker) a run tried, and what came of it."""

    run = models.ForeignKey(SearchRun, on_delete=models.CASCADE, related_name="candidates")
    company_id = models.BigIntegerField()
    person_id = models.BigIntegerField()
    outcome = models.CharField(max_length=24, choices=CandidateOutcome.choices)
    reason = models.CharField(max_length=200, blank=True)
    lead = models.ForeignKey(
        "Lead", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        base_manager_name = "all_orgs"
        constraints = [
            models.UniqueConstraint(fields=["run", "person_id"], name="search_candidate_once"),
        ]

    def __str__(self) -> str:
        return f"person {self.person_id}: {self.outcome}"


class LeadStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CONTACTED = "contacted", _("Contacted")
    # Taken back by the service before approval (the person objected: privacy opt-out); never
    # charged (its charge, if any, is credited). `withdrawn_reason` says why, for the customer.
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RejectionReason(models.TextChoices):
    NOT_A_FIT = "not_a_fit", _("Not a fit")
    ALREADY_IN_CONTACT = "already_in_contact", _("Already in contact")
    WRONG_PERSON = "wrong_person", _("Wrong person")
    BAD_CONTACT = "bad_contact", _("Contact data wrong")
    OTHER = "other", _("Other")


class Lead(TenantModel):
    """A delivered decision-maker with a verified contact. The snapshot is what was charged for."""

    segment = models.ForeignKey(
        "segments.Segment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    search_run = models.ForeignKey(
        SearchRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    # Links into the directory; the snapshots below keep what was delivered if these change.
    company = models.ForeignKey(
        "enrichment.Company", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        "enrichment.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact_point = models.ForeignKey(
        "enrichment.ContactPoint",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    company_name = models.CharField(max_length=300)
    company_snapshot = models.JSONField(default=dict)
    person_name = models.CharField(max_length=200)
    role_kind = models.CharField(max_length=16, blank=True)
    person_snapshot = models.JSONField(default=dict)
    contact_kind = models.CharField(max_length=8)  # email | phone
    contact_value = models.CharField(max_length=320)
    # Why this lead was charged: verification status, reason, flags and the raw evidence.
    evidence = models.JSONField()
    verified_at = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=LeadStatus.choices, default=LeadStatus.PENDING_APPROVAL
    )
    rejection_reason = models.CharField(max_length=24, choices=RejectionReason.choices, blank=True)
    rejection_note = models.CharField(max_length=500, blank=True)
    withdrawn_reason = models.CharField(max_length=300, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    scheduled_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        base_manager_name = "all_orgs"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "person"],
                condition=models.Q(person__isnull=False),
                name="lead_person_once",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(rejection_reason=""),
                name="lead_rejection_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "id"], name="lead_org_status"),
            models.Index(fields=["organization", "scheduled_date"], name="lead_org_scheduled"),
        ]

    def __str__(self) -> str:
        return f"{self.person_name} at {self.company_name}"


class CalendarFeed(TenantModel):
    """A member's secret ICS feed URL. Only a SHA-256 of the token is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        base_manager_name = "all_orgs"
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="calendar_feed_per_user"),
        ]

    def __str__(self) -> str:
        return f"calendar feed of user {self.user_id}"


class DigestLog(TenantModel):
    """The morning digest of one organisation and local date: sent once."""

    digest_date = models.DateField()
    recipients = models.PositiveIntegerField(default=0)
    pending_leads = models.PositiveIntegerField(default=0)
    scheduled_leads = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        base_manager_name = "all_orgs"
        constraints = [
            models.UniqueConstraint(fields=["organization", "digest_date"], name="digest_once"),
        ]

    def __str__(self) -> str:
        return f"digest {self.digest_date}"
