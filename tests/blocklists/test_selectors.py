"""contacts_excluded: the check of contacts found after the matching query ran."""

from __future__ import annotations

from blocklists.selectors import contacts_excluded
from blocklists.services import block_entry_add, suppression_add


def test_found_contacts_are_checked_against_the_organisations_block_list_and_suppression(
    tenant_a, tenant_b, django_assert_max_num_queries
):
    block_entry_add(organization=tenant_a.org, kind="email", value="Kari.Nordmann@Acme.no")
    block_entry_add(organization=tenant_a.org, kind="domain", value="https://www.rival.co.uk/")
    block_entry_add(organization=tenant_a.org, kind="phone", value="22 33 44 55", country="NO")
    block_entry_add(organization=tenant_b.org, kind="email", value="ola@bravo-only.example")
    suppression_add(kind="email", value="objector@example.org", reason="objected")
    suppression_add(kind="email", value="kari.nordmann@acme.no", reason="objected")
    found = [
        ("email", "kari.nordmann@acme.no"),
        ("email", "anyone@rival.co.uk"),
        ("phone", "+4722334455"),
        ("email", "Objector@Example.org"),
        ("email", "ola@bravo-only.example"),
        ("email", "fine@example.com"),
        ("phone", "+4799999999"),
        ("email", "not an address"),
    ]
    with django_assert_max_num_queries(2):
        excluded = contacts_excluded(organization=tenant_a.org, contacts=found)
    assert excluded == {
        ("email", "kari.nordmann@acme.no"): "blocked",  # blocked first, though also suppressed
        ("email", "anyone@rival.co.uk"): "blocked",
        ("phone", "+4722334455"): "blocked",
        ("email", "Objector@Example.org"): "suppressed",
    }
    assert contacts_excluded(organization=tenant_b.org, contacts=found) == {
        ("email", "kari.nordmann@acme.no"): "suppressed",
        ("email", "Objector@Example.org"): "suppressed",
        ("email", "ola@bravo-only.example"): "blocked",
    }
    assert contacts_excluded(organization=tenant_a.org, contacts=[]) == {}
