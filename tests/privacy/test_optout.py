"""The public opt-out page: same answer whatever the directory holds, rate-limited, confirmed by a
mailed link (a phone through the address given with it, or by staff); confirming suppresses the
identifier and withdraws pending leads in every organisation, credited, never charged."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import LedgerEntry, UsageEvent
from billing.selectors import billing_invariant_violations
from blocklists.models import Suppression
from blocklists.normalize import identifier_hash
from enrichment.models import ContactPoint
from leads.models import Lead, LeadStatus
from leads.services import leads_approve
from privacy.models import OptOutRequest, OptOutStatus, PrivacyAction
from privacy.services import WITHDRAWN_REASON, optout_confirm_by_staff
from tests.factories import PersonFactory

URL = "/privacy/opt-out/"


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """post(client, **form) -> response, with the mail the service sends after commit."""

    def send(client: Client, **data: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, {"kind": "email", "email": "", **data})

    return send


def _link(mail) -> str:
    (token,) = re.findall(r"/privacy/opt-out/confirm/([^/\s]+)/", mail.body)
    return reverse("privacy:optout-confirm", args=[token])


def _confirm(client: Client, mail) -> None:
    page = client.post(_link(mail))
    assert page.status_code == 200
    assert b"Confirmed" in page.content


@pytest.mark.django_db
def test_the_page_answers_the_same_whether_or_not_the_address_is_in_the_directory(mailoutbox, post):
    person = PersonFactory()
    ContactPoint.objects.create(
        person=person,
        kind="email",
        value="Known@Alpha.example",
        normalized="known@alpha.example",
        origin="pattern",
        status="valid",
    )
    client = Client()
    assert client.get(URL).status_code == 200  # no login
    known = post(client, value="known@alpha.example")
    unknown = post(client, value="nobody@alpha.example")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("privacy:optout-sent")
    sent = client.get(known["Location"])
    assert b"Check your inbox" in sent.content
    # Each address gets the same mail; nothing stored says whether the directory knew it.
    assert [m.to for m in mailoutbox] == [["known@alpha.example"], ["nobody@alpha.example"]]
    first, second = (re.sub(r"confirm/\S+", "", m.body) for m in mailoutbox)
    assert first == second and mailoutbox[0].subject == mailoutbox[1].subject
    requests = OptOutRequest.objects.order_by("id")
    assert [r.identifier_hash for r in requests] == [
        identifier_hash("known@alpha.example"),
        identifier_hash("nobody@alpha.example"),
    ]
    assert {r.status for r in requests} == {OptOutStatus.PENDING}
    assert not Suppression.objects.exists()  # nothing happens before the link is followed


@pytest.mark.django_db
def test_the_page_is_limited_per_client_address(settings, mailoutbox, post):
    settings.LEADPILOT_OPTOUT_ATTEMPTS_PER_HOUR = 2
    client = Client(REMOTE_ADDR="203.0.113.5")
    assert post(client, value="a@x.example").status_code == 302
    assert post(client, value="not an address").status_code == 200  # counts too
    assert post(client, value="b@x.example").status_code == 429
    assert post(Client(REMOTE_ADDR="203.0.113.6"), value="b@x.example").status_code == 302
    assert len(mailoutbox) == 2


@pytest.mark.django_db
def test_a_phone_is_confirmed_through_the_address_given_with_it_or_by_staff(
    mailoutbox, admin_user, post
):
    client = Client()
    missing = post(client, kind="phone", value="+44 7400 123456")
    assert missing.status_code == 200 and not mailoutbox  # the e-mail is required
    assert (
        post(client, kind="phone", value="+44 7400 123456", email="me@home.example").status_code
        == 302
    )
    assert mailoutbox[-1].to == ["me@home.example"]
    _confirm(client, mailoutbox[-1])
    assert Suppression.objects.filter(
        kind="phone", identifier_hash=identifier_hash("+447400123456")
    ).exists()
    # Staff confirm one that never got its link followed.
    post(client, kind="phone", value="+47 912 34 567", email="other@home.example")
    pending = OptOutRequest.objects.get(status=OptOutStatus.PENDING)
    optout_confirm_by_staff(request_id=pending.pk, actor=admin_user)
    assert Suppression.objects.filter(identifier_hash=identifier_hash("+4791234567")).exists()
    assert PrivacyAction.objects.filter(action="optout.confirm", actor=admin_user).exists()


@pytest.mark.django_db
def test_a_wrong_link_confirms_nothing():
    client = Client()
    url = reverse("privacy:optout-confirm", args=["not-a-token"])
    assert client.get(url).status_code == 200  # a page with a button: scanners confirm nothing
    assert client.post(url).status_code == 404
    assert not Suppression.objects.exists()


def test_pending_leads_are_withdrawn_in_every_organisation_and_not_charged(
    shared_night, tenant_a, tenant_b, mailoutbox, django_capture_on_commit_callbacks, post
):
    world, _runs = shared_night([tenant_a, tenant_b], size=3)
    objector, other, approved = world.people
    lead_a = Lead.objects.for_org(tenant_a.org).get(person=objector)
    lead_b = Lead.objects.for_org(tenant_b.org).get(person=objector)
    # tenant_a approved a third person's lead before: approved leads are the customer's.
    (kept,) = Lead.objects.for_org(tenant_a.org).filter(person=approved)
    leads_approve(organization=tenant_a.org, lead_ids=[kept.id], approved_by=tenant_a.member)
    assert UsageEvent.objects.for_org(tenant_a.org).filter(lead_id=lead_a.id).exists()

    client = Client()
    post(client, value=lead_a.contact_value.upper())
    with django_capture_on_commit_callbacks(execute=True):
        _confirm(client, mailoutbox[-1])

    for tenant, lead in ((tenant_a, lead_a), (tenant_b, lead_b)):
        lead.refresh_from_db()
        assert lead.status == LeadStatus.WITHDRAWN
        assert lead.withdrawn_reason == WITHDRAWN_REASON
        event = UsageEvent.objects.for_org(tenant.org).get(lead_id=lead.id)
        credits = LedgerEntry.objects.for_org(tenant.org).filter(usage_event=event, kind="credit")
        assert credits.count() == 1  # charged at delivery, credited now: nets zero
        assert billing_invariant_violations(organization=tenant.org) == []
        # The customer is told on the lead page.
        page = tenant.client_for(tenant.member).get(
            reverse("leads:detail", args=[tenant.org.slug, lead.id])
        )
        assert page.status_code == 200 and WITHDRAWN_REASON.encode() in page.content
        # And in the queue, where the lead was.
        queue = tenant.client_for(tenant.member).get(reverse("leads:queue", args=[tenant.org.slug]))
        assert WITHDRAWN_REASON.encode() in queue.content
        assert reverse("leads:detail", args=[tenant.org.slug, lead.id]).encode() in queue.content
    # Nobody else's lead changed, nothing else credited.
    assert Lead.objects.for_org(tenant_a.org).get(pk=kept.pk).status == LeadStatus.APPROVED
    assert Lead.objects.for_org(tenant_b.org).get(person=other).status == (
        LeadStatus.PENDING_APPROVAL
    )
    for tenant in (tenant_a, tenant_b):
        assert LedgerEntry.objects.for_org(tenant.org).filter(kind="credit").count() == 1
    # The members were told by e-mail (the credit's decision mail).
    assert any("member@bravo.example" in m.to for m in mailoutbox)
    # Following the link again changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_link(mailoutbox[0]))
    assert LedgerEntry.objects.for_org(tenant_a.org).filter(kind="credit").count() == 1


@pytest.mark.django_db
def test_the_records_of_processing_page_is_for_staff_only(admin_user, tenant_a, settings):
    settings.LEADPILOT_RETENTION_CONTACT_DAYS = 123
    url = reverse("privacy:records")
    assert Client().get(url).status_code == 302  # to the admin log-in
    assert tenant_a.client_for(tenant_a.owner).get(url).status_code == 302  # not staff
    staff = Client()
    staff.force_login(admin_user)
    page = staff.get(url)
    assert page.status_code == 200 and b"123 days after last found or verified" in page.content


@pytest.mark.django_db
def test_staff_confirm_a_phone_objection_in_the_admin(admin_user, post):
    post(Client(), kind="phone", value="+44 7400 654321", email="me@home.example")
    request = OptOutRequest.objects.get()
    staff = Client()
    staff.force_login(admin_user)
    answer = staff.post(
        reverse("admin:privacy_optoutrequest_changelist"),
        {"action": "confirm", "_selected_action": [request.pk]},
    )
    assert answer.status_code == 302
    request.refresh_from_db()
    assert request.status == OptOutStatus.CONFIRMED and request.confirmed_by == admin_user
    assert Suppression.objects.filter(identifier_hash=identifier_hash("+447400654321")).exists()
    audit = staff.get(reverse("admin:privacy_privacyaction_changelist"))
    assert audit.status_code == 200 and b"optout.confirm" in audit.content


def test_the_daily_task_withdraws_pending_leads_of_anyone_suppressed_since(
    shared_night, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    from blocklists.services import suppression_add
    from privacy.tasks import retention_sweep

    world, _runs = shared_night([tenant_a, tenant_b], size=2)
    person, other = world.people
    lead = Lead.objects.for_org(tenant_a.org).get(person=person)
    # Suppressed some other way than the page (staff, a support request): nothing withdrawn yet.
    suppression_add(kind="email", value=lead.contact_value, reason="support request")
    assert Lead.objects.for_org(tenant_a.org).get(pk=lead.pk).status == (
        LeadStatus.PENDING_APPROVAL
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_sweep()["leads_withdrawn"] == 2  # one per organisation
    for tenant in (tenant_a, tenant_b):
        assert Lead.objects.for_org(tenant.org).get(person=person).status == LeadStatus.WITHDRAWN
        assert Lead.objects.for_org(tenant.org).get(person=other).status == (
            LeadStatus.PENDING_APPROVAL
        )
        assert billing_invariant_violations(organization=tenant.org) == []
    assert retention_sweep()["leads_withdrawn"] == 0
