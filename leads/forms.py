from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LeadStatus, RejectionReason


class LeadIdsField(forms.Field):
    """A list of lead ids from checkboxes (`lead_ids`); resolved through for_org by the service."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: object) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            return [int(v) for v in values]
        except (TypeError, ValueError):
            raise forms.ValidationError(_("Lead ids must be numbers.")) from None

    def validate(self, value: list[int]) -> None:
        super().validate(value)
        if len(value) > 500:
            raise forms.ValidationError(_("At most 500 leads at once."))


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=RejectionReason.choices)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    # Reject and dispute the charge in one step (for the reasons that say the lead is wrong).
    dispute = forms.BooleanField(label=_("Also dispute the charge"), required=False)


class BulkActionForm(RejectForm):
    action = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    lead_ids = LeadIdsField(error_messages={"required": _("Select at least one lead.")})
    reason = forms.ChoiceField(label=_("Reason"), choices=RejectionReason.choices, required=False)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("action") == "reject" and not data.get("reason"):
            self.add_error("reason", _("Give a reason for rejecting."))
        return data


class MoveForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))


class NotesForm(forms.Form):
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )


class LeadFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *LeadStatus.choices], required=False
    )
    q = forms.CharField(
        required=False,
        max_length=100,
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Person or company")}),
    )
