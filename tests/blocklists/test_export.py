"""The block list's CSV export: the dashboard page and the API answer the same download, built
once (blocklists.csv_io.block_entries_export_response); another organisation's entries never
appear in it."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from blocklists.services import block_entry_add

pytestmark = pytest.mark.django_db


def test_page_and_api_export_the_same_download(tenant_a, tenant_b):
    block_entry_add(organization=tenant_a.org, kind="domain", value="alpha-blocked.example")
    block_entry_add(organization=tenant_a.org, kind="email", value="x@alpha.example", note="=1+1")
    block_entry_add(organization=tenant_b.org, kind="domain", value="bravo-blocked.example")

    page = tenant_a.client_for(tenant_a.member).get("/o/alpha/block-list/export.csv")
    client = APIClient()
    client.force_authenticate(tenant_a.member)
    api = client.get("/api/v1/orgs/alpha/block-entries/export/")

    assert page.status_code == api.status_code == 200
    assert page.content == api.content
    for header in ("Content-Type", "Content-Disposition"):
        assert page[header] == api[header]
    assert page["Content-Type"] == "text/csv; charset=utf-8"
    assert page["Content-Disposition"] == 'attachment; filename="alpha-block-list.csv"'
    lines = page.content.decode().splitlines()
    assert lines[0] == "kind,value,country,note,created_at"
    assert any(line.startswith("domain,alpha-blocked.example,") for line in lines)
    assert "bravo" not in page.content.decode()
