"""Reads of the leads app. Every function takes the organisation and scopes through for_org."""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import UsageEvent
from organizations.models import Organization

from .models import CalendarFeed, Lead, LeadStatus, SearchCandidate, SearchRun

SCHEDULED = (LeadStatus.APPROVED, LeadStatus.CONTACTED)


def lead_get(*, organization: Organization, lead_id: int) -> Lead:
    """The organisation's lead; Lead.DoesNotExist for a missing or foreign id alike."""
    return (
        Lead.objects.for_org(organization)
        .select_related("segment", "decided_by", "search_run")
        .get(pk=lead_id)
    )


def leads_of_organization(
    *,
    organization: Organization,
    status: str | None = None,
    segment_id: int | None = None,
    search: str = "",
) -> QuerySet[Lead]:
    qs = Lead.objects.for_org(organization).select_related("segment")
    if status:
        qs = qs.filter(status=status)
    if segment_id:
        qs = qs.filter(segment_id=segment_id)
    if search:
        qs = qs.filter(Q(company_name__icontains=search) | Q(person_name__icontains=search))
    return qs.order_by("-id")


# The columns a list row shows (leads/api/serializers.py LeadListSerializer): a page never reads
# the snapshots and evidence (JSON of a few KB a lead), nor joins the segment.
LIST_COLUMNS = (
    "id",
    "organization_id",
    "status",
    "company_name",
    "person_name",
    "role_kind",
    "contact_kind",
    "contact_value",
    "scheduled_date",
    "segment_id",
    "created_at",
)


def leads_of_organization_list_columns(
    *,
    organization: Organization,
    status: str | None = None,
    segment_id: int | None = None,
    search: str = "",
) -> QuerySet[Lead]:
    """`leads_of_organization` with only the columns of a list row (the API's leads list)."""
    return (
        leads_of_organization(
            organization=organization, status=status, segment_id=segment_id, search=search
        )
        .select_related(None)
        .only(*LIST_COLUMNS)
    )


def leads_awaiting_approval(*, organization: Organization) -> QuerySet[Lead]:
    return leads_of_organization(organization=organization, status=LeadStatus.PENDING_APPROVAL)


def leads_awaiting_count(*, organization: Organization) -> int:
    """How many leads wait in the approval queue (the menu's badge; one index-only count)."""
    return Lead.objects.for_org(organization).filter(status=LeadStatus.PENDING_APPROVAL).count()


WITHDRAWN_NOTICE_DAYS = 14


def leads_recently_withdrawn(
    *, organization: Organization, now: dt.datetime | None = None, limit: int = 20
) -> list[Lead]:
    """Leads the service withdrew from the queue in the last WITHDRAWN_NOTICE_DAYS (the queue
    says which and why), newest first."""
    since = (now or timezone.now()) - dt.timedelta(days=WITHDRAWN_NOTICE_DAYS)
    return list(
        Lead.objects.for_org(organization)
        .filter(status=LeadStatus.WITHDRAWN, withdrawn_at__gte=since)
        .order_by("-withdrawn_at", "-id")[:limit]
    )


def lead_person_source(*, organization: Organization, lead: Lead) -> str:
    """Where the lead's person comes from, in a sentence the customer can repeat to them when
    first making contact: the register (and the file's import date) or the company's own page
    that names them. Empty when the directory no longer knows (erased, or the role is gone)."""
    from enrichment.models import ImportRun, ImportStatus, Role

    person_id, company_id = lead.person_id, lead.company_id
    if lead.organization_id != organization.id or person_id is None or company_id is None:
        return ""
    role = (
        Role.objects.filter(person_id=person_id, company_id=company_id)
        .select_related("source")
        .order_by("-is_current", "id")
        .first()
    )
    if role is None:
        return ""
    details = role.details or {}
    if details.get("source") == "website" and details.get("source_url"):
        return _("Named on the company's website, %(url)s (read %(date)s).") % {
            "url": details["source_url"],
            "date": f"{role.updated_at:%d %b %Y}",
        }
    if role.source is None:
        return ""
    run = (
        ImportRun.objects.filter(source=role.source, status=ImportStatus.SUCCEEDED)
        .order_by("-started_at")
        .first()
    )
    values = {"role": role.get_kind_display(), "register": role.source.name}
    if run is None:
        return _("Listed as %(role)s in %(register)s.") % values
    return _("Listed as %(role)s in %(register)s, imported %(date)s.") % {
        **values,
        "date": f"{run.started_at:%d %b %Y}",
    }


def lead_usage_event(*, organization: Organization, lead_id: int) -> UsageEvent | None:
    return UsageEvent.objects.for_org(organization).filter(lead_id=lead_id).first()


def calendar_leads(
    *, organization: Organization, start: dt.date, end: dt.date
) -> dict[dt.date, list[Lead]]:
    """Scheduled leads from `start` to `end` inclusive, by day."""
    by_day: dict[dt.date, list[Lead]] = defaultdict(list)
    qs = (
        Lead.objects.for_org(organization)
        .filter(status__in=SCHEDULED, scheduled_date__gte=start, scheduled_date__lte=end)
        .order_by("scheduled_date", "id")
    )
    for lead in qs:
        by_day[lead.scheduled_date].append(lead)
    return by_day


@dataclass
class CalendarDay:
    date: dt.date
    in_month: bool
    working: bool
    leads: list[Lead]


