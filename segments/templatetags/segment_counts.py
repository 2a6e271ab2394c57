"""The preview's counts as the user reads them, in the user's locale: exact counts with digit
grouping ("204,710"), estimates as "about 48,000" / "about 1.2 million"."""

from __future__ import annotations

from django import template
from django.utils import formats
from django.utils.translation import gettext, ngettext

register = template.Library()


@register.filter
def match_count(value: int, estimated: bool = False) -> str:
    if not estimated:
        return formats.number_format(value, force_grouping=True)
    if value >= 1_000_000:
        millions = round(value / 1_000_000, 1)
        shown = formats.number_format(millions, decimal_pos=0 if millions == int(millions) else 1)
        amount = ngettext("%(value)s million", "%(value)s million", int(millions)) % {
            "value": shown
        }
    else:
        amount = formats.number_format(value, force_grouping=True)
    return gettext("about %(amount)s") % {"amount": amount}
