"""The usage ledger. Contract (docs/billing.md):

- PostgreSQL is the source of truth for what a customer is charged; Stripe will be a copy.
- `UsageEvent`: one row per charged lead, UNIQUE(organization, lead_id), with the verification
  snapshot that justified the charge (NOT NULL). Its uuid is the future Stripe meter-event
  identifier and is derived from our own ids, so a retry never mints a new one.
- `LedgerEntry`: the units, +1 per charge; corrections are new rows (credit -1), never updates.
  UNIQUE(idempotency_key); at most one charge and one credit per usage event.
- `BillingPeriod`: one row per organisation and calendar month, the quota counter. Charging locks
  it (SELECT ... FOR UPDATE) so concurrent runs cannot overshoot; a CHECK backs the hard cap.
- Usage events and ledger entries are immutable: a PostgreSQL trigger rejects UPDATE and DELETE.
  Escape hatch: none in the application; TRUNCATE (test flushes) does not fire row triggers.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.tenancy import TenantModel

# uuid5 namespace of usage-event ids ("deterministic identifiers from our own ids").
USAGE_EVENT_NAMESPACE = uuid.UUID("6f1d5d0e-4c7b-4e8a-9a57-1c1b1f0e6a21")


def usage_event_uuid(
    *, organization_id: int, lead_id: int | None = None, upload_row_id: int | None = None
) -> uuid.UUID:
    """A charge's id from our own ids: the lead's, or for an uploaded contact (no lead) the
    upload row's, so a retry of the same row mints the same id and the UNIQUE refuses it."""
    if lead_id is None:
        return uuid.uuid5(
            USAGE_EVENT_NAMESPACE, f"usage:{organization_id}:upload-row:{upload_row_id}"
        )
    return uuid.uuid5(USAGE_EVENT_NAMESPACE, f"usage:{organization_id}:{lead_id}")


class BillingPeriodStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSING = "closing", "Closing"
    INVOICED = "invoiced", "Invoiced"


class BillingPeriod(TenantModel):
    """An organisation's calendar month: quota and the running count of charged units."""

    # Billing history outlives nothing: an organisation with charges cannot be deleted by accident.
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", db_index=True
    )
    period_start = models.DateField(help_text="First day of the month (organisation's timezone).")
    period_end = models.DateField(help_text="Last day of the month.")
    quota_included = models.PositiveIntegerField()
    hard_cap = models.BooleanField(default=True)
    units_charged = models.PositiveIntegerField(default=0)
    units_credited = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=BillingPeriodStatus.choices, default=BillingPeriodStatus.OPEN
    )
    stripe_subscription_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        base_manager_name = "all_orgs"
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "period_start"], name="billing_period_unique_month"
            ),
            # I8: a hard-capped period never holds more net units than its quota.
            models.CheckConstraint(
                condition=models.Q(hard_cap=False)
                | models.Q(
                    units_charged__lte=models.F("quota_included") + models.F("units_credited")
                ),
                name="billing_period_hard_cap",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.period_start:%Y-%m}"

    @property
    def units_net(self) -> int:
        return self.units_charged - self.units_credited

    @property
    def units_remaining(self) -> int | None:
        """Units that may still be charged this month; None when there is no hard cap."""
        if not self.hard_cap:
            return None
        return max(0, self.quota_included - self.units_net)


class UsageEventKind(models.TextChoices):
    # A lead the nightly search found; an uploaded company row whose decision-maker's contact was
    # found and verified (it becomes a lead too); an uploaded contact verified valid (no lead).
    FOUND = "found", "Lead found"
    ENRICHED = "enriched", "Own-list row enriched"
    VERIFIED = "verified", "Uploaded contact verified"


