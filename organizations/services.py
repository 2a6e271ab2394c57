"""Writes for organisations, their people and their API keys.

Every service owns its transaction, validates its input (raising ValidationError with a message a
user can act on), and writes one AuditEvent for each change a person or key makes.

Role rules (DESIGN.md §3): admins change settings and manage API keys; owners manage members and
invitations. An organisation always keeps at least one owner: the last owner can be neither
demoted nor removed (checked under a row lock, so two owners demoting each other at once cannot
both succeed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, cast

import structlog
from django.conf import settings
from django.contrib.auth import password_validation
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .models import (
    APIKeyScope,
    AuditEvent,
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
    Role,
    User,
)

log = structlog.get_logger("leadpilot.audit")

INVITATION_VALID_FOR = timedelta(days=7)


class _KeyActor(Protocol):
    api_key: OrganizationAPIKey


Actor = User | _KeyActor


# --- helpers ----------------------------------------------------------------------------------


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def audit_record(
    *,
    organization: Organization,
    actor: Actor | None,
    action: str,
    target: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """One audit row (and one structured log line) for a change; call inside the change's
    transaction so the record exists exactly when the change does."""
    user = actor if isinstance(actor, User) else None
    if user is not None:
        label = user.email
    elif actor is not None and hasattr(actor, "api_key"):
        label = f"API key {actor.api_key.prefix} ({actor.api_key.name})"
    else:
        label = "system"
    event = AuditEvent.objects.create(
        organization=organization,
        actor=user,
        actor_label=label,
        action=action,
        target=target,
        data=data or {},
    )
    log.info(action, organization=organization.slug, actor=label, target=target, data=data or {})
    return event


# --- organisations ----------------------------------------------------------------------------


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
    audit_record(organization=organization, actor=owner, action="organization.create")
    return organization


# --- sign-up ----------------------------------------------------------------------------------

SIGNUP_LINK_VALID_FOR = timedelta(days=2)
_SIGNUP_SALT = "organizations.signup"


@dataclass(frozen=True)
class SignUpRequest:
    """What a sign-up link carries (signed, not secret): the address and the organisation name."""

    email: str
    organization_name: str
    # The policy version (LEADPILOT_POLICY_VERSION) whose terms and privacy policy were accepted
    # on the sign-up form, and when: recorded on the account the link creates.
    terms_version: str = ""
    terms_accepted_at: dt.datetime | None = None


def _signup_mail_due(email: str) -> bool:
    # One sign-up mail per address per interval, whichever kind: anyone may type any address.
    digest = hashlib.sha256(email.encode()).hexdigest()
    timeout = settings.LEADPILOT_PASSWORD_RESET_INTERVAL_MINUTES * 60
    return bool(cache.add(f"signup-mail:{digest}", 1, timeout))


def _site_link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _send_signup_email(*, email: str, template: str, context: dict[str, Any]) -> None:
    subject = render_to_string(f"organizations/emails/{template}_subject.txt", context)
    send_mail(
        subject=" ".join(subject.split()),
        message=render_to_string(f"organizations/emails/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
    )


def signup_request(*, email: str, organization_name: str, terms_version: str) -> None:
    """Someone asks to sign up. The answer never tells whether the address has an account: the
    caller shows the same page either way, and only the mailbox learns.

    New address: e-mails a link (valid SIGNUP_LINK_VALID_FOR) on whose page the mailbox's holder
    chooses the password; nothing is stored until then (`signup_confirm`). Address with an
    account: e-mails its holder that someone tried to sign up, with log-in and password-reset
    links; the account is untouched. Side effect: at most one such e-mail per address per
    LEADPILOT_PASSWORD_RESET_INTERVAL_MINUTES (further requests send nothing). Writes nothing to
    the database; idempotent within the interval. `terms_version` is the policy version whose
    terms and privacy policy the form's box accepted (required: no sign-up without it); the
    link carries it and the time, and the account records both.
    """
    if not terms_version:
        raise ValidationError(_("Accept the terms and the privacy policy to sign up."))
    email = User.objects.normalize_email(email.strip()).lower()
    organization_name = organization_name.strip()
    if not _signup_mail_due(email):
        return
    context: dict[str, Any]
    if User.objects.filter(email=email).exists():
        context = {
            "email": email,
            "login_link": _site_link(reverse("login")),
            "reset_link": _site_link(reverse("password_reset")),
            "create_link": _site_link(reverse("organization-create")),
        }
        _send_signup_email(email=email, template="signup_existing", context=context)
        return
    token = signing.dumps(
        {
            "email": email,
            "org": organization_name,
            "terms": terms_version,
            "terms_at": timezone.now().isoformat(),
        },
        salt=_SIGNUP_SALT,
    )
    context = {
        "email": email,
        "organization_name": organization_name,
        "link": _site_link(reverse("signup-confirm", kwargs={"token": token})),
        "valid_days": SIGNUP_LINK_VALID_FOR.days,
    }
    _send_signup_email(email=email, template="signup_confirm", context=context)


def signup_request_read(*, token: str) -> SignUpRequest | None:
    """The sign-up a link stands for, or None when the link is forged, altered or expired."""
    try:
        data = signing.loads(token, salt=_SIGNUP_SALT, max_age=SIGNUP_LINK_VALID_FOR)
    except signing.BadSignature:
        return None
    accepted_at = data.get("terms_at")
    return SignUpRequest(
        email=data["email"],
        organization_name=data["org"],
        terms_version=data.get("terms", ""),
        terms_accepted_at=dt.datetime.fromisoformat(accepted_at) if accepted_at else None,
    )


@transaction.atomic
def signup_confirm(*, token: str, password: str, full_name: str = "") -> tuple[Organization, User]:
    """The holder of the mailbox opened the sign-up link and chose a password: create the
    account and its organisation, with the account as owner, in one transaction.

    Raises ValidationError when the link is not valid, when the address has an account by now
    (the link has been used, or the account was made another way) and for a password the
    validators refuse; nothing is written then. Not idempotent: a second use finds the account.
    """
    request = signup_request_read(token=token)
    if request is None:
        raise ValidationError(_("This sign-up link is not valid or has expired: sign up again."))
    if User.objects.filter(email=request.email).exists():
        raise ValidationError(
            _("An account for %(email)s exists already: log in instead.") % {"email": request.email}
        )
    if not request.terms_version:
        # A link mailed before the box existed: the terms were never accepted.
        raise ValidationError(_("This sign-up link is not valid or has expired: sign up again."))
    candidate = User(email=request.email, full_name=full_name.strip())
    password_validation.validate_password(password, candidate)
    organization, user = organization_create_with_owner(
        name=request.organization_name,
        owner_email=request.email,
        owner_password=password,
        owner_name=full_name.strip(),
    )
    # The link was opened: the address is confirmed. The terms as accepted on the form.
    user.email_confirmed_at = timezone.now()
    user.terms_version = request.terms_version
    user.terms_accepted_at = request.terms_accepted_at
    user.save(update_fields=["email_confirmed_at", "terms_version", "terms_accepted_at"])
    return organization, user


# --- e-mail confirmation ----------------------------------------------------------------------

EMAIL_CONFIRM_LINK_VALID_FOR = timedelta(days=2)
_EMAIL_CONFIRM_SALT = "organizations.email-confirm"


def email_confirmation_token(*, user: User) -> str:
    """What the confirmation link carries: the account and the address it was mailed to, signed
    (a changed address makes older links void)."""
    return signing.dumps({"u": user.pk, "e": user.email}, salt=_EMAIL_CONFIRM_SALT)


def email_confirmation_send(*, user: User) -> bool:
    """Mail `user` a link that confirms their address (the dashboard's "Resend confirmation").
    Returns False and sends nothing when the address is confirmed already or a link went out in
    the last LEADPILOT_PASSWORD_RESET_INTERVAL_MINUTES (shared with the sign-up mails)."""
    if user.email_confirmed_at is not None or not _signup_mail_due(user.email):
        return False
    link = _site_link(
        reverse("email-confirm", kwargs={"token": email_confirmation_token(user=user)})
    )
    _send_signup_email(
        email=user.email,
        template="email_confirm",
        context={
            "email": user.email,
            "link": link,
            "valid_days": EMAIL_CONFIRM_LINK_VALID_FOR.days,
        },
    )
    return True


@transaction.atomic
def email_confirm(*, token: str) -> User | None:
    """The holder of the mailbox opened the confirmation link: the address counts as confirmed
    from now on. None when the link is forged, expired, or for an address the account no longer
    has. Idempotent: a confirmed address keeps its first confirmation time."""
    try:
        data = signing.loads(token, salt=_EMAIL_CONFIRM_SALT, max_age=EMAIL_CONFIRM_LINK_VALID_FOR)
    except signing.BadSignature:
        return None
    user = User.objects.select_for_update().filter(pk=data.get("u"), email=data.get("e")).first()
    if user is None:
        return None
    if user.email_confirmed_at is None:
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["email_confirmed_at"])
    return user


SETTINGS_FIELDS = (
    "name",
    "timezone",
    "delivery_mode",
    "leads_per_day",
    "working_days",
    "night_hour",
)


@transaction.atomic
def organization_update_settings(
    *, organization: Organization, actor: Actor, **changes: Any
) -> Organization:
    """Change the organisation's settings (admins). Only the fields in SETTINGS_FIELDS may change;
    the slug never does (it is in every URL and API client). Validates the whole row before
    saving; nothing is written when any field is invalid. Idempotent."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(
            _("These settings cannot be changed: %(names)s.")
            % {"names": ", ".join(sorted(unknown))}
        )
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    if "name" in changes:
        changes["name"] = str(changes["name"]).strip()
    if "working_days" in changes and isinstance(changes["working_days"], list):
        changes["working_days"] = sorted({int(d) for d in changes["working_days"]})
    before = {field: getattr(locked, field) for field in changes}
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.full_clean(exclude=["slug"])
    changed = [f for f in changes if before[f] != getattr(locked, f)]
    if changed:
        locked.save(update_fields=changed)
        audit_record(
            organization=locked,
            actor=actor,
            action="organization.settings_update",
            data={f: {"from": before[f], "to": getattr(locked, f)} for f in changed},
        )
    for field in SETTINGS_FIELDS:
        setattr(organization, field, getattr(locked, field))
    return organization


