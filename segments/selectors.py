"""Reads of segments, and the matching query's two entry points (contract C).

segment_candidates(*, organization, segment, limit=None) -> list[Candidate]
segment_preview(*, organization, segment) -> Preview
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from organizations.models import Organization

from . import estimates
from .counting import MatchCounts, match_counts
from .criteria import SegmentCriteria
from .matching import candidate_queryset, candidate_skips
from .models import Segment, SegmentStatus


@dataclass(frozen=True)
class Candidate:
    company_id: int
    person_id: int
    role_kind: str
    # How likely a verified contact is (matching.contact_rank); not part of the identity.
    contact_rank: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Preview:
    companies: int  # N companies match (after company-level exclusions)
    with_decision_maker: int  # M of them have a wanted, non-excluded decision-maker
    estimated_charged: int  # tonight: M x verification rate, capped by nightly cap and quota
    verification_rate: float = estimates.DEFAULT_VERIFICATION_RATE
    nightly_cap: int | None = None
    quota_remaining: int | None = None
    # The two counts are estimated from a sample (rounded to two significant digits), not exact.
    estimated: bool = False


def _criteria_of(segment: Any) -> SegmentCriteria:
    if isinstance(segment, SegmentCriteria):
        return segment
    return SegmentCriteria.from_dict(segment.criteria)


def organization_today(*, organization: Organization) -> dt.date:
    return timezone.now().astimezone(organization.tz).date()


@contextmanager
def _matching_plan() -> Iterator[None]:
    """Plan the matching query for storage where a random read costs about a sequential one.

    With PostgreSQL's default random_page_cost (4.0, spinning disks) the planner scans every
    current role and hash-joins the matching companies, instead of probing the role index per
    matching company: 3-4x slower for a selective segment (bench/match.py). The setting is local
    to this statement's transaction (LEADPILOT_MATCH_RANDOM_PAGE_COST; 0 leaves the server's).
    """
    cost = float(settings.LEADPILOT_MATCH_RANDOM_PAGE_COST)
    if connection.vendor != "postgresql" or cost <= 0:
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL random_page_cost = {cost:g}")
        yield


def segment_candidates(
    *, organization: Organization, segment: Segment | SegmentCriteria, limit: int | None = None
) -> list[Candidate]:
    """Candidates for a segment in deterministic order (company id), at most `limit`.

    One SQL statement on PostgreSQL (DISTINCT ON picks the best role per company). `segment` may
    be unsaved criteria (the editor's preview). The caller checks the segment belongs to
    `organization`; a segment of another organisation is refused here as well.
    """
    if isinstance(segment, Segment) and segment.organization_id != organization.pk:
        raise ValueError("segment belongs to another organisation")
    criteria = _criteria_of(segment)
    qs = candidate_queryset(
        organization=organization,
        criteria=criteria,
        today=organization_today(organization=organization),
    )
    if connection.vendor == "postgresql":
        qs = qs.distinct("company_id")
        if limit is not None:
            qs = qs[:limit]
        with _matching_plan():
            return [Candidate(c, p, k, r) for c, p, k, r in qs]
    # Embedded SQLite: no DISTINCT ON; the rows come ordered, keep the first per company.
    out: list[Candidate] = []
    last = None
    for company_id, person_id, kind, rank in qs.iterator():
        if company_id == last:
            continue
        last = company_id
        out.append(Candidate(company_id, person_id, kind, rank))
        if limit is not None and len(out) >= limit:
            break
    return out


def segment_candidate_skips(
    *,
    organization: Organization,
    segment: Segment | SegmentCriteria,
    through: int | None,
    ignore: frozenset[tuple[int, int]] | set[tuple[int, int]] = frozenset(),
) -> dict[str, int]:
    """People the matching query skipped as blocked, suppressed or already delivered at
    companies with an id up to `through` (None: the whole segment). See matching.candidate_skips."""
    return candidate_skips(
        organization=organization,
        criteria=_criteria_of(segment),
        today=organization_today(organization=organization),
        through=through,
        ignore=ignore,
    )


def segment_match_counts(
    *, organization: Organization, segment: Segment | SegmentCriteria
) -> MatchCounts:
    """Companies matching and those with a wanted decision-maker, exclusions applied: exact when
    cheap, else estimated from a sample and flagged `estimated` (segments/counting.py), every
    statement under LEADPILOT_PREVIEW_STATEMENT_TIMEOUT_MS."""
    return match_counts(
        organization=organization,
        criteria=_criteria_of(segment),
        today=organization_today(organization=organization),
    )


def segment_preview(
    *,
    organization: Organization,
    segment: Segment | SegmentCriteria,
    nightly_cap: int | None = None,
) -> Preview:
    """ "N companies match, M of them with a wanted decision-maker" and tonight's estimated charged
    leads: M x recent verification rate, capped by the nightly cap and the quota left this month.
    N and M are "about" figures when `estimated` (segment_match_counts)."""
    counts = segment_match_counts(organization=organization, segment=segment)
    with_dm = counts.with_decision_maker
    saved = segment if isinstance(segment, Segment) else None
    cap = nightly_cap if nightly_cap is not None else (saved.nightly_cap if saved else None)
    rate = estimates.verification_rate(organization=organization, segment=saved)
    remaining = estimates.quota_remaining(organization=organization)
    estimate = round(with_dm * rate)
    if cap is not None:
        estimate = min(estimate, cap)
    estimate = min(estimate, remaining)
    return Preview(
        companies=counts.companies,
        with_decision_maker=with_dm,
        estimated_charged=estimate,
        verification_rate=rate,
        nightly_cap=cap,
        quota_remaining=remaining,
        estimated=counts.estimated,
    )


def segments_of_organization(
    *, organization: Organization, include_archived: bool = False
) -> QuerySet[Segment]:
    qs = Segment.objects.for_org(organization).order_by("name", "id")
    if not include_archived:
        qs = qs.exclude(status=SegmentStatus.ARCHIVED)
    return qs


def segments_active(*, organization: Organization) -> QuerySet[Segment]:
    """The segments the nightly search runs for this organisation."""
    return Segment.objects.for_org(organization).filter(status=SegmentStatus.ACTIVE).order_by("id")


def segment_get(*, organization: Organization, segment_id: int) -> Segment:
    """A segment of this organisation; Segment.DoesNotExist for foreign or missing ids."""
    return Segment.objects.for_org(organization).get(pk=segment_id)
