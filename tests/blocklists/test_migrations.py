"""blocklists 0006 on an installation that already holds two deliveries from one company."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from blocklists.models import DeliveryRecord
from organizations.models import Organization
from tests.factories import CompanyFactory, PersonFactory

BEFORE = ("blocklists", "0005_name_key_fast_suffix")


def _latest() -> tuple[str, str]:
    """The app's newest migration: the test leaves the database as the rest of the suite needs."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes("blocklists")[0]


def _migrate(target: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_0006_keeps_pairs_made_before_it_and_refuses_new_ones():
    try:
        old = _migrate(BEFORE).get_model("blocklists", "DeliveryRecord")
        org = Organization.objects.create(name="Alpha", slug="alpha")
        other = Organization.objects.create(name="Bravo", slug="bravo")
        company = CompanyFactory()
        ceo, chair, cfo = PersonFactory(), PersonFactory(), PersonFactory()
        # What the race made before the constraint: two people of one company delivered.
        for person in (ceo, chair):
            old.objects.create(organization_id=org.id, company_id=company.id, person_id=person.id)
        old.objects.create(organization_id=other.id, company_id=company.id, person_id=ceo.id)
    finally:
        _migrate(_latest())

    records = DeliveryRecord.all_orgs.order_by("id")
    assert [(r.organization_id, r.person_id, r.company_first) for r in records] == [
        (org.id, ceo.id, True),
        (org.id, chair.id, False),  # kept: the chair stays "delivered once"
        (other.id, ceo.id, True),
    ]
    # From now on a third person of that company is refused for Alpha (any segment, any race).
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliveryRecord.all_orgs.create(organization=org, company=company, person=cfo)
