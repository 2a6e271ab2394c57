"""Objects of the organizations app that URLs point at (see tests/tenancy_registry.py)."""

from __future__ import annotations

import itertools

from organizations.models import APIKeyScope, Invitation, Membership, OrganizationAPIKey, Role
from organizations.services import (
    api_key_create,
    invitation_accept_new_user,
    invitation_create,
)
from tests.tenancy_registry import register_object

_seq = itertools.count(1)


@register_object("membership_id")
def make_membership(tenant) -> Membership:
    n = next(_seq)
    _invitation, token = invitation_create(
        organization=tenant.org,
        invited_by=tenant.owner,
        email=f"joiner{n}@{tenant.org.slug}.example",
        role=Role.MEMBER,
    )
    membership, _user = invitation_accept_new_user(
        token=token, password="correct horse battery staple", full_name=f"{tenant.org.slug} {n}"
    )
    return membership


@register_object("invitation_id")
def make_invitation(tenant) -> Invitation:
    invitation, _token = invitation_create(
        organization=tenant.org,
        invited_by=tenant.owner,
        email=f"invitee{next(_seq)}@{tenant.org.slug}.example",
        role=Role.ADMIN,
    )
    return invitation


@register_object("key_id", url_value=lambda key: key.prefix)
def make_api_key(tenant) -> OrganizationAPIKey:
    api_key, _full_key = api_key_create(
        organization=tenant.org,
        actor=tenant.admin,
        name=f"{tenant.org.slug} key {next(_seq)}",
        scope=APIKeyScope.WRITE,
    )
    return api_key
