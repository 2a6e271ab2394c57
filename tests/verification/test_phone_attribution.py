"""Honest charges (DESIGN.md section 5): a phone is the decision-maker's only when a source
attributes it to them. Real peers: the sandbox's DNS, SMTP and HTTP servers, the database."""

import pytest

from enrichment.discovery import block_names_person, page_phone_listings
from enrichment.models import ContactPoint
from enrichment.services import decision_maker_contacts_find
from enrichment.verification.phone import phone_verify
from enrichment.verification.verdicts import EmailVerdict
from enrichment.web import page_parse
from sandbox.servers.worlds import domain_entry
from tests.factories import CompanyFactory, PersonFactory

pytestmark = pytest.mark.django_db


def site(name, registry_id, *, people=(), phones=(), emails=()):
    return {
        "company_name": name,
        "country": "NO",
        "registry_id": registry_id,
        "emails": list(emails),
        "phones": list(phones),
        "people": list(people),
    }


@pytest.fixture
def world(sandbox_factory):
    # Every mail domain here accepts any address: no e-mail can be verified, so each lead
    # depends on its phone.
    return sandbox_factory(
        [
            domain_entry(
                "direkte.no",
                behaviour="catch_all",
                web=site(
                    "Direkte AS",
                    "911111119",
                    phones=["+47 22 11 11 11"],
                    people=[
                        {"name": "Anna Berg", "title": "Daglig leder", "phone": "+47 912 34 567"},
                        {"name": "Ola Lund", "title": "Styreleder", "phone": "+47 922 22 222"},
                    ],
                ),
            ),
            # The registry phone printed next to the CEO: still the company's switchboard.
            domain_entry(
                "sentral.no",
                behaviour="catch_all",
                web=site(
                    "Sentral AS",
                    "922222228",
                    people=[{"name": "Anna Berg", "title": "Daglig leder", "phone": "22334455"}],
                ),
            ),
            # The site's switchboard, listed in the contact list and next to the CEO; post@
            # exists, Anna's own mailbox does not.
            domain_entry(
                "bord.no",
                mailboxes=["post"],
                web=site(
                    "Bord AS",
                    "933333337",
                    phones=["+47 23 45 67 89"],
                    emails=["post@bord.no"],
                    people=[
                        {"name": "Anna Berg", "title": "Daglig leder", "phone": "+47 23 45 67 89"}
                    ],
                ),
            ),
        ]
    )


def anna():
    return PersonFactory(first_name="Anna", last_name="Berg", full_name="Anna Berg")


def test_a_direct_number_next_to_the_ceo_is_charged_with_its_attribution(world, config_for):
    c = CompanyFactory(country="NO", name="Direkte AS", website_domain="direkte.no")
    p = anna()
    f = decision_maker_contacts_find(candidates=[(c.id, p.id)], config=config_for(world))[
        (c.id, p.id)
    ]
    assert (f.verified, f.kind, f.value, f.status) == (True, "phone", "+4791234567", "valid")
    point = ContactPoint.objects.get(id=f.contact_point_id)
    assert (point.person_id, point.company_id, point.origin, point.line_type) == (
        p.id,
        c.id,
        "website",
        "mobile",
    )
    assert (point.attribution, point.attribution_source) == ("person", "https://direkte.no/")
    assert f.evidence["verification"]["listed_with"] == "Anna Berg"
    # The chair's number and the switchboard are not Anna's; the switchboard is company data.
    assert f.evidence["company_contacts"] == [
        {
            "kind": "phone",
            "value": "+4722111111",
            "label": "switchboard",
            "source": "https://direkte.no/",
        }
    ]


def test_the_registry_phone_next_to_the_ceo_is_company_data_and_not_charged(world, config_for):
    c = CompanyFactory(
        country="NO", name="Sentral AS", website_domain="sentral.no", phone="+47 22 33 44 55"
    )
    p = anna()
    f = decision_maker_contacts_find(candidates=[(c.id, p.id)], config=config_for(world))[
        (c.id, p.id)
    ]
    assert f.verified is False
    assert [x["label"] for x in f.evidence["company_contacts"]] == ["registry_phone"]
    points = ContactPoint.objects.filter(company=c, kind="phone")
    assert [(x.normalized, x.person_id, x.attribution) for x in points] == [
        ("+4722334455", None, "company")
    ]


def test_a_switchboard_listed_for_everyone_and_info_addresses_are_never_charged(world, config_for):
    c = CompanyFactory(country="NO", name="Bord AS", website_domain="bord.no")
    p = anna()
    f = decision_maker_contacts_find(candidates=[(c.id, p.id)], config=config_for(world))[
        (c.id, p.id)
    ]
    assert f.verified is False
    assert {(x["kind"], x["value"], x["label"]) for x in f.evidence["company_contacts"]} == {
        ("phone", "+4723456789", "switchboard"),
        ("email", "post@bord.no", "general_email"),
    }
    assert not ContactPoint.objects.filter(person=p, attribution="person", kind="phone").exists()
    tried = {(t["kind"], t["value"], t["status"]) for t in f.evidence["tried"]}
    assert ("email", "anna.berg@bord.no", "invalid") in tried


def test_a_role_account_is_the_companys_even_when_its_mailbox_exists():
    post = EmailVerdict("post@bord.no", "post@bord.no", "valid", None, ("role_account",))
    assert (post.attribution, post.is_chargeable) == ("company", False)
    own = EmailVerdict("anna.berg@bord.no", "anna.berg@bord.no", "valid", None)
    assert (own.attribution, own.is_chargeable) == ("person", True)


def test_a_page_names_a_person_next_to_a_number_only_in_the_same_block():
    html = (
        "<ul><li><a href='mailto:post@x.no'>post@x.no</a></li>"
        '<li><a href="tel:+4722111111">+47 22 11 11 11</a></li></ul>'
        "<h2>Kontaktpersoner</h2><ul>"
        '<li><strong>Bjørn-Åge Sæther</strong>, Daglig leder &middot; <a href="tel:+4791234567">'
        "+47 912 34 567</a></li><li><strong>Ola Lund</strong></li></ul>"
    )
    listings = page_phone_listings([page_parse("http://x.no/", 200, html)])
    assert [x.raw for x in listings] == ["+4722111111", "+4791234567"]
    assert not block_names_person(listings[0].block, first="Bjørn-Åge", last="Sæther")
    assert block_names_person(listings[1].block, first="Bjørn-Åge", last="Sæther")
    assert not block_names_person(listings[1].block, first="Ola", last="Sæther")


def test_a_valid_number_nobody_attributed_is_not_chargeable():
    v = phone_verify("+47 912 34 567", country="NO")
    assert (v.status, v.attribution, v.is_chargeable) == ("valid", None, False)
    v = phone_verify("+47 912 34 567", country="NO", attribution="company")
    assert v.is_chargeable is False
    v = phone_verify("+47 912 34 567", country="NO", attribution="person", attribution_source="u")
    assert (v.is_chargeable, v.as_dict()["attribution_source"]) == (True, "u")
