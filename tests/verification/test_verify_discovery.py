"""Domain discovery against the sandbox's DNS and HTTP servers."""

import asyncio

from enrichment.verification.discovery import Discovery, domain_candidates
from enrichment.verification.dns import DnsClient
from sandbox.servers.worlds import domain_entry


def web(name, registry_id, country="NO", emails=(), phones=()):
    return {
        "company_name": name,
        "country": country,
        "registry_id": registry_id,
        "emails": list(emails),
        "phones": list(phones),
    }


def test_domain_candidates_strip_the_legal_form_and_fold_letters():
    got = domain_candidates(name="Nordlys Logistikk AS", country="NO")
    assert got[:4] == [
        "nordlys-logistikk.no",
        "nordlys-logistikk.com",
        "nordlyslogistikk.no",
        "nordlyslogistikk.com",
    ]
    assert domain_candidates(name="Bølge & Søn Ltd", country="GB")[0] == "bolge-and-son.co.uk"
    assert domain_candidates(name="AS", country="NO") == []


def test_discovery_confirms_only_the_site_naming_the_registry_number(sandbox_factory, config_for):
    sb = sandbox_factory(
        [
            # A look-alike on the first candidate belongs to someone else.
            domain_entry("nordlys-logistikk.no", web=web("Nordlys Logistikk", "998877665")),
            domain_entry(
                "nordlyslogistikk.no",
                web=web(
                    "Nordlys Logistikk AS",
                    "912345678",
                    emails=["post@nordlyslogistikk.no"],
                    phones=["+47 22 33 44 55"],
                ),
            ),
        ]
    )
    config = config_for(sb)

    async def go():
        client = DnsClient(config)
        disc = Discovery(config, client)
        found = await disc.domain_discover(
            name="Nordlys Logistikk AS", country="NO", registry_id="912 345 678"
        )
        page = await disc.website_fetch("nordlyslogistikk.no")
        missing = await disc.domain_discover(
            name="Ukjent Firma AS", country="NO", registry_id="911111111"
        )
        client.close()
        return found, page, missing

    (domain, evidence), page, (none, tried) = asyncio.run(go())
    assert domain == "nordlyslogistikk.no"
    assert evidence["tried"][0] == {
        "domain": "nordlys-logistikk.no",
        "website": True,
        "confirmed": False,
    }
    assert evidence["source"] == "https://nordlyslogistikk.no/"
    assert page.emails == ["post@nordlyslogistikk.no"]
    assert page.phones == ["+4722334455"]
    assert none is None
    assert all(not t["website"] for t in tried["tried"])
