"""Against the registry importers (a small generated Norwegian world, imported for real): an
opted-out person is never a candidate again in any organisation, also after a re-import; an
erased person is not brought back by one; the access report gives a source for every value."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone

from blocklists.services import delivery_record_add
from enrichment.importers import registry_import
from enrichment.models import ContactPoint, Person, Role
from privacy.models import OptOutRequest, PrivacyAction
from privacy.selectors import access_report_values, person_access_report
from privacy.services import (
    ERASED_NAME,
    optout_confirm,
    optout_confirm_by_staff,
    optout_request,
    person_erase,
)
from sandbox.world import world_generate
from segments.criteria import SegmentCriteria
from segments.matching import candidate_roles
from tests.directory.conftest import world_file

TODAY = dt.date(2026, 11, 26)


@pytest.fixture(scope="session")
def norway(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("privacy_world")
    world_generate(seed=19, companies=150, out=out)
    return out


def _import(world: Path) -> dict[str, dict]:
    return {
        source: registry_import(
            source=source, path=world_file(world, source), progress=False
        ).summary()
        for source in ("no_enheter", "no_roller")
    }


def _candidates(organization) -> set[int]:
    criteria = SegmentCriteria.from_dict({"countries": ["NO"]})
    roles = candidate_roles(organization=organization, criteria=criteria, today=TODAY)
    return set(roles.values_list("person_id", flat=True))


def _found_email(person: Person, address: str, **extra) -> ContactPoint:
    """What discovery writes for a decision-maker's verified address."""
    fields = {
        "origin": "pattern",
        "status": "valid",
        "attribution": "person",
        "verified_at": timezone.now(),
        "evidence": {"smtp": [{"code": 250}]},
        **extra,
    }
    return ContactPoint.objects.create(
        person=person, kind="email", value=address, normalized=address.lower(), **fields
    )


@pytest.fixture
def imported(norway, db):
    _import(norway)
    return norway


def test_an_opted_out_person_is_no_candidate_anywhere_even_after_a_reimport(
    imported, tenant_a, tenant_b, mailoutbox, django_capture_on_commit_callbacks, admin_user
):
    before_a, before_b = _candidates(tenant_a.org), _candidates(tenant_b.org)
    assert before_a == before_b and len(before_a) > 20
    objector = Person.objects.get(pk=min(before_a))
    _found_email(objector, "Objector@Example-AS.no")
    with django_capture_on_commit_callbacks(execute=True):
        optout_request(kind="email", value="objector@example-as.no")
    (token,) = re.findall(r"/confirm/([^/\s]+)/", mailoutbox[-1].body)
    assert optout_confirm(token=token) is not None

    # A phone objection, confirmed by staff (no SMS codes): the phone's hash excludes too.
    caller = Person.objects.get(pk=max(before_a))
    ContactPoint.objects.create(
        person=caller,
        kind="phone",
        value="+47 412 34 567",
        normalized="+4741234567",
        origin="website",
        status="valid",
        attribution="person",
        attribution_source="https://example-as.no/om-oss",
    )
    with django_capture_on_commit_callbacks(execute=True):
        optout_request(kind="phone", value="412 34 567", country="NO", email="me@home.example")
    optout_confirm_by_staff(request_id=OptOutRequest.objects.get(kind="phone").pk, actor=admin_user)

    summary = _import(imported)  # the same files again
    assert summary["no_roller"]["rows_read"] > 0
    for organization in (tenant_a.org, tenant_b.org):
        after = _candidates(organization)
        assert objector.pk not in after and caller.pk not in after
        assert after == before_a - {objector.pk, caller.pk}  # nobody else is excluded
    assert Role.objects.filter(person=objector, is_current=True).exists()  # still in the registry


def test_an_erased_person_is_not_brought_back_by_a_reimport(imported, admin_user):
    person = Role.objects.filter(company__country="NO", kind="ceo", is_current=True).first().person
    name, key = person.full_name, person.person_key
    _found_email(person, "ceo@erased-as.no")
    people = Person.objects.count()

    result = person_erase(person_id=person.pk, actor=admin_user)
    assert result.contact_points_deleted == 1 and result.roles_deleted >= 1
    summary = _import(imported)

    person.refresh_from_db()
    assert (person.full_name, person.first_name, person.last_name) == (ERASED_NAME, "", "")
    assert person.birth_year is None and person.person_key == key
    assert not Role.objects.filter(person=person).exists()
    assert not ContactPoint.objects.filter(person=person).exists()
    assert Person.objects.count() == people  # no new row for them either
    assert (
        not Person.objects.filter(full_name=name).exclude(pk__lt=0).filter(person_key=key).exists()
    )
    assert summary["no_roller"]["rows_skipped"] >= result.roles_deleted
    assert PrivacyAction.objects.filter(
        action="person.erase", person_id=person.pk, actor=admin_user
    ).exists()


def test_the_access_report_gives_a_source_for_every_value(imported, tenant_a, tenant_b):
    role = Role.objects.filter(company__country="NO", kind="ceo", is_current=True).first()
    person = role.person
    _found_email(person, "found@registry-as.no")
    ContactPoint.objects.create(
        person=person,
        kind="phone",
        value="+47 912 34 567",
        normalized="+4791234567",
        origin="website",
        status="valid",
        attribution="person",
        attribution_source="https://registry-as.no/kontakt",
        verified_at=timezone.now(),
    )
    delivery_record_add(
        organization=tenant_a.org, company_id=role.company_id, person_id=person.pk, lead_id=None
    )

    report = person_access_report(person_id=person.pk)
    values = access_report_values(report)
    paths = {path for path, _ in values}
    assert {"fields.full_name", "fields.birth_year", "roles[0].role"} <= paths
    assert {"contact_points[0].value", "contact_points[1].verification"} <= paths
    for path, entry in values:
        source = entry["source"]
        assert source["kind"] and source["detail"] and source["date"], path
    assert report["fields"]["full_name"]["source"]["kind"] == "registry"
    assert report["fields"]["full_name"]["source"]["file"]  # the registry file's name
    phone = report["contact_points"][1]
    assert phone["value"]["source"] == {
        "kind": "website",
        "detail": "https://registry-as.no/kontakt",
        "date": phone["value"]["source"]["date"],
    }
    # Who received them: tenant_a only (tenant_b's rows are not there to list).
    assert [r["organization"] for r in report["received_by"]] == [tenant_a.org.name]


def test_a_person_named_on_the_companys_site_has_the_page_as_source(db):
    from tests.factories import CompanyFactory, PersonFactory, RoleFactory

    person = PersonFactory(person_key="web:abc")
    RoleFactory(
        company=CompanyFactory(country="SE"),
        person=person,
        kind="ceo",
        details={"source": "website", "source_url": "https://firma.se/om-oss"},
    )
    report = person_access_report(person_id=person.pk)
    for _path, entry in access_report_values(report):
        assert entry["source"]["kind"] == "website", _path
        assert entry["source"]["detail"] == "https://firma.se/om-oss" and entry["source"]["date"]


def test_a_lead_says_where_its_person_comes_from(imported, tenant_a, tenant_b):
    from leads.models import Lead
    from leads.selectors import lead_person_source

    role = Role.objects.filter(company__country="NO", kind="ceo", is_current=True).first()
    lead = Lead(organization=tenant_a.org, person=role.person, company=role.company)
    text = lead_person_source(organization=tenant_a.org, lead=lead)
    assert text.startswith(f"Listed as CEO / managing director in {role.source.name}, imported ")
    assert lead_person_source(organization=tenant_b.org, lead=lead) == ""  # not B's lead