def calendar_month(*, organization: Organization, year: int, month: int) -> list[list[CalendarDay]]:
    """The month as weeks (Monday first) of days with their scheduled leads."""
    weeks_dates = pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    start, end = weeks_dates[0][0], weeks_dates[-1][-1]
    by_day = calendar_leads(organization=organization, start=start, end=end)
    working = set(organization.working_days)
    return [
        [
            CalendarDay(
                date=d,
                in_month=d.month == month,
                working=d.weekday() in working,
                leads=by_day.get(d, []),
            )
            for d in week
        ]
        for week in weeks_dates
    ]


# The days the calendar pages and API accept: a shown day's week and its neighbouring months
# must stay within what a Python date can hold (year 1 to 9999).
CALENDAR_FIRST_DAY = dt.date(1900, 1, 1)
CALENDAR_LAST_DAY = dt.date(9998, 12, 31)


def calendar_week(*, organization: Organization, day: dt.date) -> list[CalendarDay]:
    """The Monday-to-Sunday week containing `day`."""
    monday = day - dt.timedelta(days=day.weekday())
    sunday = monday + dt.timedelta(days=6)
    by_day = calendar_leads(organization=organization, start=monday, end=sunday)
    working = set(organization.working_days)
    return [
        CalendarDay(date=d, in_month=True, working=d.weekday() in working, leads=by_day.get(d, []))
        for d in (monday + dt.timedelta(days=i) for i in range(7))
    ]


def calendar_feed_of_user(*, organization: Organization, user_id: int) -> CalendarFeed | None:
    """The member's current ICS feed, if any (its token is never readable again)."""
    return CalendarFeed.objects.for_org(organization).filter(user_id=user_id).first()


def search_runs_of_organization(*, organization: Organization) -> QuerySet[SearchRun]:
    return (
        SearchRun.objects.for_org(organization)
        .select_related("segment")
        .order_by("-run_date", "-id")
    )


def search_run_get(*, organization: Organization, run_id: int) -> SearchRun:
    return SearchRun.objects.for_org(organization).select_related("segment").get(pk=run_id)


def search_run_candidates(*, organization: Organization, run: SearchRun) -> QuerySet:
    return SearchCandidate.objects.for_org(organization).filter(run=run).order_by("id")


@dataclass(frozen=True)
class CandidateRow:
    candidate: SearchCandidate
    company_name: str
    company_ref: str  # "GB 01234567"
    person_name: str


def search_run_candidate_rows(
    *, organization: Organization, run: SearchRun, limit: int = 500
) -> tuple[list[CandidateRow], int]:
    """The first `limit` candidates a run tried, with the directory's company and person names
    (three queries whatever the number), and how many there are in all."""
    from enrichment.models import Company, Person

    qs = search_run_candidates(organization=organization, run=run)
    candidates = list(qs[:limit])
    total = len(candidates) if len(candidates) < limit else qs.count()
    companies = {
        c["id"]: c
        for c in Company.objects.filter(id__in={c.company_id for c in candidates}).values(
            "id", "name", "country", "registry_id"
        )
    }
    people = dict(
        Person.objects.filter(id__in={c.person_id for c in candidates}).values_list(
            "id", "full_name"
        )
    )
    rows = []
    for c in candidates:
        company = companies.get(c.company_id)
        rows.append(
            CandidateRow(
                candidate=c,
                company_name=company["name"] if company else f"company {c.company_id}",
                company_ref=f"{company['country']} {company['registry_id']}" if company else "",
                person_name=people.get(c.person_id, f"person {c.person_id}"),
            )
        )
    return rows, total


def verification_rate_recent(
    *, organization: Organization, segment: Any = None, days: int = 14, min_tried: int = 20
) -> float | None:
    """Share of tried candidates whose decision-maker contact was verified in the last `days`
    of finished runs (the segment's own when it has enough history, else the organisation's).
    None when there are fewer than `min_tried` tried candidates to go on."""
    since = dt.datetime.now(tz=organization.tz).date() - dt.timedelta(days=days)
    runs = SearchRun.objects.for_org(organization).filter(
        run_date__gte=since, finished_at__isnull=False
    )
    scopes = [runs.filter(segment_id=segment.id)] if getattr(segment, "id", None) else []
    for qs in [*scopes, runs]:
        totals = qs.aggregate(verified=Sum("verified"), unverified=Sum("unverified"))
        tried = (totals["verified"] or 0) + (totals["unverified"] or 0)
        if tried >= min_tried:
            return (totals["verified"] or 0) / tried
    return None


@dataclass(frozen=True)
class Overview:
    awaiting_approval: int
    scheduled_today: int
    charged_this_month: int
    quota: int
    recent_runs: list[SearchRun]


def leads_overview(*, organization: Organization, now: dt.datetime | None = None) -> Overview:
    """The figures of the dashboard's overview page (four queries)."""
    from billing.models import BillingPeriod
    from billing.services import billing_month_of, billing_quota_of

    now = now or dt.datetime.now(tz=dt.UTC)
    today = now.astimezone(organization.tz).date()
    counts = Lead.objects.for_org(organization).aggregate(
        awaiting=Count("id", filter=Q(status=LeadStatus.PENDING_APPROVAL)),
        today=Count("id", filter=Q(status__in=SCHEDULED, scheduled_date=today)),
    )
    period = (
        BillingPeriod.objects.for_org(organization)
        .filter(period_start=billing_month_of(organization=organization, at=now))
        .first()
    )
    return Overview(
        awaiting_approval=counts["awaiting"],
        scheduled_today=counts["today"],
        charged_this_month=period.units_net if period else 0,
        quota=period.quota_included if period else billing_quota_of(organization=organization),
        recent_runs=list(search_runs_of_organization(organization=organization)[:6]),
    )
