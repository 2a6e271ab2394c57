"""Phone validation with phonenumbers: in the numbering plan, E.164, line type, region.

"valid" never means the line is live or belongs to the person (that needs an HLR lookup or a call).
E.164 drops extensions, so the extension is kept apart.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from enrichment.verification import verdicts as v

_LINE_TYPES = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",  # NANP cannot tell them apart
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}


def phone_verify(
    raw: str,
    *,
    country: str | None = None,
    attribution: str | None = None,
    attribution_source: str | None = None,
    listed_with: str | None = None,
) -> v.PhoneVerdict:
    """`country` (ISO 3166 alpha-2) is where the number is written/dialled from; numbers written
    with a leading + need none. `attribution` and its source say whose number the source calls it
    (verdicts.ATTRIBUTION_*); without one a valid number is not chargeable."""
    owner = {
        "attribution": attribution,
        "attribution_source": attribution_source,
        "listed_with": listed_with,
    }
    region = country.upper() if country else None
    if region == "UK":
        region = "GB"
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return v.PhoneVerdict(raw=raw, e164=None, status=v.INVALID, reason=v.PHONE_SYNTAX, **owner)
    extension = number.extension or None
    if not phonenumbers.is_valid_number(number):
        return v.PhoneVerdict(
            raw=raw,
            e164=None,
            status=v.INVALID,
            reason=v.PHONE_INVALID_NUMBER,
            extension=extension,
            **owner,
        )
    return v.PhoneVerdict(
        raw=raw,
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        status=v.VALID,
        reason=None,
        line_type=_LINE_TYPES.get(phonenumbers.number_type(number), "unknown"),
        region=phonenumbers.region_code_for_number(number),
        extension=extension,
        **owner,
    )
