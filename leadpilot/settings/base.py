"""Settings for every environment, driven by environment variables (see .env.example).

`test` and `production` override a handful of values. An integration is on when its variable is set.
"""

import datetime
from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

VAR_DIR = Path(env("LEADPILOT_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Local default only; production.py requires DJANGO_SECRET_KEY.
SECRET_KEY = env(
    "DJANGO_SECRET_KEY", default="local-only-insecure-key-do-not-deploy-0123456789abcdef"
)
DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "axes",
    "organizations",
    "enrichment",
    "segments",
    "blocklists",
    "leads",
    "billing",
    "privacy",
    "website",
    "webhooks",
    "uploads",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Django's own 404/500 pages under /api/ as RFC 9457 problems (organizations/api/problems.py).
    "organizations.api.problems.APIProblemMiddleware",
    # Before WhiteNoise, so static files carry the policy too: every response has it.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The language: the profile's, the switch's (session; cookie once functional cookies are
    # allowed), else the browser's Accept-Language. After sessions and auth: it reads both.
    "organizations.language.UserLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadpilot.urls"
WSGI_APPLICATION = "leadpilot.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "organizations.context_processors.tenancy",
                "website.context_processors.operator",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'leadpilot.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default is used by several threads (the nightly pipeline, runserver): WAL lets
    # readers work beside a writer, IMMEDIATE transactions take the write lock up front, and the
    # busy timeout makes a second writer wait instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)

# One connection pool per process (psycopg_pool through Django's OPTIONS "pool"): a process never
# holds more than LEADPILOT_DB_POOL_MAX PostgreSQL connections, however many runs and threads it
# works on, so the total is workers x LEADPILOT_DB_POOL_MAX + web processes x the same + beat
# (docs/deploy.md, "Database connections"). 0 turns pooling off (a connection per thread).
LEADPILOT_DB_POOL_MIN = env.int("LEADPILOT_DB_POOL_MIN", default=2)
LEADPILOT_DB_POOL_MAX = env.int("LEADPILOT_DB_POOL_MAX", default=20)
# Seconds a thread waits for a free connection before the error (the nightly task retries).
LEADPILOT_DB_POOL_TIMEOUT = env.float("LEADPILOT_DB_POOL_TIMEOUT", default=60.0)


def database_pooled(database: dict, *, min_size: int, max_size: int, timeout: float) -> dict:
    """`database` with a psycopg pool of min..max connections (PostgreSQL only; max 0: as is).
    A pooled connection is handed back on close, so CONN_MAX_AGE must be 0 (Django refuses
    persistent connections with a pool)."""
    if database["ENGINE"] != "django.db.backends.postgresql" or max_size <= 0:
        return database
    options = {**database.get("OPTIONS", {})}
    options["pool"] = {
        "min_size": max(0, min(min_size, max_size)),
        "max_size": max_size,
        "timeout": timeout,
    }
    return {**database, "OPTIONS": options, "CONN_MAX_AGE": 0}


DATABASES["default"] = database_pooled(
    DATABASES["default"],
    min_size=LEADPILOT_DB_POOL_MIN,
    max_size=LEADPILOT_DB_POOL_MAX,
    timeout=LEADPILOT_DB_POOL_TIMEOUT,
)

# API rate-limit and password-reset counters (and any other cache use). With several app
# processes this must be a shared cache, e.g. redis://127.0.0.1:6379/1; the in-process default
# suits one process.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "organizations.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# One password-reset e-mail per address per this many minutes (counted in the cache above).
LEADPILOT_PASSWORD_RESET_INTERVAL_MINUTES = env.int(
    "LEADPILOT_PASSWORD_RESET_INTERVAL_MINUTES", default=10
)
# Sign-up attempts per client address (see LEADPILOT_TRUSTED_PROXIES) per hour, counted in the
# cache above; the sign-up e-mail to one address follows the password-reset interval.
LEADPILOT_SIGNUP_ATTEMPTS_PER_HOUR = env.int("LEADPILOT_SIGNUP_ATTEMPTS_PER_HOUR", default=10)

# Login lockout (django-axes): lock the username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "organizations.auth.axes_username"
# Reverse proxies in front of the app that append the client to X-Forwarded-For (0: none, the
# client is REMOTE_ADDR). The lockout and the anonymous API limit take the client IP from there
# (organizations/auth.py).
LEADPILOT_TRUSTED_PROXIES = env.int("LEADPILOT_TRUSTED_PROXIES", default=0)
AXES_CLIENT_IP_CALLABLE = "organizations.auth.client_ip"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp) on every response: scripts, styles, images and fonts come
# from this server only, so an injected <script>, inline handler (onclick=) or style attribute does
# not run. Templates keep behaviour in static/js and looks in static/css; no page needs a nonce or
# an exception, the API docs and the admin included (docs/security.md).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LANGUAGE_CODE = "en-gb"
# Every page and e-mail ships in these languages (locale/, README "Translations");
# tests/test_i18n.py fails on a string without a translation in a shipped catalogue.
LANGUAGES = [("en-gb", "English"), ("sv", "Svenska"), ("nb", "Norsk bokmål")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Set only once the visitor allowed functional cookies (organizations/language.py).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="LeadPilot <noreply@leadpilot.localhost>")
# Absolute links in e-mails (invitations, digests).
SITE_URL = env("LEADPILOT_SITE_URL", default="http://127.0.0.1:8000")

# The operator: whoever hosts this instance. Named in the footer, the cookie banner and the
# policies ("At <operator>, corp. ID no. …"); a self-hoster sets their own (docs/deploy.md).
LEADPILOT_OPERATOR_NAME = env("LEADPILOT_OPERATOR_NAME", default="LeadPilot (self-hosted)")
LEADPILOT_OPERATOR_REG_NO = env("LEADPILOT_OPERATOR_REG_NO", default="")
LEADPILOT_OPERATOR_ADDRESS = env("LEADPILOT_OPERATOR_ADDRESS", default="")
LEADPILOT_OPERATOR_EMAIL = env("LEADPILOT_OPERATOR_EMAIL", default="privacy@leadpilot.localhost")
# The version and date of the terms, privacy and cookie policies. A new version asks every
# visitor's cookie consent again (privacy/consent.py) and is recorded with each sign-up.
LEADPILOT_POLICY_VERSION = env("LEADPILOT_POLICY_VERSION", default="2026-12-07")
LEADPILOT_POLICY_DATE = datetime.date.fromisoformat(
    env("LEADPILOT_POLICY_DATE", default="2026-12-07")
)

# Celery: Redis when CELERY_BROKER_URL is set, otherwise tasks run eagerly in-process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # The nightly search's tick: due runs and morning digests (leads/tasks.py). The database's
    # unique run key, not this schedule, guarantees one run per segment and night.
    "leads-dispatch-nightly": {
        "task": "leads.dispatch_nightly",
        "schedule": env.int("LEADPILOT_DISPATCH_EVERY_SECONDS", default=300),
    },
    # Greylisted e-mail contacts whose re-check time has come (enrichment/tasks.py).
    "enrichment-recheck-greylisted": {
        "task": "enrichment.recheck_greylisted_contacts",
        "schedule": 300,
    },
    # Decision-makers from company websites where the registry names none (enrichment/people.py).
    "enrichment-site-people": {
        "task": "enrichment.discover_site_people",
        "schedule": 3600,
    },
    # Retention (privacy/tasks.py): what is held past its period is deleted, once a day.
    "privacy-retention-sweep": {
        "task": "privacy.retention_sweep",
        "schedule": 24 * 3600,
    },
    # Webhook deliveries due whose task was lost (webhooks/services.py), and the log's retention.
    "webhooks-deliver-due": {"task": "webhooks.deliver_due", "schedule": 60},
    "webhooks-purge-log": {"task": "webhooks.purge_log", "schedule": 24 * 3600},
    # Idempotency-Key answers older than 24 h (organizations/api/idempotency.py).
    "organizations-purge-idempotency-keys": {
        "task": "organizations.purge_idempotency_keys",
        "schedule": 3600,
    },
    # Uploads past LEADPILOT_UPLOAD_RETENTION_DAYS are deleted with their rows (uploads/tasks.py).
    "uploads-delete-expired": {"task": "uploads.delete_expired", "schedule": 6 * 3600},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "organizations.api.authentication.OrganizationAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "organizations.api.pagination.DefaultCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "organizations.api.schema.ProblemAutoSchema",
    "EXCEPTION_HANDLER": "organizations.api.problems.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": [
        "organizations.api.throttling.APIKeyRateThrottle",
        "organizations.api.throttling.UserRateThrottle",
        "organizations.api.throttling.AnonRateThrottle",
    ],
}
# Requests per API key, per signed-in person and per anonymous IP ("N/second|minute|hour|day").
LEADPILOT_API_RATES = {
    "api_key": env("LEADPILOT_API_RATE_KEY", default="1200/min"),
    "user": env("LEADPILOT_API_RATE_USER", default="600/min"),
    "anon": env("LEADPILOT_API_RATE_ANON", default="60/min"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LeadPilot API",
    # Markdown (Swagger UI renders it): paths in backticks, or "<slug>" is read as an HTML tag.
    "DESCRIPTION": (
        "Everything the dashboard can do, per organisation: every path starts with "
        "`/api/v1/orgs/<slug>/…` (e.g. `/api/v1/orgs/acme/leads/`), where `<slug>` is the "
        "organisation's slug from the dashboard's URL (`/o/<slug>/`).\n\n"
        "**Authentication**: `Authorization: Api-Key <key>` (keys from the dashboard's API keys "
        "page) or the dashboard's session. A key acts within its **scopes**: `read` (GET), "
        "`write` (POST, PATCH, DELETE), `billing` (usage, billing, invoices, bounces, disputes) "
        "and `admin` (members, invitations, keys); each operation says which it needs.\n\n"
        "**Errors** are RFC 9457 problems (`application/problem+json`: `type`, `title`, "
        "`status`, `detail`, `code`, and `errors` naming each invalid field). Another "
        "organisation's objects answer 404, like missing ones.\n\n"
        "**Idempotency**: send `Idempotency-Key: <unique key>` with a write to make retries "
        "safe: the same key and body within 24 h answers the first answer, another body 422.\n\n"
        "**Lists** are cursor-paginated (`next`, `previous`, `page_size` up to 500)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "GET_LIB_DOC_EXCLUDES": "organizations.api.schema.lib_doc_excludes",
    # Choice sets that share a field name across apps get explicit component names.
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.models.LeadStatus",
        "SearchRunStatusEnum": "leads.models.SearchRunStatus",
        "RejectionReasonEnum": "leads.models.RejectionReason",
        "SegmentStatusEnum": "segments.models.SegmentStatus",
        "BlockKindEnum": "blocklists.models.BlockKind",
        "DisputeReasonEnum": "billing.models.DisputeReason",
        "DisputeStatusEnum": "billing.models.DisputeStatus",
        "UploadKindEnum": "uploads.models.UploadKind",
        "UploadStatusEnum": "uploads.models.UploadStatus",
    },
}
API_KEY_CUSTOM_HEADER = "HTTP_AUTHORIZATION"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # 403/404 and other 4xx answers are logged as one WARNING line, without a traceback.
        "client_error_without_traceback": {
            "()": "leadpilot.log_filters.ClientErrorWithoutTraceback"
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # A logger's filter changes the record before any handler sees it (console, caplog,
        # an error tracker attached to the root).
        "django.request": {"filters": ["client_error_without_traceback"]},
    },
}

