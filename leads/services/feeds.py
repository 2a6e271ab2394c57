"""Per-user ICS feeds. The URL carries a secret token; only its SHA-256 is stored, so the URL is
shown once when created or reset. A token gives its holder the approved leads of the one
organisation it was made for, and nothing once the user has left that organisation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import icalendar
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from organizations.models import Membership, Organization, User

from ..models import CalendarFeed, Lead, LeadStatus

_TOKEN_BYTES = 32
# How far back and ahead a feed reaches (calendar apps poll it).
FEED_PAST_DAYS = 60
FEED_FUTURE_DAYS = 366


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_feed_url(*, token: str) -> str:
    """The subscribable URL. It names no organisation: the token alone decides which one."""
    path = reverse("calendar-feed", kwargs={"feed_token": f"{token}.ics"})
    return settings.SITE_URL.rstrip("/") + path


@transaction.atomic
def calendar_feed_reset(*, organization: Organization, user: User) -> str:
    """Create or replace the user's feed token and return the new secret token (shown once).
    The previous URL stops working. Not idempotent by design."""
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    CalendarFeed.objects.for_org(organization).filter(user=user).delete()
    CalendarFeed.objects.create(organization=organization, user=user, token_hash=_hash(token))
    return token


def calendar_feed_revoke(*, organization: Organization, user: User) -> None:
    CalendarFeed.objects.for_org(organization).filter(user=user).delete()


def calendar_feed_resolve(*, token: str) -> CalendarFeed | None:
    """The feed this token opens, or None (unknown token, or its user is inactive or no longer a
    member of the feed's organisation). The feed's organisation is the only one it shows."""
    if not token or len(token) > 200:
        return None
    # Unscoped by necessity: the token is what tells us the organisation (like an API key).
    feed = (
        CalendarFeed.all_orgs.select_related("user", "organization")
        .filter(token_hash=_hash(token))
        .first()
    )
    if feed is None or not feed.user.is_active:
        return None
    organization = feed.organization
    if not Membership.objects.for_org(organization).filter(user_id=feed.user_id).exists():
        return None
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > dt.timedelta(minutes=5):
        CalendarFeed.objects.for_org(organization).filter(pk=feed.pk).update(last_used_at=now)
    return feed


def calendar_feed_ics(*, organization: Organization, today: dt.date) -> bytes:
    """The organisation's scheduled leads as an iCalendar document of all-day events."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//LeadPilot//Lead calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"LeadPilot leads: {organization.name}")
    cal.add("x-wr-timezone", organization.timezone)
    leads = (
        Lead.objects.for_org(organization)
        .filter(
            status__in=(LeadStatus.APPROVED, LeadStatus.CONTACTED),
            scheduled_date__gte=today - dt.timedelta(days=FEED_PAST_DAYS),
            scheduled_date__lte=today + dt.timedelta(days=FEED_FUTURE_DAYS),
        )
        .order_by("scheduled_date", "id")
    )
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    for lead in leads.iterator():
        event = icalendar.Event()
        event.add("uid", f"lead-{lead.id}@{host}")
        event.add("dtstamp", lead.updated_at)
        event.add("dtstart", lead.scheduled_date)
        event.add("dtend", lead.scheduled_date + dt.timedelta(days=1))
        event.add("summary", f"{lead.person_name} ({lead.company_name})")
        detail = settings.SITE_URL.rstrip("/") + reverse(
            "leads:detail", kwargs={"org_slug": organization.slug, "lead_id": lead.id}
        )
        kind = {"email": "E-mail", "phone": "Phone"}.get(lead.contact_kind, "Contact")
        lines = [f"{kind}: {lead.contact_value}", detail]
        if lead.status == LeadStatus.CONTACTED:
            lines.insert(0, "Contacted")
        event.add("description", "\n".join(lines))
        event.add("url", detail)
        cal.add_component(event)
    return cal.to_ical()
