"""The tenant (Organization), its people (User, Membership, Invitation) and its API keys."""

from __future__ import annotations

import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager, BaseAPIKeyManager

from .tenancy import TenantManager, TenantModel, TenantQuerySet


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):  # type: ignore[django-manager-missing]
    """A person who logs in. E-mail is the login; belongs to organisations through Membership."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    wants_digest = models.BooleanField(
        default=True, help_text="Receive the morning e-mail digest of new leads."
    )
    # Set only when the holder opened a link mailed to `email` (sign-up, invitation, the
    # confirmation link); an organisation activates segments only once an owner's is set.
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    # The terms and privacy policy version accepted at sign-up (LEADPILOT_POLICY_VERSION), and when.
    terms_version = models.CharField(max_length=40, blank=True)
    terms_accepted_at = models.DateTimeField(null=True, blank=True)
    # The dashboard's and the e-mails' language, a code of settings.LANGUAGES (no choices here,
    # so a new language needs no migration); blank follows the browser's Accept-Language.
    language = models.CharField(max_length=10, blank=True, default="")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]

    def __str__(self) -> str:
        return self.email


def _validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r}")


def _validate_working_days(value: object) -> None:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(d, int) and 0 <= d <= 6 for d in value)
    ):
        raise ValidationError(
            "Working days must be a non-empty list of weekday numbers 0 (Mon)-6 (Sun)"
        )


def _default_working_days() -> list[int]:
    return [0, 1, 2, 3, 4]


class DeliveryMode(models.TextChoices):
    APPROVAL = "approval", _("Approval queue")
    CALENDAR = "calendar", _("Straight onto the calendar")


class Organization(models.Model):
    """The tenant. Everything a customer owns hangs off one of these."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(
        max_length=64, default="Europe/London", validators=[_validate_timezone]
    )
    delivery_mode = models.CharField(
        max_length=16, choices=DeliveryMode.choices, default=DeliveryMode.APPROVAL
    )
    leads_per_day = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="Calendar capacity: leads placed per working day.",
    )
    working_days = models.JSONField(
        default=_default_working_days, validators=[_validate_working_days]
    )
    night_hour = models.PositiveSmallIntegerField(
        default=2,
        validators=[MaxValueValidator(23)],
        help_text="Local hour at which the nightly search starts.",
    )
    monthly_lead_quota = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Charged leads per calendar month; empty means the installation default.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")


