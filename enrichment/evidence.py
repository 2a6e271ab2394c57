"""Why a contact was charged, in sentences a salesperson reads (docs/charges.md).

The engine keeps its evidence as data (MX hosts, SMTP transcripts, line types, the page a number
was listed on); a lead keeps that record as it was when charged (`Lead.evidence`, written by
`leads.services.reverify.finding_snapshot`). `charge_sentences` turns such a record into
sentences: where the address or number came from, what was checked, when, and the result.
Every sentence goes through gettext with placeholders; dates and times through the active
locale. Reads only the record: works for leads charged before a field existed (it says less).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import phonenumbers
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from enrichment.verification import verdicts as v
from enrichment.verification.candidates import pattern_infer


def _when(raw: Any) -> dt.datetime | None:
    value = parse_datetime(raw) if isinstance(raw, str) else raw
    if not isinstance(value, dt.datetime):
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return timezone.localtime(value)


def _date(value: dt.datetime) -> str:
    return date_format(value, "DATE_FORMAT")


def _time(value: dt.datetime) -> str:
    # 24-hour, as the rest of the lead page ("18:29"), whatever the locale's a.m./p.m.
    return time_format(value, "H:i")


def phone_display(value: str, country: str | None = None) -> str:
    """'+4791234567' -> '+47 912 34 567' (international format); as given when not a number.
    `country`: where a number without + is written (registry numbers)."""
    region = (country or "").upper().replace("UK", "GB") or None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _country_adjective(region: str | None) -> str:
    names = {
        "NO": _("Norwegian"),
        "SE": _("Swedish"),
        "DK": _("Danish"),
        "FI": _("Finnish"),
        "GB": _("UK"),
        "DE": _("German"),
        "NL": _("Dutch"),
        "FR": _("French"),
        "US": _("US"),
        "CA": _("Canadian"),
    }
    return names.get((region or "").upper(), region or "")


def _line_sentence(line_type: str | None, region: str | None) -> str:
    country = _country_adjective(region)
    if line_type == "mobile":
        return _("It is a valid %(country)s mobile number.") % {"country": country}
    if line_type == "fixed_line":
        return _("It is a valid %(country)s landline number.") % {"country": country}
    if line_type == "fixed_line_or_mobile":
        return _("It is a valid %(country)s number (landline or mobile).") % {"country": country}
    return _("It is a valid %(country)s number.") % {"country": country}


def _email_origin(
    *, address: str, origin: str | None, domain: str | None, person: Mapping[str, Any]
) -> str:
    local = address.rpartition("@")[0]
    pattern = pattern_infer(
        first=str(person.get("first_name") or ""),
        last=str(person.get("last_name") or ""),
        local_part=local,
    )
    if origin == "website":
        return _(
            "The e-mail address %(address)s is published on the company's website %(url)s."
        ) % {
            "address": address,
            "url": f"http://{domain}/" if domain else address.rpartition("@")[2],
        }
    if origin == "pattern" and pattern:
        return _(
            "The e-mail address %(address)s was built from the company's address pattern "
            "(%(pattern)s)."
        ) % {"address": address, "pattern": pattern}
    if pattern:
        return _(
            "The e-mail address %(address)s was built from the name %(person)s in a common "
            "company format (%(pattern)s)."
        ) % {"address": address, "person": person.get("full_name") or "", "pattern": pattern}
    return _("The e-mail address %(address)s was found for %(person)s.") % {
        "address": address,
        "person": person.get("full_name") or "",
    }


def _domain_sentence(
    *, domain: str | None, source: str | None, company: Mapping[str, Any]
) -> str | None:
    if not domain:
        return None
    values = {"domain": domain, "company": company.get("name") or ""}
    if source == "registry_website":
        return _("%(domain)s is the website the company registry lists for %(company)s.") % values
    if source == "registry_email":
        return (
            _(
                "%(domain)s is the domain of the e-mail address the company registry lists for %(company)s."
            )
            % values
        )
    if source == "discovered":
        return _(
            "%(domain)s was found from the company's name; its website names the registration "
            "number %(registry_id)s of %(company)s."
        ) % {**values, "registry_id": company.get("registry_id") or ""}
    return None


def _email_check(*, verification: Mapping[str, Any], status: str | None, at: dt.datetime) -> str:
    sessions = verification.get("smtp") or []
    host = sessions[-1].get("host") if sessions else None
    if not host:
        mx = verification.get("mx") or []
        host = mx[0][1] if mx else ""
    values = {"host": host, "date": _date(at), "time": _time(at)}
    if status != v.VALID:
        return _("Its mail server %(host)s was asked on %(date)s at %(time)s.") % values
    catch_all = verification.get("catch_all") or {}
    if catch_all.get("state") is False:
        return (
            _(
                "Its mail server %(host)s accepted it on %(date)s at %(time)s and rejects "
                "addresses that do not exist, so the mailbox exists."
            )
            % values
        )
    return (
        _("Its mail server %(host)s accepted it on %(date)s at %(time)s, so the mailbox exists.")
        % values
    )


def _phone_sentences(
    *, record: Mapping[str, Any], inner: Mapping[str, Any], at: dt.datetime | None
) -> list[str]:
    phone = inner.get("verification") or {}
    number = phone_display(str(phone.get("e164") or record.get("value") or ""))
    when = _date(at) if at else ""
    attribution = phone.get("attribution")
    source = str(phone.get("attribution_source") or "")
    out: list[str] = []
    if attribution == v.ATTRIBUTION_PERSON and source.startswith(("http://", "https://")):
        out.append(
            _("The number %(number)s is listed next to %(name)s on %(url)s (checked %(date)s).")
            % {
                "number": number,
                "name": phone.get("listed_with") or "",
                "url": source,
                "date": when,
            }
        )
    elif attribution == v.ATTRIBUTION_PERSON:
        out.append(
            _("The number %(number)s is listed for %(name)s in %(source)s (checked %(date)s).")
            % {
                "number": number,
                "name": phone.get("listed_with") or "",
                "source": source,
                "date": when,
            }
        )
    elif inner.get("source") == "registry":
        # Charged before company numbers stopped counting (docs/charges.md): say what it is.
        out.append(
            _(
                "The number %(number)s is the company's number in the registry (checked "
                "%(date)s); no source names a person for it."
            )
            % {"number": number, "date": when}
        )
    else:
        out.append(
            _(
                "The number %(number)s is on the company's website (checked %(date)s); no "
                "source names a person for it."
            )
            % {"number": number, "date": when}
        )
    if phone.get("status") == v.VALID:
        out.append(_line_sentence(phone.get("line_type"), phone.get("region")))
        out.append(
            _("Valid means the number is assigned in the numbering plan; the line was not called.")
        )
    return out


def charge_sentences(
    *,
    evidence: Mapping[str, Any],
    person: Mapping[str, Any],
    company: Mapping[str, Any],
) -> list[str]:
    """The charge of one lead explained: `evidence` is the lead's record (finding_snapshot),
    `person` and `company` its snapshots. Empty when the record is empty."""
    if not evidence:
        return []
    inner = evidence.get("evidence") or {}
    out = _charge_sentences(evidence=evidence, inner=inner, person=person, company=company)
    if out and (named := _site_person_sentence(inner.get("site_person"))):
        out.append(named)
    return out


def _site_person_sentence(site_person: Any) -> str | None:
    """Where the company's own website names the person (enrichment.people), if it does."""
    if not isinstance(site_person, Mapping) or not site_person.get("page"):
        return None
    values = {
        "name": site_person.get("name") or "",
        "title": site_person.get("title") or "",
        "url": site_person.get("page"),
        "confidence": round(100 * float(site_person.get("confidence") or 0)),
    }
    if values["title"]:
        return (
            _(
                "The company's own website names %(name)s as %(title)s on %(url)s "
                "(confidence %(confidence)s %%)."
            )
            % values
        )
    return _("The company's own website names %(name)s on %(url)s.") % values