# --- invitations ------------------------------------------------------------------------------


def _send_invitation_email(*, invitation: Invitation, token: str) -> None:
    link = settings.SITE_URL.rstrip("/") + reverse("invitation-accept", kwargs={"token": token})
    context = {"invitation": invitation, "organization": invitation.organization, "link": link}
    # In the invitee's language when they have an account already, else in the inviter's.
    language = user_language_of_email(invitation.email) or translation.get_language()
    with translation.override(language):
        subject = render_to_string("organizations/emails/invitation_subject.txt", context)
        body = render_to_string("organizations/emails/invitation.txt", context)
    send_mail(
        subject=" ".join(subject.split()),
        message=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def invitation_create(
    *, organization: Organization, invited_by: User, email: str, role: str = Role.MEMBER
) -> tuple[Invitation, str]:
    """Invite `email` to join with `role` (owners). Returns the invitation and its token.

    Only the token's SHA-256 is stored; the token travels once, in the e-mailed link, sent after
    commit. Inviting an address that already has a pending invitation replaces it (the old link
    stops working): that is how an invitation is re-sent. An existing member cannot be invited.
    """
    email = User.objects.normalize_email(email.strip()).lower()
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role %(role)s.") % {"role": repr(role)}})
    if Membership.objects.for_org(organization).filter(user__email=email).exists():
        raise ValidationError(
            {
                "email": _("%(email)s is already a member of %(name)s.")
                % {"email": email, "name": organization.name}
            }
        )
    now = timezone.now()
    Invitation.objects.for_org(organization).filter(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization=organization,
        email=email,
        role=role,
        token_hash=invitation_token_hash(token),
        invited_by=invited_by,
        expires_at=now + INVITATION_VALID_FOR,
    )
    invitation.full_clean(exclude=["token_hash"])
    invitation.save()
    audit_record(
        organization=organization,
        actor=invited_by,
        action="invitation.create",
        target=email,
        data={"role": role},
    )
    transaction.on_commit(lambda: _send_invitation_email(invitation=invitation, token=token))
    return invitation, token


def _open_invitation_for_update(token: str) -> Invitation:
    """The open invitation with this token, locked until the caller's transaction ends (the
    caller is a service that owns its transaction.atomic)."""
    # Unscoped by necessity: the token is what tells us the organisation.
    invitation = (
        Invitation.all_orgs.select_for_update()
        .select_related("organization")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )
    if invitation is None or not invitation.is_open:
        raise ValidationError(
            _(
                "This invitation link is no longer valid: it was used, revoked or has expired. "
                "Ask the organisation's owner to invite you again."
            )
        )
    return invitation


@transaction.atomic
def user_profile_update(
    *, user: User, full_name: str, wants_digest: bool, language: str | None = None
) -> User:
    """A person's own settings: their name, whether the morning digest is mailed to them and,
    when given, their language (a code of settings.LANGUAGES, or "" for the browser's)."""
    user.full_name = full_name.strip()
    user.wants_digest = wants_digest
    fields = ["full_name", "wants_digest"]
    if language is not None:
        _check_language(language)
        user.language = language
        fields.append("language")
    user.save(update_fields=fields)
    return user


def _check_language(language: str) -> None:
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError(_("%(code)s is not a language of this service.") % {"code": language})


def user_language_of_email(email: str) -> str | None:
    """The language the person with this address chose on their profile, or None (no account,
    or they follow their browser): what an e-mail to them is written in."""
    language = (
        User.objects.filter(email=email.strip().lower()).values_list("language", flat=True).first()
    )
    return language if language and language in dict(settings.LANGUAGES) else None


def user_language_set(*, user: User, language: str) -> User:
    """The language switch's choice for a logged-in person: the dashboard and their e-mails
    follow it from now on. Idempotent; writes only when it changes."""
    _check_language(language)
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    """A logged-in user accepts an invitation sent to their own e-mail address.

    The membership gets the invited role; if the user is a member already, their role is kept.
    The invitation is used up either way. Runs in its own transaction, with the invitation row
    locked, so two clicks cannot both use the link. Not idempotent: a second call finds the link
    used.
    """
    invitation = _open_invitation_for_update(token)
    if invitation.email != user.email.lower():
        raise ValidationError(
            _(
                "This invitation was sent to %(invited)s, but you are logged in as %(me)s. "
                "Log out and open the link again."
            )
            % {"invited": invitation.email, "me": user.email}
        )
    membership, created = Membership.objects.for_org(invitation.organization).get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    if user.email_confirmed_at is None:
        # The invitation was mailed to this address and its link opened: the address is confirmed.
        user.email_confirmed_at = invitation.accepted_at
        user.save(update_fields=["email_confirmed_at"])
    audit_record(
        organization=invitation.organization,
        actor=user,
        action="invitation.accept",
        target=user.email,
        data={"role": membership.role, "new_member": created},
    )
    return membership


@transaction.atomic
def invitation_accept_new_user(
    *, token: str, password: str, full_name: str = ""
) -> tuple[Membership, User]:
    """Someone without an account accepts: the account is created with the invited e-mail address
    (the link proves they read that mailbox) and the given password, then joins."""
    invitation = _open_invitation_for_update(token)
    if User.objects.filter(email=invitation.email).exists():
        raise ValidationError(
            _("An account for %(email)s exists already: log in to accept the invitation.")
            % {"email": invitation.email}
        )
    candidate = User(email=invitation.email, full_name=full_name.strip())
    password_validation.validate_password(password, candidate)
    user = User.objects.create_user(invitation.email, password, full_name=full_name.strip())
    return invitation_accept(token=token, user=user), user


@transaction.atomic
def invitation_revoke(*, organization: Organization, invitation_id: int, actor: User) -> Invitation:
    """Revoke a pending invitation (owners): its link stops working. Idempotent for a revoked
    one; an accepted invitation cannot be revoked (remove the member instead)."""
    invitation = Invitation.objects.for_org(organization).select_for_update().get(pk=invitation_id)
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation was accepted already; remove the member instead."))
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            organization=organization,
            actor=actor,
            action="invitation.revoke",
            target=invitation.email,
        )
    return invitation


