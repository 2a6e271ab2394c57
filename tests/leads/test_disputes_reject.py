"""Reject and dispute in one step from every place a lead is rejected (the queue's row, the lead
page, the API), and the customer told of a decision on the overview and by e-mail. Leads come
from the real nightly search on the loopback sandbox (fixtures of tests/leads/test_disputes.py)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from billing.disputes import dispute_accept, dispute_reject
from billing.models import Dispute
from leads.models import Lead
from sandbox.servers.worlds import domain_entry
from tests.api.problems import field_errors

from .test_disputes import delivered, leads_of, open_  # noqa: F401 - the fixture

ROW_DISPUTE_MARK = "Charge disputed: awaiting the answer"


def disputes_of(org) -> list[tuple[int, str]]:
    return list(Dispute.objects.for_org(org).order_by("lead_id").values_list("lead_id", "reason"))


def test_queue_row_offers_reject_and_dispute_for_the_reasons_that_say_the_lead_is_wrong(
    delivered,  # noqa: F811
    tenant_a,
    tenant_b,
    django_capture_on_commit_callbacks,
):
    _world, _segment, (first, second) = delivered
    client = tenant_a.client_for(tenant_a.member)
    queue = client.get(reverse("leads:queue", kwargs={"org_slug": "alpha"})).content.decode()
    # Each row's Reject menu: every reason, and "reject and dispute" for the two that say the
    # lead is wrong (wrong person -> wrong_person, contact data wrong -> bounced).
    assert queue.count('data-reject-dispute="wrong_person"') == 2
    assert queue.count('data-reject-dispute="bad_contact"') == 2
    assert 'data-reject-dispute="not_a_fit"' not in queue
    assert "Contact data wrong: reject and dispute the charge" in queue
    row_url = reverse("leads:reject", kwargs={"org_slug": "alpha", "lead_id": first.id})
    with django_capture_on_commit_callbacks(execute=True):
        row = client.post(
            row_url,
            {"reason": "bad_contact", "note": "", "dispute": "1"},
            headers={"HX-Request": "true"},
        )
    assert row.status_code == 200
    html = row.content.decode()
    assert f'id="lead-{first.id}"' in html and ROW_DISPUTE_MARK in html
    assert disputes_of(tenant_a.org) == [(first.id, "bounced")]
    # A plain reject from the row disputes nothing.
    plain = client.post(
        reverse("leads:reject", kwargs={"org_slug": "alpha", "lead_id": second.id}),
        {"reason": "not_a_fit", "note": "", "dispute": ""},
        headers={"HX-Request": "true"},
    )
    assert ROW_DISPUTE_MARK not in plain.content.decode()
    assert disputes_of(tenant_a.org) == [(first.id, "bounced")]
    assert {lead.status for lead in leads_of(tenant_a.org)} == {"rejected"}
    # B's lead through A's organisation is a 404 and stays as it was.
    (b_lead,) = leads_of(tenant_b.org)
    foreign = client.post(
        reverse("leads:reject", kwargs={"org_slug": "alpha", "lead_id": b_lead.id}),
        {"reason": "wrong_person", "dispute": "1"},
    )
    assert foreign.status_code == 404
    assert Lead.objects.for_org(tenant_b.org).get().status == b_lead.status
    assert not Dispute.objects.for_org(tenant_b.org).exists()


def test_lead_page_reject_can_dispute_in_the_same_step(
    delivered,  # noqa: F811
    tenant_a,
    tenant_b,
    django_capture_on_commit_callbacks,
):
    _world, _segment, (first, second) = delivered
    client = tenant_a.client_for(tenant_a.member)
    detail_url = reverse("leads:detail", kwargs={"org_slug": "alpha", "lead_id": first.id})
    page = client.get(detail_url).content.decode()
    assert 'name="dispute"' in page and "and dispute the charge" in page
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            reverse("leads:reject", kwargs={"org_slug": "alpha", "lead_id": first.id}),
            {"reason": "wrong_person", "note": "Retired in June.", "dispute": "1"},
            follow=True,
        )
    html = done.content.decode()
    assert "Disputed the charge." in html and "staff answer within 2 working days" in html
    assert "Disputed: awaiting the answer" in html  # the lead page's own status of the dispute
    assert 'name="dispute"' not in html  # nothing left to dispute
    dispute = Dispute.objects.for_org(tenant_a.org).get()
    assert (dispute.lead_id, dispute.reason, dispute.note) == (
        first.id,
        "wrong_person",
        "Retired in June.",
    )
    # The tick with a reason that says nothing is wrong: rejected, not disputed, and told why.
    told = client.post(
        reverse("leads:reject", kwargs={"org_slug": "alpha", "lead_id": second.id}),
        {"reason": "already_in_contact", "dispute": "1"},
        follow=True,
    ).content.decode()
    assert "Only “Wrong person” and “Contact data wrong” rejections dispute the charge." in told
    assert Dispute.objects.for_org(tenant_a.org).count() == 1
    assert Lead.objects.for_org(tenant_a.org).get(pk=second.pk).status == "rejected"
    assert not Dispute.objects.for_org(tenant_b.org).exists()


def test_api_reject_with_dispute_true(
    delivered,  # noqa: F811
    tenant_a,
    tenant_b,
    django_capture_on_commit_callbacks,
):
    _world, _segment, (first, second) = delivered
    client = tenant_a.client_for(tenant_a.member)

    def reject(lead, body, org_slug="alpha"):
        url = reverse("leads-api:lead-reject", kwargs={"org_slug": org_slug, "lead_id": lead.id})
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, body, "application/json")

    done = reject(first, {"reason": "bad_contact", "dispute": True})
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["status"] == "rejected"
    assert (body["dispute"]["reason"], body["dispute"]["lead_id"]) == ("bounced", first.id)
    assert "2 working days" in body["dispute"]["expected_answer"]
    # Rejected again with dispute: the dispute is open, 409, nothing changes.
    again = reject(first, {"reason": "bad_contact", "dispute": True})
    assert (again.status_code, again.json()["code"]) == (409, "open")
    # dispute with a reason that does not say the lead is wrong: 400, the lead stays.
    wrong = reject(second, {"reason": "not_a_fit", "dispute": True})
    assert "dispute" in field_errors(wrong)
    assert Lead.objects.for_org(tenant_a.org).get(pk=second.pk).status != "rejected"
    # Without `dispute` the endpoint answers as before, with "dispute": null.
    plain = reject(second, {"reason": "not_a_fit"})
    assert (plain.status_code, plain.json()["dispute"]) == (200, None)
    assert disputes_of(tenant_a.org) == [(first.id, "bounced")]
    (b_lead,) = leads_of(tenant_b.org)
    assert reject(b_lead, {"reason": "wrong_person", "dispute": True}).status_code == 404
    assert not Dispute.objects.for_org(tenant_b.org).exists()


def test_decisions_of_the_last_seven_days_show_on_every_members_overview_and_by_mail(
    delivered,  # noqa: F811
    tenant_a,
    tenant_b,
    django_capture_on_commit_callbacks,
    mailoutbox,
    django_assert_max_num_queries,
):
    _world, _segment, (first, second) = delivered
    capture = django_capture_on_commit_callbacks
    one = open_(tenant_a, first, "wrong_person", capture, note="Left in May.")
    two = open_(tenant_a, second, "other", capture, note="Reception's number.")
    (b_lead,) = leads_of(tenant_b.org)
    b_dispute = open_(tenant_b, b_lead, "wrong_person", capture)
    with capture(execute=True):
        dispute_accept(
            organization=tenant_a.org,
            dispute_id=one.pk,
            decided_by=None,
            note="She left before delivery.",
        )
        dispute_reject(
            organization=tenant_a.org,
            dispute_id=two.pk,
            decided_by=None,
            note="The number is listed next to the CEO's name on the company's site.",
        )
        dispute_accept(organization=tenant_b.org, dispute_id=b_dispute.pk, decided_by=None)
    overview_url = reverse("org-home", kwargs={"org_slug": "alpha"})
    member = tenant_a.client_for(tenant_a.member)
    with django_assert_max_num_queries(25):
        html = member.get(overview_url).content.decode()
    assert "2 disputes were decided" in html
    assert "Accepted: credited, the unit is back in your quota." in html
    assert "She left before delivery." in html
    assert "Rejected: the charge stands." in html
    assert "listed next to the CEO&#x27;s name" in html
    assert f"Lead {first.id}" in html and first.contact_value in html
    # B's decision is not on A's overview, and A's are not on B's.
    assert f"Lead {b_lead.id}" not in html
    b_html = tenant_b.client_for(tenant_b.member).get(
        reverse("org-home", kwargs={"org_slug": "bravo"})
    )
    assert "She left before delivery." not in b_html.content.decode()
    assert "A dispute was decided" in b_html.content.decode()
    # Older than seven days: the notice is gone.
    Dispute.objects.for_org(tenant_a.org).update(decided_at=timezone.now() - dt.timedelta(days=8))
    assert 'id="disputes-decided"' not in member.get(overview_url).content.decode()
    # The e-mail names the lead and its contact, the outcome, the note and where to look.
    (mail,) = [
        m for m in mailoutbox if m.to == ["member@alpha.example"] and "rejected" in m.subject
    ]
    assert mail.subject == "Dispute rejected: the charge stands (Alpha)"
    assert f"Your dispute of lead {second.id} ({second.contact_value}), opened on " in mail.body
    assert 'with the reason "Other", has been decided.' in mail.body
    assert "Note from our staff: The number is listed next to the CEO's name" in mail.body
    assert f"/o/alpha/leads/{second.id}/" in mail.body and "/o/alpha/disputes/" in mail.body
    print(mail.subject, mail.body, sep="\n")


def test_an_automatic_acceptance_is_told_as_the_checks_finding_not_a_staff_note(
    delivered,  # noqa: F811
    sandbox,
    tenant_a,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    world, _segment, (lead, _other) = delivered
    # The mail server now rejects the address: the re-check agrees and accepts at once.
    sandbox(
        [
            domain_entry(d["domain"], mailboxes=["post"]) if i == 0 else d
            for i, d in enumerate(world.domains)
        ]
    )
    dispute = open_(tenant_a, lead, "bounced", django_capture_on_commit_callbacks)
    assert dispute.status == "accepted"
    mail = next(m for m in mailoutbox if m.to == ["member@alpha.example"])
    assert mail.subject == "Dispute accepted: one lead credited to Alpha"
    assert f"What the automatic check found: {dispute.recheck_text}" in mail.body
    assert "Note from our staff" not in mail.body
    client = tenant_a.client_for(tenant_a.member)
    page = client.get(reverse("billing:disputes", kwargs={"org_slug": "alpha"})).content.decode()
    assert "Staff:" not in page  # the check's finding is not repeated as a staff note
    overview = client.get(reverse("org-home", kwargs={"org_slug": "alpha"})).content.decode()
    assert "A dispute was decided" in overview
    assert "Accepted: credited, the unit is back in your quota." in overview
