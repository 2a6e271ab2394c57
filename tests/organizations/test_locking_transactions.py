"""Services that lock rows own their transaction: driven here without the test's wrapping one.

A plain `django_db` test wraps everything in a transaction, so `select_for_update()` without the
service's own `transaction.atomic` passes there and answers 500 in production. These tests run
with `transaction=True` (autocommit, as in production); tests/lock_guard.py extends the same check
to every other test.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.urls import reverse

from organizations.models import (
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
    Role,
)
from organizations.services import (
    api_key_create,
    api_key_revoke,
    invitation_accept,
    invitation_accept_new_user,
    invitation_create,
    invitation_revoke,
    membership_change_role,
    membership_remove,
    organization_update_settings,
)
from segments.models import Segment, SegmentStatus
from segments.services import (
    segment_activate,
    segment_archive,
    segment_create,
    segment_delete,
    segment_pause,
    segment_update,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_tests_here_run_without_a_wrapping_transaction(tenant_a):
    assert not connection.in_atomic_block


def test_logged_in_user_accepts_an_invitation_on_the_page(tenant_a, tenant_b):
    # Issue 12: "Accept and join" answered 500 and made no membership.
    _invitation, token = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email=tenant_b.member.email
    )
    client = tenant_b.client_for(tenant_b.member)
    response = client.post(reverse("invitation-accept", kwargs={"token": token}))
    assert response.status_code == 302
    assert response.url == reverse("org-home", kwargs={"org_slug": tenant_a.org.slug})
    membership = Membership.objects.for_org(tenant_a.org).get(user=tenant_b.member)
    assert membership.role == Role.MEMBER
    assert not Membership.objects.for_org(tenant_b.org).filter(user=tenant_a.owner).exists()


def test_invitation_services_lock_in_their_own_transaction(tenant_a, tenant_b):
    _inv, token = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email=tenant_b.admin.email
    )
    membership = invitation_accept(token=token, user=tenant_b.admin)
    assert membership.organization == tenant_a.org

    _inv, token = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email="new@example.com"
    )
    membership, user = invitation_accept_new_user(token=token, password="a long pass phrase 7")
    assert user.email == "new@example.com" and membership.organization == tenant_a.org

    pending, _token = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email="late@example.com"
    )
    assert invitation_revoke(
        organization=tenant_a.org, invitation_id=pending.pk, actor=tenant_a.owner
    ).revoked_at
    assert Invitation.objects.for_org(tenant_b.org).count() == 0


def test_settings_members_and_keys_services_lock_in_their_own_transaction(tenant_a, tenant_b):
    org = tenant_a.org
    organization_update_settings(organization=org, actor=tenant_a.admin, leads_per_day=7)
    assert Organization.objects.get(pk=org.pk).leads_per_day == 7
    assert Organization.objects.get(pk=tenant_b.org.pk).leads_per_day != 7

    member = Membership.objects.for_org(org).get(user=tenant_a.member)
    changed = membership_change_role(
        organization=org, membership_id=member.pk, role=Role.ADMIN, actor=tenant_a.owner
    )
    assert changed.role == Role.ADMIN
    membership_remove(organization=org, membership_id=member.pk, actor=tenant_a.owner)
    assert not Membership.objects.for_org(org).filter(pk=member.pk).exists()

    api_key, _full = api_key_create(organization=org, actor=tenant_a.admin, name="CRM")
    api_key_revoke(organization=org, key_id=api_key.prefix, actor=tenant_a.admin)
    assert OrganizationAPIKey.objects.for_org(org).get(prefix=api_key.prefix).revoked


def test_segment_services_lock_in_their_own_transaction(tenant_a):
    org = tenant_a.org
    segment = segment_create(organization=org, name="Nordics", criteria={"countries": ["NO"]})
    segment_update(organization=org, segment_id=segment.pk, name="Norway")
    assert segment_activate(organization=org, segment_id=segment.pk).status == SegmentStatus.ACTIVE
    assert segment_pause(organization=org, segment_id=segment.pk).status == SegmentStatus.PAUSED
    assert segment_archive(organization=org, segment_id=segment.pk).status == "archived"
    draft = segment_create(organization=org, name="Draft")
    segment_delete(organization=org, segment_id=draft.pk)
    assert list(Segment.objects.for_org(org).values_list("name", flat=True)) == ["Norway"]


# --- the guard that gives every other test the same check ----------------------------------


@pytest.mark.django_db(transaction=False)
def test_the_guard_refuses_a_lock_that_only_the_tests_transaction_covers(tenant_a):
    # In a wrapped test Django itself would let this through; tests/lock_guard.py does not.
    locking = Organization.objects.select_for_update().filter(pk=tenant_a.org.pk)
    with pytest.raises(TransactionManagementError, match="must own its transaction"):
        list(locking)
    with transaction.atomic():
        assert list(locking) == [tenant_a.org]
