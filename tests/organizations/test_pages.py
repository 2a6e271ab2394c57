"""Dashboard pages of the organisation: settings, members, invitations, API keys."""

from __future__ import annotations

import pytest
from django.urls import reverse

from organizations.models import AuditEvent, Membership, Organization, OrganizationAPIKey, Role
from organizations.services import (
    api_key_create,
    api_key_revoke,
    invitation_accept_new_user,
    invitation_create,
)


def url(name: str, tenant, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": tenant.org.slug, **kwargs})


SETTINGS = {
    "name": "Alpha Renamed",
    "timezone": "Europe/Oslo",
    "delivery_mode": "calendar",
    "leads_per_day": "25",
    "working_days": ["0", "2", "4"],
    "night_hour": "3",
}


# --- profile ----------------------------------------------------------------------------------


def test_a_person_turns_the_morning_digest_off_on_their_profile(tenant_a):
    import re

    from django.test import Client

    from organizations.models import User

    client = tenant_a.client_for(tenant_a.member)
    html = client.get(reverse("profile")).content.decode()
    assert re.search(r'<input[^>]*name="wants_digest"[^>]*checked', html)
    response = client.post(reverse("profile"), {"full_name": "Morgan Member"})  # box unticked
    assert response.status_code == 302
    me = User.objects.get(pk=tenant_a.member.pk)
    assert (me.full_name, me.wants_digest) == ("Morgan Member", False)
    assert User.objects.get(pk=tenant_a.admin.pk).wants_digest is True  # only their own
    html = client.get(reverse("profile")).content.decode()
    assert "Profile saved." in html
    assert not re.search(r'<input[^>]*name="wants_digest"[^>]*checked', html)
    signed_out = Client().get(reverse("profile"))
    assert signed_out.status_code == 302 and reverse("login") in signed_out["Location"]


# --- settings ---------------------------------------------------------------------------------


def test_admin_changes_settings_and_other_org_is_untouched(tenant_a, tenant_b):
    client = tenant_a.client_for(tenant_a.admin)
    page = client.get(url("org-settings", tenant_a))
    assert page.status_code == 200
    assert "Europe/London" in page.content.decode()

    response = client.post(url("org-settings", tenant_a), SETTINGS)
    assert response.status_code == 302
    org = Organization.objects.get(pk=tenant_a.org.pk)
    assert (org.name, org.timezone, org.delivery_mode) == (
        "Alpha Renamed",
        "Europe/Oslo",
        "calendar",
    )
    assert (org.leads_per_day, org.working_days, org.night_hour) == (25, [0, 2, 4], 3)
    assert org.slug == "alpha"
    assert "Settings saved." in client.get(response.url).content.decode()
    event = AuditEvent.objects.for_org(org).get(action="organization.settings_update")
    assert event.actor == tenant_a.admin
    assert event.data["timezone"] == {"from": "Europe/London", "to": "Europe/Oslo"}

    other = Organization.objects.get(pk=tenant_b.org.pk)
    assert (other.name, other.timezone, other.leads_per_day) == ("Bravo", "Europe/London", 10)
    assert not AuditEvent.objects.for_org(other).filter(action="organization.settings_update")


def test_settings_errors_name_the_field_and_save_nothing(tenant_a):
    client = tenant_a.client_for(tenant_a.owner)
    bad = {**SETTINGS, "leads_per_day": "0", "working_days": []}
    response = client.post(url("org-settings", tenant_a), bad)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ensure this value is greater than or equal to 1." in body
    assert "Choose at least one working day." in body
    assert Organization.objects.get(pk=tenant_a.org.pk).name == "Alpha"


def test_member_cannot_see_or_change_settings(tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    assert client.get(url("org-settings", tenant_a)).status_code == 403
    assert client.post(url("org-settings", tenant_a), SETTINGS).status_code == 403
    assert Organization.objects.get(pk=tenant_a.org.pk).name == "Alpha"
    nav = client.get(url("org-home", tenant_a)).content.decode()
    assert url("org-settings", tenant_a) not in nav
    assert url("org-api-keys", tenant_a) not in nav
    assert url("org-members", tenant_a) in nav


# --- members and invitations ------------------------------------------------------------------


@pytest.mark.parametrize("joiners", [1, 25])
def test_members_page_lists_own_members_only(
    tenant_a, tenant_b, joiners, django_assert_max_num_queries
):
    for n in range(joiners):
        _inv, token = invitation_create(
            organization=tenant_a.org, invited_by=tenant_a.owner, email=f"x{n}@alpha.example"
        )
        invitation_accept_new_user(token=token, password="a long enough pass phrase")
    for client, manages in (
        (tenant_a.client_for(tenant_a.member), False),
        (tenant_a.client_for(tenant_a.owner), True),
    ):
        # 10: the page's own reads, plus one for the past-due banner every member sees, one for
        # the DPA banner owners see and one for the menu's approval-queue count; the same for 1
        # and 25 members.
        with django_assert_max_num_queries(10):
            page = client.get(url("org-members", tenant_a))
        body = page.content.decode()
        assert page.status_code == 200
        assert body.count('id="member-') == joiners + 3
        assert f"x{joiners - 1}@alpha.example" in body
        assert "bravo" not in body
        # Members see the list; owners also the invite form and role controls.
        assert ("Send invitation" in body) is manages


def test_owner_invites_and_the_email_carries_a_working_link(
    tenant_a, client, mailoutbox, django_capture_on_commit_callbacks
):
    owner = tenant_a.client_for(tenant_a.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            url("org-invitations", tenant_a), {"email": "New.Person@Example.com", "role": "admin"}
        )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["new.person@example.com"]
    assert "Alpha" in mail.subject
    link = next(line for line in mail.body.splitlines() if "/invitations/" in line).strip()
    path = link.removeprefix("http://127.0.0.1:8000")
    pending = owner.get(url("org-invitations", tenant_a)).content.decode()
    assert "new.person@example.com" in pending

    page = client.get(path)
    assert page.status_code == 200
    assert "Join Alpha" in page.content.decode()
    response = client.post(
        path, {"full_name": "New Person", "password": "another long pass phrase"}
    )
    assert response.status_code == 302
    assert response.url == url("org-home", tenant_a)
    membership = Membership.objects.for_org(tenant_a.org).get(user__email="new.person@example.com")
    assert membership.role == Role.ADMIN
    assert client.get(url("org-settings", tenant_a)).status_code == 200  # logged in, as admin
    # The link is used up.
    assert client.post(path, {}).status_code == 404
    assert (
        "new.person@example.com" not in owner.get(url("org-invitations", tenant_a)).content.decode()
    )


def test_existing_user_logs_in_and_accepts(tenant_a, tenant_b, django_capture_on_commit_callbacks):
    _invitation, token = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email=tenant_b.member.email
    )
    path = reverse("invitation-accept", kwargs={"token": token})
    wrong = tenant_a.client_for(tenant_a.member)
    response = wrong.post(path)
    assert response.status_code == 400
    assert "this invitation was sent to member@bravo.example" in response.content.decode().lower()

    client = tenant_b.client_for(tenant_b.member)
    assert "Accept and join" in client.get(path).content.decode()
    assert client.post(path).status_code == 302
    assert Membership.objects.for_org(tenant_a.org).filter(user=tenant_b.member).exists()
    assert Membership.objects.for_org(tenant_b.org).filter(user=tenant_b.member).exists()


def test_revoked_and_unknown_invitation_links_do_not_work(tenant_a, client):
    invitation, token = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email="late@example.com"
    )
    owner = tenant_a.client_for(tenant_a.owner)
    response = owner.post(
        url("org-invitation-revoke", tenant_a, invitation_id=invitation.pk), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Revoked" in response.content.decode()
    path = reverse("invitation-accept", kwargs={"token": token})
    assert client.get(path).status_code == 404
    assert client.post(path, {"password": "another long pass phrase"}).status_code == 404
    assert client.get(reverse("invitation-accept", kwargs={"token": "nope"})).status_code == 404
    assert not Membership.objects.for_org(tenant_a.org).filter(user__email="late@example.com")


def test_admin_and_member_cannot_manage_members(tenant_a):
    target = Membership.objects.for_org(tenant_a.org).get(user=tenant_a.member)
    for user in (tenant_a.admin, tenant_a.member):
        client = tenant_a.client_for(user)
        assert client.get(url("org-invitations", tenant_a)).status_code == 403
        assert (
            client.post(url("org-invitations", tenant_a), {"email": "x@example.com"}).status_code
            == 403
        )
        role_url = url("org-member-role", tenant_a, membership_id=target.pk)
        assert client.post(role_url, {"role": "owner"}).status_code == 403
        remove_url = url("org-member-remove", tenant_a, membership_id=target.pk)
        assert client.post(remove_url).status_code == 403
    target.refresh_from_db()
    assert target.role == Role.MEMBER


def test_owner_changes_roles_but_never_leaves_the_org_without_owner(tenant_a):
    owner = tenant_a.client_for(tenant_a.owner)
    members = {m.user: m for m in Membership.objects.for_org(tenant_a.org)}
    own = members[tenant_a.owner]

    response = owner.post(url("org-member-role", tenant_a, membership_id=own.pk), {"role": "admin"})
    page = owner.get(response.url).content.decode()
    assert "at least one owner" in page
    response = owner.post(url("org-member-remove", tenant_a, membership_id=own.pk))
    assert "at least one owner" in owner.get(response.url).content.decode()
    own.refresh_from_db()
    assert own.role == Role.OWNER

    promote = url("org-member-role", tenant_a, membership_id=members[tenant_a.admin].pk)
    assert owner.post(promote, {"role": "owner"}).status_code == 302
    assert owner.post(url("org-member-role", tenant_a, membership_id=own.pk), {"role": "member"})
    own.refresh_from_db()
    assert own.role == Role.MEMBER

    new_owner = tenant_a.client_for(tenant_a.admin)
    remove = url("org-member-remove", tenant_a, membership_id=members[tenant_a.member].pk)
    assert new_owner.post(remove).status_code == 302
    assert not Membership.objects.for_org(tenant_a.org).filter(user=tenant_a.member).exists()
    assert tenant_a.client_for(tenant_a.member).get(url("org-home", tenant_a)).status_code == 404


# --- API keys ---------------------------------------------------------------------------------


def test_admin_creates_key_shown_once_and_stored_hashed(tenant_a, tenant_b):
    client = tenant_a.client_for(tenant_a.admin)
    response = client.post(
        url("org-api-keys", tenant_a), {"name": "CRM sync", "scopes": ["read", "write"]}
    )
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert "only time it is shown" in body
    api_key = OrganizationAPIKey.objects.for_org(tenant_a.org).get(name="CRM sync")
    start = body.index('id="new-key-value">') + len('id="new-key-value">')
    full_key = body[start : body.index("</code>", start)]
    assert full_key.startswith(api_key.prefix + ".")
    assert full_key not in api_key.hashed_key and full_key not in api_key.pk
    assert api_key.scopes == ["read", "write"] and api_key.created_by == tenant_a.admin

    again = client.get(url("org-api-keys", tenant_a)).content.decode()
    assert full_key not in again
    assert api_key.prefix in again
    assert not OrganizationAPIKey.objects.for_org(tenant_b.org).exists()


def test_key_form_errors_are_shown(tenant_a):
    client = tenant_a.client_for(tenant_a.admin)
    response = client.post(url("org-api-keys", tenant_a), {"name": "", "scopes": "owner"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "This field is required." in body
    assert "Select a valid choice." in body
    assert not OrganizationAPIKey.objects.for_org(tenant_a.org).exists()


def test_admin_revokes_key_with_htmx(tenant_a):
    api_key, _ = api_key_create(organization=tenant_a.org, actor=tenant_a.admin, name="old")
    client = tenant_a.client_for(tenant_a.admin)
    response = client.post(
        url("org-api-key-revoke", tenant_a, key_id=api_key.prefix), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Revoked" in response.content.decode()
    api_key.refresh_from_db()
    assert api_key.revoked
    assert AuditEvent.objects.for_org(tenant_a.org).filter(action="api_key.revoke").count() == 1


def test_member_cannot_manage_keys(tenant_a):
    api_key, _ = api_key_create(organization=tenant_a.org, actor=tenant_a.admin, name="k")
    client = tenant_a.client_for(tenant_a.member)
    assert client.get(url("org-api-keys", tenant_a)).status_code == 403
    assert client.post(url("org-api-keys", tenant_a), {"name": "x"}).status_code == 403
    revoke = url("org-api-key-revoke", tenant_a, key_id=api_key.prefix)
    assert client.post(revoke).status_code == 403
    api_key.refresh_from_db()
    assert not api_key.revoked
    assert OrganizationAPIKey.objects.for_org(tenant_a.org).count() == 1


@pytest.mark.parametrize("n_keys", [3, 30])
def test_api_keys_page_query_count_does_not_grow(
    tenant_a, tenant_b, n_keys, django_assert_max_num_queries
):
    for n in range(n_keys):
        api_key_create(organization=tenant_a.org, actor=tenant_a.admin, name=f"k{n}")
    api_key_create(organization=tenant_b.org, actor=tenant_b.admin, name="bravo secret")
    client = tenant_a.client_for(tenant_a.admin)
    # 9 with the menu's approval-queue count; the same for 3 and 30 keys.
    with django_assert_max_num_queries(9):
        page = client.get(url("org-api-keys", tenant_a))
    assert page.content.decode().count('id="key-') == n_keys
    assert "bravo secret" not in page.content.decode()


def test_pages_show_times_in_the_organisations_time_zone(tenant_a):
    from organizations.services import organization_update_settings

    organization_update_settings(
        organization=tenant_a.org, actor=tenant_a.owner, timezone="Asia/Tokyo"
    )
    invitation, _ = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email="tz@example.com"
    )
    page = tenant_a.client_for(tenant_a.owner).get(url("org-invitations", tenant_a))
    tokyo = invitation.created_at.astimezone(tenant_a.org.tz).strftime("%H:%M")
    utc = invitation.created_at.strftime("%H:%M")
    assert tokyo != utc
    body = page.content.decode()
    assert tokyo in body and utc not in body


def test_user_without_organisation_starts_one(tenant_a):
    owner = tenant_a.client_for(tenant_a.owner)
    member_ms = Membership.objects.for_org(tenant_a.org).get(user=tenant_a.member)
    owner.post(url("org-member-remove", tenant_a, membership_id=member_ms.pk))
    client = tenant_a.client_for(tenant_a.member)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("organization-create")
    assert "not a member of any organisation" in response.content.decode()
    response = client.post(reverse("organization-create"), {"name": "Member's Own"})
    org = Organization.objects.get(name="Member's Own")
    assert response.url == reverse("org-home", kwargs={"org_slug": org.slug})
    assert Membership.objects.for_org(org).get().role == Role.OWNER
    assert not Membership.objects.for_org(tenant_a.org).filter(user=tenant_a.member).exists()


def test_dashboard_forms_need_the_csrf_token(tenant_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant_a.admin)
    response = client.post(url("org-api-keys", tenant_a), {"name": "no token"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    assert not OrganizationAPIKey.objects.for_org(tenant_a.org).exists()
    page = client.get(url("org-api-keys", tenant_a))
    token = page.context["csrf_token"]
    response = client.post(
        url("org-api-keys", tenant_a),
        {"name": "with token", "scopes": "read", "csrfmiddlewaretoken": str(token)},
    )
    assert response.status_code == 201


def test_invitation_signup_errors_are_shown_and_nothing_is_created(tenant_a, client):
    _inv, token = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email="weak@example.com"
    )
    path = reverse("invitation-accept", kwargs={"token": token})
    response = client.post(path, {"password": "weak"})
    assert response.status_code == 400
    assert "This password is too short" in response.content.decode()
    assert not Membership.objects.for_org(tenant_a.org).filter(user__email="weak@example.com")
    # An account for the address appearing meanwhile: told to log in instead.
    from organizations.models import User

    User.objects.create_user("weak@example.com", "whatever long enough")
    response = client.get(path)
    assert "Log in to accept" in response.content.decode()
    response = client.post(path, {"password": "a long enough pass phrase"})
    assert response.status_code == 400
    assert "log in to accept" in response.content.decode().lower()


def test_error_pages_fit_a_phone(tenant_a, tenant_b, rf):
    """The 500 page is plain HTML (no template context can fail there); like the others it must
    declare the viewport, or a phone shows it as a shrunken desktop page."""
    from django.views.defaults import server_error

    assert 'name="viewport"' in server_error(rf.get("/")).content.decode()
    missing = tenant_a.client_for(tenant_a.member).get(url("org-home", tenant_b))
    assert missing.status_code == 404 and 'name="viewport"' in missing.content.decode()


def test_recent_changes_read_as_words(tenant_a, tenant_b):
    """The overview's activity names settings and roles as the pages do, not by their codes."""
    from organizations.services import membership_change_role, organization_update_settings

    organization_update_settings(
        organization=tenant_a.org, actor=tenant_a.admin, leads_per_day=12, night_hour=4
    )
    membership = Membership.objects.for_org(tenant_a.org).get(user=tenant_a.member)
    membership_change_role(
        organization=tenant_a.org, membership_id=membership.pk, role="admin", actor=tenant_a.owner
    )
    organization_update_settings(organization=tenant_b.org, actor=tenant_b.admin, timezone="UTC")
    body = tenant_a.client_for(tenant_a.member).get(url("org-home", tenant_a)).content.decode()
    activity = body.split('id="activity"', 1)[1].split("</table>", 1)[0]
    assert "changed settings: leads per working day, nightly search time" in activity
    assert f"changed the role of {tenant_a.member.email} (Member → Admin)" in activity
    assert "leads_per_day" not in activity and "time zone" not in activity


def test_members_page_says_how_many_keys_removing_or_demoting_revokes(tenant_a, tenant_b):
    api_key_create(organization=tenant_a.org, actor=tenant_a.admin, name="CRM")
    api_key_create(organization=tenant_a.org, actor=tenant_a.admin, name="BI")
    revoked, _full = api_key_create(organization=tenant_a.org, actor=tenant_a.admin, name="Old")
    api_key_revoke(organization=tenant_a.org, key_id=revoked.prefix, actor=tenant_a.admin)
    api_key_create(organization=tenant_b.org, actor=tenant_b.admin, name="Other org")
    owner = tenant_a.client_for(tenant_a.owner)
    body = owner.get(url("org-members", tenant_a)).content.decode()
    admin = Membership.objects.for_org(tenant_a.org).get(user=tenant_a.admin)
    row = body[body.index(f'id="member-{admin.pk}"') :]
    row = row[: row.index("</tr>")]
    assert (
        "Remove admin@alpha.example from Alpha? The 2 API keys they created will be revoked." in row
    )
    assert "becomes a member, the 2 API keys they created will be revoked" in row

    response = owner.post(url("org-member-remove", tenant_a, membership_id=admin.pk))
    message = owner.get(response.url).content.decode()
    assert "admin@alpha.example was removed. The 2 API keys they created were revoked." in message
