"""How lead facts read on the pages: role and reason codes as words, ISO timestamps as dates."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import template
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe

from enrichment.evidence import charge_sentences, company_contacts, phone_display
from enrichment.models import ContactKind, RoleKind, VerificationStatus
from enrichment.verification import verdicts as v

register = template.Library()

REASONS = {
    "no_contact_found": "No contact found",
    "not_found": "Not found in the directory",
    "stale_evidence": "Evidence too old, re-verification failed",
    v.MAILBOX_NOT_FOUND: "Mailbox does not exist",
    v.NXDOMAIN: "Domain does not exist",
    v.NULL_MX: "Domain accepts no mail",
    v.NO_MX: "Domain has no mail server",
    v.SYNTAX: "Not a valid address",
    v.DISABLED: "Mailbox disabled",
    v.MAILBOX_FULL: "Mailbox full",
    v.CATCH_ALL: "Catch-all domain (any address accepted)",
    v.GREYLISTED: "Greylisted, to be checked again",
    v.SMTP_TIMEOUT: "Mail server did not answer in time",
    v.SMTP_BLOCKED: "Mail server refused our check",
    v.DNS_ERROR: "DNS lookup failed",
    v.PROVIDER_UNVERIFIABLE: "Mail provider does not allow checks",
    v.PHONE_INVALID_NUMBER: "Phone number not valid",
    v.COMPANY_CONTACT: "Only company numbers or addresses found, not the person's",
    v.ACCEPT_ALL: "Catch-all domain (any address accepted)",
    v.UNKNOWN: "Could not be verified",
    v.INVALID: "Invalid",
}


@register.filter
def reason_label(code: str | None) -> str:
    if not code:
        return ""
    return REASONS.get(code, code.replace("_", " ").capitalize())


FLAGS = {
    v.FLAG_DISPOSABLE: "disposable address",
    v.FLAG_ROLE: "role account",
    v.FLAG_FREE: "free mail provider",
    v.FLAG_FULL: "inbox full",
    v.FLAG_DISABLED: "mailbox disabled",
    v.FLAG_CATCH_ALL: "catch-all domain",
    v.FLAG_GREYLISTED: "greylisted",
    v.FLAG_BLOCKED: "check refused",
}


def _choice_label(choices: type[models.TextChoices], code: str | None) -> str:
    if not code:
        return ""
    try:
        return str(choices(code).label)
    except ValueError:
        return code.replace("_", " ").capitalize()


@register.filter
def contact_kind_label(code: str | None) -> str:
    return _choice_label(ContactKind, code)


@register.filter
def verification_label(code: str | None) -> str:
    return _choice_label(VerificationStatus, code)


@register.filter
def flag_labels(flags: list[str] | None) -> str:
    return ", ".join(FLAGS.get(flag, flag.replace("_", " ")) for flag in flags or [])


@register.filter
def role_label(code: str | None) -> str:
    if not code:
        return ""
    try:
        return str(RoleKind(code).label)
    except ValueError:
        return code


@register.filter
def iso_datetime(value: str | dt.datetime | None) -> dt.datetime | None:
    """An ISO 8601 string from a JSON snapshot as an aware datetime (then use |date)."""
    if isinstance(value, dt.datetime):
        return value
    parsed = parse_datetime(value) if value else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    return parsed


@register.filter
def run_duration(value: dt.timedelta | None) -> str:
    """A run's wall time as people read it ("1.2 s", "3 min 05 s"), not "0:00:01.222260"."""
    if value is None:
        return "-"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def pretty_json(value: object) -> str:
    """Evidence as indented JSON (null, true, "quotes"), the form the API gives it in, not as a
    Python repr."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.simple_tag
def lead_charge_sentences(lead: Any) -> list[str]:
    """Why the lead was charged, in sentences (enrichment.evidence): `{% lead_charge_sentences
    lead as sentences %}`."""
    return charge_sentences(
        evidence=lead.evidence or {},
        person=lead.person_snapshot or {},
        company=lead.company_snapshot or {},
    )


@register.simple_tag
def lead_company_contacts(lead: Any) -> list[dict[str, str]]:
    """The company's own numbers and addresses seen for the lead: company data, never charged."""
    return company_contacts(evidence=lead.evidence or {}, company=lead.company_snapshot or {})


@register.filter
def contact_display(value: str, kind: str | None) -> str:
    """A charged contact as people write it: phones in international format (+44 7400 123456)."""
    return phone_display(value) if kind == ContactKind.PHONE and value else value


@register.filter
def for_lead(html: str, lead_id: int) -> str:
    """The queue's reject buttons, rendered once per page with the placeholder __LEAD__ in their
    URLs, made a row's own (bench/pages.py: one substitution instead of a loop per row)."""
    return mark_safe(str(html).replace("__LEAD__", str(int(lead_id))))  # noqa: S308 - our own HTML
