"""`manage.py discover`: one company's site read as the night reads it, printed as JSON."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from sandbox.servers.worlds import domain_entry

pytestmark = pytest.mark.django_db


def test_discover_prints_pages_people_contacts_and_verdicts(sandbox_factory):
    team = [
        {"name": "Kari Nordmann", "title": "Daglig leder", "phone": "+47 912 34 567"},
        {"name": "Ola Lund", "title": "Salgssjef"},
    ]
    web = {
        "company_name": "Nordlys AS",
        "country": "NO",
        "registry_id": "912345678",
        "https": True,
        "www": True,
        "robots_disallow": ["/intern"],
        "phones": ["+47 22 33 44 55"],
        "emails": ["post@nordlys.no"],
        "pages": [
            {"path": "/om-oss/ansatte", "title": "Ansatte", "lang": "no", "people": team},
            {"path": "/intern/team", "title": "Team", "lang": "no", "people": team},
        ],
    }
    sb = sandbox_factory([domain_entry("nordlys.no", mailboxes=["kari.nordmann", "post"], web=web)])
    out = StringIO()
    call_command(
        "discover",
        domain="nordlys.no",
        person="Kari Nordmann",
        role="ceo",
        nameserver=f"127.0.0.1:{sb.dns_port}",
        smtp_port=sb.smtp_port,
        http_port=sb.http_port,
        https_port=sb.https_port,
        ca_file=sb.ca_file,
        stdout=out,
    )
    doc = json.loads(out.getvalue())
    assert doc["site"]["state"] == "ok"
    pages = {p["url"]: p["skipped"] for p in doc["pages"]}
    assert pages["https://www.nordlys.no/"] is None
    assert pages["https://www.nordlys.no/om-oss/ansatte"] is None
    assert pages["https://www.nordlys.no/intern/team"] == "robots"
    (kari,) = [p for p in doc["people"] if p["name"] == "Kari Nordmann"]
    assert kari["matched_officer"] == "Kari Nordmann" and kari["role_kind"] == "ceo"
    assert kari["page"] == "https://www.nordlys.no/om-oss/ansatte" and kari["confidence"] >= 0.9
    (ola,) = [p for p in doc["people"] if p["name"] == "Ola Lund"]
    assert (ola["matched_officer"], ola["role_kind"]) == (None, None)
    phones = {(c["value"], c["attributed_to"]) for c in doc["contacts"] if c["kind"] == "phone"}
    assert ("+4791234567", "Kari Nordmann") in phones
    assert ("+4722334455", "company") in phones
    emails = {c["value"]: c["attributed_to"] for c in doc["contacts"] if c["kind"] == "email"}
    assert emails["post@nordlys.no"] == "company"
    (first,) = [v for v in doc["verdicts"] if v["value"] == "kari.nordmann@nordlys.no"]
    assert first["status"] == "valid"
    assert not [e for e in sb.http.log if e[2].startswith("/intern")]
