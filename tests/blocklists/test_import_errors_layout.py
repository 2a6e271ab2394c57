"""The block-list import's problems are readable on any screen (issue 17): the table of problems
sits under the forms at full width, in its own scroll box with a name, not inside the narrow
import card where it was cut off."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile


def test_import_problems_are_a_full_width_scroll_box(tenant_a, tenant_b):
    client = tenant_a.client_for(tenant_a.admin)
    rows = "".join(f"wrongkind,value{i},,{'a long note ' * 8}\n" for i in range(60))
    upload = SimpleUploadedFile("l.csv", ("kind,value,country,note\n" + rows).encode())
    response = client.post("/o/alpha/block-list/import/", {"file": upload})
    assert response.status_code == 400
    body = response.content.decode()
    cards_end = body.index("</section>\n</div>")
    errors = body.index('id="import-errors"')
    assert errors > cards_end  # after the cards' grid, not inside the import card
    region = body[errors:]
    assert 'class="table-scroll error-table" tabindex="0" role="region"' in region
    assert 'aria-label="Problems in the file"' in region
    assert region.count("wrongkind") == 60
