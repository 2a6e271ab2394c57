from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from .models import Membership, Organization, Role, User


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organization_create_with_owner(
    *,
    name: str,
    owner_email: str,
    owner_password: str | None,
    owner_name: str = "",
    timezone: str = "Europe/London",
) -> tuple[Organization, User]:
    """Sign-up: create the organisation and its first user as owner, in one transaction.

    If a user with that e-mail exists already this raises ValueError (sign-up never takes over an
    existing account; existing users create further organisations while logged in).
    """
    email = owner_email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ValueError("An account with this e-mail address already exists.")
    user = User.objects.create_user(email, owner_password, full_name=owner_name)
    organization = organization_create(name=name, owner=user, timezone=timezone)
    return organization, user


@transaction.atomic
def organization_create(*, name: str, owner: User, timezone: str = "Europe/London") -> Organization:
    """Create an organisation with `owner` as its owner."""
    organization = Organization(name=name.strip(), slug=_unique_slug(name), timezone=timezone)
    organization.full_clean()
    organization.save()
    Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    return organization