# --- LeadPilot product settings -------------------------------------------------------------
# Monthly charged-lead quota per organisation until billing plans exist.
LEADPILOT_DEFAULT_MONTHLY_LEAD_QUOTA = env.int("LEADPILOT_DEFAULT_MONTHLY_LEAD_QUOTA", default=500)
# Days from a lead's delivery in which a member may dispute its charge.
LEADPILOT_DISPUTE_WINDOW_DAYS = env.int("LEADPILOT_DISPUTE_WINDOW_DAYS", default=90)
# Verification identity: a domain we own, with matching PTR/SPF in production.
LEADPILOT_EHLO_NAME = env("LEADPILOT_EHLO_NAME", default="verify.leadpilot.localhost")
LEADPILOT_MAIL_FROM = env("LEADPILOT_MAIL_FROM", default="probe@verify.leadpilot.localhost")
# "host:port" of the DNS server to ask; empty = the system resolver. The sandbox sets it.
LEADPILOT_DNS_NAMESERVER = env("LEADPILOT_DNS_NAMESERVER", default="")
LEADPILOT_SMTP_PORT = env.int("LEADPILOT_SMTP_PORT", default=25)
LEADPILOT_HTTP_PORT = env.int("LEADPILOT_HTTP_PORT", default=80)
# Company websites (enrichment/web): HTTPS port, a PEM file of CAs to trust instead of the
# system's (the sandbox's test CA), the URL our crawler's User-Agent names, the politeness delay
# between two requests to one site (empty: 1 s, none when LEADPILOT_DNS_NAMESERVER points at a
# world of our own), the size limit of a page and the pages read per site (home + team/contact).
LEADPILOT_HTTPS_PORT = env.int("LEADPILOT_HTTPS_PORT", default=443)
LEADPILOT_HTTP_CA_FILE = env("LEADPILOT_HTTP_CA_FILE", default="")
LEADPILOT_CRAWLER_CONTACT_URL = env(
    "LEADPILOT_CRAWLER_CONTACT_URL", default="https://leadpilot.localhost/crawler"
)
_http_delay = env("LEADPILOT_HTTP_DELAY", default="").strip()
LEADPILOT_HTTP_DELAY = float(_http_delay) if _http_delay else None
LEADPILOT_HTTP_MAX_BYTES = env.int("LEADPILOT_HTTP_MAX_BYTES", default=1_000_000)
LEADPILOT_HTTP_MAX_PAGES = env.int("LEADPILOT_HTTP_MAX_PAGES", default=4)
# A person named on a company's own site with a wanted title becomes a decision-maker where the
# registry names none (enrichment/people.py) at or above this confidence.
LEADPILOT_SITE_PERSON_MIN_CONFIDENCE = env.float(
    "LEADPILOT_SITE_PERSON_MIN_CONFIDENCE", default=0.7
)
# Days before such a company's site is read again for people (enrichment.discover_site_people).
LEADPILOT_SITE_PEOPLE_RECHECK_DAYS = env.int("LEADPILOT_SITE_PEOPLE_RECHECK_DAYS", default=30)
# Companies of a segment whose sites a nightly run reads for people before its matching query
# (leads/services/site_people.py; those naming no CEO, chair or owner yet); 0 turns it off.
LEADPILOT_SEARCH_SITE_PEOPLE_MAX = env.int("LEADPILOT_SEARCH_SITE_PEOPLE_MAX", default=100)
# Own-list uploads (uploads/, docs/uploads.md): the largest file and the most rows taken, and the
# days an upload (the customer's rows and what was found for them) is kept after it was made.
LEADPILOT_UPLOAD_MAX_MB = env.int("LEADPILOT_UPLOAD_MAX_MB", default=50)
LEADPILOT_UPLOAD_MAX_ROWS = env.int("LEADPILOT_UPLOAD_MAX_ROWS", default=100_000)
LEADPILOT_UPLOAD_RETENTION_DAYS = env.int("LEADPILOT_UPLOAD_RETENTION_DAYS", default=30)
# An upload's job verifies chunks of CHUNK rows (one engine call, one transaction each) on THREADS
# pool threads at once, each written as it returns (a slow mail server holds up its chunk only).
LEADPILOT_UPLOAD_CHUNK = env.int("LEADPILOT_UPLOAD_CHUNK", default=5)
LEADPILOT_UPLOAD_THREADS = env.int("LEADPILOT_UPLOAD_THREADS", default=16)
# Sending reputation (enrichment/verification/smtp_limits.py): SMTP transactions a second per MX
# domain (token bucket, bursts of DOMAIN_BURST), and per sending IP and UTC day (counted in the
# cache: set CACHE_URL to Redis so the workers share it); 0 turns a limit off.
LEADPILOT_SMTP_DOMAIN_RATE = env.float("LEADPILOT_SMTP_DOMAIN_RATE", default=10.0)
LEADPILOT_SMTP_DOMAIN_BURST = env.int("LEADPILOT_SMTP_DOMAIN_BURST", default=20)
LEADPILOT_SMTP_DAILY_CAP = env.int("LEADPILOT_SMTP_DAILY_CAP", default=10000)
LEADPILOT_SMTP_SENDING_IP = env("LEADPILOT_SMTP_SENDING_IP", default="default")
LEADPILOT_SMTP_CAP_BLOCK = env.int("LEADPILOT_SMTP_CAP_BLOCK", default=20)

