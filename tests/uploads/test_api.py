"""The uploads API: POST a file -> 201 with the validation report, 400 naming the problem and
the line (never a 500), start, progress, cancel, results.csv formula-safe; another
organisation's upload answers 404."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billing.models import UsageEvent
from uploads.models import Upload

from .corpus import GOOD_NO, corpus


def api(tenant, user=None):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(user or tenant.admin)
    return client


def base(tenant):
    return f"/api/v1/orgs/{tenant.org.slug}/uploads/"


def post_file(client, tenant, content: bytes, name="list.csv", **fields):
    return client.post(
        base(tenant),
        {"file": SimpleUploadedFile(name, content), "kind": "companies", **fields},
        format="multipart",
    )


def test_upload_answers_the_report_and_the_results_are_formula_safe(
    tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    client = api(tenant_a)
    content = (
        "Org.nr;Land;Navn;Poststed\n"
        f'{GOOD_NO};Norge;=HYPERLINK("http://evil");Oslo\n'
        "912345678;NO;Firma;Bergen\n"
    ).encode()
    response = post_file(client, tenant_a, content, roles=["ceo", "chair"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "validated" and body["roles"] == ["ceo", "chair"]
    report = body["report"]
    assert (report["rows_total"], report["rows_valid"], report["rows_invalid"]) == (2, 1, 1)
    assert report["mapping"] == {"registry_id": 0, "country": 1, "name": 2, "city": 3}
    assert report["problems"][0]["line"] == 3 and "MOD11" in report["problems"][0]["message"]

    upload_id = body["id"]
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"{base(tenant_a)}{upload_id}/start/")
    assert started.status_code == 200
    detail = client.get(f"{base(tenant_a)}{upload_id}/").json()
    assert detail["status"] == "completed" and detail["progress"] == 100
    assert (detail["rows_done"], detail["rows_charged"]) == (1, 0)  # no such company: free

    csv_response = client.get(f"{base(tenant_a)}{upload_id}/results.csv", HTTP_ACCEPT="text/csv")
    assert csv_response.status_code == 200
    text = b"".join(csv_response.streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:4] == ["Org.nr", "Land", "Navn", "Poststed"]
    assert lines[1][2].startswith("'=")  # formula-safe
    assert lines[1][4:6] == ["2", "not_found"] and lines[2][5] == "invalid"
    assert not UsageEvent.objects.for_org(tenant_a.org).exists()

    # Another organisation's upload is not there, whatever the verb.
    other = api(tenant_b)
    for method, suffix in (
        ("get", ""),
        ("patch", ""),
        ("post", "start/"),
        ("post", "cancel/"),
        ("get", "results.csv"),
    ):
        answer = getattr(other, method)(f"{base(tenant_b)}{upload_id}/{suffix}")
        assert answer.status_code == 404, (method, suffix, answer.status_code)
    assert other.get(base(tenant_b)).json()["results"] == []


@pytest.mark.parametrize("case", corpus(), ids=lambda case: case[0])
def test_the_corpus_through_the_api_never_answers_500(case, tenant_a, settings):
    name, filename, content, words, refused = case
    if name == "too many rows":
        settings.LEADPILOT_UPLOAD_MAX_ROWS = 100
    settings.LEADPILOT_UPLOAD_MAX_MB = 1
    response = post_file(api(tenant_a), tenant_a, content, name=filename)
    assert response.status_code == (400 if refused else 201), response.content[:300]
    text = response.content.decode()
    assert words[-1].lower() in text.lower()
    assert Upload.objects.for_org(tenant_a.org).count() == (0 if refused else 1)
    assert not UsageEvent.objects.for_org(tenant_a.org).exists()


def test_a_member_reads_but_cannot_upload(tenant_a):
    response = post_file(api(tenant_a, tenant_a.member), tenant_a, b"a,b\n1,2\n")
    assert response.status_code == 403
    assert api(tenant_a, tenant_a.member).get(base(tenant_a)).status_code == 200


def test_bad_options_are_400_naming_the_field(tenant_a):
    client = api(tenant_a)
    content = b"Company number,Country\n00000777,GB\n"
    assert "roles" in post_file(client, tenant_a, content, roles=["pope"]).json().__str__()
    answer = post_file(client, tenant_a, content, mapping='{"registry_id": 7}')
    assert answer.status_code == 400 and "column 8" in answer.content.decode()
    answer = post_file(client, tenant_a, content, mapping="{nope")
    assert answer.status_code == 400 and "JSON" in answer.content.decode()
