"""Sign-up accepts the terms (recorded with the policy version and time); an address counts as
confirmed only by a mailed link; no segment is activated before an owner's address is confirmed;
a new organisation is on the free plan."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from billing.plans import plan_terms_of
from organizations.models import Membership, Organization, Role, User
from organizations.services import organization_create
from segments.models import Segment, SegmentStatus
from segments.services import segment_activate, segment_create

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough pass phrase"


def _link(mail) -> str:
    url = re.search(r"https?://\S+", mail.body).group(0)
    return url.removeprefix("http://127.0.0.1:8000")


def _segment(org: Organization, by: User) -> Segment:
    return segment_create(
        organization=org, created_by=by, name="Nordic CEOs", criteria={"countries": ["GB"]}
    )


def test_sign_up_without_accepting_the_terms_is_refused_and_mails_nothing(client, mailoutbox):
    response = client.post(
        reverse("signup"), {"organization_name": "Fjord AS", "email": "kari@fjord.example"}
    )
    assert response.status_code == 200
    assert "Accept the terms and the privacy policy to sign up." in response.content.decode()
    assert mailoutbox == []


def test_the_sign_up_form_links_the_terms_and_the_privacy_policy(client):
    html = client.get(reverse("signup")).content.decode()
    assert 'name="accept_terms"' in html and "required" in html
    assert 'href="/terms/"' in html and 'href="/privacy/"' in html


@override_settings(LEADPILOT_POLICY_VERSION="2026-12-07")
def test_the_link_records_the_terms_confirms_the_address_and_starts_on_the_free_plan(
    client, mailoutbox
):
    before = timezone.now()
    client.post(
        reverse("signup"),
        {"organization_name": "Fjord AS", "email": "kari@fjord.example", "accept_terms": "on"},
    )
    (mail,) = mailoutbox
    response = client.post(_link(mail), {"full_name": "Kari", "password": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email="kari@fjord.example")
    assert user.terms_version == "2026-12-07"
    assert before <= user.terms_accepted_at <= timezone.now()
    assert user.email_confirmed_at is not None
    org = Membership.objects.of_user(user).get().organization
    terms = plan_terms_of(organization=org, period_start=dt.date.today().replace(day=1))
    assert terms.plan.code == "free" and terms.hard_cap
    # Confirmed by the link: the first segment can be activated straight away.
    segment = _segment(org, user)
    page = client.post(reverse("segments:activate", args=[org.slug, segment.pk]), follow=True)
    assert "is active" in page.content.decode()
    segment.refresh_from_db()
    assert segment.status == SegmentStatus.ACTIVE


@pytest.fixture
def unconfirmed(tenant_b):
    """An account the operator made (createsuperuser/admin): no link was ever opened. Its own
    organisation, created while logged in. tenant_b is the other organisation, which must not
    be affected."""
    user = User.objects.create_user("ola@made-by-hand.example", PASSWORD)
    org = organization_create(name="Handmade", owner=user)
    return user, org


def test_an_address_nobody_confirmed_blocks_activation_in_the_service(unconfirmed, tenant_b):
    user, org = unconfirmed
    assert user.email_confirmed_at is None
    segment = _segment(org, user)
    with pytest.raises(Exception, match="must confirm their e-mail address") as exc:
        segment_activate(organization=org, segment_id=segment.pk)
    assert "email_confirmed" in exc.value.errors
    segment.refresh_from_db()
    assert segment.status == SegmentStatus.DRAFT
    # The other organisation, whose owner confirmed, activates as before.
    other = _segment(tenant_b.org, tenant_b.owner)
    assert segment_activate(organization=tenant_b.org, segment_id=other.pk).status == "active"


def test_the_dashboard_and_the_api_say_why_and_offer_resend(unconfirmed, mailoutbox):
    user, org = unconfirmed
    segment = _segment(org, user)
    client = Client()
    client.force_login(user)
    page = client.post(reverse("segments:activate", args=[org.slug, segment.pk]), follow=True)
    html = page.content.decode()
    assert "must first confirm their e-mail address" in html
    assert "Resend confirmation" in html
    api = client.post(f"/api/v1/orgs/{org.slug}/segments/{segment.pk}/activate/")
    assert api.status_code == 409
    assert "email_confirmed" in api.json() or "email_confirmed" in str(api.json())

    # Resend, open the link: confirmed, and the segment activates.
    response = client.post(reverse("email-confirm-resend"), {"next": f"/o/{org.slug}/"})
    assert response.status_code == 302 and response["Location"] == f"/o/{org.slug}/"
    (mail,) = mailoutbox
    assert mail.to == [user.email]
    # A second click within the interval sends nothing more.
    client.post(reverse("email-confirm-resend"))
    assert len(mailoutbox) == 1
    client.get(_link(mail))
    user.refresh_from_db()
    assert user.email_confirmed_at is not None
    assert "Resend confirmation" not in client.get(f"/o/{org.slug}/").content.decode()
    assert segment_activate(organization=org, segment_id=segment.pk).status == "active"


def test_only_the_link_confirms_forged_and_stale_links_do_not(unconfirmed, client, mailoutbox):
    user, _org = unconfirmed
    assert client.get(reverse("email-confirm", args=["forged"])).status_code == 404
    c = Client()
    c.force_login(user)
    c.post(reverse("email-confirm-resend"))
    link = _link(mailoutbox[0])
    # The address changed after the link went out: the link confirms nothing.
    User.objects.filter(pk=user.pk).update(email="new@made-by-hand.example")
    assert client.get(link).status_code == 404
    user.refresh_from_db()
    assert user.email_confirmed_at is None


def test_a_confirmed_admin_is_not_enough_an_owner_must_confirm(unconfirmed, tenant_a):
    _user, org = unconfirmed
    Membership.objects.create(organization=org, user=tenant_a.admin, role=Role.ADMIN)
    segment = _segment(org, tenant_a.admin)
    with pytest.raises(Exception, match="must confirm"):
        segment_activate(organization=org, segment_id=segment.pk)


def test_accepting_an_invitation_confirms_the_invited_address(unconfirmed, tenant_a):
    from organizations.services import invitation_accept, invitation_create

    user, _org = unconfirmed
    _invitation, token = invitation_create(
        organization=tenant_a.org, email=user.email, role=Role.MEMBER, invited_by=tenant_a.owner
    )
    invitation_accept(token=token, user=user)
    user.refresh_from_db()
    assert user.email_confirmed_at is not None
