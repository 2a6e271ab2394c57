"""Names and titles read off team/contact pages, and matched to registry officers."""

import asyncio

from enrichment.people import mention_matches, officer_on_site, site_people, title_kind
from enrichment.web import page_parse

PAGE = """<html><head><title>Medarbetare - Fjäll Bygg AB</title></head><body>
<h1>Medarbetare</h1><h2>Våra medarbetare</h2><ul>
<li><strong>Anna Maria Lindqvist</strong>, VD &middot; <a href="tel:+46701234567">+46 70 123 45 67</a></li>
<li><strong>Erik Berg</strong>, Säljare</li>
<li>Sjöberg, Lars, Styrelseordförande</li>
<li>Per O'Brien</li>
</ul>
<div><h3>Bjørn-Åge Sæther</h3><p>Daglig leder</p></div>
<p><a href="/">Fjäll Bygg AB</a></p><p>Nordlys Logistikk AS</p></body></html>"""


def mentions():
    return {m.name: m for m in site_people([page_parse("https://fjall.se/om-oss", 200, PAGE)])}


def test_names_titles_kinds_and_confidence_are_read_off_a_team_page():
    m = mentions()
    assert set(m) == {
        "Anna Maria Lindqvist", "Erik Berg", "Lars Sjöberg", "Per O'Brien", "Bjørn-Åge Sæther",
    }  # fmt: skip
    anna = m["Anna Maria Lindqvist"]
    assert (anna.first, anna.middle, anna.last, anna.kind) == ("Anna", "Maria", "Lindqvist", "ceo")
    assert anna.confidence == 0.95 and anna.phones == ("+46701234567",)  # title + a number
    assert (m["Lars Sjöberg"].kind, m["Lars Sjöberg"].confidence) == ("chair", 0.85)  # Last, First
    assert (m["Erik Berg"].kind, m["Erik Berg"].confidence) == (None, 0.5)  # not a decision-maker
    assert (m["Per O'Brien"].title, m["Per O'Brien"].confidence) == ("", 0.4)  # name alone
    assert (m["Bjørn-Åge Sæther"].kind, m["Bjørn-Åge Sæther"].confidence) == ("ceo", 0.75)


def test_officers_match_on_folded_names_and_a_different_person_does_not():
    m = list(mentions().values())
    assert officer_on_site(m, first="Anna", last="Lindqvist").name == "Anna Maria Lindqvist"
    assert officer_on_site(m, first="Bjorn-Age", last="Saether").name == "Bjørn-Åge Sæther"
    assert officer_on_site(m, first="LARS", last="SJÖBERG").name == "Lars Sjöberg"
    assert officer_on_site(m, first="Anna", last="Berg") is None  # another person's surname
    assert officer_on_site(m, first="Kari", last="Nordmann") is None  # not on the page
    (erik,) = [x for x in m if x.name == "Erik Berg"]
    assert not mention_matches(erik, first="Erika", last="Berg")


def test_wanted_titles_in_our_markets_languages():
    assert title_kind("Verkställande direktör") == "ceo"
    assert title_kind("Adm. direktør") == "ceo"
    assert title_kind("Managing Director") == "ceo"
    assert title_kind("Styreleder") == "chair"
    assert title_kind("Chair of the Board") == "chair"
    assert title_kind("Innehaver") == "owner"
    assert title_kind("Salgssjef") is None


def test_an_address_in_the_officers_block_is_theirs_and_another_persons_is_not(
    sandbox_factory, config_for, db
):
    from enrichment.discovery import CompanyFacts, PersonFacts, contacts_find

    web = {"company_name": "Nordlys AS", "country": "NO", "registry_id": "912345678", "https": True}
    sb = sandbox_factory([domain_entry_with_people("nordlys.no", web)])
    company = CompanyFacts(
        id=1, name="Nordlys AS", country="NO", registry_id="912345678", website_domain="nordlys.no"
    )
    kari = PersonFacts(id=1, first_name="Kari", last_name="Nordmann")
    erik = PersonFacts(id=2, first_name="Erik", last_name="Nordmann")  # not on the page
    found_kari, found_erik = asyncio.run(
        contacts_find(items=[(company, kari, None), (company, erik, None)], config=config_for(sb))
    )
    assert found_kari.verified and found_kari.chosen.value == "kn@nordlys.no"
    assert found_kari.chosen.origin == "website"
    assert found_kari.site_person["title"] == "Daglig leder"
    assert found_erik.site_person is None
    assert "kn@nordlys.no" not in [a.value for a in found_erik.attempts]


def domain_entry_with_people(domain, web):
    from sandbox.servers.worlds import domain_entry

    page = {
        "path": "/om-oss/ansatte",
        "title": "Ansatte",
        "lang": "no",
        "people": [
            {"name": "Kari Nordmann", "title": "Daglig leder", "email": "kn@nordlys.no"},
            {"name": "Ola Lund", "title": "Styreleder", "email": "ol@nordlys.no"},
        ],
    }
    return domain_entry(domain, mailboxes=["kn", "ol", "post"], web={**web, "pages": [page]})