ROLE_RANK = {Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class MembershipQuerySet(TenantQuerySet):
    def of_user(self, user: User) -> MembershipQuerySet:
        """A user's own memberships across organisations (the organisation switcher)."""
        clone = self.filter(user=user)
        clone._org_scoped = True
        return clone


class Membership(TenantModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager.from_queryset(MembershipQuerySet)()  # type: ignore[misc,django-manager-missing]
    all_orgs = models.Manager()  # type: ignore[misc]

    class Meta:
        base_manager_name = "all_orgs"
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization_id} as {self.role}"

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


class Invitation(TenantModel):
    """An e-mailed link that lets someone join an organisation with a role. Token stored hashed."""

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        base_manager_name = "all_orgs"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class APIKeyScope(models.TextChoices):
    """What a key may do (docs/api.md): `read` every GET of the ordinary endpoints, `write` their
    POST/PATCH/DELETE, `billing` usage, invoices, bounces and disputes, `admin` members,
    invitations and keys. A view names its scope (OrgAPIView.api_scope); else read or write by
    method."""

    READ = "read", _("Read")
    WRITE = "write", _("Write")
    BILLING = "billing", _("Billing")
    ADMIN = "admin", _("Admin")


def default_api_key_scopes() -> list[str]:
    return [APIKeyScope.READ.value, APIKeyScope.WRITE.value]


class OrganizationAPIKeyManager(TenantManager, BaseAPIKeyManager):
    """Scoped like every tenant manager, plus the library's key generation (`create_key`)."""


class UnscopedAPIKeyManager(APIKeyManager):
    """Key lookup by prefix for authentication, with the organisation in the same query."""

    def get_usable_keys(self) -> models.QuerySet:
        return super().get_usable_keys().select_related("organization")


class OrganizationAPIKey(AbstractAPIKey, TenantModel):
    """An API key of one organisation: hashed at rest, prefix shown, full key shown once."""

    # A list of APIKeyScope values, in APIKeyScope's order (a JSON list: SQLite has no arrays).
    scopes = models.JSONField(default=default_api_key_scopes)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    # Both written at most once a minute per key (organizations/api/authentication.py): the
    # requests between two writes are counted in the cache and added with an F() increment.
    last_used_at = models.DateTimeField(null=True, blank=True)
    request_count = models.BigIntegerField(default=0)

    objects = OrganizationAPIKeyManager()  # type: ignore[misc]
    # Unscoped: authentication looks a key up by its prefix before the organisation is known.
    all_orgs = UnscopedAPIKeyManager()  # type: ignore[misc]

    class Meta(AbstractAPIKey.Meta):
        base_manager_name = "all_orgs"
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def scope_labels(self) -> list[str]:
        return [str(label) for value, label in APIKeyScope.choices if value in self.scopes]


class IdempotencyKey(TenantModel):
    """The first answer to a write sent with an `Idempotency-Key` header, kept 24 hours
    (organizations/api/idempotency.py). The row is inserted, unique per organisation and key, in
    the request's transaction before the write runs and gets the answer in the same transaction:
    a concurrent request with the key waits on the unique index, then reads the answer; a 5xx or a
    crash rolls the row back with the write. Expired rows are deleted by the task
    organizations.purge_idempotency_keys."""

    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and body: the same key with another request is a 422.
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    # Set in the transaction that inserted the row; never seen null by another request.
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        base_manager_name = "all_orgs"
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="idempotency_org_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.method} {self.path})"


AUDIT_ACTION_LABELS = {
    "organization.create": _("created the organisation"),
    "organization.settings_update": _("changed settings"),
    "invitation.create": _("invited"),
    "invitation.accept": _("accepted the invitation"),
    "invitation.revoke": _("revoked the invitation of"),
    "membership.role_change": _("changed the role of"),
    "membership.remove": _("removed"),
    "api_key.create": _("created API key"),
    "api_key.revoke": _("revoked API key"),
}
# The settings as the settings page names them, for "changed settings: …".
SETTINGS_LABELS = {
    "name": _("organisation name"),
    "timezone": _("time zone"),
    "delivery_mode": _("how leads arrive"),
    "leads_per_day": _("leads per working day"),
    "working_days": _("working days"),
    "night_hour": _("nightly search time"),
}


class AuditEvent(TenantModel):
    """Who did what to an organisation's people, keys and settings. Written by services, in the
    same transaction as the change; never updated."""

    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    # Readable actor even after the user is deleted, or when the actor is an API key.
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        base_manager_name = "all_orgs"
        indexes = [models.Index(fields=["organization", "-created_at"], name="audit_org_time")]

    def __str__(self) -> str:
        return f"{self.actor_label}: {self.action} {self.target}"

    @property
    def action_label(self) -> str:
        return str(AUDIT_ACTION_LABELS.get(self.action, self.action))

    @property
    def data_label(self) -> str:
        """What changed, in words: " (Member → Admin)", ": time zone, working days"."""
        if self.action == "membership.role_change":
            return f" ({_role_label(self.data.get('from'))} → {_role_label(self.data.get('to'))})"
        if self.action == "organization.settings_update":
            return ": " + ", ".join(sorted(str(SETTINGS_LABELS.get(key, key)) for key in self.data))
        return ""


def _role_label(code: object) -> str:
    return str(Role(code).label) if code in Role.values else str(code)
