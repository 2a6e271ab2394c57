"""Objects of the billing app that URLs point at (see tests/tenancy_registry.py).

A dispute is opened through `dispute_open` on a lead delivered (and charged) by the leads app's
own registered factory; reason `other` waits for staff, so no re-check task runs.
"""

from __future__ import annotations

from billing.disputes import dispute_open
from billing.models import Dispute
from tests.leads.tenancy_objects import make_lead
from tests.tenancy_registry import register_object


@register_object("dispute_id")
def make_dispute(tenant) -> Dispute:
    lead = make_lead(tenant)
    return dispute_open(
        organization=tenant.org,
        lead_id=lead.id,
        reason="other",
        note=f"{tenant.org.slug} thinks this lead is wrong",
        created_by=tenant.member,
    )