def _charge_sentences(
    *,
    evidence: Mapping[str, Any],
    inner: Mapping[str, Any],
    person: Mapping[str, Any],
    company: Mapping[str, Any],
) -> list[str]:
    kind = evidence.get("kind")
    value = str(evidence.get("value") or "")
    at = _when(evidence.get("checked_at"))
    if kind == "email":
        out = [
            _email_origin(
                address=value, origin=inner.get("source"), domain=inner.get("domain"), person=person
            )
        ]
        if domain := _domain_sentence(
            domain=inner.get("domain"), source=inner.get("domain_source"), company=company
        ):
            out.append(domain)
        if at is not None:
            out.append(
                _email_check(
                    verification=inner.get("verification") or {},
                    status=evidence.get("status"),
                    at=at,
                )
            )
        flags = set(evidence.get("flags") or ())
        if v.FLAG_FREE in flags:
            out.append(_("The address is with a free e-mail provider, not the company's domain."))
        return out
    if kind == "phone":
        return _phone_sentences(record=evidence, inner=inner, at=at)
    return []


def company_contacts(
    *, evidence: Mapping[str, Any], company: Mapping[str, Any]
) -> list[dict[str, str]]:
    """The company-level contacts seen for a lead, shown as company data and never charged:
    [{"kind", "value" (display form), "label" (translated), "source"}]. Leads charged before
    the engine recorded them show the registry phone of their company snapshot."""
    labels = {
        "registry_phone": _("Company phone (registry)"),
        "switchboard": _("Company switchboard"),
        "general_email": _("Company e-mail"),
    }
    inner = evidence.get("evidence") or {}
    raw = inner.get("company_contacts")
    if raw is None:
        raw = (
            [{"kind": "phone", "value": company["phone"], "label": "registry_phone"}]
            if company.get("phone")
            else []
        )
    country = company.get("country")
    charged = str(evidence.get("value") or "")
    if evidence.get("kind") == "phone":
        charged = phone_display(charged, country)
    out = []
    for item in raw:
        kind = str(item.get("kind") or "")
        value = str(item.get("value") or "")
        if kind == "phone":
            value = phone_display(value, country)
        if not value or value == charged:
            continue
        out.append(
            {
                "kind": kind,
                "value": value,
                "label": labels.get(str(item.get("label")), _("Company contact")),
                "source": str(item.get("source") or ""),
            }
        )
    return out
