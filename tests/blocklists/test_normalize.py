"""Normalisers, and that the SQL functions the matching query uses agree with them."""

from __future__ import annotations

import pytest
from django.db import connection

from blocklists.normalize import (
    InvalidIdentifier,
    identifier_hash,
    name_key,
    normalize_domain,
    normalize_email,
    normalize_phone,
    normalize_registry_id,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.Example.co.uk/about?x=1", "example.co.uk"),
        ("WWW.example.com.", "example.com"),
        ("http://shop.example.no:8080", "shop.example.no"),
        ("kari@Nordlys.no", "nordlys.no"),
        ("bücher.de", "xn--bcher-kva.de"),
    ],
)
def test_domain(raw, expected):
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize("raw", ["", "localhost", "not a domain", "http://", "-bad-.com"])
def test_bad_domain(raw):
    with pytest.raises(InvalidIdentifier):
        normalize_domain(raw)


def test_email_and_phone():
    assert normalize_email("  Kari.Nordmann@NORDLYS.no ") == "kari.nordmann@nordlys.no"
    with pytest.raises(InvalidIdentifier, match="not an e-mail address"):
        normalize_email("kari@")
    assert normalize_phone("22 33 44 55", country="NO") == "+4722334455"
    assert normalize_phone("+44 20 7946 0000") == "+442079460000"
    with pytest.raises(InvalidIdentifier, match="give \\+country code"):
        normalize_phone("22 33 44 55")
    with pytest.raises(InvalidIdentifier, match="not a valid phone number"):
        normalize_phone("+47 123")


def test_registry_ids():
    assert normalize_registry_id("1234567", country="gb") == "GB:01234567"
    assert normalize_registry_id("sc123456", country="GB") == "GB:SC123456"
    assert normalize_registry_id("912 345 678", country="NO") == "NO:912345678"
    assert normalize_registry_id("no:912345678", country="") == "NO:912345678"
    assert normalize_registry_id("556036-0793", country="SE") == "SE:5560360793"
    assert normalize_registry_id("165560360793", country="SE") == "SE:5560360793"
    with pytest.raises(InvalidIdentifier, match="10 digits"):
        normalize_registry_id("55603", country="SE")
    with pytest.raises(InvalidIdentifier, match="needs a country"):
        normalize_registry_id("12345678", country="")
    with pytest.raises(InvalidIdentifier, match="9 digits"):
        normalize_registry_id("12345", country="NO")
    with pytest.raises(InvalidIdentifier, match="names country NO, not GB"):
        normalize_registry_id("NO:912345678", country="GB")


NAMES = [
    "Acme Widgets Ltd.",
    "ACME WIDGETS LIMITED",
    "Nordlys Logistikk AS",
    "Ærø Bygg A/S",
    "Smith & Sons (Holdings) PLC",
    "Straße-Bau GmbH",
    "O'Brien_Consulting LLP",
    # lp_name_key's shortcuts (migration 0005) against its suffix expression
    "",
    "  ",
    "Ltd",
    "Ltd Ltd",
    "Limited Ltd",
    "X Ltd Ltd",
    "Acme Ltd PLC",
    "Foo A S",
    "Foo a s Ltd",
    "A S",
    "Foo s",
    "Foo s Ltd",
    "The A S Co",
    "AB AB AB",
    "x as as",
    "  Y  CO   LIMITED ",
    "Ölands Bryggeri AB (publ)",
    "Øst A/S",
    "Companies Co-op",
    "LTD CONSULTING",
]


@pytest.mark.django_db
def test_sql_functions_agree_with_python():
    with connection.cursor() as cursor:
        for name in NAMES:
            cursor.execute("SELECT lp_name_key(%s), lp_sha256_hex(%s)", [name, name])
            key, digest = cursor.fetchone()
            assert key == name_key(name), name
            assert digest == identifier_hash(name)
    assert name_key("Acme Widgets Ltd.") == name_key("ACME WIDGETS LIMITED") == "acme widgets"
