"""Settings of the Celery worker processes that the worker tests start: the production settings
plus a visibility timeout of seconds, and a restore sweep every second, so a message whose
worker was SIGKILLed is redelivered within the test (see billing notes R3/R4)."""

import os

from leadpilot.settings.base import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "4")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CELERY_TASK_ALWAYS_EAGER = False
