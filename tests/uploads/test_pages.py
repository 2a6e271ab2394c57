"""The Uploads pages: the menu entry, upload form, report, mapping step, start, progress, cancel,
results table and CSV; bad files answer 400 with the problem on the page; another
organisation's upload is a 404."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from uploads.models import Upload

from .corpus import GOOD_NO


def test_upload_check_map_start_and_read_results(
    tenant_a, tenant_b, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    client = tenant_a.client_for(tenant_a.admin)
    slug = tenant_a.org.slug
    url = reverse("uploads:list", kwargs={"org_slug": slug})
    page = client.get(reverse("org-home", kwargs={"org_slug": slug})).content.decode()
    assert f'href="{url}"' in page  # the menu's Uploads entry

    content = f"Nummer;Land;Navn;Sted\n{GOOD_NO};NO;Firma;Oslo\n;NO;;\n".encode()
    response = client.post(
        url,
        {"file": SimpleUploadedFile("kunder.csv", content), "kind": "companies", "roles": ["ceo"]},
    )
    upload = Upload.objects.for_org(tenant_a.org).get()
    detail = reverse("uploads:detail", kwargs={"org_slug": slug, "upload_id": upload.id})
    assert response.status_code == 302 and response["Location"] == detail
    html = client.get(detail).content.decode()
    assert "Validation report" in html and "no key" in html and 'id="upload-start"' in html
    # "Nummer" is not a header we know: map it as the registry number and check again.
    response = client.post(
        detail,
        {
            "map_registry_id": "0",
            "map_country": "1",
            "map_name": "2",
            "map_city": "3",
            "roles": ["ceo"],
        },
    )
    assert response.status_code == 302
    upload.refresh_from_db()
    assert upload.mapping["registry_id"] == 0 and upload.rows_valid == 1

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("uploads:start", kwargs={"org_slug": slug, "upload_id": upload.id}))
    with django_assert_max_num_queries(20):
        html = client.get(detail).content.decode()
    assert "Completed" in html and 'id="upload-results"' in html and "No company found" in html
    progress = client.get(
        reverse("uploads:progress", kwargs={"org_slug": slug, "upload_id": upload.id})
        + "?was=active",
        HTTP_HX_REQUEST="true",
    )
    assert progress["HX-Refresh"] == "true"
    csv_text = b"".join(
        client.get(
            reverse("uploads:results-csv", kwargs={"org_slug": slug, "upload_id": upload.id})
        ).streaming_content
    ).decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("Nummer,Land,Navn,Sted,line,outcome")

    other = tenant_b.client_for(tenant_b.admin)
    foreign = reverse(
        "uploads:detail", kwargs={"org_slug": tenant_b.org.slug, "upload_id": upload.id}
    )
    assert other.get(foreign).status_code == 404
    assert other.post(foreign.replace("/uploads/", "/uploads/") + "cancel/").status_code == 404
    assert (
        "kunder.csv"
        not in other.get(
            reverse("uploads:list", kwargs={"org_slug": tenant_b.org.slug})
        ).content.decode()
    )


def test_a_refused_file_is_explained_on_the_page(tenant_a):
    client = tenant_a.client_for(tenant_a.admin)
    url = reverse("uploads:list", kwargs={"org_slug": tenant_a.org.slug})
    response = client.post(
        url, {"file": SimpleUploadedFile("x.csv", b"a|b\n1|2\n"), "kind": "companies"}
    )
    assert response.status_code == 400
    assert "one column" in response.content.decode()
    assert not Upload.objects.for_org(tenant_a.org).exists()


def test_a_member_sees_uploads_but_no_form(tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    url = reverse("uploads:list", kwargs={"org_slug": tenant_a.org.slug})
    html = client.get(url).content.decode()
    assert 'id="upload-form"' not in html and "No uploads yet." in html
    assert client.post(url, {"kind": "companies"}).status_code == 403