# --- memberships ------------------------------------------------------------------------------


def _api_keys_revoke_created_by(
    *, organization: Organization, creator: User, actor: User, reason: str
) -> int:
    """Revoke the organisation's usable keys that `creator` made, in the caller's transaction,
    one audit row each (`reason` in its data). Returns how many were revoked."""
    keys = list(
        OrganizationAPIKey.objects.for_org(organization)
        .select_for_update()
        .filter(created_by=creator, revoked=False)
        .order_by("pk")
    )
    for api_key in keys:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
        audit_record(
            organization=organization,
            actor=actor,
            action="api_key.revoke",
            target=api_key.prefix,
            data={"name": api_key.name, "reason": reason},
        )
    return len(keys)


def _lock_owners(organization: Organization) -> list[Membership]:
    return list(
        Membership.objects.for_org(organization)
        .select_for_update()
        .filter(role=Role.OWNER)
        .order_by("pk")
    )


@transaction.atomic
def membership_change_role(
    *, organization: Organization, membership_id: int, role: str, actor: User
) -> Membership:
    """Give a member another role (owners). The last owner cannot be demoted. Idempotent.

    Demoted below admin, the member can no longer manage API keys, so the organisation's keys
    they created are revoked in the same transaction (audited as `api_key.revoke`, reason
    `creator_demoted`); the caller can count them beforehand with
    `selectors.api_key_counts_by_creator`.
    """
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role %(role)s.") % {"role": repr(role)}})
    owners = _lock_owners(organization)
    membership = (
        Membership.objects.for_org(organization)
        .select_for_update()
        .select_related("user")
        .get(pk=membership_id)
    )
    if membership.role == role:
        return membership
    if membership.role == Role.OWNER and len(owners) <= 1:
        raise ValidationError(
            _("An organisation needs at least one owner: make someone else owner first.")
        )
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        organization=organization,
        actor=actor,
        action="membership.role_change",
        target=membership.user.email,
        data={"from": old, "to": role},
    )
    if not membership.has_role(Role.ADMIN):
        _api_keys_revoke_created_by(
            organization=organization,
            creator=membership.user,
            actor=actor,
            reason="creator_demoted",
        )
    return membership


