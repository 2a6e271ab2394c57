"""Test settings: PostgreSQL and Redis as in production, fast hashing, eager tasks by default.

Tests that need a real worker start one with CELERY_BROKER_URL pointing at Redis.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/leadpilot")

from .base import *  # noqa: F403
from .base import env

DATABASES = {"default": env.db("DATABASE_URL")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Webhook receivers in tests listen on loopback over plain http (tests/webhooks/ switch both back
# to see the production guard).
LEADPILOT_WEBHOOKS_ALLOW_PRIVATE = True
LEADPILOT_WEBHOOKS_REQUIRE_HTTPS = False
