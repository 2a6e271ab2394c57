"""decision_maker_contacts_find: discovery + verification + persistence, real peers and DB."""

import pytest

from enrichment.models import ContactPoint, DomainProfile
from enrichment.services import decision_maker_contacts_find
from sandbox.servers.worlds import domain_entry
from tests.factories import CompanyFactory, PersonFactory

pytestmark = pytest.mark.django_db


def company(**kw):
    kw.setdefault("country", "NO")
    return CompanyFactory(**kw)


def person(first, last):
    return PersonFactory(first_name=first, last_name=last, full_name=f"{first} {last}")


def site(name, registry_id, **kw):
    return {"company_name": name, "country": "NO", "registry_id": registry_id, **kw}


@pytest.fixture
def world(sandbox_factory):
    return sandbox_factory(
        [
            domain_entry(
                "fjord-bygg.no", mailboxes=["k.nordmann", "o.hansen", "post"], pattern="f.last"
            ),
            domain_entry(
                "bolge-data.no",
                mailboxes=["ingrid.berg"],
                web=site("Bølge Data AS", "923456789", phones=["+47 22 33 44 55"]),
            ),
            domain_entry(
                "bolge.no", mailboxes=["ingrid.berg"], web=site("Bølge Eiendom AS", "900000001")
            ),
            domain_entry("allin.no", behaviour="catch_all"),
            domain_entry("grey.no", behaviour="greylist", mailboxes=["lars.lund"]),
        ]
    )


def test_valid_email_is_found_saved_and_its_pattern_learned(world, config_for):
    c = company(name="Fjord Bygg AS", website_domain="https://www.fjord-bygg.no/")
    kari = person("Kari", "Nordmann")
    found = decision_maker_contacts_find(candidates=[(c.id, kari.id)], config=config_for(world))

    f = found[(c.id, kari.id)]
    assert (f.verified, f.kind, f.value, f.status) == (
        True,
        "email",
        "k.nordmann@fjord-bygg.no",
        "valid",
    )
    point = ContactPoint.objects.get(id=f.contact_point_id)
    assert (point.person_id, point.status, point.origin) == (kari.id, "valid", "candidate")
    assert point.evidence["smtp"]
    # The wrong guesses before it are kept as invalid, so they are not tried again blindly.
    assert ContactPoint.objects.filter(person=kari, status="invalid").count() == 2
    profile = DomainProfile.objects.get(domain="fjord-bygg.no")
    assert (profile.email_pattern, profile.accepts_all, profile.dns_status) == (
        "f.last",
        False,
        "mx",
    )

    # A colleague at the same company goes straight to the learned pattern.
    ola = person("Ola", "Hansen")
    again = decision_maker_contacts_find(candidates=[(c.id, ola.id)], config=config_for(world))
    assert again[(c.id, ola.id)].evidence["tried"] == [
        {
            "kind": "email",
            "value": "o.hansen@fjord-bygg.no",
            "origin": "pattern",
            "status": "valid",
            "reason": None,
        }
    ]


def test_rerun_updates_the_same_rows(world, config_for):
    c = company(name="Fjord Bygg AS", website_domain="fjord-bygg.no")
    kari = person("Kari", "Nordmann")
    first = decision_maker_contacts_find(candidates=[(c.id, kari.id)], config=config_for(world))
    rows = ContactPoint.objects.count()
    second = decision_maker_contacts_find(candidates=[(c.id, kari.id)], config=config_for(world))
    assert ContactPoint.objects.count() == rows
    assert first[(c.id, kari.id)].contact_point_id == second[(c.id, kari.id)].contact_point_id


def test_domain_is_discovered_from_the_name_and_the_registry_number(world, config_for):
    c = company(name="Bølge Data AS", registry_id="923456789")
    ingrid = person("Ingrid", "Berg")
    f = decision_maker_contacts_find(candidates=[(c.id, ingrid.id)], config=config_for(world))[
        (c.id, ingrid.id)
    ]
    assert (f.verified, f.value) == (True, "ingrid.berg@bolge-data.no"), f.evidence
    assert f.evidence["domain_source"] == "discovered"
    assert DomainProfile.objects.get(domain="bolge-data.no").confirmed_company_id == c.id
    # A look-alike whose site names another registry number is never used.
    other = company(name="Bølge AS", registry_id="955555555")
    g = decision_maker_contacts_find(candidates=[(other.id, ingrid.id)], config=config_for(world))
    assert g[(other.id, ingrid.id)].verified is False
    assert g[(other.id, ingrid.id)].reason == "no_contact_found"


def test_a_website_is_fetched_once_for_every_company_that_tries_its_domain(world, config_for):
    # Both names start with "Bølge": discovery tries bolge.no for each, in two separate searches
    # (two chunks of a night); the page, which names another registry number, is fetched once.
    ingrid = person("Ingrid", "Berg")
    for name, registry_id in (("Bølge Marin AS", "911111111"), ("Bølge Bygg AS", "922222222")):
        c = company(name=name, registry_id=registry_id)
        found = decision_maker_contacts_find(
            candidates=[(c.id, ingrid.id)], config=config_for(world)
        )[(c.id, ingrid.id)]
        tried = {t["domain"]: t for t in found.evidence["discovery"]["tried"]}
        assert tried["bolge.no"] == {"domain": "bolge.no", "website": True, "confirmed": False}
        assert found.verified is False
    assert world.http.log.count(("https", "bolge.no", "/")) == 1


