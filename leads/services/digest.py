"""The morning digest: one e-mail per organisation and local date to the members who want it
("14 new leads await approval"), with a link. A DigestLog row (UNIQUE per organisation and date)
is written before sending, so a redelivered task never sends twice (at most once; a failed send
is logged, not retried).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from organizations.language import mail_per_language
from organizations.models import Membership, Organization

from ..models import DigestLog, Lead, LeadStatus
from .calendar import calendar_today

logger = logging.getLogger(__name__)

# A morning digest still goes out this many hours after the digest hour (a missed tick), no later.
_DIGEST_WINDOW_HOURS = 4


def digest_content(*, organization: Organization, on: dt.date) -> tuple[int, int]:
    """(leads awaiting approval, leads scheduled for `on`)."""
    leads = Lead.objects.for_org(organization)
    pending = leads.filter(status=LeadStatus.PENDING_APPROVAL).count()
    scheduled = leads.filter(
        scheduled_date=on, status__in=(LeadStatus.APPROVED, LeadStatus.CONTACTED)
    ).count()
    return pending, scheduled


def _message(*, organization: Organization, pending: int, scheduled: int) -> tuple[str, str]:
    """The digest's subject and body in the active language."""
    base = settings.SITE_URL.rstrip("/")
    parts, body = [], []
    if pending:
        text = ngettext(
            "%(n)d new lead awaits approval", "%(n)d new leads await approval", pending
        ) % {"n": pending}
        parts.append(text)
        queue = base + reverse("leads:queue", kwargs={"org_slug": organization.slug})
        body.append(f"{text}:\n{queue}")
    if scheduled:
        text = ngettext(
            "%(n)d lead is on today's calendar", "%(n)d leads are on today's calendar", scheduled
        ) % {"n": scheduled}
        parts.append(text)
        cal = base + reverse("leads:calendar", kwargs={"org_slug": organization.slug})
        body.append(f"{text}:\n{cal}")
    subject = f"{organization.name}: " + ", ".join(parts)
    footer = _(
        "You get this because the morning digest is on in your LeadPilot profile; "
        "turn it off there: %(link)s"
    ) % {"link": f"{base}{reverse('profile')}"}
    return subject, "\n\n".join([*body, footer]) + "\n"


def digest_send(
    *, organization: Organization, on: dt.date | None = None, now: dt.datetime | None = None
) -> DigestLog | None:
    """Send the digest of local date `on` (default: today) once. Nothing to report or nobody to
    tell: nothing is sent and nothing logged (None). Idempotent per organisation and date."""
    on = on or calendar_today(organization=organization, now=now)
    if DigestLog.objects.for_org(organization).filter(digest_date=on).exists():
        return None
    pending, scheduled = digest_content(organization=organization, on=on)
    if not pending and not scheduled:
        return None
    recipients = list(
        Membership.objects.for_org(organization)
        .filter(user__wants_digest=True, user__is_active=True)
        .values_list("user__email", "user__language")
        .order_by("user__email")
    )
    if not recipients:
        return None
    try:
        with transaction.atomic():
            log = DigestLog.objects.create(
                organization=organization,
                digest_date=on,
                recipients=len(recipients),
                pending_leads=pending,
                scheduled_leads=scheduled,
            )
    except IntegrityError:
        return None  # another worker sent it
    # One message per recipient, in their profile's language.
    messages = mail_per_language(
        recipients,
        lambda: _message(organization=organization, pending=pending, scheduled=scheduled),
    )
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:
        logger.exception("digest of organisation %s for %s failed to send", organization.id, on)
    return log


def digest_due(*, now: dt.datetime | None = None) -> list[tuple[Organization, dt.date]]:
    """Organisations inside their local digest window (LEADPILOT_DIGEST_HOUR and the
    _DIGEST_WINDOW_HOURS after it) whose digest for today is not logged yet."""
    now = now or timezone.now()
    hour = settings.LEADPILOT_DIGEST_HOUR
    due = {}
    for org in Organization.objects.all():
        local = now.astimezone(org.tz)
        if 0 <= local.hour - hour < _DIGEST_WINDOW_HOURS:
            due[org.id] = (org, local.date())
    if not due:
        return []
    # Fan-out across organisations (the beat tick).
    done = set(
        DigestLog.all_orgs.filter(organization_id__in=due).values_list(
            "organization_id", "digest_date"
        )
    )
    return [(org, day) for org_id, (org, day) in due.items() if (org_id, day) not in done]
