"""enrichment.evidence: the stored record of a charge read back as sentences (no peers needed:
the record is what the engine stored)."""

from __future__ import annotations

from django.test import override_settings
from django.utils import translation

from enrichment.evidence import charge_sentences, company_contacts

AT = "2026-12-03T02:14:09+00:00"
PERSON = {"first_name": "Anna", "last_name": "Berg", "full_name": "Anna Berg"}
COMPANY = {"name": "Nordlys AS", "registry_id": "912345678", "phone": "+47 22 33 44 55"}


def email_record(origin: str, domain_source: str) -> dict:
    return {
        "kind": "email",
        "value": "anna.berg@nordlys.no",
        "status": "valid",
        "flags": [],
        "checked_at": AT,
        "evidence": {
            "domain": "nordlys.no",
            "domain_source": domain_source,
            "source": origin,
            "verification": {
                "mx": [[10, "mx1.nordlys.no"]],
                "smtp": [{"host": "mx1.nordlys.no", "lines": ["250 2.1.5 Ok"]}],
                "catch_all": {"state": False},
            },
        },
    }


@override_settings(TIME_ZONE="UTC")
def test_an_address_from_the_pattern_on_a_discovered_domain():
    with translation.override("en-gb"):
        got = charge_sentences(
            evidence=email_record("pattern", "discovered"), person=PERSON, company=COMPANY
        )
    assert got == [
        "The e-mail address anna.berg@nordlys.no was built from the company's address pattern "
        "(first.last).",
        "nordlys.no was found from the company's name; its website names the registration "
        "number 912345678 of Nordlys AS.",
        "Its mail server mx1.nordlys.no accepted it on 3 Dec 2026 at 02:14 and rejects addresses "
        "that do not exist, so the mailbox exists.",
    ]


@override_settings(TIME_ZONE="UTC")
def test_an_address_printed_on_the_site_and_dates_in_the_locale():
    record = email_record("website", "registry_email")
    with translation.override("en-gb"):
        first, second, _ = charge_sentences(evidence=record, person=PERSON, company=COMPANY)
    assert first == (
        "The e-mail address anna.berg@nordlys.no is published on the company's website "
        "http://nordlys.no/."
    )
    assert second == (
        "nordlys.no is the domain of the e-mail address the company registry lists for Nordlys AS."
    )
    with translation.override("sv"):
        *_, check = charge_sentences(evidence=record, person=PERSON, company=COMPANY)
    assert "3 december 2026" in check  # the date as a Swedish reader writes it


def test_a_phone_charged_before_attribution_says_it_names_no_person():
    """Leads charged on the registry phone before this rule keep their record; it now reads as
    what it was."""
    record = {
        "kind": "phone",
        "value": "+4722334455",
        "status": "valid",
        "checked_at": AT,
        "evidence": {
            "source": "registry",
            "verification": {
                "e164": "+4722334455",
                "status": "valid",
                "line_type": "fixed_line",
                "region": "NO",
            },
        },
    }
    with translation.override("en-gb"):
        got = charge_sentences(evidence=record, person=PERSON, company=COMPANY)
        contacts = company_contacts(evidence=record, company=COMPANY)
    assert got[0] == (
        "The number +47 22 33 44 55 is the company's number in the registry (checked "
        "3 Dec 2026); no source names a person for it."
    )
    assert got[1] == "It is a valid Norwegian landline number."
    assert contacts == []  # the registry phone is the charged contact itself here


def test_company_contacts_of_an_older_lead_come_from_its_snapshot():
    record = email_record("candidate", "registry_website")
    del record["evidence"]["domain_source"]
    with translation.override("en-gb"):
        contacts = company_contacts(evidence=record, company=COMPANY)
    assert contacts == [
        {
            "kind": "phone",
            "value": "+47 22 33 44 55",
            "label": "Company phone (registry)",
            "source": "",
        }
    ]
    assert charge_sentences(evidence={}, person=PERSON, company=COMPANY) == []
