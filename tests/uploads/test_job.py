"""The upload job with the real verification engine against sandbox peers on loopback: rows
that find nothing are free, found rows become `enriched` leads once, already delivered and
blocked rows are reported and not charged, the hard cap stops the job and says so, contacts are
charged `verified` only when valid."""

from __future__ import annotations

import io

import pytest

from billing.models import UsageEvent
from billing.selectors import billing_invariant_violations
from blocklists.services import block_entry_add
from leads.models import Lead, LeadStatus
from sandbox.servers.worlds import domain_entry
from tests.leads.world import world_build
from uploads.jobs import upload_process
from uploads.models import RowOutcome, Upload, UploadRow, UploadStatus
from uploads.services import UploadInput, upload_cancel, upload_create, upload_start


def upload(tenant, text: str, kind="companies", **options):
    content = text.encode()
    return upload_create(
        organization=tenant.org,
        created_by=tenant.admin,
        data=UploadInput(
            file=io.BytesIO(content), filename="list.csv", size=len(content), kind=kind, **options
        ),
    )


def run(tenant, up, capture):
    with capture(execute=True):
        upload_start(organization=tenant.org, upload_id=up.id)
    up.refresh_from_db()
    return up


def rows(tenant, up):
    return {r.line: r for r in UploadRow.objects.for_org(tenant.org).filter(upload=up)}


def company_list(world, *, extra: str = "") -> str:
    lines = ["Company number,Country,Website,Company name,Postcode"]
    for i, company in enumerate(world.companies):
        if i % 3 == 0:
            lines.append(f"{company.registry_id},GB,,,")
        elif i % 3 == 1:
            lines.append(f",,https://www.{company.website_domain}/about,,")
        else:
            if not company.postcode:
                company.postcode = f"EC1A {i}BB"
                company.save(update_fields=["postcode"])
            lines.append(f",,,{company.name.upper()},{company.postcode}")
    return "\n".join(lines) + "\n" + extra


