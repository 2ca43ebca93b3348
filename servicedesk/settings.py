"""Settings for every environment, read from the process environment.

Infrastructure is configuration (this file, from env); business rules — time limits,
holidays, routing — are data in the database, edited in the admin.
Production adds `servicedesk.settings_production`, which refuses to start without its secrets.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from servicedesk.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SERVICEDESK_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)
# For development and tests only: settings_production refuses to start with it.
DEVELOPMENT_SECRET_KEY = "insecure-development-key-do-not-use-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
# Earlier keys, while sessions and signed values made with them are still about (rotation).
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, no CDN
    "django_filters",
    "customers",
    "outages",
    "matters",  # important service matters (重要服务事项报备) shown on the caller's card
    "calls",
    "tickets",
    "sla",
    "knowledge",
    "api",
    "privacy",  # who sees personal data in full, and the log of its disclosures
    "dashboard",
    "visits",  # return visits (回访): the queue, attempts, verdicts
    "field",  # the crew pages for a phone and the department pages
    "accounts",
    "demo",
    "auditlog",  # the change log of configuration data (audit/registry.py says what)
    "audit",
    "axes",  # sign-in throttling: lock-out after repeated failures (see "Security" below)
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # django-csp's Content-Security-Policy header on the pages (not on the JSON API).
    "servicedesk.middleware.ContentSecurityPolicyMiddleware",
    # Serves collected static files in production without a separate web server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Records the signed-in person as the author of audited changes (pages and admin).
    "audit.middleware.AuditlogMiddleware",
    # Django's, except that API requests skip it.
    "servicedesk.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the login page's notice.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "servicedesk.urls"
WSGI_APPLICATION = "servicedesk.wsgi.application"

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
                "django.template.context_processors.i18n",
                "accounts.context_processors.roles",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# Default: one SQLite file in WAL mode, so the web app, the Celery worker and beat of
# `make run` can share it without a server. Production: DATABASE_URL=postgres://…
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'servicedesk.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    # The web processes may reach the database through PgBouncer in transaction mode: a
    # server-side cursor would outlive the transaction its server connection served.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- Security -------------------------------------------------------------------------
# Sign-in throttling (django-axes): after LOGIN_FAILURE_LIMIT failed sign-ins for one user
# name from one address, that name is locked on that address for LOGIN_LOCKOUT_MINUTES
# after the last failure. The pair, not the address alone: a call centre's desks share one
# address, and one agent's typos must not lock out the whole floor. The login page says so
# (accounts.lockout); an administrator can lift it in the admin. API tokens are
# not passwords and are not counted.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A retry while locked does not restart the clock: the notice's minutes stay true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.lockout.locked_out"
# Behind DJANGO_PROXY_COUNT reverse proxies the desk's address is read from X-Forwarded-For
# (accounts.backends.client_address); with none, it is the connection's.
PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "accounts.backends.client_address"

# Headers on every answer; HTTPS-only ones (HSTS, redirect, secure cookies) are in
# settings_production.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): the pages load scripts, styles and fonts from our own
# static files only; no inline script, no inline style, no plugin, no framing by others.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# A failed CSRF check is a page in the user's language, not Django's English one.
CSRF_FAILURE_VIEW = "servicedesk.views.csrf_failure"

# Sessions on shared call-centre desks: a sign-in lasts one shift at most (counted from
# the sign-in) and ends when the browser closes. No idle timeout: it would mean writing the
# session on every request, and the wallboard and the console poll every few seconds, so
# a screen left open would never go idle anyway.
SESSION_COOKIE_AGE = round(env_float("SESSION_SHIFT_HOURS", 9.0, minimum=0.25) * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True

# A request body larger than this (files aside) is refused with 413 (servicedesk.views):
# no order needs more than a few kilobytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DJANGO_DATA_UPLOAD_MAX_BYTES", 1024 * 1024, minimum=1024)

# --- Language and time ----------------------------------------------------------------
# Agents read Chinese: zh-hans is the default, English the second language.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
# Catalogues live beside what they translate, one per area, so each area's owner keeps its
# own: <app>/locale for Python code (found by Django itself), templates/<app>/locale for
# templates, locale/ for the shared base templates. `make messages` refreshes them all.
LOCALE_PATHS = [BASE_DIR / "locale", *sorted((BASE_DIR / "templates").glob("*/locale"))]
USE_I18N = True
# Stored in UTC, shown on the Beijing wall clock.
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- Celery ---------------------------------------------------------------------------
# Default broker needs no server: kombu's filesystem transport under var/. Production:
# CELERY_BROKER_URL=redis://…
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed"):
        (_queue_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker or beat whose broker is down keeps trying until it is back (the default gives up
# after 100 tries); the timers it missed are caught up then.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

SLA_SCAN_INTERVAL_SECONDS = env_float("SLA_SCAN_INTERVAL_SECONDS", 5.0, minimum=0.5)
CELERY_BEAT_SCHEDULE = {
    # Marks timers at risk and records breaches. A 3-minute dispatch limit needs a sweep
    # every few seconds; the scan is one indexed query when nothing is due.
    "sla-scan": {
        "task": "sla.tasks.sla_scan_task",
        "schedule": SLA_SCAN_INTERVAL_SECONDS,
        "options": {"expires": SLA_SCAN_INTERVAL_SECONDS * 2},
    },
    # Records the outage reporting limits breached (entered, expected restoration updated,
    # restoration recorded within minutes) and escalates them, as often as the SLA scan.
    "outage-timers-scan": {
        "task": "outages.tasks.outage_timers_scan_task",
        "schedule": SLA_SCAN_INTERVAL_SECONDS,
        "options": {"expires": SLA_SCAN_INTERVAL_SECONDS * 2},
    },
    # Counts the timers at risk and breached once for every wall screen; a screen refreshes
    # every 5 s and shows these counts rather than counting thousands of timers itself.
    "dashboard-wallboard-counts": {
        "task": "dashboard.tasks.wallboard_counts_task",
        "schedule": 5.0,
        "options": {"expires": 10.0},
    },
    # Text messages to the customers of an outage that were left unsent (a lost task, a
    # worker killed mid-batch, a gateway down longer than the retries): queued again.
    "outage-notices-sweep": {
        "task": "outages.tasks.outage_notices_sweep_task",
        "schedule": 60.0,
        "options": {"expires": 120.0},
    },
    # Brings the period report's per-day sums up to date: today so far, and any earlier day
    # in which an order changed (a late return visit, a breach) since the previous minute.
    "dashboard-aggregates-refresh": {
        "task": "dashboard.tasks.aggregates_refresh_task",
        "schedule": 60.0,
        "options": {"expires": 120.0},
    },
}

# --- Text messages (SMS) to customers (servicedesk/sms.py) ------------------------------
# "log" writes messages to the log (development, demo); "http" POSTs them to the gateway.
SMS_BACKEND = env_str("SMS_BACKEND", "log")
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = env_str("SMS_GATEWAY_TOKEN", "")
SMS_GATEWAY_TIMEOUT_SECONDS = env_float("SMS_GATEWAY_TIMEOUT_SECONDS", 10.0, minimum=0.1)
if SMS_BACKEND not in {"log", "http"}:
    raise ImproperlyConfigured(f"SMS_BACKEND must be log or http, got {SMS_BACKEND!r}")
if SMS_BACKEND == "http" and not SMS_GATEWAY_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_GATEWAY_URL (http:// or https://)")
# Outage notices: customers per sending task, delivery rounds per message before it counts
# as failed, and the wait before the first retry (doubled at each further one).
SMS_NOTICE_BATCH = env_int("SMS_NOTICE_BATCH", 500, minimum=1)
SMS_MAX_ATTEMPTS = env_int("SMS_MAX_ATTEMPTS", 6, minimum=1)
SMS_RETRY_BACKOFF_SECONDS = env_float("SMS_RETRY_BACKOFF_SECONDS", 30.0, minimum=0.0)

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Integration clients: "Authorization: Token <key>" (listed first so a request
        # without credentials answers 401); browsers: the session, with its CSRF check.
        "api.authentication.ClientTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "95598 Service Desk API",
    "DESCRIPTION": "Work orders, call events and SLA figures for integration clients.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/schema/ and /api/docs/ are for signed-in people and token holders only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No badge image from the public validator: it would send our schema's address out, and
    # the content security policy loads images from here only.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "Category": "tickets.models.Category",
        "TicketStatus": "tickets.models.Status",
        "Channel": "tickets.models.Channel",
        "AreaType": "customers.models.AreaType",
        "Satisfaction": "tickets.models.Satisfaction",
        "TimerName": "sla.models.TimerName",
        "CallDisposition": "calls.models.Disposition",
        "TimelineEventKind": "tickets.models.TicketEvent.Kind",
        "CallEvent": "api.serializers.CALL_EVENTS",
    },
}

# --- Mail (breach e-mails are optional; off by default) --------------------------------
EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# The mail server and its credentials come from the environment only.
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("DJANGO_EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "webmaster@localhost")
SERVER_EMAIL = env_str("DJANGO_SERVER_EMAIL", DEFAULT_FROM_EMAIL)
SLA_BREACH_EMAIL = env_bool("SLA_BREACH_EMAIL", False)

# --- Audit trail (django-auditlog) ----------------------------------------------------
# Old and new values kept as JSON values (true, 40, null), not as their text; a foreign key
# as the name of what it pointed to then, so the log reads without the rows it names.
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_USE_FK_STRING_REPRESENTATION = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
