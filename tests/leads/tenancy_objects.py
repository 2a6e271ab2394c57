"""Objects of the leads app that URLs point at (see tests/tenancy_registry.py).

A lead is delivered through `lead_deliver`, the nightly search's own service, with a finding as
the verification engine returns it (no network: the matrix needs many leads, not the engine).
"""

from __future__ import annotations

import datetime as dt
import itertools

from enrichment.services import ContactFinding
from leads.models import Lead, SearchRun
from leads.services import lead_deliver, search_run_get_or_create
from segments.services import segment_activate, segment_create
from tests.factories import CompanyFactory, PersonFactory
from tests.tenancy_registry import register_object

_seq = itertools.count(1)


def _run(tenant) -> SearchRun:
    n = next(_seq)
    segment = segment_create(
        organization=tenant.org,
        name=f"{tenant.org.slug} segment {n}",
        criteria={"countries": ["GB"]},
    )
    # The companies these helpers make have no officers: activate as a customer who confirmed that.
    segment_activate(
        organization=tenant.org, segment_id=segment.id, confirm_no_decision_makers=True
    )
    run, _ = search_run_get_or_create(
        organization=tenant.org, segment=segment, run_date=dt.date(2026, 11, 26)
    )
    return run


@register_object("run_id")
def make_run(tenant) -> SearchRun:
    return _run(tenant)


@register_object("lead_id")
def make_lead(tenant) -> Lead:
    run = _run(tenant)
    n = next(_seq)
    company = CompanyFactory(name=f"{tenant.org.slug} Widgets {n} Ltd", website_domain="w.example")
    person = PersonFactory(first_name="Kari", last_name=f"{tenant.org.slug}{n}")
    finding = ContactFinding(
        verified=True,
        contact_point_id=None,
        kind="email",
        value=f"kari.{tenant.org.slug}{n}@w.example",
        status="valid",
        reason=None,
        evidence={"verification": {"smtp": ["250 2.1.5 OK"]}},
    )
    return lead_deliver(
        organization=tenant.org,
        run=run,
        company=company,
        person=person,
        role_kind="ceo",
        finding=finding,
        checked_at=dt.datetime.now(tz=dt.UTC),
        delivery_mode="approval",
    )