@transaction.atomic
def membership_remove(*, organization: Organization, membership_id: int, actor: User) -> int:
    """Remove a member (owners), who then loses access at their next request. The last owner
    cannot be removed. The user account stays (it may belong to other organisations).

    The organisation's keys the member created are revoked in the same transaction (a key must
    not outlive the access of the person who made it; audited as `api_key.revoke`, reason
    `creator_removed`). Returns how many keys were revoked. Not idempotent (the membership is
    gone: Membership.DoesNotExist).
    """
    owners = _lock_owners(organization)
    membership = (
        Membership.objects.for_org(organization)
        .select_for_update()
        .select_related("user")
        .get(pk=membership_id)
    )
    if membership.role == Role.OWNER and len(owners) <= 1:
        raise ValidationError(
            _("An organisation needs at least one owner: make someone else owner first.")
        )
    email = membership.user.email
    membership.delete()
    audit_record(
        organization=organization,
        actor=actor,
        action="membership.remove",
        target=email,
        data={"role": membership.role},
    )
    return _api_keys_revoke_created_by(
        organization=organization, creator=membership.user, actor=actor, reason="creator_removed"
    )


# --- API keys ---------------------------------------------------------------------------------


@transaction.atomic
def api_key_create(
    *,
    organization: Organization,
    actor: User,
    name: str,
    scopes: list[str] | None = None,
    scope: str | None = None,
) -> tuple[OrganizationAPIKey, str]:
    """Create an API key (admins). Returns the key row and the full key, which exists nowhere
    else: only a SHA-512 hash and the 8-character prefix are stored.

    `scopes` is a list of APIKeyScope values (default read and write); the older single `scope`
    ("read" or "write") still works: "write" means read and write. Only an owner may give a key
    the billing scope: billing is the owners' in the dashboard, and a key must not let an admin
    reach what their own session cannot."""
    name = name.strip()
    if not name:
        raise ValidationError(
            {"name": _("Give the key a name, e.g. the integration that uses it.")}
        )
    if len(name) > 50:
        raise ValidationError({"name": _("At most 50 characters.")})
    if scopes is None and scope is not None:
        if scope not in (APIKeyScope.READ, APIKeyScope.WRITE):
            raise ValidationError({"scope": _("Scope must be read or write.")})
        scopes = [APIKeyScope.READ] if scope == APIKeyScope.READ else None
    if scopes is None:
        scopes = [APIKeyScope.READ, APIKeyScope.WRITE]
    unknown = sorted(set(scopes) - set(APIKeyScope.values))
    if unknown or not scopes:
        raise ValidationError(
            {
                "scopes": _("Choose one or more of: %(scopes)s.")
                % {"scopes": ", ".join(APIKeyScope.values)}
            }
        )
    if (
        APIKeyScope.BILLING in scopes
        and not Membership.objects.for_org(organization)
        .filter(user=actor, role=Role.OWNER)
        .exists()
    ):
        raise ValidationError({"scopes": _("Only an owner can give a key the billing scope.")})
    ordered = [str(value) for value in APIKeyScope.values if value in scopes]
    created, full_key = OrganizationAPIKey.objects.create_key(
        organization=organization, name=name, scopes=ordered, created_by=actor
    )
    api_key = cast(OrganizationAPIKey, created)
    audit_record(
        organization=organization,
        actor=actor,
        action="api_key.create",
        target=api_key.prefix,
        data={"name": name, "scopes": ordered},
    )
    return api_key, full_key


@transaction.atomic
def api_key_revoke(*, organization: Organization, key_id: str, actor: User) -> OrganizationAPIKey:
    """Revoke a key by its prefix (admins); requests with it are refused from now on.
    Revocation cannot be undone. Idempotent."""
    api_key = (
        OrganizationAPIKey.objects.for_org(organization).select_for_update().get(prefix=key_id)
    )
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
        audit_record(
            organization=organization,
            actor=actor,
            action="api_key.revoke",
            target=api_key.prefix,
            data={"name": api_key.name},
        )
    return api_key