def test_catch_all_is_not_verified_nor_is_the_registry_phone(world, config_for):
    """A registry phone is the company's (its switchboard): kept as company data, never the
    person's verified contact (it used to verify here, and 42 of 131 demo charges were it)."""
    bare = company(name="Allin AS", website_domain="allin.no")
    phoned = company(name="Allin Drift AS", website_domain="allin.no", phone="22 33 44 55")
    p = person("Nora", "Lie")
    found = decision_maker_contacts_find(
        candidates=[(bare.id, p.id), (phoned.id, p.id)], config=config_for(world)
    )
    f = found[(bare.id, p.id)]
    assert (f.verified, f.kind, f.status, f.reason) == (False, "email", "accept_all", "catch_all")
    g = found[(phoned.id, p.id)]
    assert g.verified is False
    assert g.evidence["company_contacts"] == [
        {"kind": "phone", "value": "+4722334455", "label": "registry_phone", "source": "registry"}
    ]
    point = ContactPoint.objects.get(company=phoned, kind="phone")
    assert (point.person_id, point.origin, point.line_type, point.status, point.attribution) == (
        None,
        "registry",
        "fixed_line",
        "valid",
        "company",
    )
    assert DomainProfile.objects.get(domain="allin.no").accepts_all is True


def test_greylisted_address_is_unknown_with_a_recheck_time(world, config_for):
    c = company(name="Grey AS", website_domain="grey.no")
    lars = person("Lars", "Lund")
    f = decision_maker_contacts_find(candidates=[(c.id, lars.id)], config=config_for(world))[
        (c.id, lars.id)
    ]
    assert (f.verified, f.status, f.reason) == (False, "unknown", "greylisted")
    point = ContactPoint.objects.get(id=f.contact_point_id)
    assert point.evidence["recheck_at"] > point.verified_at.isoformat()


def test_unknown_ids_are_named(world, config_for):
    c = company(name="Fjord Bygg AS", website_domain="fjord-bygg.no")
    with pytest.raises(Exception, match="person id 999999"):
        decision_maker_contacts_find(candidates=[(c.id, 999999)], config=config_for(world))


def test_greylisted_contacts_are_rechecked_when_due(world, config_for, clock):
    from enrichment.services import contact_points_recheck_due

    c = company(name="Grey AS", website_domain="grey.no")
    lars = person("Lars", "Lund")
    config = config_for(world)
    f = decision_maker_contacts_find(candidates=[(c.id, lars.id)], config=config)[(c.id, lars.id)]
    assert f.reason == "greylisted"
    assert contact_points_recheck_due(config=config)["due"] == 0  # not before its time

    clock.advance(301)  # past the sandbox's greylist and the first re-check delay
    counts = contact_points_recheck_due(config=config)
    assert counts["valid"] == 1
    point = ContactPoint.objects.get(id=f.contact_point_id)
    assert (point.status, point.reason) == ("valid", "")
    assert "recheck_at" not in point.evidence
    # The other guesses for Lars (other patterns) are now known not to exist.
    assert ContactPoint.objects.filter(person=lars, status="invalid").count() == counts["invalid"]
    assert counts["invalid"] >= 1
    assert contact_points_recheck_due(config=config)["due"] == 0


def test_a_reused_verdict_is_not_written_again_and_keeps_its_row(
    world, config_for, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = company(name="Fjord Bygg AS", website_domain="https://www.fjord-bygg.no/")
    kari = person("Kari", "Nordmann")
    for _ in range(2):  # the second run goes straight to the pattern the first one learned
        with django_capture_on_commit_callbacks(execute=True):
            first = decision_maker_contacts_find(
                candidates=[(c.id, kari.id)], config=config_for(world)
            )[(c.id, kari.id)]
    # Another organisation's search asks about the same person a moment later.
    with CaptureQueriesContext(connection) as queries:
        again = decision_maker_contacts_find(
            candidates=[(c.id, kari.id)], config=config_for(world)
        )[(c.id, kari.id)]
    assert (again.verified, again.value, again.contact_point_id) == (
        True,
        "k.nordmann@fjord-bygg.no",
        first.contact_point_id,
    )
    assert again.evidence["verification"]["reused"] is True
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert writes == []  # contact points and the domain profile were committed just before
    point = ContactPoint.objects.get(id=first.contact_point_id)
    assert (point.status, point.origin) == ("valid", "pattern")

    # Rows this process has not committed yet (no commit seen) are written as before.
    ola = person("Ola", "Hansen")
    with CaptureQueriesContext(connection) as queries:
        decision_maker_contacts_find(candidates=[(c.id, ola.id)], config=config_for(world))
    assert any(
        q["sql"].startswith("INSERT INTO enrichment_contactpoint") for q in queries.captured_queries
    )
