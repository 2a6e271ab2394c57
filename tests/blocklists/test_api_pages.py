"""Block-list API and pages: add, list, remove, import, export; other organisations invisible."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from blocklists.models import BlockEntry, Suppression
from blocklists.services import block_entry_add, suppression_add
from tests.api.problems import field_errors, problem_of

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_create_list_delete(tenant_a, tenant_b, django_assert_max_num_queries):
    client = api(tenant_a.admin)
    base = f"/api/v1/orgs/{tenant_a.org.slug}/block-entries/"
    response = client.post(base, {"kind": "domain", "value": "https://www.Rival.com/x"})
    assert response.status_code == 201 and response.json()["value"] == "rival.com"
    response = client.post(base, {"kind": "domain", "value": "rival.com"})
    assert response.status_code == 200 and response.json()["created"] is False
    response = client.post(base, {"kind": "phone", "value": "22 33 44 55"})
    assert "value" in field_errors(response)
    for i in range(10):
        block_entry_add(organization=tenant_a.org, kind="domain", value=f"a{i}.example.com")
    block_entry_add(organization=tenant_b.org, kind="domain", value="bravo-only.example.com")
    with django_assert_max_num_queries(6):
        rows = client.get(base).json()["results"]
    assert len(rows) == 11 and all("bravo" not in r["value"] for r in rows)
    assert len(client.get(base + "?kind=domain&q=a1.").json()["results"]) == 1
    entry_id = rows[0]["id"]
    assert api(tenant_a.member).delete(f"{base}{entry_id}/").status_code == 403
    assert client.delete(f"{base}{entry_id}/").status_code == 204
    assert client.delete(f"{base}{entry_id}/").status_code == 404


def test_api_import_and_export(tenant_a):
    client = api(tenant_a.admin)
    base = f"/api/v1/orgs/{tenant_a.org.slug}/block-entries/"
    bad = SimpleUploadedFile("b.csv", b"kind,value\ndomain,ok.com\nemail,nope\n")
    response = client.post(base + "import/", {"file": bad}, format="multipart")
    errors = problem_of(response, 400)["errors"]
    assert errors == [
        {"line": 3, "field": "value", "message": errors[0]["message"], "code": "invalid"}
    ]
    assert response.json()["written"] == 0
    good = SimpleUploadedFile("g.csv", b"kind,value\ndomain,ok.com\nemail,x@ok.com\n")
    response = client.post(base + "import/", {"file": good}, format="multipart")
    assert response.status_code == 201 and response.json() == {
        "rows": 2,
        "created": 2,
        "skipped": 0,
    }
    response = client.get(base + "export/")
    assert response["Content-Type"].startswith("text/csv")
    assert "x@ok.com" in response.content.decode()


def test_pages_add_import_remove_export(tenant_a, tenant_b, django_assert_max_num_queries):
    client = tenant_a.client_for(tenant_a.admin)
    base = f"/o/{tenant_a.org.slug}/block-list/"
    for i in range(20):
        block_entry_add(organization=tenant_a.org, kind="email", value=f"p{i}@alpha.example")
    block_entry_add(organization=tenant_b.org, kind="email", value="secret@bravo.example")
    with django_assert_max_num_queries(9):
        page = client.get(base)
    body = page.content.decode()
    assert "p19@alpha.example" in body and "bravo.example" not in body
    assert "20 entries" in body

    response = client.post(base + "add/", {"kind": "company", "value": "123", "country": "GB"})
    assert response.status_code == 302
    assert BlockEntry.objects.for_org(tenant_a.org).filter(value="GB:00000123").exists()
    response = client.post(base + "add/", {"kind": "phone", "value": "12"})
    assert response.status_code == 400 and "not a phone number" in response.content.decode()

    upload = SimpleUploadedFile("l.csv", b"kind,value\ndomain,fine.com\ndomain,not a domain\n")
    response = client.post(base + "import/", {"file": upload})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was imported" in body and "<td>3</td><td>value</td>" in body
    assert not BlockEntry.objects.for_org(tenant_a.org).filter(value="fine.com").exists()

    entry = BlockEntry.objects.for_org(tenant_a.org).get(value="GB:00000123")
    response = client.post(f"{base}{entry.pk}/remove/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert not BlockEntry.objects.for_org(tenant_a.org).filter(pk=entry.pk).exists()

    export = client.get(base + "export.csv")
    assert export.status_code == 200 and "p0@alpha.example" in export.content.decode()


def test_members_see_but_cannot_change(tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    base = f"/o/{tenant_a.org.slug}/block-list/"
    body = client.get(base).content.decode()
    assert "Import CSV" not in body
    assert client.post(base + "add/", {"kind": "domain", "value": "x.com"}).status_code == 403


def test_suppression_keeps_only_a_hash():
    entry, created = suppression_add(kind="email", value=" Ola@Firma.NO ", reason="objection")
    assert created
    assert "ola" not in entry.identifier_hash and len(entry.identifier_hash) == 64
    again, created = suppression_add(kind="email", value="ola@firma.no")
    assert not created and again.pk == entry.pk
    assert Suppression.objects.count() == 1


def test_staff_add_a_suppression_in_the_admin(db):
    from django.test import Client

    from organizations.models import User

    staff = User.objects.create_superuser("staff@example.com", "pw-staff-123456")
    client = Client()
    client.force_login(staff)
    url = "/admin/blocklists/suppression/add/"
    response = client.post(url, {"kind": "phone", "value": "12", "reason": "x"})
    assert response.status_code == 200 and "not a" in response.content.decode()
    response = client.post(url, {"kind": "email", "value": "Ola@Firma.no", "reason": "objected"})
    assert response.status_code == 302
    entry = Suppression.objects.get()
    assert entry.reason == "objected" and "ola" not in entry.identifier_hash
    assert client.get("/admin/segments/segment/").status_code == 200
    assert client.get("/admin/blocklists/blockentry/").status_code == 200


def test_api_and_page_import_of_a_row_too_long_for_the_database(tenant_a):
    data = b"kind,value\ndomain,ok.com\ncompany_name," + b"Acme " * 100 + b"\n"
    client = api(tenant_a.admin)
    response = client.post(
        f"/api/v1/orgs/{tenant_a.org.slug}/block-entries/import/",
        {"file": SimpleUploadedFile("b.csv", data)},
        format="multipart",
    )
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]] == [(3, "value")]
    page = tenant_a.client_for(tenant_a.admin).post(
        f"/o/{tenant_a.org.slug}/block-list/import/", {"file": SimpleUploadedFile("b.csv", data)}
    )
    assert page.status_code == 400 and b"longer than 320" in page.content
    assert not BlockEntry.objects.for_org(tenant_a.org).exists()


def test_a_search_with_a_nul_byte_finds_nothing(tenant_a):
    block_entry_add(organization=tenant_a.org, kind="domain", value="rival.com")
    response = api(tenant_a.member).get(
        f"/api/v1/orgs/{tenant_a.org.slug}/block-entries/", {"q": "riv\x00"}
    )
    assert "q" in field_errors(response)
    page = tenant_a.client_for(tenant_a.member).get(
        f"/o/{tenant_a.org.slug}/block-list/", {"q": "\x00"}
    )
    assert page.status_code == 200 and b"rival.com" not in page.content


def test_an_unknown_kind_filter_is_a_400_not_an_empty_list(tenant_a):
    block_entry_add(organization=tenant_a.org, kind="domain", value="rival.com")
    base = f"/api/v1/orgs/{tenant_a.org.slug}/block-entries/"
    response = api(tenant_a.member).get(base, {"kind": "domains"})
    assert "kind" in field_errors(response)
    assert len(api(tenant_a.member).get(base, {"kind": "domain"}).json()["results"]) == 1
