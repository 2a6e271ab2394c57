"""Celery entry points of own-list uploads: thin, named, JSON kwargs, idempotent, acks_late.

- `uploads.process`: run or resume one upload's job (uploads/jobs.py); a redelivery after a
  worker was killed resumes where the committed rows end, charging no row twice.
- `uploads.delete_expired` (beat): uploads past LEADPILOT_UPLOAD_RETENTION_DAYS are deleted.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from organizations.models import Organization

from .jobs import upload_process
from .services import uploads_expired_delete


@shared_task(
    name="uploads.process",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=6 * 3600,
    soft_time_limit=6 * 3600 - 60,
)
def upload_process_task(*, organization_id: int, upload_id: int) -> str:
    organization = Organization.objects.get(pk=organization_id)
    return str(upload_process(organization=organization, upload_id=upload_id).status)


@shared_task(name="uploads.delete_expired", acks_late=True, time_limit=3600)
def uploads_delete_expired_task() -> int:
    return uploads_expired_delete()
