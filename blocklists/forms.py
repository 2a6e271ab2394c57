from __future__ import annotations

from django import forms

from .models import BlockKind


class BlockEntryForm(forms.Form):
    kind = forms.ChoiceField(choices=BlockKind.choices)
    value = forms.CharField(
        max_length=320, help_text="Registry id, domain, name, e-mail, phone or person id"
    )
    country = forms.CharField(
        max_length=2, required=False, help_text="For registry ids and national phone numbers"
    )
    note = forms.CharField(max_length=200, required=False)


class BlockImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with the columns kind,value[,country,note]")
