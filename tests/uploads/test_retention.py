"""Uploaded data belongs to the organisation: it never enters the shared directory, and it is
deleted with the upload after LEADPILOT_UPLOAD_RETENTION_DAYS (the beat's uploads.delete_expired)."""

from __future__ import annotations

import datetime as dt
import io

from django.utils import timezone

from enrichment.models import Company, Person
from uploads.models import Upload, UploadRow
from uploads.services import UploadInput, upload_create, upload_start
from uploads.tasks import uploads_delete_expired_task


def make(tenant, text: str):
    return upload_create(
        organization=tenant.org,
        created_by=tenant.admin,
        data=UploadInput(
            file=io.BytesIO(text.encode()), filename="l.csv", size=len(text), kind="companies"
        ),
    )


def test_uploads_are_deleted_after_the_retention_period_and_never_reach_the_directory(
    tenant_a, tenant_b, settings, django_capture_on_commit_callbacks
):
    settings.LEADPILOT_UPLOAD_RETENTION_DAYS = 30
    companies, people = Company.objects.count(), Person.objects.count()
    old = make(
        tenant_a, "Company name,City,Website\nNowhere Widgets Ltd,Leeds,\n,,nowhere.invalid\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        upload_start(organization=tenant_a.org, upload_id=old.id)
    assert (Company.objects.count(), Person.objects.count()) == (companies, people)
    running = make(tenant_a, "Company number,Country\n00000777,GB\n")
    recent = make(tenant_b, "Company number,Country\n00000778,GB\n")
    long_ago = timezone.now() - dt.timedelta(days=31)
    Upload.all_orgs.filter(pk__in=[old.pk, running.pk]).update(created_at=long_ago)
    Upload.all_orgs.filter(pk=running.pk).update(status="running")

    assert uploads_delete_expired_task() == 1
    assert not Upload.all_orgs.filter(pk=old.pk).exists()
    assert not UploadRow.all_orgs.filter(upload_id=old.pk).exists()
    assert Upload.all_orgs.filter(pk__in=[running.pk, recent.pk]).count() == 2
    assert uploads_delete_expired_task() == 0  # idempotent
