"""The preview's counts, fast at any directory size: exact when cheap, estimated from a sample
otherwise, and never a query longer than a statement timeout.

Contract (segment_match_counts in selectors.py is the entry point):
- Counts are of the matching query's companies (company-level exclusions applied) and of those
  with a wanted, non-excluded decision-maker, as in matching.py.
- `estimated` is False only for an exact count. An estimate comes from a systematic sample of
  the criteria's company-id range (a quarter of LEADPILOT_PREVIEW_SAMPLE_COMPANIES ids, then
  all of them while fewer than SAMPLE_MIN_HITS companies match, in SAMPLE_BLOCKS evenly spaced
  blocks, scaled by the range over the sampled ids), rounded to two significant digits so it
  never looks more precise than it is.
- Exact when the criteria's id range is no larger than the sample (the sample is then the whole
  range), or when the sample estimates at most LEADPILOT_PREVIEW_EXACT_MAX companies and the
  exact counts finish within the timeout.
- Every statement runs under LEADPILOT_PREVIEW_STATEMENT_TIMEOUT_MS: `SET LOCAL
  statement_timeout` in its own transaction (savepoint) on PostgreSQL, a progress handler that
  interrupts the statement on SQLite. An exact count cut off falls back to the sample's
  estimate; a sample cut off (a directory far larger than the sample, on a starved server)
  falls back to the planner's row estimate on PostgreSQL.
- Deterministic: the same data gives the same sample, so an estimate does not jump while the
  user types.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import BooleanField, Max, Min, Q, QuerySet
from django.db.models.expressions import RawSQL

from blocklists.models import Suppression
from blocklists.normalize import identifier_hash
from enrichment.models import Company, ContactPoint, Role
from organizations.models import Organization

from .criteria import SegmentCriteria
from .matching import candidate_roles, matching_companies, person_exclusions

# Blocks the sample is split into: enough to follow how the data changes along the id order
# (registry number, incorporation date), few enough to stay a handful of index range scans.
SAMPLE_BLOCKS = 20
# Matching companies a sample must hold for its estimate to stand (relative error about
# 1 / sqrt(hits): 5 %); fewer, and the sample grows (match_counts).
SAMPLE_MIN_HITS = 400


@dataclass(frozen=True)
class MatchCounts:
    companies: int
    with_decision_maker: int
    estimated: bool = False


class PreviewTimeout(Exception):
    """A preview statement ran into LEADPILOT_PREVIEW_STATEMENT_TIMEOUT_MS."""


def _is_timeout(exc: BaseException) -> bool:
    cause = exc.__cause__
    if connection.vendor == "postgresql":
        from psycopg import errors

        return isinstance(cause, errors.QueryCanceled)
    return isinstance(cause, sqlite3.OperationalError) and "interrupt" in str(cause)


@contextmanager
def _statement_timeout(timeout_ms: int) -> Iterator[None]:
    """Run the block's statements with a time limit each; PreviewTimeout when one is cut off.

    PostgreSQL: SET LOCAL in a transaction (a savepoint inside a caller's), with the planner's
    random_page_cost of the matching query (selectors._matching_plan). SQLite has no statement
    timeout: a progress handler interrupts the running statement once the time is up.
    """
    try:
        if connection.vendor == "postgresql":
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [f"{int(timeout_ms)}ms"]
                )
                cost = float(settings.LEADPILOT_MATCH_RANDOM_PAGE_COST)
                if cost > 0:
                    cursor.execute("SELECT set_config('random_page_cost', %s, true)", [f"{cost:g}"])
                yield
        elif connection.vendor == "sqlite":
            connection.ensure_connection()
            raw = connection.connection
            deadline = time.monotonic() + timeout_ms / 1000

            def interrupt() -> int:
                return 1 if time.monotonic() > deadline else 0

            raw.set_progress_handler(interrupt, 1000)
            try:
                yield
            finally:
                raw.set_progress_handler(None, 0)
        else:
            yield
    except OperationalError as exc:
        if _is_timeout(exc):
            raise PreviewTimeout(str(exc)) from exc
        raise


def id_ranges(criteria: SegmentCriteria) -> list[tuple[int, int]]:
    """The company-id ranges the criteria can match: one per country in the criteria (from the
    (country, id) index; registries are imported one country at a time), else the directory's."""
    countries: Sequence[str | None] = criteria.countries or [None]
    ranges = []
    for country in countries:
        companies = (
            Company.objects.all() if country is None else Company.objects.filter(country=country)
        )
        bounds = companies.aggregate(lo=Min("id"), hi=Max("id"))
        if bounds["lo"] is not None:
            ranges.append((bounds["lo"], bounds["hi"]))
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def sample_ranges(ranges: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """`size` ids of `ranges` in SAMPLE_BLOCKS evenly spaced blocks (inclusive bounds); the
    whole ranges when they hold no more than `size` ids."""
    total = sum(hi - lo + 1 for lo, hi in ranges)
    if total <= size:
        return list(ranges)
    blocks = min(SAMPLE_BLOCKS, size)
    width = size // blocks
    out: list[tuple[int, int]] = []
    for i in range(blocks):
        # The block's first position in the concatenated ranges, centred in its stratum.
        start = (2 * i + 1) * total // (2 * blocks) - width // 2
        remaining = width
        for lo, hi in ranges:
            length = hi - lo + 1
            if start >= length:
                start -= length
                continue
            take = min(remaining, length - start)
            out.append((lo + start, lo + start + take - 1))
            remaining -= take
            start = 0
            if not remaining:
                break
    return out


def _suppressed(person_ids: set[int]) -> set[int]:
    """Those of these people with a known e-mail/phone on the global suppression list: their
    contact points' hashes looked up in the list (matching.person_suppressed, for a few
    thousand people; the anti-join reads the whole list, 20,000 probes at 500k companies).

    PostgreSQL gets each id list as one array parameter: an IN list of 30,000 placeholders
    took longer to compile than the query took to run."""
    ids = list(person_ids)
    hashes: dict[str, set[int]] = {}
    if connection.vendor == "postgresql":
        contact_table = ContactPoint._meta.db_table
        suppression_table = Suppression._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT person_id, normalized FROM {contact_table} WHERE person_id = ANY(%s)",  # noqa: S608 - table names from the models
                [ids],
            )
            for person_id, normalized in cursor.fetchall():
                hashes.setdefault(identifier_hash(normalized), set()).add(person_id)
            cursor.execute(
                f"SELECT identifier_hash FROM {suppression_table}"  # noqa: S608 - as above
                " WHERE identifier_hash = ANY(%s)",
                [list(hashes)],
            )
            found = [row[0] for row in cursor.fetchall()]
    else:
        for start in range(0, len(ids), 500):  # SQLite's limit on a statement's parameters
            contacts = ContactPoint.objects.filter(person_id__in=ids[start : start + 500])
            for person_id, normalized in contacts.values_list("person_id", "normalized"):
                hashes.setdefault(identifier_hash(normalized), set()).add(person_id)
        keys = list(hashes)
        found = []
        for start in range(0, len(keys), 500):
            found += Suppression.objects.filter(
                identifier_hash__in=keys[start : start + 500]
            ).values_list("identifier_hash", flat=True)
    return {person for h in found for person in hashes[h]}


def _company_in(ids: list[int]) -> Q:
    """The role's company is one of `ids`: one array parameter on PostgreSQL (an IN list of
    thousands of placeholders takes longer to compile than to run)."""
    if connection.vendor == "postgresql":
        table = Role._meta.db_table
        condition = f'"{table}"."company_id" = ANY(%s)'  # the model's table; ids as a parameter
        return Q(RawSQL(condition, (ids,), output_field=BooleanField()))  # noqa: S611
    return Q(company_id__in=ids)


def _counts(
    *,
    organization: Organization,
    criteria: SegmentCriteria,
    today: dt.date,
    ranges: list[tuple[int, int]],
) -> tuple[int, int]:
    """(companies, companies with a decision-maker) among the companies with ids in `ranges`.

    The matching companies' ids are fetched (criteria and company-level exclusions evaluated
    once), then their wanted current roles by company id with the person-level exclusions but
    the suppression list, which is applied to those people in _suppressed: a few thousand rows
    for a sample or a small segment."""
    company_ids = list(
        matching_companies(
            organization=organization, criteria=criteria, today=today, id_ranges=ranges
        ).values_list("id", flat=True)
    )
    if not company_ids:
        return 0, 0
    pairs: set[tuple[int, int]] = set()
    chunk = len(company_ids) if connection.vendor == "postgresql" else 500  # SQLite's limit
    for start in range(0, len(company_ids), chunk):
        pairs |= set(
            Role.objects.filter(
                _company_in(company_ids[start : start + chunk]),
                *person_exclusions(organization=organization, suppression=False),
                is_current=True,
                kind__in=list(criteria.roles),
            ).values_list("company_id", "person_id")
        )
    suppressed = _suppressed({person for _, person in pairs}) if pairs else set()
    with_dm = len({company for company, person in pairs if person not in suppressed})
    return len(company_ids), with_dm


def round_estimate(value: float) -> int:
    """Two significant digits: 48,213 -> 48,000; 1,234,567 -> 1,200,000; 7.4 -> 7."""
    if value < 100:
        return round(value)
    digits = len(str(int(value))) - 2
    return int(round(value, -digits))


def _planner_rows(queryset: QuerySet) -> int:
    raw = queryset.explain(format="json")
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return int(plan["Plan Rows"])


def _planner_estimate(
    *, organization: Organization, criteria: SegmentCriteria, today: dt.date
) -> MatchCounts:
    """The planner's row estimates (EXPLAIN, nothing executed): the last resort, PostgreSQL only."""
    if connection.vendor != "postgresql":
        raise PreviewTimeout("the preview's sample did not finish in time")
    companies = _planner_rows(
        matching_companies(organization=organization, criteria=criteria, today=today)
    )
    roles = candidate_roles(organization=organization, criteria=criteria, today=today)
    with_dm = min(_planner_rows(roles.values("company_id").distinct()), companies)
    return MatchCounts(round_estimate(companies), round_estimate(with_dm), estimated=True)


def match_counts(
    *, organization: Organization, criteria: SegmentCriteria, today: dt.date
) -> MatchCounts:
    """The preview's two counts, exact or estimated (see the module's contract).

    The sample grows in two steps: a quarter of LEADPILOT_PREVIEW_SAMPLE_COMPANIES first, which
    settles a broad segment (at least SAMPLE_MIN_HITS matching companies: about 5 % error) and a
    selective one (an estimate under LEADPILOT_PREVIEW_EXACT_MAX: counted exactly), then the
    whole sample for what lies between.

    PreviewTimeout only when even the planner's estimate could not be had in time (a table
    locked by a migration, a starved server): the caller says the count is unavailable.
    """
    timeout_ms = int(settings.LEADPILOT_PREVIEW_STATEMENT_TIMEOUT_MS)
    sample_size = int(settings.LEADPILOT_PREVIEW_SAMPLE_COMPANIES)
    exact_max = int(settings.LEADPILOT_PREVIEW_EXACT_MAX)
    try:
        with _statement_timeout(timeout_ms):
            ranges = id_ranges(criteria)
        if not ranges:
            return MatchCounts(0, 0)
        total = sum(hi - lo + 1 for lo, hi in ranges)
        for size in (max(sample_size // 4, 1), sample_size):
            sample = sample_ranges(ranges, size)
            with _statement_timeout(timeout_ms):
                companies, with_dm = _counts(
                    organization=organization, criteria=criteria, today=today, ranges=sample
                )
            sampled = sum(hi - lo + 1 for lo, hi in sample)
            if sampled == total:
                return MatchCounts(companies, with_dm)
            scale = total / sampled
            estimate = MatchCounts(
                round_estimate(companies * scale), round_estimate(with_dm * scale), estimated=True
            )
            if companies * scale <= exact_max:
                break  # small enough to count exactly
            if companies >= SAMPLE_MIN_HITS:
                return estimate
        else:
            return estimate
    except PreviewTimeout:
        with _statement_timeout(timeout_ms):
            return _planner_estimate(organization=organization, criteria=criteria, today=today)
    try:
        with _statement_timeout(timeout_ms):
            companies, with_dm = _counts(
                organization=organization, criteria=criteria, today=today, ranges=ranges
            )
    except PreviewTimeout:
        return estimate
    return MatchCounts(companies, with_dm)