# --- Nightly search (leads/) -----------------------------------------------------------------
# Verified evidence older than this is verified again before a lead is delivered.
LEADPILOT_LEAD_EVIDENCE_MAX_AGE_DAYS = env.int("LEADPILOT_LEAD_EVIDENCE_MAX_AGE_DAYS", default=30)
# Candidates a segment's run verifies at once (in flight), and per engine call (chunk).
# PostgreSQL random_page_cost for the matching query (segments/selectors.py): 1.1 suits SSD or a
# directory in memory; 0 keeps the server's setting (4.0 by default, spinning disks).
LEADPILOT_MATCH_RANDOM_PAGE_COST = env.float("LEADPILOT_MATCH_RANDOM_PAGE_COST", default=1.1)
# The segment preview's counts (segments/counting.py): no statement runs longer than the timeout
# (an exact count cut off falls back to the estimate); criteria whose companies span more ids than
# the sample are estimated from it, and counted exactly when it finds at most EXACT_MAX.
LEADPILOT_PREVIEW_STATEMENT_TIMEOUT_MS = env.int(
    "LEADPILOT_PREVIEW_STATEMENT_TIMEOUT_MS", default=3000
)
LEADPILOT_PREVIEW_SAMPLE_COMPANIES = env.int("LEADPILOT_PREVIEW_SAMPLE_COMPANIES", default=20000)
LEADPILOT_PREVIEW_EXACT_MAX = env.int("LEADPILOT_PREVIEW_EXACT_MAX", default=5000)
LEADPILOT_SEARCH_BATCH_MAX = env.int("LEADPILOT_SEARCH_BATCH_MAX", default=200)
LEADPILOT_SEARCH_CHUNK = env.int("LEADPILOT_SEARCH_CHUNK", default=5)
# Engine calls a run keeps going at once; each holds a database connection (size max_connections
# for workers x this). 12 made the bench night's fast runs (about one a second) open connections
# faster than finished runs' stragglers closed theirs: peaks of 100 ("too many clients").
LEADPILOT_SEARCH_THREADS = env.int("LEADPILOT_SEARCH_THREADS", default=8)
# Time-outs (seconds) of the nightly search's verification; slower peers are `unknown` tonight.
LEADPILOT_SEARCH_DNS_TIMEOUT = env.float("LEADPILOT_SEARCH_DNS_TIMEOUT", default=3.0)
LEADPILOT_SEARCH_SMTP_TIMEOUT = env.float("LEADPILOT_SEARCH_SMTP_TIMEOUT", default=8.0)
LEADPILOT_SEARCH_HTTP_TIMEOUT = env.float("LEADPILOT_SEARCH_HTTP_TIMEOUT", default=8.0)
# SMTP sessions a run's verification keeps open at once (its speed is bound by peer latency).
LEADPILOT_SEARCH_VERIFY_CONCURRENCY = env.int("LEADPILOT_SEARCH_VERIFY_CONCURRENCY", default=64)
# A run that crashed its worker this many times is marked failed (Redis keeps no retry count).
LEADPILOT_SEARCH_MAX_ATTEMPTS = env.int("LEADPILOT_SEARCH_MAX_ATTEMPTS", default=5)
# A blind run (docs/nightly.md): once this many candidates' contacts were asked about (or at the
# run's end), a run where at least this share got no answer from the resolver or the mail
# servers (dns_error, smtp_timeout) fails with stop reason `outage`, and is tried again after
# RETRY_MINUTES, doubling, at most MAX_RETRIES times; staff are e-mailed once per run.
# Who is told when a night goes blind: LEADPILOT_ADMINS (comma-separated addresses) and the
# active staff users.
ADMINS = [("", address) for address in env.list("LEADPILOT_ADMINS", default=[])]
LEADPILOT_BLIND_RUN_RATIO = env.float("LEADPILOT_BLIND_RUN_RATIO", default=0.8)
LEADPILOT_BLIND_RUN_MIN_ASKED = env.int("LEADPILOT_BLIND_RUN_MIN_ASKED", default=30)
LEADPILOT_BLIND_RUN_RETRY_MINUTES = env.int("LEADPILOT_BLIND_RUN_RETRY_MINUTES", default=15)
LEADPILOT_BLIND_RUN_MAX_RETRIES = env.int("LEADPILOT_BLIND_RUN_MAX_RETRIES", default=4)
# A run still queued after this long is enqueued again (a lost enqueue); the task is idempotent.
LEADPILOT_SEARCH_REQUEUE_MINUTES = env.int("LEADPILOT_SEARCH_REQUEUE_MINUTES", default=90)
# Hours after an organisation's night hour in which its nightly runs may still start (catch-up).
LEADPILOT_NIGHT_WINDOW_HOURS = env.int("LEADPILOT_NIGHT_WINDOW_HOURS", default=6)
# Local hour of the morning digest e-mail.
LEADPILOT_DIGEST_HOUR = env.int("LEADPILOT_DIGEST_HOUR", default=7)

