"""Privacy: the people in the directory object, ask what is held about them, and are erased.

Contract (docs/privacy.md):
- `OptOutRequest`: an objection entered on the public page, waiting for its confirmation link.
  Only hashes are kept (the identifier's as on the suppression list, the confirming address's,
  the link token's); the page answers the same whether or not the address is in the directory.
  Confirming adds the identifier to the global suppression list (blocklists.Suppression).
- `PrivacyAction`: the audit of privacy work (opt-out confirmed, erasure, access export, retention
  sweep). Global like the directory: a person is nobody's tenant. Written in the transaction of
  the change it records; never updated.
Arrows point one way: privacy uses enrichment, blocklists, leads and billing; none uses privacy.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.tenancy import TenantModel


class OptOutKind(models.TextChoices):
    EMAIL = "email", _("E-mail address")
    PHONE = "phone", _("Phone number")


class OptOutStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed: suppressed")


class OptOutRequest(models.Model):
    kind = models.CharField(max_length=8, choices=OptOutKind.choices)
    # SHA-256 of the normalised identifier: the value the suppression list will hold.
    identifier_hash = models.CharField(max_length=64)
    # SHA-256 of the address the confirmation link went to (the identifier itself for an e-mail).
    confirm_email_hash = models.CharField(max_length=64)
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=12, choices=OptOutStatus.choices, default=OptOutStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Staff who confirmed it in the admin; empty when the link was followed.",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="optout_status_age")]

    def __str__(self) -> str:
        return f"opt-out {self.kind}:{self.identifier_hash[:12]}… ({self.status})"


class PrivacyAction(models.Model):
    action = models.CharField(max_length=32)  # optout.confirm, person.erase, person.access, ...
    person_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.actor_label}: {self.action} {self.person_id or ''}"


class DpaAcceptance(TenantModel):
    """An owner accepted a version of the data processing agreement for their organisation.
    Never updated: a new version is a new row (the banner asks owners again until then)."""

    version = models.CharField(max_length=20)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Readable after the user is deleted.
    accepted_by_label = models.CharField(max_length=200)
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        base_manager_name = "all_orgs"
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "version"], name="dpa_accepted_once_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"DPA {self.version} accepted by {self.accepted_by_label}"


class ConsentRecord(models.Model):
    """Proof of a cookie choice (privacy/consent.py): what a visitor chose, when, under which
    policy version; the user when logged in, and the client address only as a keyed hash. Never
    updated: a new choice (or a withdrawal) is a new row. Not tenant data: a visitor is nobody's
    tenant."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    policy_version = models.CharField(max_length=40)
    # The categories allowed, necessary included, e.g. ["necessary", "statistics"].
    categories = models.JSONField()
    # How they chose: all, necessary (only), selected.
    action = models.CharField(max_length=12)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # HMAC-SHA256 of the client address under SECRET_KEY; empty when none was known.
    ip_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"consent {self.policy_version} {self.action} {self.created_at:%Y-%m-%d %H:%M}"
