"""CSV import (all or nothing, per-row errors, encodings) and export."""

from __future__ import annotations

import csv
import io

import pytest

from blocklists.csv_io import BlockImportError, block_entries_export_lines, block_entries_import
from blocklists.models import BlockEntry
from blocklists.services import block_entry_add
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

GOOD = """kind,value,country,note
company,1234567,GB,old customer
company,NO:912345678,,
domain,https://www.example.co.uk/,,
company_name,Ærø Bygg A/S,,competitor
email,Kari.Nordmann@Example.no,,
phone,22 33 44 55,NO,
email,kari.nordmann@example.no,,duplicate in the file
"""


def entries(org) -> set[tuple[str, str]]:
    return set(BlockEntry.objects.for_org(org).values_list("kind", "value"))


def test_import_good_file_and_reimport_is_idempotent(tenant_a, tenant_b):
    result = block_entries_import(organization=tenant_a.org, data=GOOD.encode())
    assert (result.rows, result.created, result.skipped) == (7, 6, 1)
    assert entries(tenant_a.org) == {
        ("company", "GB:01234567"),
        ("company", "NO:912345678"),
        ("domain", "example.co.uk"),
        ("company_name", "ærø bygg"),
        ("email", "kari.nordmann@example.no"),
        ("phone", "+4722334455"),
    }
    again = block_entries_import(organization=tenant_a.org, data=GOOD.encode())
    assert (again.created, again.skipped) == (0, 7)
    assert entries(tenant_b.org) == set()


def test_broken_rows_are_all_reported_and_nothing_is_written(tenant_a):
    data = (
        b"Kind;Value;Country\n"
        b"domain;example.com;\n"
        b"fax;123;\n"
        b"email;not-an-address;\n"
        b"\n"
        b"company;12345;NO\n"
        b"phone;22 33 44 55;\n"
        b"person;abc;\n"
        b"company;1;Norway\n"
    )
    with pytest.raises(BlockImportError) as info:
        block_entries_import(organization=tenant_a.org, data=data)
    found = [(e.line, e.field) for e in info.value.errors]
    assert found == [
        (3, "kind"),
        (4, "value"),
        (6, "value"),
        (7, "value"),
        (8, "value"),
        (9, "country"),
    ]
    assert "9 digits" in info.value.errors[2].message
    assert entries(tenant_a.org) == set()  # the one good row was not written either


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8-sig", b""), ("utf-16", b""), ("cp1252", b"")],
)
def test_encodings(tenant_a, encoding, prefix):
    text = "kind,value\ncompany_name,Ærø Bygg Sønner AS\ncompany_name,Café Müller GmbH\n"
    result = block_entries_import(organization=tenant_a.org, data=prefix + text.encode(encoding))
    assert result.created == 2
    assert entries(tenant_a.org) == {
        ("company_name", "ærø bygg sønner"),
        ("company_name", "café müller"),
    }


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "is empty"),
        (b"value\nexample.com\n", "needs the column(s) kind"),
        (b"kind,value\n", "has a header but no rows"),
        (b"PK\x03\x04\x00\x00binary xlsx", "not a CSV text file"),
    ],
)
def test_unusable_files(tenant_a, data, fragment):
    with pytest.raises(BlockImportError) as info:
        block_entries_import(organization=tenant_a.org, data=data)
    assert fragment in str(info.value)


def test_person_rows_resolve_to_directory_people(tenant_a):
    person = PersonFactory()
    result = block_entries_import(
        organization=tenant_a.org, data=f"kind,value\nperson,{person.pk}\n".encode()
    )
    assert result.created == 1
    assert BlockEntry.objects.for_org(tenant_a.org).get().person_id == person.pk
    with pytest.raises(BlockImportError, match="no person with id"):
        block_entries_import(organization=tenant_a.org, data=b"kind,value\nperson,999999999\n")


def test_export_round_trips(tenant_a, tenant_b):
    block_entries_import(organization=tenant_a.org, data=GOOD.encode())
    block_entries_import(organization=tenant_b.org, data=b"kind,value\ndomain,bravo.example\n")
    exported = "".join(block_entries_export_lines(organization=tenant_a.org))
    assert exported.splitlines()[0] == "kind,value,country,note,created_at"
    assert "GB,old customer" in exported and "bravo" not in exported
    before = entries(tenant_a.org)
    BlockEntry.objects.for_org(tenant_a.org).delete()
    result = block_entries_import(organization=tenant_a.org, data=exported.encode())
    assert result.created == len(before)
    assert entries(tenant_a.org) == before


_FILLER = b"".join(b"domain,filler%d.example.com,,\n" % i for i in range(300))  # past 4 KB


