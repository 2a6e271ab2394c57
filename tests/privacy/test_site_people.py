"""An erased person named on their company's own site is not written back by the next read."""

from __future__ import annotations

from enrichment.models import Person, Role
from enrichment.people import site_decision_makers_create
from privacy.services import ERASED_NAME, person_erase
from sandbox.servers.worlds import domain_entry
from tests.factories import CompanyFactory
from tests.leads.test_site_people_night import _web, https_sandbox  # noqa: F401 - fixture


def test_an_erased_site_person_is_not_written_back(https_sandbox, prefix, admin_user):  # noqa: F811
    domain = f"{prefix}erased.se"
    company = CompanyFactory(
        name=f"{prefix} Raderad AB",
        country="SE",
        status="active",
        registry_id="5566778800",
        website_domain=domain,
    )
    people = [{"name": "Anna Lindqvist", "title": "VD", "phone": "+46 70 123 45 67"}]
    https_sandbox(
        [
            domain_entry(
                domain, mailboxes=["info"], web=_web(company.name, "SE", "5566778800", people)
            )
        ]
    )
    (created,) = site_decision_makers_create(company_ids=[company.id])
    person = Person.objects.get(pk=created["person_id"])
    person_erase(person_id=person.pk, actor=admin_user)

    assert site_decision_makers_create(company_ids=[company.id]) == []  # read again: skipped
    person.refresh_from_db()
    assert person.full_name == ERASED_NAME
    assert not Role.objects.filter(company=company).exists()
    assert not Person.objects.filter(full_name="Anna Lindqvist").exists()
