"""Services of the organizations app: invitations, roles and keys, with their guard rails."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from organizations.models import AuditEvent, Invitation, Membership, OrganizationAPIKey, Role
from organizations.services import (
    INVITATION_VALID_FOR,
    invitation_accept_new_user,
    invitation_create,
    invitation_revoke,
    membership_change_role,
)
from organizations.tenancy import UnscopedTenantQuery


def test_invitation_stores_only_the_token_hash_and_expires_in_7_days(tenant_a, tenant_b):
    invitation, token = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email="Someone@Example.com"
    )
    assert invitation.email == "someone@example.com"
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 40
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM organizations_invitation")
        stored = " ".join(str(v) for row in cursor.fetchall() for v in row)
    assert token not in stored
    expected = timezone.now() + INVITATION_VALID_FOR
    assert abs(invitation.expires_at - expected) < timedelta(minutes=1)
    assert not Invitation.objects.for_org(tenant_b.org).exists()


def test_expired_invitation_cannot_be_accepted(tenant_a):
    invitation, token = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email="late@example.com"
    )
    Invitation.objects.for_org(tenant_a.org).filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(ValidationError, match="no longer valid"):
        invitation_accept_new_user(token=token, password="a long enough pass phrase")
    assert not Membership.objects.for_org(tenant_a.org).filter(user__email="late@example.com")


def test_reinviting_replaces_the_old_link(tenant_a):
    _first, old_token = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email="twice@example.com"
    )
    _second, new_token = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email="twice@example.com"
    )
    with pytest.raises(ValidationError):
        invitation_accept_new_user(token=old_token, password="a long enough pass phrase")
    membership, _user = invitation_accept_new_user(
        token=new_token, password="a long enough pass phrase"
    )
    assert membership.organization == tenant_a.org


def test_members_cannot_be_invited_and_weak_passwords_are_refused(tenant_a):
    with pytest.raises(ValidationError, match="already a member"):
        invitation_create(
            organization=tenant_a.org, invited_by=tenant_a.owner, email="MEMBER@alpha.example"
        )
    _inv, token = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email="new@example.com"
    )
    with pytest.raises(ValidationError, match="too short"):
        invitation_accept_new_user(token=token, password="abc")
    # Nothing half-written: the link still works with a good password.
    invitation_accept_new_user(token=token, password="a long enough pass phrase")


def test_accepted_invitation_cannot_be_revoked(tenant_a):
    invitation, token = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email="joined@example.com"
    )
    invitation_accept_new_user(token=token, password="a long enough pass phrase")
    with pytest.raises(ValidationError, match="remove the member"):
        invitation_revoke(
            organization=tenant_a.org, invitation_id=invitation.pk, actor=tenant_a.owner
        )


def test_foreign_ids_are_not_found_by_services(tenant_a, tenant_b):
    b_invitation, _ = invitation_create(
        organization=tenant_b.org, invited_by=tenant_b.owner, email="b@example.com"
    )
    b_member = Membership.objects.for_org(tenant_b.org).get(user=tenant_b.member)
    with pytest.raises(Invitation.DoesNotExist):
        invitation_revoke(
            organization=tenant_a.org, invitation_id=b_invitation.pk, actor=tenant_a.owner
        )
    with pytest.raises(Membership.DoesNotExist):
        membership_change_role(
            organization=tenant_a.org,
            membership_id=b_member.pk,
            role=Role.OWNER,
            actor=tenant_a.owner,
        )
    b_member.refresh_from_db()
    assert b_member.role == Role.MEMBER


def test_unscoped_queries_on_organisation_models_raise(tenant_a):
    for model in (Invitation, OrganizationAPIKey, AuditEvent, Membership):
        with pytest.raises(UnscopedTenantQuery):
            list(model.objects.all())
        with pytest.raises(UnscopedTenantQuery):
            model.objects.filter(pk=1).exists()


def test_every_change_is_audited_once_with_actor_and_tenant(tenant_a, tenant_b):
    invitation, _ = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email="audit@example.com"
    )
    invitation_revoke(organization=tenant_a.org, invitation_id=invitation.pk, actor=tenant_a.owner)
    invitation_revoke(organization=tenant_a.org, invitation_id=invitation.pk, actor=tenant_a.owner)
    events = list(
        AuditEvent.objects.for_org(tenant_a.org)
        .filter(action__startswith="invitation.")
        .order_by("pk")
        .values_list("action", "actor_label", "target")
    )
    assert events == [
        ("invitation.create", "owner@alpha.example", "audit@example.com"),
        ("invitation.revoke", "owner@alpha.example", "audit@example.com"),
    ]
    assert not AuditEvent.objects.for_org(tenant_b.org).filter(action__startswith="invitation.")


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(tenant_a):
    admin_ms = Membership.objects.for_org(tenant_a.org).get(user=tenant_a.admin)
    membership_change_role(
        organization=tenant_a.org, membership_id=admin_ms.pk, role=Role.OWNER, actor=tenant_a.owner
    )
    owner_ms = Membership.objects.for_org(tenant_a.org).get(user=tenant_a.owner)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(membership_id: int, actor) -> None:
        try:
            barrier.wait()
            membership_change_role(
                organization=tenant_a.org,
                membership_id=membership_id,
                role=Role.MEMBER,
                actor=actor,
            )
            outcomes.append("demoted")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(owner_ms.pk, tenant_a.admin)),
        threading.Thread(target=demote, args=(admin_ms.pk, tenant_a.owner)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["demoted", "refused"]
    owners = Membership.objects.for_org(tenant_a.org).filter(role=Role.OWNER).count()
    assert owners == 1


# --- a member's keys go with the member -------------------------------------------------------


def _key_works(full_key: str, tenant) -> int:
    from django.test import Client

    client = Client(headers={"Authorization": f"Api-Key {full_key}"})
    return client.get(f"/api/v1/orgs/{tenant.org.slug}/segments/").status_code


def test_removing_a_member_revokes_the_keys_they_created(tenant_a, tenant_b):
    # Issue 12: a key created by an admin kept working after that admin was removed.
    from organizations.services import api_key_create, membership_remove

    org = tenant_a.org
    _theirs, theirs_full = api_key_create(organization=org, actor=tenant_a.admin, name="CRM")
    _other, other_full = api_key_create(
        organization=org, actor=tenant_a.admin, name="BI", scope="write"
    )
    _owners, owners_full = api_key_create(organization=org, actor=tenant_a.owner, name="Ops")
    # The same person in another organisation, with a key there.
    Membership.objects.create(organization=tenant_b.org, user=tenant_a.admin, role=Role.ADMIN)
    _b_key, b_full = api_key_create(organization=tenant_b.org, actor=tenant_a.admin, name="B")
    assert _key_works(theirs_full, tenant_a) == 200

    membership = Membership.objects.for_org(org).get(user=tenant_a.admin)
    revoked = membership_remove(organization=org, membership_id=membership.pk, actor=tenant_a.owner)

    assert revoked == 2
    assert [_key_works(k, tenant_a) for k in (theirs_full, other_full)] == [401, 401]
    assert _key_works(owners_full, tenant_a) == 200
    assert _key_works(b_full, tenant_b) == 200
    events = AuditEvent.objects.for_org(org).filter(action="api_key.revoke")
    assert sorted(e.data["name"] for e in events) == ["BI", "CRM"]
    assert {e.data["reason"] for e in events} == {"creator_removed"}
    assert {e.actor for e in events} == {tenant_a.owner}
    assert not AuditEvent.objects.for_org(tenant_b.org).filter(action="api_key.revoke").exists()


def test_demoting_an_admin_to_member_revokes_their_keys_and_owner_to_admin_does_not(tenant_a):
    from organizations.services import api_key_create

    org = tenant_a.org
    _k, owners_full = api_key_create(organization=org, actor=tenant_a.owner, name="Ops")
    _k, admins_full = api_key_create(organization=org, actor=tenant_a.admin, name="CRM")
    admin = Membership.objects.for_org(org).get(user=tenant_a.admin)
    owner = Membership.objects.for_org(org).get(user=tenant_a.owner)
    member = Membership.objects.for_org(org).get(user=tenant_a.member)

    # The owner steps down to admin (another owner first): admins manage keys, so theirs stays.
    membership_change_role(
        organization=org, membership_id=member.pk, role="owner", actor=owner.user
    )
    membership_change_role(organization=org, membership_id=owner.pk, role="admin", actor=owner.user)
    assert _key_works(owners_full, tenant_a) == 200

    membership_change_role(
        organization=org, membership_id=admin.pk, role="member", actor=member.user
    )
    assert _key_works(admins_full, tenant_a) == 401
    assert _key_works(owners_full, tenant_a) == 200
    event = AuditEvent.objects.for_org(org).get(action="api_key.revoke")
    assert event.data == {"name": "CRM", "reason": "creator_demoted"}
