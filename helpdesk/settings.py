"""Settings for the helpdesk, read from the environment (12-factor).

Every variable is optional in development: without DATABASE_URL the app uses a SQLite file, without REDIS_URL the
in-process channel layer. `.env.example` lists every variable.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# A demonstration install: `seed_demo` may load the demo accounts, whose password is public. Independent of DEBUG, so
# a demo shows the product's own error pages.
HELPDESK_DEMO = env_bool("HELPDESK_DEMO", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# The https URL Twilio signs its webhook requests with (no trailing slash).
HELPDESK_PUBLIC_URL = os.environ.get("HELPDESK_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_filters",
    "tickets",
    "escalation",
    "hotline",
    "notifications",
    "axes",
    "security",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tickets.middleware.request_roles",
    "django.contrib.messages.middleware.MessageMiddleware",
    "security.middleware.SecurityAuditMiddleware",
    "security.middleware.IdleSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
FORM_RENDERER = "helpdesk.forms.FormRenderer"
ASGI_APPLICATION = "helpdesk.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tickets.context_processors.role",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
# On the embedded SQLite file the web process and the escalation worker write side by side. A write transaction
# takes the write lock when it begins (a transaction that read first and upgrades later would fail at once with
# "database is locked" while the other holds it) and waits up to `timeout` seconds for it; readers do not block the
# writer (WAL).
SQLITE_OPTIONS = {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A PostgreSQL that hangs costs a request seconds, not forever: connecting gives up after the connect timeout,
    # and the server cancels a statement that runs longer than the statement timeout (0: none, as for migrations).
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["connect_timeout"] = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
    _statement_timeout_ms = int(float(os.environ.get("DATABASE_STATEMENT_TIMEOUT", "30")) * 1000)
    _options["options"] = f"-c statement_timeout={_statement_timeout_ms}"
    # Parameters travel apart from the query text (server-side binding), so a connection prepares the statements it
    # runs often (the fifth run on): PostgreSQL then skips parsing and planning them, and psycopg writes no literal
    # SQL. A pooled connection keeps them from request to request (bench/README.md has what it saves). Off for a
    # connection pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21). After a
    # migration changes a table, restart the web processes.
    _options["server_side_binding"] = True
    _options["prepare_threshold"] = 5 if env_bool("DATABASE_PREPARED_STATEMENTS", True) else None
    # Connections are reused through psycopg's pool, at most DATABASE_POOL_MAX_SIZE per process (0, the default
    # outside scripts/serve and Docker: a new connection per request). Django serves each ASGI request on a thread of
    # its own, so connections kept per thread (CONN_MAX_AGE) pile up; a pooled one goes back to the pool when its
    # request ends, whatever the thread. A thread that never ends its connection keeps a pooled one lent for good
    # (the test run's helper threads do), which is why the pool is the production command's choice. A connection is
    # checked before it is lent, so one PostgreSQL closed meanwhile is replaced, not handed out.
    _pool_max_size = int(os.environ.get("DATABASE_POOL_MAX_SIZE", "0"))
    if _pool_max_size > 0 and not DATABASES["default"].get("CONN_MAX_AGE"):
        from helpdesk.database import check_pooled_connection

        _options["pool"] = {
            "min_size": min(2, _pool_max_size),
            "max_size": _pool_max_size,
            "timeout": float(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5")),
            "check": check_pooled_connection,
        }
    # QuerySet.iterator() (which form choices and filters use) reads through a client-side cursor: a server-side one
    # costs a DECLARE ... WITH HOLD, which PostgreSQL materialises, and more round trips, for lists of a few rows.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis' pub/sub layer, decoding a group message once per process (not once per socket).
            "BACKEND": "helpdesk.channel_layer.PubSubChannelLayer",
            "CONFIG": {
                # redis-py 8 otherwise closes idle sockets every 5 s.
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                "prefix": os.environ.get("HELPDESK_CHANNEL_PREFIX", "helpdesk"),
            },
        }
    }
    # Sessions are read from Redis, and from the database only when Redis has lost them.
    CACHES = {
        "default": {
            "BACKEND": "helpdesk.cache.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("HELPDESK_CHANNEL_PREFIX", "helpdesk"),
            # A hung Redis fails a request in a second instead of holding it.
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
    }
    # Django's cached_db, except that a Redis that fails costs a request its socket timeout, not an error.
    SESSION_ENGINE = "security.session_store"
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Brute force: after HELPDESK_LOGIN_FAILURE_LIMIT failed logins for one account from one address, that account is
# locked for that address (others can still log in to it, so an attacker cannot lock a technician out during an
# incident) for HELPDESK_LOGIN_LOCKOUT_MINUTES; the duty manager unlocks it earlier in the admin.
# The model backend, reading the request's user with their role in one query (sessions made before it named Django's
# own ModelBackend and ask their users to log in again).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "tickets.auth.RoleModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("HELPDESK_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("HELPDESK_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "security.requests.client_address"
AXES_LOCKOUT_CALLABLE = "security.lockout.lockout_response"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("ar", _("Arabic")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Numbers, sizes and dates as each language writes them (helpdesk/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["helpdesk.formats"]
USE_I18N = True
TIME_ZONE = "Asia/Qatar"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("HELPDESK_MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"

# Attachments: agency staff upload screenshots, logs and documents.
HELPDESK_ATTACHMENT_MAX_BYTES = int(os.environ.get("HELPDESK_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
HELPDESK_ATTACHMENT_MAX_FILES = 5
HELPDESK_ATTACHMENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Security defaults: on in every environment; the cookie flags need https, so they follow DEBUG.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
HELPDESK_BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HELPDESK_BEHIND_PROXY else None
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
# A session ends after this much idle time, for technicians and agency staff alike (activity within a minute of the
# last refresh does not write the session again), and also when the browser closes if asked.
SESSION_COOKIE_AGE = int(float(os.environ.get("HELPDESK_SESSION_IDLE_HOURS", "8")) * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("HELPDESK_SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "media-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # django-axes logs every failed login at INFO; its lockouts are warnings (and in the security audit).
    "loggers": {"axes": {"level": "WARNING"}},
}

# A resolved ticket the requester neither confirms nor reopens closes itself after this many working days.
HELPDESK_AUTOCLOSE_WORKING_DAYS = int(os.environ.get("HELPDESK_AUTOCLOSE_WORKING_DAYS", "5"))

# /healthz names each check and its details only for staff and for callers with this token
# (`Authorization: Bearer <token>`); everyone else gets the overall state.
HELPDESK_HEALTH_TOKEN = os.environ.get("HELPDESK_HEALTH_TOKEN", "")

# Live console: how often each socket gets the newest cursor (and refreshes its presence), and how many missed events
# a resync replays before it sends a fresh snapshot instead.
HELPDESK_CONSOLE_HEARTBEAT_SECONDS = float(os.environ.get("HELPDESK_CONSOLE_HEARTBEAT_SECONDS", "5"))
HELPDESK_CONSOLE_RESYNC_LIMIT = int(os.environ.get("HELPDESK_CONSOLE_RESYNC_LIMIT", "1000"))
# How many server processes share the listening socket (scripts/serve sets it; one per core by default).
HELPDESK_WEB_PROCESSES = int(os.environ.get("HELPDESK_WEB_PROCESSES") or 1)
# The longest the channel layer may take to accept one live message (after the response, for a web request); a slower
# one is dropped.
HELPDESK_PUBLISH_TIMEOUT_SECONDS = float(os.environ.get("HELPDESK_PUBLISH_TIMEOUT_SECONDS", "0.3"))

# How pages and SMS leave: a dotted path, or one of the short names below.
_PHONE_BACKENDS = {
    "console": "hotline.backends.ConsoleBackend",
    "locmem": "hotline.backends.LocmemBackend",
    "twilio": "hotline.backends.TwilioBackend",
}
_phone_backend = os.environ.get("HELPDESK_PHONE_BACKEND", "console")
HELPDESK_PHONE_BACKEND = _PHONE_BACKENDS.get(_phone_backend, _phone_backend)

# Twilio. The auth token signs every webhook: without it the hotline's webhooks refuse every request (403). The REST
# API (SMS, calls, recordings) uses the API key pair when one is set, else the account SID and auth token.
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_API_KEY_SID = os.environ.get("TWILIO_API_KEY_SID", "")
TWILIO_API_KEY_SECRET = os.environ.get("TWILIO_API_KEY_SECRET", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
# Seconds one Twilio REST request may take before it counts as failed.
TWILIO_TIMEOUT_SECONDS = float(os.environ.get("TWILIO_TIMEOUT_SECONDS", "8"))


def _voice(name: str, default: str) -> dict[str, str]:
    """A hotline voice from `VOICE|SAY_LANGUAGE|SPEECH_LANGUAGE`, e.g. `Polly.Zeina|arb|ar-QA`."""
    voice, language, speech = (os.environ.get(name) or default).split("|")
    return {"voice": voice, "language": language, "speech": speech}


# How the hotline speaks each language (<Say voice language>) and which language its speech recognition hears.
# Arabic may also be a Google voice: HELPDESK_HOTLINE_VOICE_AR="Google.ar-XA-Standard-A|ar-XA|ar-QA".
HELPDESK_HOTLINE_VOICES = {
    "ar": _voice("HELPDESK_HOTLINE_VOICE_AR", "Polly.Zeina|arb|ar-QA"),
    "en": _voice("HELPDESK_HOTLINE_VOICE_EN", "Polly.Joanna|en-US|en-US"),
}
# At most this many new calls, SMS and wrong PINs (per agency code) per number in the window; counted in Redis when
# REDIS_URL is set (shared by every process), else in the process.
HELPDESK_HOTLINE_RATE_LIMITS = {
    "call": (int(os.environ.get("HELPDESK_HOTLINE_CALLS_PER_WINDOW", "10")), 600),
    "sms": (int(os.environ.get("HELPDESK_HOTLINE_SMS_PER_WINDOW", "20")), 600),
    "pin": (int(os.environ.get("HELPDESK_HOTLINE_PIN_FAILURES_PER_WINDOW", "15")), 3600),
}
# The page outbox: a failed SMS or call is tried again after HELPDESK_PAGE_RETRY_SECONDS, doubling each time, up to
# HELPDESK_PAGE_MAX_ATTEMPTS attempts in all; one send waits at most HELPDESK_PAGE_SEND_TIMEOUT_SECONDS.
HELPDESK_PAGE_MAX_ATTEMPTS = int(os.environ.get("HELPDESK_PAGE_MAX_ATTEMPTS", "5"))
HELPDESK_PAGE_RETRY_SECONDS = float(os.environ.get("HELPDESK_PAGE_RETRY_SECONDS", "20"))
HELPDESK_PAGE_SEND_TIMEOUT_SECONDS = float(os.environ.get("HELPDESK_PAGE_SEND_TIMEOUT_SECONDS", "15"))
# /healthz calls the escalation worker stale when no worker has beaten for this many seconds.
HELPDESK_WORKER_STALE_SECONDS = float(os.environ.get("HELPDESK_WORKER_STALE_SECONDS", "30"))

# E-mail (notifications, password reset): EMAIL_BACKEND is a dotted backend path or a short name (the console
# backend prints mails); the SMTP variables only matter for smtp.
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
_email_backend = os.environ.get("EMAIL_BACKEND", "console")
MAILERS: dict[str, dict[str, Any]] = {"default": {"BACKEND": _EMAIL_BACKENDS.get(_email_backend, _email_backend)}}
if MAILERS["default"]["BACKEND"] == _EMAIL_BACKENDS["smtp"]:
    MAILERS["default"]["OPTIONS"] = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "25")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "use_ssl": env_bool("EMAIL_USE_SSL", False),
        "timeout": float(os.environ.get("EMAIL_TIMEOUT", "15")),
    }
# The longest one mail may take to leave, beyond which the worker may try it again.
HELPDESK_MAIL_SEND_SECONDS = float(os.environ.get("EMAIL_TIMEOUT", "15"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "helpdesk@localhost")
# The domain of the Message-IDs that thread a ticket's mails; the host of HELPDESK_PUBLIC_URL when empty.
HELPDESK_MAIL_DOMAIN = os.environ.get("HELPDESK_MAIL_DOMAIN", "")
# Notifications wait this long for the rest of a burst on the same ticket, then leave as one message; a failed one
# is tried again after HELPDESK_NOTIFY_RETRY_SECONDS, doubling each time, up to HELPDESK_NOTIFY_MAX_ATTEMPTS.
HELPDESK_NOTIFY_DELAY_SECONDS = float(os.environ.get("HELPDESK_NOTIFY_DELAY_SECONDS", "30"))
HELPDESK_NOTIFY_RETRY_SECONDS = float(os.environ.get("HELPDESK_NOTIFY_RETRY_SECONDS", "60"))
HELPDESK_NOTIFY_MAX_ATTEMPTS = int(os.environ.get("HELPDESK_NOTIFY_MAX_ATTEMPTS", "6"))
# Password reset: at most this many requests per e-mail address and per client address in each window.
HELPDESK_PASSWORD_RESET_PER_EMAIL = int(os.environ.get("HELPDESK_PASSWORD_RESET_PER_EMAIL", "3"))
HELPDESK_PASSWORD_RESET_PER_CLIENT = int(os.environ.get("HELPDESK_PASSWORD_RESET_PER_CLIENT", "10"))
HELPDESK_PASSWORD_RESET_WINDOW_SECONDS = int(os.environ.get("HELPDESK_PASSWORD_RESET_WINDOW_SECONDS", "3600"))
# The escalation worker fires at most HELPDESK_ESCALATION_BATCH due rows per transaction. Between passes it sleeps until
# the next due instant, woken at once by a ticket change on PostgreSQL, never longer than
# HELPDESK_WORKER_IDLE_SECONDS (its heartbeat must stay fresh); on SQLite it polls every HELPDESK_WORKER_POLL_SECONDS.
HELPDESK_ESCALATION_BATCH = int(os.environ.get("HELPDESK_ESCALATION_BATCH", "50"))
HELPDESK_WORKER_IDLE_SECONDS = float(os.environ.get("HELPDESK_WORKER_IDLE_SECONDS", "10"))
HELPDESK_WORKER_POLL_SECONDS = float(os.environ.get("HELPDESK_WORKER_POLL_SECONDS", "1"))
