from __future__ import annotations

from organizations.models import Organization

from .models import DeliveryRecord


def delivery_record_add(
    *, organization: Organization, company_id: int, person_id: int, lead_id: int | None
) -> DeliveryRecord:
    """Record that `organization` received this person. Runs inside the caller's transaction.

    The UNIQUE(organization, person) constraint is the guard: a second delivery raises
    IntegrityError, which rolls back the caller's whole transaction (lead and charge included).
    """
    return DeliveryRecord.objects.create(
        organization=organization, company_id=company_id, person_id=person_id, lead_id=lead_id
    )
