"""Calendar placement: leads go onto the organisation's next working days, up to its daily
capacity, in its timezone. Placements of one organisation are serialised by a transaction-scoped
advisory lock, so two runs (or a run and an approval) cannot both take the last slot of a day.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from organizations.models import Organization

from ..models import Lead, LeadStatus

# First key of the two-int advisory lock; the second is the organisation id.
_CALENDAR_LOCK_CLASS = 7301
SCHEDULED_STATUSES = (LeadStatus.APPROVED, LeadStatus.CONTACTED)
# Placement never looks further than this; a calendar this full is a configuration problem.
_HORIZON_DAYS = 3 * 366


def calendar_lock(*, organization: Organization) -> None:
    """Hold the organisation's calendar lock until the current transaction ends."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("calendar_lock() must run inside transaction.atomic()")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [_CALENDAR_LOCK_CLASS, organization.id]
            )


def calendar_today(*, organization: Organization, now: dt.datetime | None = None) -> dt.date:
    """The organisation's local date."""
    return (now or timezone.now()).astimezone(organization.tz).date()


def calendar_slots_take(*, organization: Organization, count: int, start: dt.date) -> list[dt.date]:
    """The next `count` free slots on working days from `start` (inclusive), in order.

    Call with the calendar lock held (`calendar_lock`) and assign the dates in the same
    transaction; the slots are only reserved by the leads that get them.
    """
    if count <= 0:
        return []
    working = set(organization.working_days)
    capacity = organization.leads_per_day
    used = Counter(
        dict(
            Lead.objects.for_org(organization)
            .filter(scheduled_date__gte=start, status__in=SCHEDULED_STATUSES)
            .values("scheduled_date")
            .annotate(n=Count("id"))
            .values_list("scheduled_date", "n")
        )
    )
    slots: list[dt.date] = []
    day = start
    last = start + dt.timedelta(days=_HORIZON_DAYS)
    while len(slots) < count:
        if day > last:
            raise ValueError(
                f"No free calendar slot within {_HORIZON_DAYS} days; raise leads per day."
            )
        if day.weekday() in working and used[day] < capacity:
            used[day] += 1
            slots.append(day)
        else:
            day += dt.timedelta(days=1)
    return slots
