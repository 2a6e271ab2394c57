"""The Celery app. Broker from CELERY_BROKER_URL; without it tasks run eagerly in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadpilot.settings.base")

app = Celery("leadpilot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
