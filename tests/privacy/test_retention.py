"""Retention deletes exactly what is past its period and nothing else; a re-import of the
registry does not renew the period of contact data it did not bring."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from billing.selectors import billing_invariant_violations
from enrichment.models import ContactPoint, Person, Role
from leads.models import Lead, LeadStatus
from leads.services import lead_reject, leads_approve
from privacy.services import ERASED_NAME, retention_sweep
from tests.factories import CompanyFactory, PersonFactory

from .test_directory import _found_email, _import, imported, norway  # noqa: F401 - fixtures

DAY = dt.timedelta(days=1)


def test_retention_deletes_exactly_what_is_past_its_period(
    shared_night, tenant_a, tenant_b, settings
):
    settings.LEADPILOT_RETENTION_CONTACT_DAYS = 365
    settings.LEADPILOT_RETENTION_REJECTED_LEAD_DAYS = 90
    world, _runs = shared_night([tenant_a, tenant_b], size=3)
    rejected_person, approved_person, _pending = world.people
    org_a = tenant_a.org
    rejected = Lead.objects.for_org(org_a).get(person=rejected_person)
    lead_reject(
        organization=org_a, lead_id=rejected.id, rejected_by=tenant_a.member, reason="not_a_fit"
    )
    approved = Lead.objects.for_org(org_a).get(person=approved_person)
    leads_approve(organization=org_a, lead_ids=[approved.id], approved_by=tenant_a.member)
    # Never delivered: one person's address found now, a company's registry e-mail.
    lonely = PersonFactory()
    lonely_email = _found_email(lonely, "lonely@nowhere.example")
    company_email = ContactPoint.objects.create(
        company=CompanyFactory(),
        kind="email",
        value="post@firm.example",
        normalized="post@firm.example",
        origin="registry",
    )
    delivered_contacts = set(
        ContactPoint.objects.filter(person__in=world.people).values_list("id", flat=True)
    )
    now = timezone.now()

    # Before any period ends: nothing.
    nothing = retention_sweep(now=now + 89 * DAY)
    assert (nothing.contact_points_deleted, nothing.evidence_cleared) == (0, 0)
    assert nothing.leads_pseudonymised == 0

    # After the leads' period: only tenant_a's rejected lead loses its personal data.
    swept = retention_sweep(now=now + 91 * DAY)
    assert (swept.leads_pseudonymised, swept.contact_points_deleted) == (1, 0)
    rejected.refresh_from_db()
    assert rejected.person_name == ERASED_NAME and rejected.contact_value == ""
    assert rejected.status == LeadStatus.REJECTED  # the row stays: its charge refers to it
    for lead in Lead.all_orgs.exclude(pk=rejected.pk):
        assert lead.person_name != ERASED_NAME and lead.contact_value
    assert Lead.objects.for_org(tenant_b.org).get(person=rejected_person).status == (
        LeadStatus.PENDING_APPROVAL
    )

    # After the contact period: the never-delivered person's address goes; delivered people's
    # contacts stay (without their evidence); the company's registry contact stays.
    swept = retention_sweep(now=now + 366 * DAY)
    assert swept.contact_points_deleted == 1
    assert not ContactPoint.objects.filter(pk=lonely_email.pk).exists()
    assert ContactPoint.objects.filter(pk=company_email.pk).exists()
    kept = ContactPoint.objects.filter(id__in=delivered_contacts)
    assert kept.count() == len(delivered_contacts)
    assert all(c.evidence == {} for c in kept.filter(verified_at__isnull=False))
    assert Person.objects.filter(pk=lonely.pk).exists()  # registry data: not this rule's
    # Again: nothing more.
    again = retention_sweep(now=now + 366 * DAY)
    assert (again.contact_points_deleted, again.evidence_cleared, again.leads_pseudonymised) == (
        0,
        0,
        0,
    )
    for tenant in (tenant_a, tenant_b):
        assert billing_invariant_violations(organization=tenant.org) == []


def test_a_reimport_does_not_renew_contact_data_it_did_not_bring(imported):  # noqa: F811
    role = Role.objects.filter(company__country="NO", kind="ceo", is_current=True).first()
    old = _found_email(role.person, "old@registry-as.no")
    fresh = _found_email(
        Role.objects.filter(company__country="NO", kind="chair")
        .exclude(person=role.person)
        .first()
        .person,
        "fresh@registry-as.no",
    )
    long_ago = timezone.now() - 400 * DAY
    ContactPoint.objects.filter(pk=old.pk).update(created_at=long_ago, verified_at=long_ago)

    _import(imported)  # the person is in the files again; their address is not
    assert Role.objects.get(pk=role.pk).updated_at > long_ago

    swept = retention_sweep()
    assert swept.contact_points_deleted == 1
    assert not ContactPoint.objects.filter(pk=old.pk).exists()
    assert ContactPoint.objects.filter(pk=fresh.pk).exists()


def test_unconfirmed_opt_out_requests_go_when_their_link_expires(
    db, settings, mailoutbox, django_capture_on_commit_callbacks
):
    from privacy.models import OptOutRequest, OptOutStatus
    from privacy.services import optout_confirm, optout_request

    settings.LEADPILOT_OPTOUT_LINK_DAYS = 7
    with django_capture_on_commit_callbacks(execute=True):
        optout_request(kind="email", value="never@clicked.example")
        optout_request(kind="email", value="did@click.example")
    token = mailoutbox[1].body.split("/confirm/")[1].split("/")[0]
    assert optout_confirm(token=token) is not None
    now = timezone.now()
    assert retention_sweep(now=now + 6 * DAY).optout_requests_deleted == 0
    assert retention_sweep(now=now + 8 * DAY).optout_requests_deleted == 1
    (kept,) = OptOutRequest.objects.all()
    assert kept.status == OptOutStatus.CONFIRMED  # the record of the objection stays


def test_the_retention_sweep_is_a_daily_beat_task(settings):
    from leadpilot.celery import app

    app.loader.import_default_modules()
    entries = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "privacy.retention_sweep"
    ]
    assert entries and entries[0]["schedule"] == 24 * 3600
    assert "privacy.retention_sweep" in app.tasks
