from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from enrichment.models import RoleKind
from segments.criteria import DEFAULT_ROLES, WANTABLE_ROLES

from .models import UploadKind


def _role_choices() -> list[tuple[str, str]]:
    labels = dict(RoleKind.choices)
    return [(kind, labels.get(kind, kind)) for kind in WANTABLE_ROLES]


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV or XLSX, at most 50 MB and 100,000 rows, with a header row."),
    )
    kind = forms.ChoiceField(label=_("What the list holds"), choices=UploadKind.choices)
    roles = forms.MultipleChoiceField(
        label=_("Wanted decision-makers"),
        choices=_role_choices,
        initial=list(DEFAULT_ROLES),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For company lists: the first role the registry names is the one sought."),
    )


class OptionsForm(forms.Form):
    """The mapping (one select per field: a column of the file or none) and the roles."""

    roles = forms.MultipleChoiceField(
        label=_("Wanted decision-makers"),
        choices=_role_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, fields: tuple[str, ...], header: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        columns = [("", _("(not in the file)"))] + [
            (str(i), name or _("column %(n)d") % {"n": i + 1}) for i, name in enumerate(header)
        ]
        self.mapped = list(fields)
        for name in fields:
            self.fields[f"map_{name}"] = forms.ChoiceField(
                label=FIELD_LABELS.get(name, name), choices=columns, required=False
            )

    def mapping(self) -> dict[str, int]:
        return {
            name: int(self.cleaned_data[f"map_{name}"])
            for name in self.mapped
            if self.cleaned_data.get(f"map_{name}") not in (None, "")
        }


FIELD_LABELS = {
    "registry_id": _("Registry number"),
    "country": _("Country"),
    "domain": _("Domain or website"),
    "name": _("Company name"),
    "city": _("City"),
    "postcode": _("Postcode"),
    "email": _("E-mail"),
    "phone": _("Phone"),
    "full_name": _("Name"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "company": _("Company"),
}
