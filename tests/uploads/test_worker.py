"""A real Celery worker SIGKILLed mid-job: the task comes back (acks_late), the job resumes
where the committed rows end, and no row is charged twice (PostgreSQL, Redis, loopback peers)."""

from __future__ import annotations

import io

from billing.models import UsageEvent
from billing.selectors import billing_invariant_violations
from leads.models import Lead
from tests.leads.workers import wait_until
from tests.leads.world import world_build
from uploads.models import Upload, UploadRow, UploadStatus
from uploads.services import UploadInput, upload_create, upload_start


def test_a_killed_worker_resumes_the_upload_with_no_double_charge(
    workers, sandbox, prefix, tenant_a, tenant_b
):
    org = tenant_a.org
    org.monthly_lead_quota = 100
    org.save(update_fields=["monthly_lead_quota"])
    world = world_build(prefix=prefix, size=40, verifiable=lambda i: i % 4 != 0)  # 30 verifiable
    sandbox(world.domains, smtp_latency_ms=40)
    text = "Company number,Country\n" + "".join(f"{c.registry_id},GB\n" for c in world.companies)
    up = upload_create(
        organization=org,
        created_by=tenant_a.admin,
        data=UploadInput(
            file=io.BytesIO(text.encode()), filename="l.csv", size=len(text), kind="companies"
        ),
    )
    env = {"LEADPILOT_UPLOAD_CHUNK": "2"}
    first = workers.start(env=env)
    upload_start(organization=org, upload_id=up.id)
    try:
        wait_until(
            lambda: UsageEvent.objects.for_org(org).count() >= 3, timeout=90, what="first charges"
        )
    except AssertionError:
        raise AssertionError(workers.logs()) from None
    workers.kill(first)
    up.refresh_from_db()
    assert up.status == UploadStatus.RUNNING and up.rows_done < 40, "cut off mid-way"

    workers.start(env=env)  # the message comes back after the visibility timeout
    try:
        wait_until(
            lambda: Upload.objects.for_org(org).get(pk=up.pk).is_finished,
            timeout=120,
            what="the resumed job to finish",
        )
    except AssertionError:
        raise AssertionError(workers.logs()) from None
    up.refresh_from_db()
    assert up.status == UploadStatus.COMPLETED
    rows = UploadRow.objects.for_org(org).filter(upload=up)
    assert rows.filter(outcome="found").count() == 30
    assert rows.filter(outcome="unverified").count() == 10
    events = UsageEvent.objects.for_org(org)
    assert events.count() == 30 == Lead.objects.for_org(org).count()
    assert len({e.lead_id for e in events}) == 30
    assert up.rows_done == 40 and up.rows_charged == 30
    assert billing_invariant_violations(organization=org) == []
    assert not UsageEvent.objects.for_org(tenant_b.org).exists()
