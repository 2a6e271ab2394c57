"""The segment editor's form: plain inputs in, a criteria dict out (validated by SegmentCriteria,
whose errors land on the field that caused them)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import pretty_name
from django.utils.translation import gettext_lazy as _

from enrichment.models import CompanyStatus, LegalForm, RoleKind, SizeBand
from organizations.models import DeliveryMode

from .criteria import WANTABLE_ROLES, CriteriaError, SegmentCriteria
from .models import NIGHTLY_CAP_MAX, Segment
from .pickers import PICKER_FIELDS

ROLE_SLOTS = 4
_LIST_FIELDS = ("countries", "industries", "regions", "municipalities", "postcode_prefixes")
_CHOICE_LIST_FIELDS = ("size_bands", "legal_forms", "statuses")
_SCALAR_FIELDS = (
    "industry_scope",
    "employees_min",
    "employees_max",
    "include_unknown_employees",
    "incorporated_from",
    "incorporated_to",
    "min_age_years",
    "max_age_years",
)
_ROLE_CHOICES = [("", "—"), *((k, RoleKind(k).label) for k in WANTABLE_ROLES)]


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").replace(";", ",").split(",") if part.strip()]


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    nightly_cap = forms.IntegerField(
        label=_("Nightly cap"),
        min_value=1,
        max_value=NIGHTLY_CAP_MAX,
        initial=25,
        help_text=_("At most this many charged leads per night."),
    )
    delivery_mode = forms.ChoiceField(
        label=_("How leads arrive"),
        choices=[("", _("Organisation default")), *DeliveryMode.choices],
        required=False,
    )
    legitimate_interest = forms.CharField(
        label=_("Legitimate interest"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Why contacting these decision-makers serves a legitimate business purpose, and why "
            "their role is relevant to it. Every member sees it."
        ),
    )
    countries = forms.CharField(
        label=_("Countries"), required=False, help_text=_("ISO codes, comma-separated: GB, NO, SE")
    )
    industries = forms.CharField(
        label=_("Industries"),
        required=False,
        help_text=_("NACE codes at any level, comma-separated: J (section), 62, 62.0, 62.01"),
    )
    industry_scope = forms.ChoiceField(
        label=_("Industry codes to match"),
        choices=[("any", _("Any of the company's codes")), ("primary", _("Primary code only"))],
        initial="any",
        required=False,
    )
    regions = forms.CharField(
        label=_("Regions"),
        required=False,
        help_text=_("Comma-separated, as the registry names them"),
    )
    municipalities = forms.CharField(label=_("Municipalities"), required=False)
    postcode_prefixes = forms.CharField(
        label=_("Postcodes starting with"), required=False, help_text=_("e.g. SW1, EC2A, 01")
    )
    employees_min = forms.IntegerField(required=False, min_value=0, label=_("Employees from"))
    employees_max = forms.IntegerField(required=False, min_value=0, label=_("Employees to"))
    include_unknown_employees = forms.BooleanField(
        required=False, label=_("Include companies of unknown size")
    )
    size_bands = forms.MultipleChoiceField(
        label=_("Size bands"),
        choices=SizeBand.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    incorporated_from = forms.DateField(
        label=_("Incorporated from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    incorporated_to = forms.DateField(
        label=_("Incorporated to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    min_age_years = forms.IntegerField(required=False, min_value=0, label=_("At least (years old)"))
    max_age_years = forms.IntegerField(required=False, min_value=0, label=_("At most (years old)"))
    legal_forms = forms.MultipleChoiceField(
        label=_("Legal forms"),
        choices=LegalForm.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    statuses = forms.MultipleChoiceField(
        choices=CompanyStatus.choices,
        required=False,
        initial=[CompanyStatus.ACTIVE],
        widget=forms.CheckboxSelectMultiple,
        label=_("Company status"),
    )
    name_keywords = forms.CharField(
        required=False, label=_("Name contains"), help_text=_("Any of these words, comma-separated")
    )

    def __init__(self, *args: Any, require_name: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, ROLE_SLOTS + 1):
            self.fields[f"role_{i}"] = forms.ChoiceField(
                choices=_ROLE_CHOICES,
                required=False,
                label=_("Decision-maker, choice %(number)d") % {"number": i},
                initial=RoleKind.CEO if i == 1 else "",
            )
        # Searchable pickers (static/js/picker.js) enhance these: the text box stays the field
        # that posts the codes, comma-separated, and is what a browser without JavaScript shows.
        for name in PICKER_FIELDS:
            self.fields[name].widget.attrs["data-picker"] = name
        # The live preview posts half-filled forms: only the criteria must be valid there.
        self.fields["name"].required = require_name
        self.fields["nightly_cap"].required = require_name
        self.criteria: SegmentCriteria | None = None

    @classmethod
    def initial_for(cls, segment: Segment) -> dict[str, Any]:
        crit = segment.criteria or {}
        initial: dict[str, Any] = {
            "name": segment.name,
            "nightly_cap": segment.nightly_cap,
            "delivery_mode": segment.delivery_mode or "",
            "legitimate_interest": segment.legitimate_interest,
        }
        for key in _LIST_FIELDS:
            initial[key] = ", ".join(crit.get(key, []))
        initial["name_keywords"] = ", ".join(crit.get("name_keywords", []))
        for key in _CHOICE_LIST_FIELDS:
            if key in crit:
                initial[key] = crit[key]
        for key in _SCALAR_FIELDS:
            if key in crit:
                initial[key] = crit[key]
        for i, role in enumerate(crit.get("roles", ["ceo"])[:ROLE_SLOTS], start=1):
            initial[f"role_{i}"] = role
        return initial

    def criteria_dict(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {key: _split(data.get(key, "")) for key in _LIST_FIELDS}
        out["name_keywords"] = _split(data.get("name_keywords", ""))
        for key in _CHOICE_LIST_FIELDS:
            out[key] = list(data.get(key) or [])
        for key in _SCALAR_FIELDS:
            value = data.get(key)
            if value is not None and value != "":
                out[key] = value.isoformat() if hasattr(value, "isoformat") else value
        roles = [data.get(f"role_{i}") for i in range(1, ROLE_SLOTS + 1)]
        out["roles"] = list(dict.fromkeys(r for r in roles if r))
        return out

    @classmethod
    def error_labels(cls, errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """Criteria problems keyed by the labels people see on the form, not by field names."""
        labels = {
            name: str(field.label or pretty_name(name)) for name, field in cls.base_fields.items()
        }
        labels["roles"] = "Decision-makers"
        return {labels.get(key, pretty_name(key)): messages for key, messages in errors.items()}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            self.criteria = SegmentCriteria.from_dict(self.criteria_dict())
        except CriteriaError as exc:
            for key, messages in exc.errors.items():
                target = "role_1" if key == "roles" else key
                for message in messages:
                    self.add_error(target if target in self.fields else None, message)
        return cleaned