def test_found_rows_become_enriched_leads_and_rows_that_find_nothing_are_free(
    sandbox, prefix, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    world = world_build(prefix=prefix, size=6, verifiable=lambda i: i != 4)
    sandbox(world.domains)
    up = upload(tenant_a, company_list(world, extra="99999999,GB,,,\n"))
    assert up.rows_valid == 7
    up = run(tenant_a, up, django_capture_on_commit_callbacks)
    assert up.status == UploadStatus.COMPLETED, up.stop_reason
    by_line = rows(tenant_a, up)
    assert [by_line[n].outcome for n in range(2, 9)] == [
        "found", "found", "found", "found", "unverified", "found", "not_found",
    ]  # fmt: skip
    assert [by_line[n].match_method for n in range(2, 8)] == ["identifier", "domain", "name"] * 2
    assert by_line[4].confidence >= 0.7 and by_line[2].confidence == 1.0
    leads = Lead.objects.for_org(tenant_a.org)
    assert leads.count() == 5 and {lead.status for lead in leads} == {LeadStatus.PENDING_APPROVAL}
    events = UsageEvent.objects.for_org(tenant_a.org)
    assert sorted(e.lead_id for e in events) == sorted(lead.id for lead in leads)
    assert {e.kind for e in events} == {"enriched"}
    assert not by_line[6].charged and not by_line[8].charged  # nothing found, nothing charged
    assert (up.rows_done, up.rows_found, up.rows_charged) == (7, 5, 5)
    assert billing_invariant_violations(organization=tenant_a.org) == []
    assert not UsageEvent.objects.for_org(tenant_b.org).exists()
    assert not Lead.objects.for_org(tenant_b.org).exists()

    # The same list again: everyone found is already delivered, nothing charged twice; a blocked
    # company is reported as such.
    block_entry_add(
        organization=tenant_a.org, kind="domain", value=world.companies[4].website_domain
    )
    again = run(tenant_a, upload(tenant_a, company_list(world)), django_capture_on_commit_callbacks)
    outcomes = [r.outcome for r in rows(tenant_a, again).values()]
    assert outcomes.count("already_delivered") == 5 and outcomes.count("blocked") == 1
    assert again.rows_charged == 0 and events.count() == 5


def test_the_hard_cap_stops_the_job_and_says_so(
    sandbox, prefix, tenant_a, django_capture_on_commit_callbacks
):
    tenant_a.org.monthly_lead_quota = 2
    tenant_a.org.save(update_fields=["monthly_lead_quota"])
    world = world_build(prefix=prefix, size=6)
    sandbox(world.domains)
    up = run(tenant_a, upload(tenant_a, company_list(world)), django_capture_on_commit_callbacks)
    assert up.status == UploadStatus.STOPPED_QUOTA
    assert "quota of 2" in up.stop_reason
    outcomes = [r.outcome for r in rows(tenant_a, up).values()]
    assert outcomes.count("found") == 2 and outcomes.count("quota") == 4
    assert UsageEvent.objects.for_org(tenant_a.org).count() == 2


def test_a_cancelled_upload_stops_and_charges_nothing_more(
    sandbox, prefix, tenant_a, django_capture_on_commit_callbacks
):
    world = world_build(prefix=prefix, size=3)
    sandbox(world.domains)
    up = upload(tenant_a, company_list(world))
    with django_capture_on_commit_callbacks(execute=False):
        upload_start(organization=tenant_a.org, upload_id=up.id)
    upload_cancel(organization=tenant_a.org, upload_id=up.id)
    up = upload_process(organization=tenant_a.org, upload_id=up.id)
    assert up.status == UploadStatus.CANCELLED
    assert not UsageEvent.objects.for_org(tenant_a.org).exists()


def test_contacts_are_charged_verified_only_when_valid(
    sandbox, prefix, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    domain = f"{prefix}.co.uk"
    sandbox(
        [
            domain_entry(domain, mailboxes=["kari.nordmann"]),
            domain_entry(f"{prefix}-slow.co.uk", behaviour="greylist", mailboxes=["ola"]),
        ]
    )
    up = upload(
        tenant_a,
        "Name,E-mail,Phone,Country\n"
        f"Kari,kari.nordmann@{domain},,\n"
        f"Nobody,nobody@{domain},,\n"
        f"Ola,ola@{prefix}-slow.co.uk,,\n"
        "Per,,+47 22 33 44 55,\n"
        "Lin,,+46 8 000 00,\n",
        kind="contacts",
    )
    up = run(tenant_a, up, django_capture_on_commit_callbacks)
    assert up.status == UploadStatus.COMPLETED
    by_line = rows(tenant_a, up)
    assert [by_line[n].outcome for n in range(2, 7)] == [
        RowOutcome.VALID,
        RowOutcome.NOT_VALID,
        RowOutcome.UNKNOWN,
        RowOutcome.VALID,
        RowOutcome.NOT_VALID,
    ]
    events = UsageEvent.objects.for_org(tenant_a.org)
    assert sorted(e.upload_row_id for e in events) == sorted([by_line[2].id, by_line[5].id])
    assert {(e.kind, e.lead_id) for e in events} == {("verified", None)}
    assert not Lead.objects.for_org(tenant_a.org).exists()
    assert not UsageEvent.objects.for_org(tenant_b.org).exists()
    assert billing_invariant_violations(organization=tenant_a.org) == []
    # The usage API counts the kind.
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(tenant_a.owner)
    usage = client.get(f"/api/v1/orgs/{tenant_a.org.slug}/usage/").json()
    assert [(k["kind"], k["charged"]) for k in usage["kinds"]] == [("verified", 2)]


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_upload_charge_each_row_once(sandbox, prefix, tenant_a, settings):
    """Two job runs at once over the same rows (a redelivered task while the first still runs):
    the rows' locks in the charge's transaction let each row be charged by one of them."""
    import threading

    from django.db import close_old_connections

    settings.LEADPILOT_UPLOAD_CHUNK = 3
    world = world_build(prefix=prefix, size=12)
    sandbox(world.domains, smtp_latency_ms=20)
    up = upload(tenant_a, company_list(world))
    Upload.objects.for_org(tenant_a.org).filter(pk=up.pk).update(status="queued")
    errors = []

    def work():
        try:
            upload_process(organization=tenant_a.org, upload_id=up.id)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    up.refresh_from_db()
    assert up.status == UploadStatus.COMPLETED
    assert Lead.objects.for_org(tenant_a.org).count() == 12
    assert UsageEvent.objects.for_org(tenant_a.org).count() == 12
    assert billing_invariant_violations(organization=tenant_a.org) == []


def test_a_job_that_fails_says_so_instead_of_running_forever(prefix, tenant_a):
    world = world_build(prefix=prefix, size=2)
    up = upload(tenant_a, company_list(world))
    Upload.objects.for_org(tenant_a.org).filter(pk=up.pk).update(status="queued")

    def broken_engine(**kwargs):
        raise RuntimeError("engine exploded")

    up = upload_process(organization=tenant_a.org, upload_id=up.id, contacts_find=broken_engine)
    assert up.status == UploadStatus.FAILED
    assert "RuntimeError" in up.stop_reason and up.finished_at is not None
    assert not UsageEvent.objects.for_org(tenant_a.org).exists()


def test_a_swedish_vd_named_on_the_company_site_is_found_for_an_uploaded_row(
    sandbox, prefix, tenant_a, settings, django_capture_on_commit_callbacks
):
    """Bolagsverket names no officers: the company's own team page names its VD with a direct
    mobile, read as the night reads it, and the row becomes an enriched lead."""
    from enrichment.models import Role
    from tests.factories import CompanyFactory

    domain = f"{prefix}fjall.se"
    company = CompanyFactory(
        name=f"{prefix} Fjäll AB",
        country="SE",
        status="active",
        registry_id="5560360793",
        website_domain=domain,
    )
    web = {
        "company_name": company.name,
        "country": "SE",
        "registry_id": "5560360793",
        "https": True,
        "www": True,
        "pages": [
            {
                "path": "/om-oss",
                "title": "Om oss",
                "lang": "sv",
                "people": [{"name": "Anna Lindqvist", "title": "VD", "phone": "+46 70 123 45 67"}],
            }
        ],
    }
    sb = sandbox([domain_entry(domain, mailboxes=["info"], web=web)])
    settings.LEADPILOT_HTTPS_PORT = sb.https_port
    settings.LEADPILOT_HTTP_CA_FILE = sb.ca_file
    up = run(
        tenant_a,
        upload(tenant_a, "Organisationsnummer;Land\n556036-0793;Sverige\n"),
        django_capture_on_commit_callbacks,
    )
    (row,) = rows(tenant_a, up).values()
    assert row.outcome == RowOutcome.FOUND, row.reason
    assert row.result["person"] == "Anna Lindqvist" and row.result["contact"] == "+46701234567"
    assert Role.objects.get(company=company).details["source"] == "website"
    (event,) = UsageEvent.objects.for_org(tenant_a.org)
    assert event.kind == "enriched"
