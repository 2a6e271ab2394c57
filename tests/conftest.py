"""Two organisations, each with an owner, an admin and a member. Every tenant test uses both."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from organizations.models import Membership, Organization, Role, User
from organizations.services import (
    email_confirm,
    email_confirmation_token,
    organization_create_with_owner,
)
from tests.lock_guard import _locks_need_their_own_transaction  # noqa: F401

PASSWORD = "correct horse battery staple"


@dataclass
class Tenant:
    org: Organization
    owner: User
    admin: User
    member: User

    def client_for(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


def _make_tenant(name: str) -> Tenant:
    slug = name.lower()
    org, owner = organization_create_with_owner(
        name=name, owner_email=f"owner@{slug}.example", owner_password=PASSWORD
    )
    # The owner opened the mailed confirmation link: the organisation may activate segments.
    email_confirm(token=email_confirmation_token(user=owner))
    admin = User.objects.create_user(f"admin@{slug}.example", PASSWORD)
    member = User.objects.create_user(f"member@{slug}.example", PASSWORD)
    Membership.objects.create(organization=org, user=admin, role=Role.ADMIN)
    Membership.objects.create(organization=org, user=member, role=Role.MEMBER)
    return Tenant(org=org, owner=owner, admin=admin, member=member)


@pytest.fixture
def tenant_a(db: None) -> Tenant:
    return _make_tenant("Alpha")


@pytest.fixture
def tenant_b(db: None) -> Tenant:
    return _make_tenant("Bravo")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """API rate-limit counters live in the cache: each test starts with empty buckets."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
