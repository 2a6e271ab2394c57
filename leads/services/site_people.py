"""Decision-makers from company websites, read by the night that needs them (docs/nightly.md,
step 3).

Where the registry names no officer (Bolagsverket's bulk file names none), a person the
company's own site names with a wanted title becomes a Person and a current Role
(`enrichment.people`, `Role.details` with source and confidence). The hourly task
`enrichment.discover_site_people` does this across the directory; a segment activated today
would wait for it and deliver nothing its first night. So each run reads, before its matching
query, the sites of up to LEADPILOT_SEARCH_SITE_PEOPLE_MAX of the segment's companies that name
no CEO, chair or owner yet and whose site was not read in LEADPILOT_SITE_PEOPLE_RECHECK_DAYS: the
people found are candidates of the same run.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError

from enrichment.people import site_decision_makers_discover
from organizations.models import Organization
from segments.criteria import SegmentCriteria
from segments.matching import matching_companies
from segments.selectors import organization_today

from ..models import SearchRun

logger = logging.getLogger(__name__)

# Role kinds a site can give a decision-maker (enrichment.people.TITLE_KINDS).
SITE_ROLE_KINDS = frozenset({"ceo", "chair", "owner"})


def search_run_site_people(
    *, organization: Organization, run: SearchRun, config: Any = None
) -> dict[str, int]:
    """Read the sites of the run's segment's companies that name no decision-maker yet.

    Rule: only when the segment wants a kind a site can give (CEO, chair, owner); among the
    companies matching the criteria (after the organisation's company-level exclusions), at most
    LEADPILOT_SEARCH_SITE_PEOPLE_MAX (0: off), registry websites first. Side effects: Person and
    Role rows (source "website", page, confidence; enrichment.people.site_decision_makers_create)
    and the per-company read mark in the cache. Idempotent: a company read is not read again
    within the recheck period; an unreachable site is not marked and is read again on the next
    run. A failure to read sites is logged and leaves the run to the registry's people; a
    database error propagates (the task retries). Returns the counts (companies, people,
    unreachable)."""
    limit = int(getattr(settings, "LEADPILOT_SEARCH_SITE_PEOPLE_MAX", 100))
    empty = {"companies": 0, "people": 0, "unreachable": 0}
    if limit <= 0 or run.segment is None:
        return empty
    criteria = SegmentCriteria.from_dict(run.segment.criteria)
    if not SITE_ROLE_KINDS & set(criteria.roles):
        return empty
    companies = matching_companies(
        organization=organization,
        criteria=criteria,
        today=organization_today(organization=organization),
    )
    try:
        found = site_decision_makers_discover(limit=limit, among=companies, config=config)
    except DatabaseError:
        raise
    except Exception:
        logger.exception("run %s: reading company sites for people failed", run.id)
        return empty
    if found["companies"]:
        logger.info("run %s: company sites read for people: %s", run.id, found)
    return found
