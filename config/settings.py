"""Settings for the Electronic Health Book portal, read from the environment.

Every variable is listed with a comment in .env.example. Nothing here has a working
secret default: with DJANGO_DEBUG off the process refuses to start without a real
DJANGO_SECRET_KEY.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SSKDT_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)

DEV_SECRET_KEY = "dev-insecure-only-for-local-development"  # noqa: S105 — refused when DEBUG is off
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (
    not SECRET_KEY
    or SECRET_KEY == DEV_SECRET_KEY
    or SECRET_KEY.startswith(("dev-", "django-insecure"))
    or len(SECRET_KEY) < 50
):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a long random value when DJANGO_DEBUG is off.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "import_export",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    # The portal's apps, from the ground floor up (docs/architecture.md; lint-imports holds the layers).
    "core",
    "geo",
    "provinces",
    "codelists",
    "facilities",
    "accounts",
    "healthbook",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "accounts.sessions.IdleSessionMiddleware",  # Django's, renewing the idle timeout once a minute
    "accounts.middleware.ChosenLanguageMiddleware",  # Django's LocaleMiddleware without Accept-Language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # 413 for a body over its URL's limit before anything reads it (core/bodylimit.py): after the
    # session is known (large bodies only from signed-in users or keys), before CSRF reads POST.
    "core.bodylimit.RequestBodyLimitMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.sessions.SessionLifetimeMiddleware",  # signed out 12 h after sign-in, whatever the activity
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "accounts.middleware.RequireMFAMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]


def _database_url() -> str:
    """Return DATABASE_URL, or the embedded cluster that `make run` / `make test` started."""
    url = env_str("DATABASE_URL", "")
    if url:
        return url
    marker = VAR_DIR / "database_url"
    if marker.exists():
        return marker.read_text().strip()
    raise ImproperlyConfigured(
        "DATABASE_URL is not set and no embedded PostgreSQL has been started "
        "(run `make run` or `python -m config.localdev db`)."
    )


DATABASES = {"default": dj_database_url.parse(_database_url(), conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True


# Two roles (core/dbroles.py): the portal runs as DATABASE_URL's role, which owns nothing;
# DATABASE_OWNER_URL's role owns the schema and runs `manage.py migrate`, then grants the
# application role what it needs. Unset (development): one role does both, the system checks
# warn at start and `check --deploy` fails.
def _database_owner_url() -> str:
    """DATABASE_OWNER_URL, or the embedded cluster's owner role when DATABASE_URL is its too."""
    url = env_str("DATABASE_OWNER_URL", "")
    marker = VAR_DIR / "database_owner_url"
    if not url and not env_str("DATABASE_URL", "") and marker.exists():
        return marker.read_text().strip()
    return url


DATABASE_OWNER_URL = _database_owner_url()
DATABASE_OWNER = dj_database_url.parse(DATABASE_OWNER_URL) if DATABASE_OWNER_URL else None
SSKDT_DATABASE_APP_ROLE = DATABASES["default"]["USER"]
# Prepared statements for the compiled hot-path queries only (core.compiled: the access
# decision, the signed-in user, the viewers panel); every other query binds client-side and is
# never prepared. Switch off behind a pooler in transaction mode without prepared-statement
# support (PgBouncer before 1.21).
if env_bool("DB_PREPARED_STATEMENTS", True):
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5

# Read replicas (core/replicas.py, docs/scale.md): streaming replicas of the primary, read as the
# same application role. Only reads marked lag-tolerant go there, and only while a replica is at
# most DATABASE_REPLICA_MAX_LAG_SECONDS behind (measured at most every
# DATABASE_REPLICA_LAG_CACHE_SECONDS per process). Unset: one database, no router.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS", [])
DATABASE_REPLICA_MAX_LAG_SECONDS = float(env_str("DATABASE_REPLICA_MAX_LAG_SECONDS", "5"))
DATABASE_REPLICA_LAG_CACHE_SECONDS = float(env_str("DATABASE_REPLICA_LAG_CACHE_SECONDS", "1"))
DATABASE_ROUTERS: list[str] = []
if DATABASE_REPLICA_URLS:
    from core.replicas import database_settings as _replica_settings  # noqa: E402

    DATABASES.update(
        _replica_settings(
            DATABASE_REPLICA_URLS,
            DATABASES["default"],
            lambda url: dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60)),
        )
    )
    DATABASE_ROUTERS = ["core.replicas.ReplicaRouter"]
    # Keeps a browser on the primary for a few seconds after a request of it wrote (its next
    # page shows what it saved); first, so that it sees every write of the request.
    MIDDLEWARE.insert(1, "core.replicas.ReplicaStickinessMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    # Shared between processes (rate limits must hold across gunicorn workers).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache_table"}}
