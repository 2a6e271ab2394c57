"""What must never be delivered to an organisation again.

The delivery record lives here, not in leads/, so the matching query excludes already-delivered
people without importing leads, and a person stays excluded even if the lead is later erased.
"""

from __future__ import annotations

from django.db import models

from organizations.tenancy import TenantModel


class DeliveryRecord(TenantModel):
    """A person (and their company) an organisation already received. Once, ever."""

    company = models.ForeignKey("enrichment.Company", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("enrichment.Person", on_delete=models.PROTECT, related_name="+")
    lead_id = models.BigIntegerField(null=True, blank=True)  # leads.Lead, by id only
    delivered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        base_manager_name = "all_orgs"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "person"], name="delivery_record_person_once"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "company"], name="delivery_record_org_company"),
        ]