class UsageEvent(TenantModel):
    """One charged lead. Immutable; corrections are ledger credits."""

    id = models.UUIDField(primary_key=True, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", db_index=True
    )
    # Billing knows leads, segments, runs and upload rows by id only (DESIGN §2). A verified
    # uploaded contact has no lead: its charge names the upload row instead.
    lead_id = models.BigIntegerField(null=True, blank=True)
    upload_row_id = models.BigIntegerField(null=True, blank=True)
    segment_id = models.BigIntegerField(null=True, blank=True)
    search_run_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=16, choices=UsageEventKind.choices)
    period = models.ForeignKey(BillingPeriod, on_delete=models.PROTECT, related_name="events")
    period_start = models.DateField()
    occurred_at = models.DateTimeField()
    # Proof of the verified contact at charge time ("why this lead was charged").
    verification_snapshot = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        base_manager_name = "all_orgs"
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "lead_id"], name="usage_event_once_per_lead"
            ),
            models.UniqueConstraint(
                fields=["organization", "upload_row_id"],
                condition=models.Q(lead_id__isnull=True),
                name="usage_event_once_per_upload_row",
            ),
            models.CheckConstraint(
                condition=models.Q(lead_id__isnull=False) | models.Q(upload_row_id__isnull=False),
                name="usage_event_names_what_is_charged",
            ),
            models.CheckConstraint(
                condition=~models.Q(verification_snapshot={}),
                name="usage_event_snapshot_not_empty",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "period_start"], name="usage_event_org_period"),
            models.Index(fields=["search_run_id"], name="usage_event_run"),
        ]

    def __str__(self) -> str:
        if self.lead_id is None:
            return f"usage {self.id} (upload row {self.upload_row_id})"
        return f"usage {self.id} (lead {self.lead_id})"


class LedgerEntryKind(models.TextChoices):
    CHARGE = "charge", "Charge"
    CREDIT = "credit", "Credit"
    ADJUSTMENT = "adjustment", "Adjustment"