# Rendered book fragments (header facts, timeline rows), in each process's memory: their keys
# carry the book's content version (bumped by database triggers), so nothing is ever shown
# from an older state of the book and no process has to be told to forget. Facility and code
# names inside them are at most BOOK_FRAGMENT_SECONDS old, as in the name caches they come from.
BOOK_FRAGMENT_SECONDS = env_int("BOOK_FRAGMENT_SECONDS", 300)
CACHES["book_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "book-fragments",
    "TIMEOUT": BOOK_FRAGMENT_SECONDS,
    "OPTIONS": {"MAX_ENTRIES": env_int("BOOK_FRAGMENT_ENTRIES", 5000)},
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Django's and allauth's backends, loading the user, facility and TOTP enrolment in one query.
    "accounts.backends.PortalModelBackend",
    "accounts.backends.PortalAuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if env_bool("SSKDT_FAST_PASSWORD_HASHER", False):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "accounts.adapters.PortalAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
# Sensitive account changes (adding, changing or removing an e-mail address; any MFA change:
# TOTP, recovery codes) need a sign-in within the last SSKDT_REAUTHENTICATION_SECONDS (allauth's
# reauthentication); changing the password asks for the current one.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
MFA_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("SSKDT_REAUTHENTICATION_SECONDS", 300)
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_RATE_LIMITS = {
    # Failed logins per client address and per account (allauth counts in the cache).
    "login_failed": env_str("SSKDT_LOGIN_FAILED_RATE", "10/m/ip,5/5m/key"),
    "reset_password": "5/m/ip,3/h/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("SSKDT_TOTP_ISSUER", "Sổ sức khỏe điện tử")
# Sessions are registered at login (allauth signal), which is all deactivation needs; tracking
# activity would add a database write to every signed-in request.
USERSESSIONS_TRACK_ACTIVITY = False
# Demo accounts may skip MFA enrolment only while DEBUG is on (see RequireMFAMiddleware).
SSKDT_DEMO_SKIPS_MFA = DEBUG

SESSION_COOKIE_AGE = env_int("SSKDT_SESSION_IDLE_SECONDS", 30 * 60)
# The age is an idle timeout. It is renewed when the row's expiry was last pushed forward this
# many seconds ago or more (accounts/sessions.py), not on every request: a session ends between
# SESSION_COOKIE_AGE - SSKDT_SESSION_RENEW_SECONDS and SESSION_COOKIE_AGE after its last request,
# and a signed-in request writes the session row at most once a minute instead of every time.
SESSION_ENGINE = "accounts.sessions"
SESSION_SAVE_EVERY_REQUEST = False
SSKDT_SESSION_RENEW_SECONDS = min(env_int("SSKDT_SESSION_RENEW_SECONDS", 60), SESSION_COOKIE_AGE // 2)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Absolute lifetime of a signed-in session, counted from the sign-in whatever the activity
# (accounts.sessions.SessionLifetimeMiddleware); the idle timeout above still applies within it.
SSKDT_SESSION_ABSOLUTE_SECONDS = env_int("SSKDT_SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
# Project strings first, then Vietnamese for third-party apps that ship none (allauth).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "config" / "locale_thirdparty"]
LANGUAGE_COOKIE_NAME = "sskdt_language"
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]
# Dates are typed dd/mm/yyyy in both languages (config/formats/*; core.forms.DateField); these are
# the fallbacks when no language is active (tasks, shell). Numbers are formatted by the one
# `number` filter (core/templatetags/numbers.py) with grouping forced, not by
# USE_THOUSAND_SEPARATOR, which would also group ids, years and codes printed as numbers.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]

STATIC_URL = "/static/"
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
MEDIA_ROOT = Path(env_str("SSKDT_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("SSKDT_UPLOAD_MAX_MEMORY_BYTES", 5 * 1024 * 1024)

EMAIL_BACKEND = env_str(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "so-suc-khoe@localhost")

# Security headers. With DEBUG off these default to the strict values that
# `manage.py check --deploy` expects; a reverse proxy terminates TLS.
BEHIND_TLS_PROXY = env_bool("DJANGO_BEHIND_TLS_PROXY", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp; Django 5.2 has none built in): scripts, styles, fonts and
# fetches from this origin only, no inline script or eval anywhere (the page scripts are files
# under static/js, the Swagger UI's start script is served as a file by SpectacularSwaggerSplitView),
# images also as data: URLs (the TOTP QR code, Bootstrap's icons), no plugins, never framed.
# form-action is left out: the OAuth consent form must be able to redirect to the facility
# software's registered redirect URI (another origin).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sổ sức khỏe điện tử — API",
    "DESCRIPTION": "Back-office API of the Electronic Health Book portal.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Celery. Redis when CELERY_BROKER_URL is set; otherwise kombu's filesystem
# transport under var/ so that one machine needs no broker server.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
if not CELERY_BROKER_URL:
    _queue_dir = VAR_DIR / "celery"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "control_folder": str(_queue_dir / "control"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
    }
    for _sub in ("queue", "control", "processed"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A task not acknowledged within this many seconds is handed to another worker.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        # How often an idle worker looks for messages past that timeout: every interval x
        # throttle seconds (kombu's defaults, 10 x 10). Only worth lowering with a low timeout.
        "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
        "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3600)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 3300)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Periodic jobs, all in one place. Later capabilities add theirs here.
CELERY_BEAT_SCHEDULE: dict = {
    "accounts-purge-expired-sessions": {
        "task": "accounts.tasks.sessions_purge_expired_task",
        "schedule": 3600.0,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"refused": {"()": "core.logsafe.RefusedRequestFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["refused"]}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own handler for "django" (plain lines on the console with DEBUG on) would print
        # each record a second time beside the root handler's: one line per refusal (issue 18).
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # runserver's access lines through the same handler: its filter keeps one line per refusal
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Client addresses for rate limits and logs: X-Forwarded-For is trusted only for
# this many proxies in front of us (0 = use the socket address; a rotating header
# cannot dodge the login rate limit). Behind the TLS proxy the default is that one proxy: its
# last X-Forwarded-For entry is the client, whatever the client wrote before it. Behind a proxy
# with 0 every request would come from the proxy's address, so the per-address login limit
# would lock everybody out at once and the access log would record the proxy (issue 15, attack
# 11): that pair refuses to start.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("SSKDT_TRUSTED_PROXY_COUNT", 1 if BEHIND_TLS_PROXY else 0)
if BEHIND_TLS_PROXY and ALLAUTH_TRUSTED_PROXY_COUNT < 1:
    raise ImproperlyConfigured(
        "DJANGO_BEHIND_TLS_PROXY=1 with SSKDT_TRUSTED_PROXY_COUNT=0: every client would appear as the proxy's "
        "address, so the per-address login limit would lock everybody out at once and the access log would "
        "record the proxy. Set SSKDT_TRUSTED_PROXY_COUNT to the number of reverse proxies in front of the portal "
        "(1 for one proxy that appends the client's address to X-Forwarded-For), or DJANGO_BEHIND_TLS_PROXY=0."
    )
if ALLAUTH_TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("SSKDT_TRUSTED_PROXY_COUNT must be 0 or more.")

# --- facilities -------------------------------------------------------------------
# A facility that is approved or connected is "silent" after this many days without
# accepted data.
SSKDT_SILENT_AFTER_DAYS = env_int("SSKDT_SILENT_AFTER_DAYS", 7)
# A facility API key works this many days after it is created (then the software gets 401 and the
# facility creates a new key); the facility's administrators are e-mailed, and their credentials
# page warns, this many days before a key expires (the beat job runs daily).
SSKDT_API_KEY_DAYS = env_int("SSKDT_API_KEY_DAYS", 365)
SSKDT_API_KEY_REMINDER_DAYS = env_int("SSKDT_API_KEY_REMINDER_DAYS", 30)
if SSKDT_API_KEY_DAYS < 1 or SSKDT_API_KEY_REMINDER_DAYS < 0:
    raise ImproperlyConfigured("SSKDT_API_KEY_DAYS must be 1 or more and SSKDT_API_KEY_REMINDER_DAYS 0 or more.")
# Base of the canonical URLs in FHIR resources, and the identifier system of facility
# codes (mã cơ sở KCB) — set it to the national naming system's URI once it is confirmed.
SSKDT_FHIR_BASE_URL = env_str("SSKDT_FHIR_BASE_URL", "http://localhost:8000/fhir")
# Registrations a facility administrator may have waiting for the province (pending or rejected):
# no one reserves a province's facility codes by filing registrations (facilities.services).
SSKDT_FACILITY_OPEN_REGISTRATIONS_MAX = env_int("SSKDT_FACILITY_OPEN_REGISTRATIONS_MAX", 1)
SSKDT_FHIR_FACILITY_CODE_SYSTEM = env_str("SSKDT_FHIR_FACILITY_CODE_SYSTEM", "")

# --- codelists ---------------------------------------------------------------------------
# Every process caches which code-list version is in force and forgets it when a version changes:
# its database connections LISTEN for the notification a trigger sends on commit. Behind a pooler
# in transaction mode (no LISTEN), switch this off: the cache is then forgotten per request and task.
SSKDT_CODELISTS_LISTEN = env_bool("SSKDT_CODELISTS_LISTEN", True)

# --- healthbook: citizen books and insurance-card imports -------------------------------
# Rows per chunk: one transaction (COPY + merge + progress) each. Bigger chunks touch fewer index
# pages per row (the probes are sorted); memory grows with them (bench/RESULTS.md: 203 MB peak at
# 20,000, with one chunk validated ahead).
CARD_IMPORT_CHUNK_ROWS = env_int("CARD_IMPORT_CHUNK_ROWS", 20000)
# A running batch whose heartbeat (one per chunk) is older than this is presumed dead; the
# sweeper re-queues it. Must exceed the longest chunk by a wide margin.
CARD_IMPORT_STALE_SECONDS = env_int("CARD_IMPORT_STALE_SECONDS", 120)
CARD_IMPORT_SWEEP_SECONDS = env_int("CARD_IMPORT_SWEEP_SECONDS", 60)
# One task runs a batch for at most this long, then queues the next run (far below the
# Celery time limit and the Redis visibility timeout).
CARD_IMPORT_TASK_BUDGET_SECONDS = env_int("CARD_IMPORT_TASK_BUDGET_SECONDS", 240)
# Shards of a batch's merge (healthbook.cards.shards): the file is read and staged once, then N
# shard tasks merge it at once, one per worker process that is free. 0: each chunk is merged
# as it is read, by the batch's one task.
CARD_IMPORT_SHARDS = env_int("CARD_IMPORT_SHARDS", 0)
# A sharded batch's CSV file at least this large is read by its N shard tasks side by side, one
# byte range each (healthbook.cards.reading); a smaller one by the batch's task alone.
CARD_IMPORT_SPLIT_MIN_BYTES = env_int("CARD_IMPORT_SPLIT_MIN_BYTES", 16 * 1024**2)
CARD_IMPORT_MAX_BYTES = env_int("CARD_IMPORT_MAX_BYTES", 8 * 1024**3)  # a 21 M-row national CSV is 3.4 GB
CARD_IMPORT_XLSX_MAX_UNCOMPRESSED = env_int("CARD_IMPORT_XLSX_MAX_UNCOMPRESSED", 1024**3)
CARD_IMPORT_XLSX_MAX_RATIO = env_int("CARD_IMPORT_XLSX_MAX_RATIO", 100)
CARD_IMPORT_XLSX_MAX_SHARED_STRINGS = env_int("CARD_IMPORT_XLSX_MAX_SHARED_STRINGS", 48 * 1024**2)
# A worksheet part larger than this without its <dimension> record has its rows counted (openpyxl
# keeps one object per row of such a sheet); more than CARD_IMPORT_XLSX_MAX_UNSIZED_ROWS refuses it.
CARD_IMPORT_XLSX_MAX_UNSIZED_SHEET = env_int("CARD_IMPORT_XLSX_MAX_UNSIZED_SHEET", 16 * 1024**2)
CARD_IMPORT_XLSX_MAX_UNSIZED_ROWS = env_int("CARD_IMPORT_XLSX_MAX_UNSIZED_ROWS", 2_000_000)
# Any request body declaring more than this gets 413 before it is read, whoever sends it (0: 1 MiB);
# only the upload endpoints (card files, submissions, code-list and facility imports) accept more,
# up to their own limits, and only from signed-in users or valid keys (core/bodylimit.py).
SSKDT_MAX_REQUEST_BYTES = env_int("SSKDT_MAX_REQUEST_BYTES", 0)
# Uploads larger than this are streamed to a temporary file, not held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("SSKDT_FILE_UPLOAD_MAX_MEMORY_BYTES", 2_621_440)
CELERY_BEAT_SCHEDULE.update(
    {
        "healthbook-card-batches-sweep": {
            "task": "healthbook.cards.tasks.card_batches_sweep_task",
            "schedule": float(CARD_IMPORT_SWEEP_SECONDS),
        },
    }
)
# --- proof (security suite) ---
# The language cookie gets the same flags as the session cookie (S16 found it without any).
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# One event per line whatever a username or file name contains (S25).
LOGGING["formatters"]["plain"]["()"] = "core.logsafe.SingleLineFormatter"
# No personal ID in any log line (issue 15, point 8): masked but for its last 3 digits.
LOGGING["filters"]["personal_ids"] = {"()": "core.logsafe.PersonalIdFilter"}
LOGGING["handlers"]["console"]["filters"].append("personal_ids")

# --- accesslog / doctor book pages --------------------------------------------------
INSTALLED_APPS += ["accesslog"]
# A doctor may open a book when the citizen visited the doctor's facility within this many months,
# or the facility is the card's primary-care one (healthbook/book/access.py).
SSKDT_CARE_RELATIONSHIP_MONTHS = env_int("SSKDT_CARE_RELATIONSHIP_MONTHS", 24)
# A signed check-in (XML0 alone, a FHIR Encounter arrived/in-progress) opens the book to the facility
# that checked the patient in for this many hours from the check-in time (the visit that follows
# keeps it open with the visit's own window).
SSKDT_CHECKIN_HOURS = env_int("SSKDT_CHECKIN_HOURS", 24)
# Admission and check-in times more than this many minutes after the receipt of the submission are
# an error (clocks of facility software and portal differ a little; the future opens nothing).
SSKDT_CLOCK_SKEW_MINUTES = env_int("SSKDT_CLOCK_SKEW_MINUTES", 10)
# Unusual check-ins of a facility on one day alert its province (provinces.rollups): at least
# this many check-ins (or check-ins of people from other provinces, or first-ever ones) and more
# than SSKDT_CHECKIN_ALERT_FACTOR times the facility's own daily average of the 28 days before.
SSKDT_CHECKIN_ALERT_MIN = env_int("SSKDT_CHECKIN_ALERT_MIN", 20)
SSKDT_CHECKIN_ALERT_FACTOR = float(env_str("SSKDT_CHECKIN_ALERT_FACTOR", "3"))
# Lifetime of an emergency ("break-the-glass") access.
SSKDT_EMERGENCY_ACCESS_MINUTES = env_int("SSKDT_EMERGENCY_ACCESS_MINUTES", 60)
# The citizen's consent (issue 19; healthbook/consent): a share code opens the book to one facility
# for SSKDT_SHARE_CODE_MINUTES unless the citizen asks for another lifetime (at most _MAX_MINUTES);
# at most SSKDT_SHARE_CODES_LIVE live codes per citizen. Wrong codes are limited per hour: per
# doctor (_FAILURES_PER_DOCTOR) and per citizen (_FAILURES_PER_CITIZEN), then refused (429).
SSKDT_SHARE_CODE_MINUTES = env_int("SSKDT_SHARE_CODE_MINUTES", 240)
SSKDT_SHARE_CODE_MAX_MINUTES = env_int("SSKDT_SHARE_CODE_MAX_MINUTES", 7 * 24 * 60)
SSKDT_SHARE_CODES_LIVE = env_int("SSKDT_SHARE_CODES_LIVE", 5)
SSKDT_SHARE_CODE_FAILURES_PER_DOCTOR = env_int("SSKDT_SHARE_CODE_FAILURES_PER_DOCTOR", 10)
SSKDT_SHARE_CODE_FAILURES_PER_CITIZEN = env_int("SSKDT_SHARE_CODE_FAILURES_PER_CITIZEN", 5)
# A citizen's copy of the book (FHIR Bundle + PDF) can be downloaded once within this many days.
SSKDT_COPY_DAYS = env_int("SSKDT_COPY_DAYS", 7)
CELERY_BEAT_SCHEDULE.update(
    {"healthbook-copies-expire": {"task": "healthbook.copies.tasks.copies_expire_task", "schedule": 3600.0}}
)
# Emergency openings allowed per Vietnam calendar day, per doctor and per facility; beyond them a
# break-the-glass is refused (the province reviews every opening).
SSKDT_EMERGENCY_CAP_PER_DOCTOR = env_int("SSKDT_EMERGENCY_CAP_PER_DOCTOR", 3)
SSKDT_EMERGENCY_CAP_PER_FACILITY = env_int("SSKDT_EMERGENCY_CAP_PER_FACILITY", 10)
# Lifetime of the token a doctor grants to facility software (OAuth2 authorization code + PKCE).
SSKDT_PRACTITIONER_TOKEN_MINUTES = env_int("SSKDT_PRACTITIONER_TOKEN_MINUTES", 30)
# The secret that keys the access-log chain and authenticates its checkpoints (HMAC-SHA-256,
# accesslog/chain.py): never stored in the database, so the database alone cannot re-chain it.
# Required with DEBUG off; retired keys stay listed in SSKDT_ACCESS_LOG_OLD_KEYS (comma-separated)
# so that what they sealed still verifies.
DEV_ACCESS_LOG_KEY = "dev-insecure-access-log-key-for-local-development"  # noqa: S105 — refused when DEBUG is off
SSKDT_ACCESS_LOG_KEY = env_str("SSKDT_ACCESS_LOG_KEY", DEV_ACCESS_LOG_KEY if DEBUG else "")
if not DEBUG and (
    len(SSKDT_ACCESS_LOG_KEY) < 32
    or SSKDT_ACCESS_LOG_KEY == DEV_ACCESS_LOG_KEY
    or SSKDT_ACCESS_LOG_KEY == SECRET_KEY
    or SSKDT_ACCESS_LOG_KEY.startswith("dev-")
):
    raise ImproperlyConfigured(
        "SSKDT_ACCESS_LOG_KEY must be set to a long random value (32+ characters, not DJANGO_SECRET_KEY) "
        "when DJANGO_DEBUG is off."
    )
SSKDT_ACCESS_LOG_OLD_KEYS = env_list("SSKDT_ACCESS_LOG_OLD_KEYS", [])
# Where checkpoints of the chain go, outside the database (accesslog/checkpoints.py): a file path
# (development; default var/access-log-checkpoints.jsonl) or an http(s):// URL that takes each
# checkpoint by POST and answers them all to GET (production, on another host), with an
# optional bearer token and a timeout in seconds.
SSKDT_ACCESS_LOG_CHECKPOINT = env_str("SSKDT_ACCESS_LOG_CHECKPOINT", "") or str(
    VAR_DIR / "access-log-checkpoints.jsonl"
)
SSKDT_ACCESS_LOG_CHECKPOINT_TOKEN = env_str("SSKDT_ACCESS_LOG_CHECKPOINT_TOKEN", "")
SSKDT_ACCESS_LOG_CHECKPOINT_TIMEOUT = env_int("SSKDT_ACCESS_LOG_CHECKPOINT_TIMEOUT", 10)
SSKDT_ACCESS_LOG_CHECKPOINT_SECONDS = env_int("SSKDT_ACCESS_LOG_CHECKPOINT_SECONDS", 3600)
# How many months after the current one have an access-log partition ready (accesslog/partitions.py).
SSKDT_ACCESS_LOG_PARTITIONS_AHEAD = env_int("SSKDT_ACCESS_LOG_PARTITIONS_AHEAD", 3)
# How an access-log append reaches the disk (accesslog/chain.py, docs/doctor-book.md):
# "group" = commit without holding the chain head during the flush, then wait for the flush
# (durable before the page is shown; concurrent appends share flushes); "sync" = wait while
# holding the head (at most one append per flush, portal-wide); "async" = do not wait (a crash
# can lose the newest entries of pages already shown).
SSKDT_ACCESS_LOG_COMMIT = env_str("SSKDT_ACCESS_LOG_COMMIT", "group")
if SSKDT_ACCESS_LOG_COMMIT not in ("group", "sync", "async"):
    raise ImproperlyConfigured("SSKDT_ACCESS_LOG_COMMIT must be group, sync or async.")
CELERY_BEAT_SCHEDULE.update(
    {
        "accesslog-checkpoint": {
            "task": "accesslog.tasks.access_log_checkpoint_task",
            "schedule": float(SSKDT_ACCESS_LOG_CHECKPOINT_SECONDS),
        },
        # Monthly partitions of the access log, made ahead as the owner role (accesslog/partitions.py).
        "accesslog-partitions": {"task": "accesslog.tasks.access_log_partitions_task", "schedule": 86400.0},
    }
)

# --- healthbook: examination data intake (issue 6) ---------------------------------------
# Largest accepted submission body (413 above it, checked from Content-Length and while reading).
INTAKE_MAX_BYTES = env_int("INTAKE_MAX_BYTES", 20 * 1024 * 1024)
# A submission still received/processing after this long is re-queued by the sweeper.
INTAKE_STALE_SECONDS = env_int("INTAKE_STALE_SECONDS", 300)
INTAKE_SWEEP_SECONDS = env_int("INTAKE_SWEEP_SECONDS", 60)
# A worker processes up to this many queued submissions of one facility in one transaction
# (1 = one at a time), holding at most INTAKE_BATCH_BYTES of their bodies (healthbook/intake/processing.py).
INTAKE_BATCH_SIZE = env_int("INTAKE_BATCH_SIZE", 20)
INTAKE_BATCH_BYTES = env_int("INTAKE_BATCH_BYTES", 8 * 1024 * 1024)
# Where the XML 130 signing time comes from: "NGAYLAP" (the signed envelope date) or "RECEIVED".
INTAKE_SIGNING_TIME_SOURCE = env_str("INTAKE_SIGNING_TIME_SOURCE", "NGAYLAP")
# Severity overrides for problem codes: {"CODE" or "CODE:TABLE:FIELD": "error"|"warning"}
# (defaults in healthbook/intake/validate.py and problems.py; documented in docs/intake.md).
INTAKE_SEVERITY_OVERRIDES: dict[str, str] = {}
# Process submissions in the web process right after commit (demo/tests only; Celery otherwise).
INTAKE_PROCESS_INLINE = env_bool("INTAKE_PROCESS_INLINE", False)
CELERY_BEAT_SCHEDULE.update(
    {
        "healthbook-submissions-sweep": {
            "task": "healthbook.intake.tasks.submissions_sweep_task",
            "schedule": float(INTAKE_SWEEP_SECONDS),
        },
    }
)

# --- provinces: rollout dashboards, connectivity monitor; healthbook.reminders -----------
# Links in e-mails (the connectivity digest) start with this.
SSKDT_PORTAL_BASE_URL = env_str("SSKDT_PORTAL_BASE_URL", "http://localhost:8000")
# "Rejection rate jumped": at least this many submissions over 7 days, a rate of at least
# ROLLUP_JUMP_MIN_RATE and ROLLUP_JUMP_DELTA above the 7 days before.
ROLLUP_JUMP_MIN_RECEIVED = env_int("SSKDT_ROLLUP_JUMP_MIN_RECEIVED", 10)
ROLLUP_JUMP_MIN_RATE = float(env_str("SSKDT_ROLLUP_JUMP_MIN_RATE", "0.2"))
ROLLUP_JUMP_DELTA = float(env_str("SSKDT_ROLLUP_JUMP_DELTA", "0.15"))
# Reminders: days ahead of a follow-up appointment or a vaccination dose.
REMINDER_DAYS_AHEAD = env_int("SSKDT_REMINDER_DAYS_AHEAD", 3)
# The outbox of messages to citizens (healthbook.notifications; docs/notifications.md).
# The channel of a message when its caller names none: vneid, sms or email.
NOTIFY_DEFAULT_CHANNEL = env_str("SSKDT_NOTIFY_CHANNEL", "vneid")
NOTIFY_SENDERS = {
    "vneid": "healthbook.notifications.senders.VneidGatewaySender",
    "sms": "healthbook.notifications.senders.SmsGatewaySender",
    "email": "healthbook.notifications.senders.EmailSender",
}
# The national notification gateway (VNeID app) and the SMS gateway: URL, key id, HMAC secret.
NOTIFY_VNEID_URL = env_str("SSKDT_NOTIFY_VNEID_URL", "")
NOTIFY_VNEID_KEY_ID = env_str("SSKDT_NOTIFY_VNEID_KEY_ID", "")
NOTIFY_VNEID_SECRET = env_str("SSKDT_NOTIFY_VNEID_SECRET", "")
NOTIFY_SMS_URL = env_str("SSKDT_NOTIFY_SMS_URL", "")
NOTIFY_SMS_KEY_ID = env_str("SSKDT_NOTIFY_SMS_KEY_ID", "")
NOTIFY_SMS_SECRET = env_str("SSKDT_NOTIFY_SMS_SECRET", "")
NOTIFY_SMS_BRANDNAME = env_str("SSKDT_NOTIFY_SMS_BRANDNAME", "SO SK DT")
# Where the e-mail channel delivers (development: citizens have no e-mail on file).
NOTIFY_EMAIL_TO = env_str("SSKDT_NOTIFY_EMAIL_TO", "nhac-lich@localhost")
NOTIFY_CONNECT_TIMEOUT = float(env_str("SSKDT_NOTIFY_CONNECT_TIMEOUT", "3"))
NOTIFY_READ_TIMEOUT = float(env_str("SSKDT_NOTIFY_READ_TIMEOUT", "10"))
# Retries: attempt n+1 starts base·2^(n-1) seconds after failed attempt n (at most MAX_SECONDS);
# after MAX_ATTEMPTS failures, or at once on a refusal (4xx), the message is a dead letter.
NOTIFY_MAX_ATTEMPTS = env_int("SSKDT_NOTIFY_MAX_ATTEMPTS", 6)
NOTIFY_RETRY_BASE_SECONDS = env_int("SSKDT_NOTIFY_RETRY_BASE_SECONDS", 60)
NOTIFY_RETRY_MAX_SECONDS = env_int("SSKDT_NOTIFY_RETRY_MAX_SECONDS", 6 * 3600)
NOTIFY_BATCH = env_int("SSKDT_NOTIFY_BATCH", 50)
# How long a claimed batch belongs to its worker before another may take it again.
NOTIFY_CLAIM_SECONDS = env_int("SSKDT_NOTIFY_CLAIM_SECONDS", 900)
NOTIFY_SWEEP_SECONDS = env_int("SSKDT_NOTIFY_SWEEP_SECONDS", 60)
if NOTIFY_MAX_ATTEMPTS < 1 or NOTIFY_BATCH < 1 or NOTIFY_CLAIM_SECONDS < 60:
    raise ImproperlyConfigured("SSKDT_NOTIFY_MAX_ATTEMPTS and _BATCH must be 1 or more, _CLAIM_SECONDS 60 or more.")
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE.update(
    {
        "provinces-rollups-today": {"task": "provinces.tasks.rollups_today_task", "schedule": 15 * 60.0},
        # 00:30 and 07:00 Vietnam time (UTC+7; the beat runs in UTC).
        "provinces-rollups-yesterday": {
            "task": "provinces.tasks.rollups_yesterday_task",
            "schedule": crontab(hour=17, minute=30),
        },
        "healthbook-reminders-daily": {
            "task": "healthbook.reminders.tasks.reminders_daily_task",
            "schedule": crontab(hour=0, minute=0),
        },
        "healthbook-notifications-sweep": {
            "task": "healthbook.notifications.tasks.notifications_sweep_task",
            "schedule": float(NOTIFY_SWEEP_SECONDS),
        },
    }
)

# --- facilities: API key expiry reminders (settings above, with the facilities) ---
CELERY_BEAT_SCHEDULE.update(
    {
        # 08:00 Vietnam time (01:00 UTC): remind facility administrators of API keys about to expire.
        "facilities-api-key-expiry-reminders": {
            "task": "facilities.tasks.api_key_expiry_remind_task",
            "schedule": crontab(hour=1, minute=0),
        },
    }
)

# --- citizenapi: the citizen API for the VNeID platform (docs/citizen-api.md) ---
INSTALLED_APPS += ["citizenapi"]
# The `aud` its tokens must carry, their longest life (exp - iat) and the clock difference allowed.
SSKDT_CITIZEN_TOKEN_AUDIENCE = env_str("SSKDT_CITIZEN_TOKEN_AUDIENCE", "sskdt-citizen-api")
SSKDT_CITIZEN_TOKEN_MAX_SECONDS = env_int("SSKDT_CITIZEN_TOKEN_MAX_SECONDS", 300)
SSKDT_CITIZEN_TOKEN_SKEW_SECONDS = env_int("SSKDT_CITIZEN_TOKEN_SKEW_SECONDS", 30)
CELERY_BEAT_SCHEDULE.update(
    {
        "citizenapi-token-uses-purge": {
            "task": "citizenapi.tasks.token_uses_purge_task",
            "schedule": 3600.0,
        },
    }
)
# How long a process remembers a platform key (a revoked key stops working within this time).
SSKDT_CITIZEN_KEY_CACHE_SECONDS = env_int("SSKDT_CITIZEN_KEY_CACHE_SECONDS", 30)
# --- cohorts: cohorts as data, nightly members and counts (docs/cohorts.md, issue 20) ---
INSTALLED_APPS += ["cohorts"]
CELERY_BEAT_SCHEDULE.update(
    {
        "cohorts-compute-nightly": {
            "task": "cohorts.tasks.cohorts_compute_task",
            "schedule": crontab(hour=18, minute=30),  # 01:30 in Vietnam, after yesterday's rollups
        },
    }
)

# Public-health line lists (issue 20, publichealth): how long an opened list stays open (then the
# officer states a purpose again), and the most people one list holds.
INSTALLED_APPS += ["publichealth"]
SSKDT_COHORT_LIST_MINUTES = env_int("SSKDT_COHORT_LIST_MINUTES", 30)
SSKDT_COHORT_LIST_MAX = env_int("SSKDT_COHORT_LIST_MAX", 20000)
