from __future__ import annotations

from django.db.models import QuerySet

from .models import Membership, Organization, OrganizationAPIKey, User


def membership_for_slug(*, user: User, slug: str) -> Membership | None:
    """The user's membership in the organisation with this slug, or None (foreign or missing)."""
    return (
        Membership.objects.of_user(user)
        .select_related("organization")
        .filter(organization__slug=slug)
        .first()
    )


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.of_user(user)
        .select_related("organization")
        .order_by("organization__name")
    )


def organization_members(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.for_org(organization).select_related("user").order_by("user__email")


def api_keys_of_organization(*, organization: Organization) -> QuerySet[OrganizationAPIKey]:
    return OrganizationAPIKey.objects.for_org(organization).order_by("-created")