@pytest.mark.parametrize(
    ("row", "field", "fragment"),
    [
        (b"domain,x.example.com,,hi\x00there\n", "note", "NUL"),
        (b"company_name,Acme\x00 Widgets,,\n", "value", "NUL"),
        (b"company_name," + b"Acme " * 100 + b",,\n", "value", "longer than 320"),
        (b"domain," + b".".join([b"a" * 60] * 6) + b".com,,\n", "value", "longer than 320"),
    ],
    ids=["nul-in-note", "nul-in-value", "long-name", "long-domain"],
)
def test_rows_the_database_cannot_hold_are_row_errors(tenant_a, row, field, fragment):
    data = b"kind,value,country,note\n" + _FILLER + row
    with pytest.raises(BlockImportError) as info:
        block_entries_import(organization=tenant_a.org, data=data)
    [error] = info.value.errors
    assert (error.line, error.field) == (302, field)
    assert fragment in error.message
    assert entries(tenant_a.org) == set()


def test_export_neutralises_formulas_that_start_with_a_sign(tenant_a):
    notes = ["-1+1+cmd|' /C calc'!A0", '+1+HYPERLINK("http://x")', "-2+3", '=HYPERLINK("x")']
    for i, note in enumerate(notes):
        block_entry_add(organization=tenant_a.org, kind="domain", value=f"d{i}.example", note=note)
    block_entry_add(organization=tenant_a.org, kind="phone", value="+47 22 33 44 55")
    rows = list(
        csv.reader(io.StringIO("".join(block_entries_export_lines(organization=tenant_a.org))))
    )
    exported = {row[1]: row[3] for row in rows[1:]}
    assert [exported[f"d{i}.example"] for i in range(len(notes))] == ["'" + n for n in notes]
    assert "+4722334455" in exported  # a phone number stays a number
    before = set(BlockEntry.objects.for_org(tenant_a.org).values_list("value", "note"))
    data = "".join(block_entries_export_lines(organization=tenant_a.org)).encode()
    BlockEntry.objects.for_org(tenant_a.org).delete()
    block_entries_import(organization=tenant_a.org, data=data)
    assert set(BlockEntry.objects.for_org(tenant_a.org).values_list("value", "note")) == before


def test_a_quote_left_open_does_not_swallow_the_rows_after_it(tenant_a):
    rows = b"".join(b"domain,d%d.example.com,,\n" % i for i in range(50))
    data = b'kind,value,country,note\ndomain,a.example.com,,"old customer\n' + rows
    with pytest.raises(BlockImportError) as info:
        block_entries_import(organization=tenant_a.org, data=data)
    [error] = info.value.errors
    assert (error.line, error.field) == (2, "row")
    assert "never closed" in error.message
    assert entries(tenant_a.org) == set()


def test_a_stray_quote_mid_field_is_an_error_not_a_cut_note(tenant_a):
    data = b'kind,value,country,note\ndomain,a.example.com,,=HYPERLINK("http://x","y")\n'
    with pytest.raises(BlockImportError) as info:
        block_entries_import(organization=tenant_a.org, data=data)
    [error] = info.value.errors
    assert (error.line, error.field) == (2, "row")
    assert "closing quote" in error.message
    assert entries(tenant_a.org) == set()


def test_an_unquoted_separator_in_a_value_is_an_error_not_a_shorter_value(tenant_a):
    data = b"kind,value\ncompany_name,Acme, Inc\ndomain,ok.example.com,,\n"
    with pytest.raises(BlockImportError) as info:
        block_entries_import(organization=tenant_a.org, data=data)
    assert [(e.line, e.field) for e in info.value.errors] == [(2, "row")]
    assert "more field(s) than the header" in info.value.errors[0].message
    assert entries(tenant_a.org) == set()  # "acme" was not blocked in place of "acme inc"


def test_a_note_longer_than_the_form_allows_is_refused_not_cut(tenant_a):
    data = b"kind,value,country,note\ndomain,a.example.com,," + b"x" * 201 + b"\n"
    with pytest.raises(BlockImportError) as info:
        block_entries_import(organization=tenant_a.org, data=data)
    assert [(e.line, e.field) for e in info.value.errors] == [(2, "note")]
    ok = b'kind,value,country,note\ndomain,a.example.com,,"multi\nline"\n'
    assert block_entries_import(organization=tenant_a.org, data=ok).created == 1


@pytest.mark.parametrize(
    "note",
    ['multi\nline "quoted", with a comma', 'He said "no", twice', "a;b\tc", '""'],
)
def test_export_round_trips_notes_with_quotes_and_line_breaks(tenant_a, note):
    block_entry_add(organization=tenant_a.org, kind="domain", value="a.example.com", note=note)
    block_entry_add(organization=tenant_a.org, kind="company_name", value="Acme, Inc", note="x")
    before = set(BlockEntry.objects.for_org(tenant_a.org).values_list("kind", "value", "note"))
    data = "".join(block_entries_export_lines(organization=tenant_a.org)).encode()
    BlockEntry.objects.for_org(tenant_a.org).delete()
    block_entries_import(organization=tenant_a.org, data=data)
    after = set(BlockEntry.objects.for_org(tenant_a.org).values_list("kind", "value", "note"))
    assert after == before
