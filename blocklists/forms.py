from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import BlockKind


class BlockEntryForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=BlockKind.choices)
    value = forms.CharField(
        label=_("Value"),
        max_length=320,
        help_text=_("Registry id, domain, name, e-mail, phone or person id"),
    )
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        required=False,
        help_text=_("For registry ids and national phone numbers"),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class BlockImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=_("CSV with the columns kind,value[,country,note]")
    )
