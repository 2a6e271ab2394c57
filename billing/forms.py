"""Dashboard forms of billing: dispute a lead, report bounces, filter disputes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .disputes import BOUNCE_REPORT_MAX, addresses_parse
from .models import DisputeReason, DisputeStatus

UPLOAD_MAX_BYTES = 1024 * 1024


class DisputeForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=DisputeReason.choices)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What is wrong with the lead; required for 'Other'."),
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("reason") == DisputeReason.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", _("Say what is wrong with the lead."))
        return data


class BounceReportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        required=False,
        help_text=_("Any CSV: every cell that is an e-mail address counts."),
    )
    addresses = forms.CharField(
        label=_("Or paste addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, or separated by commas."),
    )
    message = forms.CharField(
        label=_("Bounce message (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        found: list[str] = []
        upload = data.get("file")
        if upload is not None:
            if upload.size > UPLOAD_MAX_BYTES:
                self.add_error("file", _("The file is larger than 1 MB."))
                return data
            found += addresses_parse(upload.read())
        found += addresses_parse(data.get("addresses") or "")
        if not found:
            raise forms.ValidationError(_("Give at least one e-mail address."))
        if len(found) > BOUNCE_REPORT_MAX:
            raise forms.ValidationError(
                _("At most %(max)d addresses per report.") % {"max": BOUNCE_REPORT_MAX}
            )
        data["found"] = found
        return data


class DisputeFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("undecided", _("Undecided")), *DisputeStatus.choices],
        widget=forms.Select(attrs={"aria-label": _("Status"), "class": "auto-width"}),
    )
