"""Production: secrets and hosts are required from the environment; HTTPS everywhere."""

from .base import *  # noqa: F403
from .base import (
    INSTALLED_APPS,
    LEADPILOT_DB_POOL_MAX,
    LEADPILOT_DB_POOL_MIN,
    LEADPILOT_DB_POOL_TIMEOUT,
    database_pooled,
    env,
)

# The simulated internet (demo, tests, benchmarks) never ships: no demo/generate_world/sandbox
# command in production, and no production module imports it (tests/deploy/).
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "sandbox"]

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# One pool per process (base.py; LEADPILOT_DB_POOL_MAX=0 keeps CONN_MAX_AGE's persistent
# connections instead).
DATABASES["default"] = database_pooled(
    DATABASES["default"],
    min_size=LEADPILOT_DB_POOL_MIN,
    max_size=LEADPILOT_DB_POOL_MAX,
    timeout=LEADPILOT_DB_POOL_TIMEOUT,
)

# Webhooks go to public HTTPS receivers only (webhooks/guard.py), whatever the environment says.
LEADPILOT_WEBHOOKS_ALLOW_PRIVATE = False
LEADPILOT_WEBHOOKS_REQUIRE_HTTPS = True

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The TLS proxy that sets that header also puts the client's address last in X-Forwarded-For
# (docker-compose.yml: Caddy, the only way in; gunicorn is not published). Exposing gunicorn
# directly with this setting lets every client choose its own address, escaping the lockout.
LEADPILOT_TRUSTED_PROXIES = env.int("LEADPILOT_TRUSTED_PROXIES", default=1)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
EMAIL_CONFIG = env.email_url("EMAIL_URL")
vars().update(EMAIL_CONFIG)
