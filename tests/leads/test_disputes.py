"""Disputes of delivered leads, through the real nightly search and the real verification engine
on the loopback sandbox: the automatic re-check per reason (agrees -> credited at once; disagrees
or cannot run -> staff), the API (201/409/404), bounce reports, reject-and-dispute, the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from billing.disputes import dispute_open
from billing.models import Dispute, LedgerEntry
from billing.selectors import billing_invariant_violations, usage_counts
from blocklists.models import BlockEntry
from blocklists.services import block_entry_add
from leads.models import Lead
from sandbox.servers.worlds import domain_entry
from segments.services import segment_update


def leads_of(org) -> list[Lead]:
    return list(Lead.objects.for_org(org).order_by("id"))


def open_(tenant, lead, reason, capture, note="", **kwargs) -> Dispute:
    with capture(execute=True):
        dispute = dispute_open(
            organization=tenant.org,
            lead_id=lead.id,
            reason=reason,
            note=note,
            created_by=tenant.member,
            **kwargs,
        )
    return Dispute.objects.for_org(tenant.org).get(pk=dispute.pk)


def credits(org) -> int:
    return LedgerEntry.objects.for_org(org).filter(kind="credit").count()


@pytest.fixture
def delivered(night, sandbox, tenant_a, tenant_b):
    """Two leads of A and one of B, delivered by the nightly search with verified e-mails; A's
    world is the one served afterwards (re-checks probe it)."""
    night(tenant_b, size=1)
    world, segment, _run = night(tenant_a, size=2)
    return world, segment, leads_of(tenant_a.org)


# --- bounced: re-verified now with the engine ---------------------------------------------


def test_bounced_is_accepted_when_the_mailbox_is_gone_now(
    delivered, sandbox, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    world, _segment, (lead, _other) = delivered
    # The mail server now rejects the address (the person left): the same world without it.
    sandbox(
        [
            domain_entry(d["domain"], mailboxes=["post"]) if i == 0 else d
            for i, d in enumerate(world.domains)
        ]
    )
    dispute = open_(tenant_a, lead, "bounced", django_capture_on_commit_callbacks)
    assert dispute.status == "accepted"
    assert dispute.recheck_result["outcome"] == "agrees"
    assert dispute.recheck_result["status"] == "invalid"
    assert lead.contact_value in dispute.recheck_text
    assert credits(tenant_a.org) == 1
    assert billing_invariant_violations(organization=tenant_a.org) == []
    assert credits(tenant_b.org) == 0
    assert not Dispute.objects.for_org(tenant_b.org).exists()


def test_bounced_waits_for_staff_when_the_mailbox_still_accepts(
    delivered, tenant_a, django_capture_on_commit_callbacks
):
    _world, _segment, (lead, _other) = delivered
    dispute = open_(tenant_a, lead, "bounced", django_capture_on_commit_callbacks)
    assert dispute.status == "awaiting_staff"
    assert dispute.recheck_result["outcome"] == "disagrees"
    assert dispute.recheck_result["status"] == "valid"
    assert credits(tenant_a.org) == 0


def test_bounced_never_decides_when_the_mail_system_is_unreachable(
    delivered, settings, tenant_a, django_capture_on_commit_callbacks
):
    _world, _segment, (lead, _other) = delivered
    # The resolver is gone: an outage, not a fact about the mailbox.
    settings.LEADPILOT_DNS_NAMESERVER = "127.0.0.1:9"
    dispute = open_(tenant_a, lead, "bounced", django_capture_on_commit_callbacks)
    assert dispute.status == "awaiting_staff"
    assert dispute.recheck_result["outcome"] == "could_not_run"
    assert dispute.recheck_result["reason"] == "dns_error"
    assert credits(tenant_a.org) == 0


# --- outside_criteria: the company as delivered against the segment --------------------------


def test_outside_criteria_is_accepted_when_the_snapshot_fails_a_criterion(
    delivered, tenant_a, django_capture_on_commit_callbacks
):
    _world, _segment, (lead, _other) = delivered
    # The company as delivered was in another country than the segment asked for.
    snapshot = {**lead.company_snapshot, "country": "NO"}
    Lead.objects.for_org(tenant_a.org).filter(pk=lead.pk).update(company_snapshot=snapshot)
    dispute = open_(tenant_a, lead, "outside_criteria", django_capture_on_commit_callbacks)
    assert dispute.status == "accepted", dispute.recheck_text
    assert dispute.recheck_result["mismatches"] == ["country NO"]
    assert credits(tenant_a.org) == 1


def test_outside_criteria_waits_for_staff_when_the_company_matches(
    delivered, tenant_a, django_capture_on_commit_callbacks
):
    _world, _segment, (lead, _other) = delivered
    dispute = open_(tenant_a, lead, "outside_criteria", django_capture_on_commit_callbacks)
    assert dispute.status == "awaiting_staff"
    assert dispute.recheck_result == {
        "outcome": "disagrees",
        "check": "outside_criteria",
        "segment_id": lead.segment_id,
        "mismatches": [],
    }


def test_outside_criteria_of_a_segment_edited_since_goes_to_staff(
    delivered, tenant_a, django_capture_on_commit_callbacks
):
    _world, segment, (lead, _other) = delivered
    segment_update(organization=tenant_a.org, segment_id=segment.id, nightly_cap=3)
    dispute = open_(tenant_a, lead, "outside_criteria", django_capture_on_commit_callbacks)
    assert (dispute.status, dispute.recheck_result["outcome"]) == (
        "awaiting_staff",
        "could_not_run",
    )


# --- duplicate: an earlier lead of the same person or company ------------------------------


def test_duplicate_is_accepted_when_an_earlier_lead_names_the_same_company(
    delivered, tenant_a, django_capture_on_commit_callbacks
):
    _world, _segment, (first, second) = delivered
    # The second lead's company as delivered is the first one's (a registry re-numbering the
    # delivery record could not see).
    Lead.objects.for_org(tenant_a.org).filter(pk=second.pk).update(
        company_snapshot={
            **second.company_snapshot,
            **{k: first.company_snapshot[k] for k in ("country", "registry_id")},
        }
    )
    dispute = open_(tenant_a, second, "duplicate", django_capture_on_commit_callbacks)
    assert dispute.status == "accepted", dispute.recheck_text
    assert dispute.recheck_result["earlier_lead_id"] == first.id
    # The earlier lead itself is no duplicate.
    other = open_(tenant_a, first, "duplicate", django_capture_on_commit_callbacks)
    assert (other.status, other.recheck_result["outcome"]) == ("awaiting_staff", "disagrees")
    assert credits(tenant_a.org) == 1


# --- blocked: the block list as it stood at delivery ---------------------------------------


def test_blocked_is_accepted_only_for_an_entry_older_than_the_delivery(
    delivered, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    _world, _segment, (first, second) = delivered
    early, _ = block_entry_add(
        organization=tenant_a.org,
        kind="email",
        value=first.contact_value,
        created_by=tenant_a.admin,
    )
    # The entry existed before the delivery (a block the search missed).
    BlockEntry.objects.for_org(tenant_a.org).filter(pk=early.pk).update(
        created_at=first.created_at - dt.timedelta(hours=1)
    )
    dispute = open_(tenant_a, first, "blocked", django_capture_on_commit_callbacks)
    assert dispute.status == "accepted", dispute.recheck_text
    assert dispute.recheck_result["block_entry_id"] == early.pk
    # Blocked after the delivery: the charge was right then.
    block_entry_add(organization=tenant_a.org, kind="email", value=second.contact_value)
    later = open_(tenant_a, second, "blocked", django_capture_on_commit_callbacks)
    assert (later.status, later.recheck_result["added_later"]) == ("awaiting_staff", True)
    # B's block list plays no part in A's disputes.
    assert not BlockEntry.objects.for_org(tenant_b.org).exists()
    assert credits(tenant_a.org) == 1


def test_wrong_person_and_other_wait_for_staff_without_a_check(
    delivered, tenant_a, django_capture_on_commit_callbacks
):
    _world, _segment, (first, second) = delivered
    one = open_(tenant_a, first, "wrong_person", django_capture_on_commit_callbacks)
    two = open_(tenant_a, second, "other", django_capture_on_commit_callbacks, note="Retired.")
    assert [d.status for d in (one, two)] == ["awaiting_staff", "awaiting_staff"]
    assert one.recheck_result == {"outcome": "manual"}


# --- API ------------------------------------------------------------------------------------


def test_api_disputes_answer_201_409_and_404_for_another_organisations_lead(
    delivered, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    _world, _segment, (lead, _other) = delivered
    (b_lead,) = leads_of(tenant_b.org)
    client = tenant_a.client_for(tenant_a.member)
    url = reverse(
        "billing-api:lead-dispute-create", kwargs={"org_slug": "alpha", "lead_id": lead.id}
    )
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(url, {"reason": "wrong_person", "note": "Left."}, "application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["recheck_outcome"]) == ("awaiting_staff", "manual")
    assert "2 working days" in body["expected_answer"]
    again = client.post(url, {"reason": "bounced"}, "application/json")
    assert (again.status_code, again.json()["code"]) == (409, "open")
    missing_note = client.post(
        reverse(
            "billing-api:lead-dispute-create", kwargs={"org_slug": "alpha", "lead_id": _other.id}
        ),
        {"reason": "other"},
        "application/json",
    )
    assert missing_note.status_code == 400
    # B's lead through A's organisation: 404, like a missing one.
    foreign = client.post(
        reverse(
            "billing-api:lead-dispute-create", kwargs={"org_slug": "alpha", "lead_id": b_lead.id}
        ),
        {"reason": "wrong_person", "note": "x"},
        "application/json",
    )
    assert foreign.status_code == 404
    assert not Dispute.objects.for_org(tenant_b.org).exists()
    listed = client.get(reverse("billing-api:dispute-list", kwargs={"org_slug": "alpha"}))
    assert [d["lead_id"] for d in listed.json()["results"]] == [lead.id]
    detail = reverse(
        "billing-api:dispute-detail", kwargs={"org_slug": "alpha", "dispute_id": body["id"]}
    )
    assert client.get(detail).json()["reason"] == "wrong_person"
    b_client = tenant_b.client_for(tenant_b.owner)
    assert b_client.get(detail.replace("/alpha/", "/bravo/")).status_code == 404
    assert (
        b_client.get(reverse("billing-api:dispute-list", kwargs={"org_slug": "bravo"})).json()[
            "results"
        ]
        == []
    )


def test_bounce_report_opens_disputes_for_charged_addresses_only(
    delivered, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    _world, _segment, (first, _second) = delivered
    (b_lead,) = leads_of(tenant_b.org)
    client = tenant_a.client_for(tenant_a.member)
    url = reverse("billing-api:bounces", kwargs={"org_slug": "alpha"})
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            url,
            {
                "addresses": [
                    first.contact_value.upper(),
                    "nobody@example.com",
                    b_lead.contact_value,
                ],
                "message": "550 5.1.1 user unknown",
            },
            "application/json",
        )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["matched"], body["opened"]) == (1, 1)
    assert [line["outcome"] for line in body["lines"]] == ["opened", "no_match", "no_match"]
    dispute = Dispute.objects.for_org(tenant_a.org).get()
    assert (dispute.lead_id, dispute.reason) == (first.id, "bounced")
    assert dispute.note == "550 5.1.1 user unknown"
    assert dispute.status == "awaiting_staff"  # the sandbox mailbox still accepts
    assert not Dispute.objects.for_org(tenant_b.org).exists()
    # Reported again: already disputed.
    again = client.post(url, {"addresses": [first.contact_value]}, "application/json").json()
    assert again["lines"][0]["outcome"] == "already_disputed"
    usage = client.get(reverse("billing-api:usage", kwargs={"org_slug": "alpha"})).json()
    assert usage["charged"] == 2
    assert usage["bounce_rates"] == [{"status": "valid", "charged": 2, "bounced": 1, "rate": 0.5}]
    b_usage = (
        tenant_b.client_for(tenant_b.owner)
        .get(reverse("billing-api:usage", kwargs={"org_slug": "bravo"}))
        .json()
    )
    assert b_usage["bounce_rates"] == [{"status": "valid", "charged": 1, "bounced": 0, "rate": 0.0}]


# --- dashboard --------------------------------------------------------------------------------


def test_rejecting_in_the_queue_can_dispute_in_the_same_step(
    delivered, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    _world, _segment, (first, second) = delivered
    client = tenant_a.client_for(tenant_a.member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("leads:bulk", kwargs={"org_slug": "alpha"}),
            {
                "action": "reject",
                "lead_ids": [first.id, second.id],
                "reason": "wrong_person",
                "note": "Both retired",
                "dispute": "1",
            },
        )
    assert response.status_code == 302
    disputes = Dispute.objects.for_org(tenant_a.org).order_by("lead_id")
    assert [(d.lead_id, d.reason) for d in disputes] == [
        (first.id, "wrong_person"),
        (second.id, "wrong_person"),
    ]
    assert {lead.status for lead in leads_of(tenant_a.org)} == {"rejected"}
    assert not Dispute.objects.for_org(tenant_b.org).exists()


def test_not_a_fit_rejection_does_not_dispute(delivered, tenant_a):
    _world, _segment, (first, _second) = delivered
    tenant_a.client_for(tenant_a.member).post(
        reverse("leads:bulk", kwargs={"org_slug": "alpha"}),
        {"action": "reject", "lead_ids": [first.id], "reason": "not_a_fit", "dispute": "1"},
    )
    assert not Dispute.objects.for_org(tenant_a.org).exists()


def test_pages_show_disputes_usage_and_the_dispute_button(
    delivered, tenant_a, tenant_b, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    _world, _segment, (first, second) = delivered
    client = tenant_a.client_for(tenant_a.member)
    detail = client.get(reverse("leads:detail", kwargs={"org_slug": "alpha", "lead_id": first.id}))
    assert "Dispute this charge" in detail.content.decode()
    form_url = reverse("billing:lead-dispute", kwargs={"org_slug": "alpha", "lead_id": first.id})
    with django_capture_on_commit_callbacks(execute=True):
        opened = client.post(form_url, {"reason": "wrong_person", "note": "Left in May."})
    assert opened.status_code == 302
    assert client.post(form_url, {"reason": "wrong_person"}).status_code == 409
    detail = client.get(reverse("leads:detail", kwargs={"org_slug": "alpha", "lead_id": first.id}))
    assert "Disputed: awaiting the answer" in detail.content.decode()
    with django_assert_max_num_queries(12):
        page = client.get(reverse("billing:disputes", kwargs={"org_slug": "alpha"}))
    html = page.content.decode()
    assert "staff answer within 2 working days" in html
    assert f"Lead {first.id}" in html and "Left in May." in html
    usage = client.get(reverse("billing:usage", kwargs={"org_slug": "alpha"})).content.decode()
    assert 'id="usage-totals"' in usage and "Reported bounce rate" in usage
    nav = [item for item in ("Usage", "Disputes") if f">{item}</a>" in usage]
    assert nav == ["Usage", "Disputes"]
    # CSV upload of bounces on the Disputes page.
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = SimpleUploadedFile("bounces.csv", f"email,why\n{second.contact_value},550\n".encode())
    with django_capture_on_commit_callbacks(execute=True):
        reported = client.post(
            reverse("billing:bounces", kwargs={"org_slug": "alpha"}), {"file": csv}
        )
    assert "Dispute opened" in reported.content.decode()
    assert (
        Dispute.objects.for_org(tenant_a.org).filter(lead_id=second.id, reason="bounced").exists()
    )
    # B sees none of A's disputes; A's dispute form for B's lead is a 404.
    b_page = tenant_b.client_for(tenant_b.owner).get(
        reverse("billing:disputes", kwargs={"org_slug": "bravo"})
    )
    assert f"Lead {first.id}" not in b_page.content.decode()
    (b_lead,) = leads_of(tenant_b.org)
    foreign = reverse("billing:lead-dispute", kwargs={"org_slug": "alpha", "lead_id": b_lead.id})
    assert client.get(foreign).status_code == 404
    assert usage_counts(organization=tenant_b.org)["credits"] == 0
