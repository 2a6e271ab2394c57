"""The segment preview's cost estimate uses the nightly search's real verification rate and the
ledger's quota, once there is history to go on."""

import datetime as dt

from django.utils import timezone

from leads.models import SearchRun, SearchRunStatus
from segments.criteria import SegmentCriteria
from segments.estimates import DEFAULT_VERIFICATION_RATE
from segments.selectors import segment_preview
from segments.services import segment_create
from tests.factories import CompanyFactory, RoleFactory


def _finished_run(org, segment, *, day, verified, unverified):
    return SearchRun.objects.create(
        organization=org,
        segment=segment,
        run_date=day,
        status=SearchRunStatus.SUCCEEDED,
        verified=verified,
        unverified=unverified,
        finished_at=timezone.now(),
    )


def test_preview_rate_comes_from_recent_runs_of_the_segment(tenant_a, tenant_b):
    for _ in range(10):
        RoleFactory(company=CompanyFactory())
    seg_a = segment_create(organization=tenant_a.org, name="A", nightly_cap=100)
    seg_b = segment_create(organization=tenant_b.org, name="B", nightly_cap=100)
    criteria = SegmentCriteria.from_dict({})
    today = dt.datetime.now(tz=tenant_a.org.tz).date()

    # No history yet: the default rate.
    assert segment_preview(organization=tenant_a.org, segment=criteria).verification_rate == (
        DEFAULT_VERIFICATION_RATE
    )
    _finished_run(tenant_a.org, seg_a, day=today, verified=20, unverified=80)
    # Another organisation's history never leaks into this one's estimate.
    _finished_run(tenant_b.org, seg_b, day=today, verified=90, unverified=10)
    # A run older than the window does not count.
    _finished_run(
        tenant_a.org, seg_a, day=today - dt.timedelta(days=40), verified=100, unverified=0
    )

    preview = segment_preview(organization=tenant_a.org, segment=seg_a)
    assert preview.verification_rate == 0.2
    assert preview.estimated_charged == 2  # 10 matches x 0.2
    assert segment_preview(organization=tenant_b.org, segment=seg_b).verification_rate == 0.9


def test_preview_quota_comes_from_the_ledger(tenant_a):
    from blocklists.services import delivery_record_add

    tenant_a.org.monthly_lead_quota = 7
    tenant_a.org.save(update_fields=["monthly_lead_quota"])
    # Delivered but never charged (no usage event): the ledger, not the delivery record, counts.
    for _ in range(2):
        r = RoleFactory()
        delivery_record_add(
            organization=tenant_a.org, company_id=r.company_id, person_id=r.person_id, lead_id=None
        )
    preview = segment_preview(organization=tenant_a.org, segment=SegmentCriteria.from_dict({}))
    assert preview.quota_remaining == 7