# --- Privacy (privacy/, docs/privacy.md) -----------------------------------------------------
# Opt-out page: attempts per client address and hour; days a confirmation link stays valid.
LEADPILOT_OPTOUT_ATTEMPTS_PER_HOUR = env.int("LEADPILOT_OPTOUT_ATTEMPTS_PER_HOUR", default=10)
LEADPILOT_OPTOUT_LINK_DAYS = env.int("LEADPILOT_OPTOUT_LINK_DAYS", default=7)
# Retention: a person's contact data never delivered to anyone, and verification evidence, are
# deleted this many days after they were last found or verified (a re-import does not renew it).
LEADPILOT_RETENTION_CONTACT_DAYS = env.int("LEADPILOT_RETENTION_CONTACT_DAYS", default=365)
# Rejected and withdrawn leads lose their personal data this many days after the decision.
LEADPILOT_RETENTION_REJECTED_LEAD_DAYS = env.int(
    "LEADPILOT_RETENTION_REJECTED_LEAD_DAYS", default=90
)
# Who is responsible for the directory, as the access report and the privacy notice name it.
LEADPILOT_PRIVACY_CONTROLLER = env(
    "LEADPILOT_PRIVACY_CONTROLLER", default="LeadPilot (privacy@leadpilot.localhost)"
)

