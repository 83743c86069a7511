"""Settings: the one place that reads the environment (django-environ, ADR 0003).

The development default runs with no set-up at all: SQLite in the checkout and Celery
tasks run in-process. Production (``DEBUG=false``) refuses to start without a
``SECRET_KEY`` and turns on HSTS, secure cookies and the SSL redirect, each of which a
deployment behind a TLS-terminating proxy may switch off by its own variable.
"""

from datetime import date
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is false (production has no default secret)."
        )
    SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Demo data (seed_demo) may only be written where this is on: never by accident in
# production. It defaults to DEBUG.
ALLOW_DEMO_DATA = env.bool("ALLOW_DEMO_DATA", default=DEBUG)
# The benchmark's bare views (issue 7) are off unless switched on.
BENCHMARK_VIEWS = env.bool("BENCHMARK_VIEWS", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_forms_gds",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "organisations",
    "advocates",
    "qualifications",
    "casework",
    "supervision",
    "compliance",
    "returns",
    "imports",
    "api",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost but one: sees every 404, including Django's debug page (imca_commissioning/errors.py).
    "imca_commissioning.errors.FriendlyNotFoundMiddleware",
    "csp.middleware.CSPMiddleware",
    # Permissions-Policy, and no-store for answers to a signed-in user (it reads the
    # user once the inner middleware and DRF have set it).
    "imca_commissioning.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(); then two-step verification for the roles that need it.
    # An API request's token read before the view's transaction (api/authentication.py).
    "api.authentication.TokenMiddleware",
    "organisations.mfa.OtpMiddleware",
    "organisations.mfa.MfaRequiredMiddleware",
    # Secure by default: every page needs a login unless marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A form submitted twice stores once (one-time tokens; ADR 0008).
    "imca_commissioning.once.OnceMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Who opened which advocate's or case's record (audit/middleware.py).
    "audit.middleware.ViewLogMiddleware",
    # Last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "imca_commissioning.urls"
WSGI_APPLICATION = "imca_commissioning.wsgi.application"

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
                "organisations.context_processors.navigation",
                "imca_commissioning.once.form_token",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Every request is one transaction: a view whose later step fails leaves nothing of its
# earlier steps (ADR 0008; tests/test_records.py walks every write path to prove it).
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# How long an API Idempotency-Key is remembered (API.md 1.1: at least 24 hours).
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=48)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# The per-request user (or token) query is prepared once per connection
# (organisations/backends.py); turn off behind a pooler in transaction mode.
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)
# A persistent connection is checked at the start of each request that uses it, so one
# the database dropped (a restart, a failover, pg_terminate_backend) is replaced, not
# reused to answer 500 until the process restarts.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "organisations.User"

AUTHENTICATION_BACKENDS = [
    # Throttles failed logins (web and API token) per username and address.
    "axes.backends.AxesStandaloneBackend",
    "organisations.backends.UserBackend",
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("AXES_COOLOFF_HOURS", default=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Behind TRUSTED_PROXY_COUNT reverse proxies (the TLS proxy README describes: 1) the
# client's address is read from X-Forwarded-For (imca_commissioning/clientip.py), so a
# lock-out is per real address, not per proxy.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "imca_commissioning.clientip.client_ip"
# The API's lock-out answer is JSON like its other errors.
AXES_LOCKOUT_CALLABLE = "imca_commissioning.clientip.lockout_response"

# Two-step verification (ADR 0011): the roles that must use it ("admin" is the platform
# admin). Off in development (DEBUG) so the demo logins work with a password alone.
MFA_REQUIRED_ROLES = env.list(
    "MFA_REQUIRED_ROLES", default=[] if DEBUG else ["commissioner", "provider_manager", "admin"]
)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="IMCA commissioning")
# Password reset emails: at most this many an hour per account and per client address.
PASSWORD_RESET_LIMIT_PER_ACCOUNT = env.int("PASSWORD_RESET_LIMIT_PER_ACCOUNT", default=3)
PASSWORD_RESET_LIMIT_PER_ADDRESS = env.int("PASSWORD_RESET_LIMIT_PER_ADDRESS", default=10)
# Invitations (organisations/invitations.py): days a "set your password" link lasts.
INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)
# Rows per page of every list page (imca_commissioning/lists.py).
LIST_PAGE_SIZE = env.int("LIST_PAGE_SIZE", default=50)
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

