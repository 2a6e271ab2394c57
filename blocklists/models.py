"""What must never be delivered to an organisation again.

The delivery record lives here, not in leads/, so the matching query excludes already-delivered
people without importing leads, and a person stays excluded even if the lead is later erased.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.tenancy import TenantModel


class DeliveryRecord(TenantModel):
    """A person (and their company) an organisation already received. Each once, ever."""

    company = models.ForeignKey("enrichment.Company", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("enrichment.Person", on_delete=models.PROTECT, related_name="+")
    lead_id = models.BigIntegerField(null=True, blank=True)  # leads.Lead, by id only
    delivered_at = models.DateTimeField(auto_now_add=True)
    # The organisation's first record at this company: true for every new record (the
    # constraint below refuses a second), false only on the later records of pairs made before
    # the constraint existed (migration 0006 keeps them: each is also its person's marker).
    # The database default too: raw SQL written before the column (benches, set-based loads)
    # still inserts.
    company_first = models.BooleanField(default=True, db_default=True, editable=False)

    class Meta:
        base_manager_name = "all_orgs"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "person"], name="delivery_record_person_once"
            ),
            # One lead per company per organisation, ever: two segments wanting different roles
            # at one company, running at once, must not both deliver (and charge) it.
            models.UniqueConstraint(
                fields=["organization", "company"],
                condition=models.Q(company_first=True),
                name="delivery_record_company_once",
            ),
        ]


class BlockKind(models.TextChoices):
    COMPANY = "company", _("Company (registry id)")
    DOMAIN = "domain", _("Domain")
    COMPANY_NAME = "company_name", _("Company name")
    EMAIL = "email", _("E-mail address")
    PHONE = "phone", _("Phone number")
    PERSON = "person", _("Person")


class BlockEntry(TenantModel):
    """Something an organisation never wants delivered. `value` is normalised (see normalize.py):

    company "GB:01234567" (country:registry id), domain "example.co.uk", company_name
    "acme widgets" (case-folded, punctuation and legal-form suffix dropped), email lower-case,
    phone E.164, person the directory person id (and `person` set).
    """

    kind = models.CharField(max_length=16, choices=BlockKind.choices)
    value = models.CharField(max_length=320)
    raw = models.CharField(max_length=320, blank=True)  # as the customer typed it
    person = models.ForeignKey(
        "enrichment.Person", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        "organizations.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        base_manager_name = "all_orgs"
        verbose_name_plural = "block entries"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "value"], name="block_entry_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="person") | models.Q(person__isnull=False),
                name="block_entry_person_has_person",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "person"],
                condition=models.Q(person__isnull=False),
                name="block_entry_org_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class SuppressionKind(models.TextChoices):
    EMAIL = "email", _("E-mail address")
    PHONE = "phone", _("Phone number")


class Suppression(models.Model):
    """Global: a person who objected to being contacted. Checked by every organisation's search.

    Only the SHA-256 (hex) of the normalised identifier is kept (e-mail lower-case, phone E.164),
    computed in SQL by `lp_sha256_hex(text)` for matching. Unsalted by necessity (every search must
    match it); it minimises what we hold, it does not anonymise.
    """

    kind = models.CharField(max_length=8, choices=SuppressionKind.choices)
    identifier_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind}:{self.identifier_hash[:12]}…"
