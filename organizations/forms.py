from __future__ import annotations

import hashlib
import zoneinfo
from collections.abc import Iterator

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from .models import APIKeyScope, DeliveryMode, Role, User


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean_username(self) -> str:
        # Stored addresses are lower-case; people type them however they like.
        return self.cleaned_data["username"].strip().lower()


class RateLimitedPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending one address at most one link per
    LEADPILOT_PASSWORD_RESET_INTERVAL_MINUTES: anyone may ask, so without a limit a stranger could
    flood a user's mailbox. The page answers the same either way (no hint whether mail went)."""

    def get_users(self, email: str) -> Iterator[User]:  # type: ignore[override]
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        timeout = settings.LEADPILOT_PASSWORD_RESET_INTERVAL_MINUTES * 60
        for user in super().get_users(email):
            if cache.add(f"password-reset:{digest}", 1, timeout):
                yield user


class SignUpForm(forms.Form):
    """Sign-up asks only what the confirmation e-mail needs; the password is chosen on the
    e-mailed link's page (NewAccountForm), so whoever holds the mailbox sets it."""

    organization_name = forms.CharField(label=_("Organisation name"), max_length=200)
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    # The template renders it with links to the terms and the privacy policy.
    accept_terms = forms.BooleanField(
        label=_("I accept the terms of service and the privacy policy"),
        error_messages={"required": _("Accept the terms and the privacy policy to sign up.")},
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


def _timezone_choices() -> list[tuple[str, str]]:
    zones = sorted(
        z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith("Etc/")
    )
    return [("UTC", "UTC"), *((z, z.replace("_", " ")) for z in zones)]


def _language_choices() -> list[tuple[str, str]]:
    return [("", _("The browser's language")), *settings.LANGUAGES]


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    wants_digest = forms.BooleanField(
        label=_("Morning digest"),
        required=False,
        help_text=_(
            "An e-mail each morning when new leads await approval or are on today's "
            "calendar, one per organisation."
        ),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=_language_choices,
        required=False,
        help_text=_("The dashboard and the e-mails we send you are in this language."),
    )


class OrganizationSettingsForm(forms.Form):
    name = forms.CharField(label=_("Organisation name"), max_length=200)
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=_timezone_choices,
        help_text=_("The nightly search and the calendar follow this time zone."),
    )
    delivery_mode = forms.ChoiceField(
        label=_("How leads arrive"),
        choices=DeliveryMode.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Approval: you approve each lead. Calendar: leads go straight onto the calendar."
        ),
    )
    leads_per_day = forms.IntegerField(
        label=_("Leads per working day"),
        min_value=1,
        max_value=1000,
        help_text=_("How many leads the calendar places on each working day."),
    )
    working_days = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one working day.")},
    )
    night_hour = forms.TypedChoiceField(
        label=_("Nightly search starts at"),
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        coerce=int,
        help_text=_("Local time in the organisation's time zone."),
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"placeholder": "colleague@example.com"})
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class APIKeyCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. CRM sync")}),
        help_text=_("What uses this key, so you know which one to revoke later."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=APIKeyScope.choices,
        initial=[APIKeyScope.READ, APIKeyScope.WRITE],
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Read: read leads, segments, runs and the block list. Write: change them. Billing: "
            "usage, invoices, bounces and disputes (owners only). Admin: read members, "
            "invitations and keys."
        ),
    )


class NewAccountForm(forms.Form):
    """A new person's name and password, for an e-mail address a link proved (an invitation or
    the sign-up confirmation). The one place a new password is checked against the validators,
    with the address and name the account will have."""

    full_name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("Choose a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )

    def __init__(self, *args: object, email: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.email = email

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password:
            candidate = User(email=self.email, full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class OrganizationCreateForm(forms.Form):
    name = forms.CharField(label=_("Organisation name"), max_length=200)