# --- Email (R12 digests) -------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="IMCA commissioning <no-reply@localhost>"
)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Celery ----------------------------------------------------------------------------
# REDIS_URL unset: tasks run in-process and eagerly (the newcomer's first run).
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# No task runs longer than this many seconds (the longest is one provider's sweep, or
# one digest run): past the soft limit it is told to stop, past the hard one killed.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = max(1, CELERY_TASK_TIME_LIMIT - 30)
# A task not acknowledged within this many seconds is redelivered by Redis to another
# worker (acks_late). It must exceed the longest task (else a running task is handed to
# a second worker) and no more: a worker killed mid-sweep delays the digests by this
# much, so minutes, not the broker's default hour.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * CELERY_TASK_TIME_LIMIT),
    # How often a worker looks for messages whose visibility timeout has passed
    # (kombu's defaults: every 10th call of a 10-second sweep).
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
}
CELERY_TIMEZONE = "Europe/London"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# The schedule is data: the hour and minute of the daily sweep come from the environment.
SWEEP_HOUR = env.int("SWEEP_HOUR", default=6)
SWEEP_MINUTE = env.int("SWEEP_MINUTE", default=0)
SWEEP_BATCH_SIZE = env.int("SWEEP_BATCH_SIZE", default=500)
# Seconds a per-provider sweep task waits before working. Only the worker-kill test sets
# it (so a task is surely running when the worker is killed); 0 everywhere else.
SWEEP_TASK_TEST_DELAY = env.float("SWEEP_TASK_TEST_DELAY", default=0.0)
# The view log (who opened which record) is kept this many days, then pruned daily.
VIEW_LOG_DAYS = env.int("VIEW_LOG_DAYS", default=365)
# Seconds a digest sender waits after handing an email over, before recording it sent.
# Only the worker-kill test sets it; 0 everywhere else.
DIGEST_TEST_DELAY_AFTER_SEND = env.float("DIGEST_TEST_DELAY_AFTER_SEND", default=0.0)

# --- Quarterly returns (R13) ------------------------------------------------------------
# The first day whose quarter an installation compiles returns for. Unset (the rule as
# written): every quarter a contract was live in is owed from its start. A council that
# joins with contracts years old sets it to the day it started using the service, so the
# quarters it filed on paper before are not chased.
_returns_owed_from = env.str("RETURNS_OWED_FROM", default="")
try:
    RETURNS_OWED_FROM = date.fromisoformat(_returns_owed_from) if _returns_owed_from else None
except ValueError as error:
    raise ImproperlyConfigured(
        f"RETURNS_OWED_FROM must be a date as YYYY-MM-DD, not {_returns_owed_from!r}"
    ) from error

# --- Spreadsheet imports (ADR 0016) ------------------------------------------------------
# A file larger than this is refused (413) before it is read.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=15 * 1024 * 1024)
# XLSX and ODS files are zips: their unpacked size is checked before parsing (a zip bomb).
IMPORT_MAX_UNPACKED_BYTES = env.int("IMPORT_MAX_UNPACKED_BYTES", default=250 * 1024 * 1024)
# Files of this many rows or more are previewed and stored by a Celery task.
IMPORT_TASK_ROWS = env.int("IMPORT_TASK_ROWS", default=10_000)
# Row errors kept per job (the counts are always complete).
IMPORT_MAX_ERRORS = env.int("IMPORT_MAX_ERRORS", default=1000)
# A download of more rows than this is prepared by a task (imports/exporting.py), and
# kept for its owner this many hours.
EXPORT_TASK_ROWS = env.int("EXPORT_TASK_ROWS", default=5000)
EXPORT_KEEP_HOURS = env.int("EXPORT_KEEP_HOURS", default=24)

# --- REST framework ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.FastTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    # A JSON API (API.md): JSON bodies only, with a size and depth limit
    # (api/parsers.py). Form bodies are refused (415): in a form an empty field cannot
    # say whether it means "" or null, so a form could store what the schema refuses.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# API tokens expire this many hours after they are issued (ADR 0010).
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=720)
# A JSON body larger than this answers 413, one nested deeper than this 400.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
SPECTACULAR_SETTINGS = {
    "TITLE": "IMCA commissioning API",
    "DESCRIPTION": "Integration API v1 (shared/spec/API.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # A case's status: six on reading, two a client may write (api/schema.py).
    "ENUM_NAME_OVERRIDES": {"CaseStatusWriteEnum": ["allocated", "withdrawn"]},
    # Every operation's error answers (api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.error_responses",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    # Self-hosted documentation assets (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security: production turns these on; each can be switched off by its variable ----
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# A strict Content-Security-Policy (django-csp 4): scripts, styles, fonts and images
# from this site only; no inline script or style anywhere (templates/base.html loads
# static/app/site.js and site.css); nothing may frame the pages.
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
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=(), "
    "xr-spatial-tracking=()"
)
X_FRAME_OPTIONS = "DENY"
# Sessions are read on every request: cached_db reads them from the cache and falls back
# to (and writes through to) the database, so a cache flush logs nobody out. The cache is
# per process (locmem) unless CACHE_URL names a shared one (redis://...).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # A Redis outage is a cache miss, logged, not a 500 (imca_commissioning/cache.py).
    CACHES["default"]["BACKEND"] = "imca_commissioning.cache.ResilientRedisCache"
SESSION_ENGINE = env.str("SESSION_ENGINE", default="django.contrib.sessions.backends.cached_db")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
