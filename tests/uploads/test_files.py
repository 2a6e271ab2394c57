"""The validation report and the malformed-file corpus (issue 16): each file is refused as a
whole or taken with its rows' problems reported, naming the problem and the line; nothing is
stored for a refused file, nothing charged for anything."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError

from billing.models import UsageEvent
from uploads.models import RowOutcome, Upload, UploadRow
from uploads.selectors import upload_report
from uploads.services import UploadInput, upload_create, upload_options_set
from uploads.validation import luhn_se_valid, mod11_no_valid

from .corpus import GOOD_NO, GOOD_SE, corpus, xlsx


def create(tenant, content: bytes, filename: str = "list.csv", kind="companies", **options):
    return upload_create(
        organization=tenant.org,
        created_by=tenant.admin,
        data=UploadInput(
            file=io.BytesIO(content), filename=filename, size=len(content), kind=kind, **options
        ),
    )


def report_text(tenant, upload) -> str:
    report = upload_report(organization=tenant.org, upload=upload)
    return "\n".join(f"Line {p['line']}: {p['field']} {p['message']}" for p in report["problems"])


def test_checksums():
    assert mod11_no_valid(GOOD_NO) and mod11_no_valid("974760673")
    assert not mod11_no_valid("912345678") and not mod11_no_valid("92360901")
    assert luhn_se_valid(GOOD_SE) and not luhn_se_valid("5560360794")


@pytest.mark.parametrize("case", corpus(), ids=lambda case: case[0])
def test_the_malformed_corpus_is_refused_or_reported_by_line(case, tenant_a, tenant_b, settings):
    name, filename, content, words, refused = case
    if name == "too many rows":
        settings.LEADPILOT_UPLOAD_MAX_ROWS = 100
    settings.LEADPILOT_UPLOAD_MAX_MB = 1
    if refused:
        with pytest.raises(ValidationError) as caught:
            create(tenant_a, content, filename)
        text = " ".join(
            f"{key}: {' '.join(messages)}" for key, messages in caught.value.message_dict.items()
        )
        assert not Upload.objects.for_org(tenant_a.org).exists()
    else:
        upload = create(tenant_a, content, filename)
        text = report_text(tenant_a, upload)
        assert upload.rows_valid < upload.rows_total, text
    for word in words:
        assert word.lower() in text.lower(), f"{name}: {word!r} not in {text!r}"
    assert not UsageEvent.objects.for_org(tenant_a.org).exists()
    assert not Upload.objects.for_org(tenant_b.org).exists()


def test_the_mapping_is_detected_in_three_languages_and_editable(tenant_a):
    english = create(tenant_a, b"Company number,Country,Website\n00000777,UK,acme.co.uk\n")
    assert english.mapping == {"registry_id": 0, "country": 1, "domain": 2}
    assert english.rows_valid == 1
    swedish = create(
        tenant_a,
        "Organisationsnummer;Land;Företagsnamn;Ort\n556036-0793;Sverige;Volvo AB;Göteborg\n".encode(
            "cp1252"
        ),
    )
    assert swedish.mapping == {"registry_id": 0, "country": 1, "name": 2, "city": 3}
    assert swedish.encoding == "cp1252" and swedish.delimiter == ";"
    norwegian = create(tenant_a, b"Organisasjonsnummer\tNavn\tPoststed\n923609016\tFirma\tOslo\n")
    assert norwegian.mapping == {"registry_id": 0, "name": 1, "city": 2}
    # No country column: the registry number is reported; mapping the name and place fixes it.
    assert norwegian.rows_valid == 0
    assert "country" in report_text(tenant_a, norwegian)
    fixed = upload_options_set(
        organization=tenant_a.org, upload_id=norwegian.id, mapping={"name": 1, "city": 2}
    )
    assert fixed.rows_valid == 1
    with pytest.raises(ValidationError, match="no column Nope"):
        upload_options_set(
            organization=tenant_a.org, upload_id=norwegian.id, mapping={"name": "Nope"}
        )


def test_contacts_are_validated_and_duplicates_reported(tenant_a):
    upload = create(
        tenant_a,
        b"Name,E-mail,Phone,Country\nKari,kari@example.no,,\nKari,KARI@example.no,,\nOla,,+4722334455,\nNobody,,,\n",
        kind="contacts",
    )
    assert upload.mapping == {"email": 1, "phone": 2, "full_name": 0, "country": 3}
    text = report_text(tenant_a, upload)
    assert "Line 3: row is a duplicate of line 2" in text
    assert "Line 5: row has no e-mail address and no phone number" in text
    assert upload.rows_valid == 2


def test_an_xlsx_list_is_read_with_its_numbers(tenant_a):
    content = xlsx([["Org.nr", "Land", "Navn"], [int(GOOD_NO), "Norge", "Firma AS"]])
    upload = create(tenant_a, content, "list.xlsx")
    assert upload.file_format == "xlsx" and upload.rows_valid == 1
    row = UploadRow.objects.for_org(upload.organization).get(upload=upload)
    assert row.result["values"]["registry_id"] == GOOD_NO
    assert row.outcome == RowOutcome.PENDING


def test_unknown_headers_are_taken_and_mapped_before_start(tenant_a):
    upload = create(tenant_a, b"Kolumn A;Kolumn B\n923609016;NO\n")
    assert upload.mapping == {} and upload.rows_valid == 0
    report = upload_report(organization=tenant_a.org, upload=upload)
    assert "no key column" in report["mapping_problems"][0]
    assert "Kolumn A, Kolumn B" in report["mapping_problems"][1]
    upload = upload_options_set(
        organization=tenant_a.org,
        upload_id=upload.id,
        mapping={"registry_id": "Kolumn A", "country": "Kolumn B"},
    )
    assert upload.rows_valid == 1
    assert upload_report(organization=tenant_a.org, upload=upload)["mapping_problems"] == []
