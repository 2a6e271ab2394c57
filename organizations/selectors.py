"""Reads for organisations, their people and their API keys. Every tenant read is scoped."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.utils import timezone

from .models import AuditEvent, Invitation, Membership, Organization, OrganizationAPIKey, Role, User


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


def organization_email_confirmed(*, organization: Organization) -> bool:
    """Whether an owner of the organisation has confirmed their e-mail address by a mailed link
    (User.email_confirmed_at): the condition for activating a segment."""
    return (
        Membership.objects.for_org(organization)
        .filter(role=Role.OWNER, user__email_confirmed_at__isnull=False)
        .exists()
    )


def organization_members(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.for_org(organization).select_related("user").order_by("user__email")


def membership_get(*, organization: Organization, membership_id: int) -> Membership:
    """One membership of this organisation; Membership.DoesNotExist for foreign or missing ids."""
    return Membership.objects.for_org(organization).select_related("user").get(pk=membership_id)


def invitations_pending(*, organization: Organization) -> QuerySet[Invitation]:
    """Invitations not accepted, not revoked and not expired, newest first."""
    return (
        Invitation.objects.for_org(organization)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("invited_by")
        .order_by("-created_at")
    )


def invitation_get(*, organization: Organization, invitation_id: int) -> Invitation:
    return Invitation.objects.for_org(organization).get(pk=invitation_id)


def invitation_for_token(*, token_hash: str) -> Invitation | None:
    """The invitation a link points to, whatever its state. Unscoped by necessity: the token is
    what tells us the organisation (the accepting person is not a member yet)."""
    return (
        Invitation.all_orgs.select_related("organization", "invited_by")
        .filter(token_hash=token_hash)
        .first()
    )


def api_keys_of_organization(*, organization: Organization) -> QuerySet[OrganizationAPIKey]:
    return (
        OrganizationAPIKey.objects.for_org(organization)
        .select_related("created_by")
        .order_by("-created")
    )


def api_key_counts_by_creator(*, organization: Organization) -> dict[int, int]:
    """Unrevoked keys of the organisation per creating user id: the keys that removing or
    demoting that person below admin revokes (services.membership_remove / _change_role)."""
    rows = (
        OrganizationAPIKey.objects.for_org(organization)
        .filter(revoked=False, created_by__isnull=False)
        .values("created_by")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["created_by"]: row["n"] for row in rows}


def api_key_get(*, organization: Organization, key_id: str) -> OrganizationAPIKey:
    """A key by its prefix (the public identifier); DoesNotExist for foreign or missing ones."""
    return OrganizationAPIKey.objects.for_org(organization).get(prefix=key_id)


def audit_events(*, organization: Organization, limit: int = 50) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.for_org(organization).order_by("-created_at", "-pk")[:limit]


def user_exists(*, email: str) -> bool:
    return User.objects.filter(email=email.strip().lower()).exists()
