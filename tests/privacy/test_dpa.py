"""The data processing agreement: owners accept the current version (who and when recorded), a
banner asks owners until they do, a new version asks again; members read it; each organisation
sees only its own acceptances."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from organizations.models import AuditEvent
from privacy import services
from privacy.models import DpaAcceptance

BANNER = b"Please review and accept the current data processing agreement."


def _dpa(tenant) -> str:
    return reverse("privacy-org:dpa", args=[tenant.org.slug])


@pytest.mark.django_db
def test_an_owner_accepts_and_a_new_version_asks_again(tenant_a, tenant_b, monkeypatch):
    owner = tenant_a.client_for(tenant_a.owner)
    home = reverse("org-home", args=[tenant_a.org.slug])
    assert BANNER in owner.get(home).content
    assert BANNER not in tenant_a.client_for(tenant_a.member).get(home).content  # owners only
    page = owner.get(_dpa(tenant_a))
    assert page.status_code == 200 and b"Accept this agreement" in page.content

    # A member reads the text but cannot accept.
    member = tenant_a.client_for(tenant_a.member)
    assert b"Accept this agreement" not in member.get(_dpa(tenant_a)).content
    assert member.post(_dpa(tenant_a), {"version": services.DPA_VERSION}).status_code == 403

    assert owner.post(_dpa(tenant_a), {"version": services.DPA_VERSION}).status_code == 302
    (accepted,) = DpaAcceptance.objects.for_org(tenant_a.org)
    assert (accepted.version, accepted.accepted_by) == (services.DPA_VERSION, tenant_a.owner)
    assert AuditEvent.objects.for_org(tenant_a.org).filter(action="dpa.accept").exists()
    assert BANNER not in owner.get(home).content
    assert b"Accepted by owner@alpha.example" in owner.get(_dpa(tenant_a)).content
    # The other organisation has accepted nothing and sees nothing of A's.
    assert not DpaAcceptance.objects.for_org(tenant_b.org).exists()
    b_page = tenant_b.client_for(tenant_b.owner).get(_dpa(tenant_b)).content
    assert BANNER in b_page and b"owner@alpha.example" not in b_page

    # A new version: the banner is back for A's owners.
    monkeypatch.setattr(services, "DPA_VERSION", "2027-01-01")
    assert BANNER in owner.get(home).content


@pytest.mark.django_db
def test_the_sub_processors_page_is_public():
    page = Client().get(reverse("privacy:subprocessors"))
    assert page.status_code == 200 and b"Stripe" in page.content


@pytest.mark.django_db
def test_a_segments_legitimate_interest_note_is_shown_to_its_members(tenant_a, tenant_b):
    from segments.services import segment_create, segment_update

    note = "Offering payroll software to finance directors: they choose payroll systems."
    segment = segment_create(
        organization=tenant_a.org, name="Payroll", criteria={"countries": ["GB"]}
    )
    segment_update(organization=tenant_a.org, segment_id=segment.pk, legitimate_interest=note)
    url = reverse("segments:edit", args=[tenant_a.org.slug, segment.pk])
    page = tenant_a.client_for(tenant_a.member).get(url)
    assert page.status_code == 200 and note.encode() in page.content
    # Another organisation's member cannot reach it.
    other = tenant_b.client_for(tenant_b.member)
    assert (
        other.get(reverse("segments:edit", args=[tenant_b.org.slug, segment.pk])).status_code == 404
    )