# --- Outgoing webhooks (webhooks/, docs/webhooks.md) -------------------------------------------
# Receivers on private, loopback or link-local addresses, and plain http: tests and the demo only
# (production.py forces both off).
LEADPILOT_WEBHOOKS_ALLOW_PRIVATE = env.bool("LEADPILOT_WEBHOOKS_ALLOW_PRIVATE", default=False)
LEADPILOT_WEBHOOKS_REQUIRE_HTTPS = env.bool("LEADPILOT_WEBHOOKS_REQUIRE_HTTPS", default=True)
# Seconds to connect, and for the whole answer, per attempt.
LEADPILOT_WEBHOOKS_CONNECT_TIMEOUT = env.float("LEADPILOT_WEBHOOKS_CONNECT_TIMEOUT", default=5.0)
LEADPILOT_WEBHOOKS_TIMEOUT = env.float("LEADPILOT_WEBHOOKS_TIMEOUT", default=10.0)
# A failing delivery is retried with back-off for this many hours, then the endpoint disabled.
LEADPILOT_WEBHOOKS_RETRY_HOURS = env.int("LEADPILOT_WEBHOOKS_RETRY_HOURS", default=72)
# Seconds between attempts, comma-separated, the last repeating; empty: 5 s, 5 min, 30 min, 2 h,
# 5 h, 10 h, 10 h, then 12 h (webhooks/services.py).
LEADPILOT_WEBHOOKS_RETRY_DELAYS = [
    int(s) for s in env.list("LEADPILOT_WEBHOOKS_RETRY_DELAYS", default=[]) if s.strip()
]
# After a rotation the old secret keeps signing (a second signature) for this many hours.
LEADPILOT_WEBHOOKS_SECRET_OVERLAP_HOURS = env.int(
    "LEADPILOT_WEBHOOKS_SECRET_OVERLAP_HOURS", default=24
)
# Days the delivery log (events, attempts, answers) is kept.
LEADPILOT_WEBHOOKS_LOG_RETENTION_DAYS = env.int("LEADPILOT_WEBHOOKS_LOG_RETENTION_DAYS", default=30)