class LedgerEntry(TenantModel):
    """Units on the ledger. Append-only: +1 charge per usage event, -1 credit at most once."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", db_index=True
    )
    period = models.ForeignKey(BillingPeriod, on_delete=models.PROTECT, related_name="entries")
    usage_event = models.ForeignKey(
        UsageEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    kind = models.CharField(max_length=16, choices=LedgerEntryKind.choices)
    units = models.IntegerField()
    reason = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # The ledger is immutable: erasing a user must neither cascade nor update a row here.
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        base_manager_name = "all_orgs"
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["usage_event"],
                condition=models.Q(kind="charge"),
                name="ledger_one_charge_per_event",
            ),
            models.UniqueConstraint(
                fields=["usage_event"],
                condition=models.Q(kind="credit"),
                name="ledger_one_credit_per_event",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="charge", units=1)
                | models.Q(kind="credit", units=-1)
                | models.Q(kind="adjustment"),
                name="ledger_units_match_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.units:+d} ({self.idempotency_key})"


class DisputeReason(models.TextChoices):
    BOUNCED = "bounced", _("The e-mail bounced")
    WRONG_PERSON = "wrong_person", _("Wrong person (left the company, not the decision-maker)")
    OUTSIDE_CRITERIA = "outside_criteria", _("Outside the segment's criteria")
    DUPLICATE = "duplicate", _("Duplicate of a lead we already had")
    BLOCKED = "blocked", _("On our block list")
    OTHER = "other", _("Other")


# Reasons the service can check on its own; the rest always wait for staff.
OBJECTIVE_REASONS = frozenset(
    {
        DisputeReason.BOUNCED,
        DisputeReason.OUTSIDE_CRITERIA,
        DisputeReason.DUPLICATE,
        DisputeReason.BLOCKED,
    }
)


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CHECKING = "checking", _("Being checked")
    AWAITING_STAFF = "awaiting_staff", _("Awaiting staff review")
    ACCEPTED = "accepted", _("Accepted (credited)")
    REJECTED = "rejected", _("Rejected")


UNDECIDED_STATUSES = (DisputeStatus.OPEN, DisputeStatus.CHECKING, DisputeStatus.AWAITING_STAFF)


class Dispute(TenantModel):
    """A customer's claim that a charged lead is wrong. Contract (docs/billing.md):

    - At most one undecided dispute per lead (partial UNIQUE), at most one accepted per charge.
    - open -> checking -> accepted | awaiting_staff -> accepted | rejected. Only accepting writes
      a credit (billing/disputes.py `dispute_accept`), exactly one per charge.
    """

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", db_index=True
    )
    lead_id = models.BigIntegerField()
    usage_event = models.ForeignKey(UsageEvent, on_delete=models.PROTECT, related_name="disputes")
    reason = models.CharField(max_length=24, choices=DisputeReason.choices)
    note = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    # What the automatic re-check found: {"outcome": agrees|disagrees|could_not_run|manual, ...}.
    recheck_result = models.JSONField(default=dict, blank=True)
    recheck_text = models.TextField(blank=True)
    rechecked_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        base_manager_name = "all_orgs"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "lead_id"],
                condition=models.Q(status__in=["open", "checking", "awaiting_staff"]),
                name="dispute_one_open_per_lead",
            ),
            models.UniqueConstraint(
                fields=["usage_event"],
                condition=models.Q(status="accepted"),
                name="dispute_one_accepted_per_charge",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason="other") | ~models.Q(note=""),
                name="dispute_other_has_note",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "checking", "awaiting_staff"])
                | models.Q(decided_at__isnull=False),
                name="dispute_decided_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "id"], name="dispute_org_status"),
            models.Index(fields=["status", "created_at"], name="dispute_status_age"),
        ]

    def __str__(self) -> str:
        return f"dispute {self.pk} of lead {self.lead_id} ({self.status})"

    @property
    def is_undecided(self) -> bool:
        return self.status in UNDECIDED_STATUSES


class StripeOutboxKind(models.TextChoices):
    METER_EVENT = "meter_event", "Meter event (charge)"
    # A credit is decided when it is first sent: a cancel while Stripe still allows one (within
    # 24 h of receiving the charge), else a customer balance credit. The row keeps the choice.
    CREDIT = "credit", "Credit (choice pending)"
    METER_CANCEL = "meter_cancel", "Meter event adjustment (cancel)"
    BALANCE_CREDIT = "balance_credit", "Customer balance credit"


class StripeOutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    DEAD = "dead", "Dead (needs staff)"


class StripeOutbox(TenantModel):
    """One ledger change Stripe must learn. Contract (docs/billing.md, "Stripe outbox"):

    - Written in the ledger row's transaction (billing/services.py, billing/disputes.py), always,
      whether or not Stripe is configured: turning Stripe on later sends the history.
    - `idempotency_key` is UNIQUE and derived from our ids (`meter:{usage_event_id}`,
      `credit:{ledger_entry_id}`); it is the Idempotency-Key of every attempt, so a resend after a
      lost response is answered from Stripe's idempotency cache, and the meter event's identifier
      (the usage event id) dedups it again.
    - billing/stripe_sync.py claims due pending rows FOR UPDATE SKIP LOCKED, sends, marks sent;
      on error it backs off; after STRIPE_OUTBOX_MAX_ATTEMPTS failures the row is dead.
    """

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", db_index=True
    )
    kind = models.CharField(max_length=16, choices=StripeOutboxKind.choices)
    usage_event = models.ForeignKey(
        UsageEvent, on_delete=models.PROTECT, related_name="stripe_outbox"
    )
    ledger_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, related_name="stripe_outbox"
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(
        max_length=8, choices=StripeOutboxStatus.choices, default=StripeOutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # What Stripe answered (object id, identifier), for the admin and the reconciliation.
    response = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        base_manager_name = "all_orgs"
        verbose_name = "Stripe outbox row"
        ordering = ["next_attempt_at", "id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status="pending"),
                name="stripe_outbox_due",
            ),
            models.Index(fields=["status", "created_at"], name="stripe_outbox_status"),
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} ({self.status})"


class StripeCustomer(TenantModel):
    """The organisation's Stripe customer, created by the sender on first need. Until the
    subscription model carries the customer id this is where the outbox finds it."""

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    customer_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        base_manager_name = "all_orgs"

    def __str__(self) -> str:
        return f"{self.organization_id} {self.customer_id}"


# --- plans and subscriptions (docs/billing.md, "Plans and subscriptions") ----------------------


class PlanKind(models.TextChoices):
    FREE = "free", _("Free")
    PAID = "paid", _("Paid")
    AGREEMENT = "agreement", _("Agreement")


class Currency(models.TextChoices):
    SEK = "SEK", "SEK"
    EUR = "EUR", "EUR"
    GBP = "GBP", "GBP"


FREE_PLAN_CODE = "free"


class Plan(models.Model):
    """What an organisation buys: a monthly lead quota, a price per month and per extra lead.

    Data, edited by staff in the admin. Not tenant data: every organisation reads the same rows.
    An agreement plan's quota and prices are per organisation (on its Subscription); a plan that
    organisations use is deactivated (`is_active`), never deleted (PROTECT).
    """

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=PlanKind.choices)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.EUR)
    monthly_quota = models.PositiveIntegerField(help_text="Leads included per billing month.")
    price_per_month = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    price_per_extra_lead = models.DecimalField(
        max_digits=10, decimal_places=2, default=0, help_text="Overage, billed on a soft cap."
    )
    hard_cap = models.BooleanField(
        default=True, help_text="Stop the search at the quota (else bill each extra lead)."
    )
    free_trial_leads = models.PositiveIntegerField(
        default=0, help_text="Extra leads included in the first month of a subscription."
    )
    stripe_price_id = models.CharField(max_length=64, blank=True, help_text="Monthly fee.")
    stripe_overage_price_id = models.CharField(
        max_length=64, blank=True, help_text="Metered price of the lead meter (graduated tiers)."
    )
    is_active = models.BooleanField(default=True)
    is_public = models.BooleanField(default=True, help_text="Offered on the Billing page.")
    sort_order = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sort_order", "currency", "price_per_month", "code"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="free") | models.Q(price_per_month=0, hard_cap=True),
                name="plan_free_is_free_and_capped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"

    @property
    def is_paid(self) -> bool:
        return self.kind == PlanKind.PAID


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    TRIALING = "trialing", _("Trial")
    PAST_DUE = "past_due", _("Past due")
    CANCELED = "canceled", _("Canceled")


class Subscription(TenantModel):
    """The organisation's plan and its state at Stripe. Contract (billing/subscriptions.py):

    - At most one per organisation; none means the free plan (created on first need).
    - `plan` applies to the current billing month; `pending_plan` from `pending_from` (the first
      day of a later month): a downgrade waits for the next period, an upgrade applies at once.
    - `status` and the Stripe ids follow Stripe's webhooks (re-fetched objects, never the event
      body). `past_due_since` starts the grace period of LEADPILOT_PAST_DUE_GRACE_DAYS.
    """

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True, db_index=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    pending_plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pending_from = models.DateField(null=True, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    # When owners were told the search paused (once per past-due episode).
    pause_notified_at = models.DateTimeField(null=True, blank=True)
    # Agreement terms (kind "agreement"): this organisation's own quota and prices.
    agreement_quota = models.PositiveIntegerField(null=True, blank=True)
    agreement_price_per_month = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True
    )
    agreement_price_per_extra_lead = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        base_manager_name = "all_orgs"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pending_plan__isnull=True, pending_from__isnull=True)
                | models.Q(pending_plan__isnull=False, pending_from__isnull=False),
                name="subscription_pending_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} on {self.plan_id} ({self.status})"


class StripeEventStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Processed"
    FAILED = "failed", "Failed"
    IGNORED = "ignored", "Ignored (type not handled)"


class StripeEvent(models.Model):
    """A webhook event received from Stripe, stored once by its id (I7). Not tenant data until
    processed: the organisation is found from the re-fetched object."""

    id = models.CharField(max_length=255, primary_key=True)
    type = models.CharField(max_length=100)
    api_version = models.CharField(max_length=40, blank=True)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=StripeEventStatus.choices, default=StripeEventStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "received_at"], name="stripe_event_status")]

    def __str__(self) -> str:
        return f"{self.id} {self.type} ({self.status})"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")
    UNCOLLECTIBLE = "uncollectible", _("Uncollectible")


class Invoice(TenantModel):
    """A Stripe invoice as Stripe last told us (re-fetched on each invoice.* event)."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", db_index=True
    )
    stripe_invoice_id = models.CharField(max_length=64, unique=True)
    number = models.CharField(max_length=64, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    # In the currency's major unit (Stripe sends minor units: 12900 = 129.00).
    amount_due = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    amount_paid = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=InvoiceStatus.choices)
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    invoice_pdf = models.URLField(max_length=500, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        base_manager_name = "all_orgs"
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["organization", "-id"], name="invoice_org_id")]

    def __str__(self) -> str:
        return self.number or self.stripe_invoice_id
