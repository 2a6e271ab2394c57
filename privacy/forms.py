from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import OptOutKind


class OptOutForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What should we stop using?"),
        choices=OptOutKind.choices,
        initial=OptOutKind.EMAIL,
        widget=forms.RadioSelect,
    )
    value = forms.CharField(
        label=_("E-mail address or phone number"),
        max_length=320,
        help_text=_("A phone number with its country code, e.g. +44 7400 123456."),
    )
    email = forms.EmailField(
        label=_("Your e-mail address (for a phone number)"),
        required=False,
        max_length=320,
        help_text=_("We send the confirmation link here when you object with a phone number."),
    )
