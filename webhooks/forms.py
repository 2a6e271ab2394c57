from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EventType


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"),
        max_length=2000,
        help_text=_("Where events are POSTed: an https:// address that answers 2xx."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )


class EndpointEditForm(EndpointForm):
    is_active = forms.BooleanField(
        label=_("Enabled"), required=False, help_text=_("A disabled endpoint receives nothing.")
    )
