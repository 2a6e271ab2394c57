"""Erasure with real charges: the person's data leaves the directory and the customers' leads,
billing is not touched (append-only) and every organisation's ledger still adds up."""

from __future__ import annotations

import io
import json

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from billing.models import LedgerEntry, UsageEvent
from billing.selectors import billing_invariant_violations
from blocklists.models import DeliveryRecord, Suppression
from blocklists.normalize import identifier_hash
from enrichment.models import ContactPoint, Person, Role
from leads.models import Lead, LeadStatus
from leads.services import leads_approve
from privacy.services import ERASED_NAME


def test_an_erased_persons_data_is_gone_and_billing_still_adds_up(
    shared_night, tenant_a, tenant_b, admin_user, django_capture_on_commit_callbacks
):
    world, _runs = shared_night([tenant_a, tenant_b], size=2)
    person, other = world.people
    lead_a = Lead.objects.for_org(tenant_a.org).get(person=person)
    leads_approve(organization=tenant_a.org, lead_ids=[lead_a.id], approved_by=tenant_a.member)
    lead_b = Lead.objects.for_org(tenant_b.org).get(person=person)  # still pending
    address = lead_a.contact_value
    snapshot = UsageEvent.objects.for_org(tenant_a.org).get(lead_id=lead_a.id).verification_snapshot

    # Through the admin action, as staff do it.
    staff = Client()
    staff.force_login(admin_user)
    url = reverse("admin:enrichment_person_changelist")
    asked = staff.post(url, {"action": "erase", "_selected_action": [person.pk]})
    assert asked.status_code == 200 and b"cannot be undone" in asked.content
    assert Person.objects.get(pk=person.pk).full_name == person.full_name  # nothing yet
    with django_capture_on_commit_callbacks(execute=True):
        answer = staff.post(
            url, {"action": "erase", "_selected_action": [person.pk], "confirm": "yes"}
        )
    assert answer.status_code == 302

    person.refresh_from_db()
    assert person.full_name == ERASED_NAME and not person.first_name and not person.last_name
    assert not ContactPoint.objects.filter(person=person).exists()
    assert not Role.objects.filter(person=person).exists()
    assert Suppression.objects.filter(identifier_hash=identifier_hash(address.lower())).exists()
    for lead in Lead.all_orgs.filter(person=person):
        assert lead.person_name == ERASED_NAME and lead.contact_value == ""
        assert address not in json.dumps(lead.evidence) + json.dumps(lead.person_snapshot)
    # The approved lead stays the customer's; the pending one is withdrawn and credited.
    assert Lead.objects.for_org(tenant_a.org).get(pk=lead_a.pk).status == LeadStatus.APPROVED
    assert Lead.objects.for_org(tenant_b.org).get(pk=lead_b.pk).status == LeadStatus.WITHDRAWN
    assert LedgerEntry.objects.for_org(tenant_b.org).filter(kind="credit").count() == 1
    assert LedgerEntry.objects.for_org(tenant_a.org).filter(kind="credit").count() == 0
    # Billing: untouched, pseudonymous reference (lead id), every invariant holds.
    event = UsageEvent.objects.for_org(tenant_a.org).get(lead_id=lead_a.id)
    assert event.verification_snapshot == snapshot
    for tenant in (tenant_a, tenant_b):
        assert billing_invariant_violations(organization=tenant.org) == []
    out = io.StringIO()
    call_command("billing_audit", stdout=out)
    assert json.loads(out.getvalue())["violations"] == []
    # The delivery record still keeps them from being delivered again; the other person is intact.
    assert DeliveryRecord.objects.for_org(tenant_a.org).filter(person=person).exists()
    assert Person.objects.get(pk=other.pk).full_name == other.full_name
    # The lead page of an erased lead still opens.
    page = tenant_a.client_for(tenant_a.member).get(
        reverse("leads:detail", args=[tenant_a.org.slug, lead_a.id])
    )
    assert page.status_code == 200 and address.encode() not in page.content


def test_the_access_report_actions_answer_json_and_html(shared_night, tenant_a, admin_user):
    world, _runs = shared_night([tenant_a], size=1)
    (person,) = world.people
    staff = Client()
    staff.force_login(admin_user)
    url = reverse("admin:enrichment_person_changelist")
    data = staff.post(url, {"action": "access_json", "_selected_action": [person.pk]})
    report = json.loads(data.content)
    assert report["person_id"] == person.pk
    assert [r["organization"] for r in report["received_by"]] == [tenant_a.org.name]
    page = staff.post(url, {"action": "access_html", "_selected_action": [person.pk]})
    assert page.status_code == 200 and person.full_name.encode() in page.content
    assert tenant_a.org.name.encode() in page.content
