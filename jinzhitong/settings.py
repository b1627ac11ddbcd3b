"""One settings file, configured by environment variables (see docs/operations.md).

With nothing set: SQLite in the checkout, tasks run in-process, DEBUG on.
Production: DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from jinzhitong.env import envbool, envfloat, envint, envlist, envrate, envsecret, envstr
from jinzhitong.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", True)
SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-jinzhitong-0123456789"
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "mptt",
    "import_export",
    "csp",
    "accounts.axes_app.AxesConfig",  # django-axes, named in Chinese
    "django_filters",
    "django_htmx",
    "template_partials",
    "accounts",
    "grids",
    "reports",
    "residents",
    "evaluation",
    "casegen",
]

MIDDLEWARE = [
    # First: the request id is in every log line of the request, middleware's included.
    "jinzhitong.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A dropped database connection → 503 + Retry-After; full or read-only photo storage
    # → 507 with "retry": false (jinzhitong/errors.py).
    "jinzhitong.middleware.FaultMiddleware",
    "jinzhitong.db_router.PrimaryAfterWriteMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Production serves its own static files (collected, hashed, compressed).
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "jinzhitong.urls"
WSGI_APPLICATION = "jinzhitong.wsgi.application"

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
                "jinzhitong.context_processors.site",
                "jinzhitong.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite in the checkout unless DATABASE_URL says otherwise.
DATABASE_URL = envstr("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BASE_DIR / "db.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Whatever the URL: take the write lock when a transaction starts (a deferred one
    # that upgrades fails at once with "database is locked") and wait up to 20 s for it;
    # WAL lets readers go on while one process writes (no effect on an in-memory test DB).
    # Persistent connections gain nothing on SQLite.
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# A PostgreSQL streaming replica for the read-heavy pages (statistics, the leader's
# screen, the board, exports): only views marked @read_replica read from it, and a
# browser that has just written reads the primary for REPLICA_STICKY_SECONDS
# (jinzhitong/db_router.py, docs/operations.md "Scale out").
DATABASE_REPLICA_URL = envstr("DATABASE_REPLICA_URL")
REPLICA_DATABASE = ""
if DATABASE_REPLICA_URL:
    REPLICA_DATABASE = "replica"
    DATABASES[REPLICA_DATABASE] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
    # Tests read the primary's test database through this alias (no second copy).
    DATABASES[REPLICA_DATABASE]["TEST"] = {"MIRROR": "default"}
REPLICA_STICKY_SECONDS = envint("REPLICA_STICKY_SECONDS", 30)
DATABASE_ROUTERS = ["jinzhitong.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: broker and cache when REDIS_URL is set; otherwise tasks run in-process.
REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = envfloat("CELERY_BROKER_CONNECTION_TIMEOUT", 2.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TIMEZONE = "Asia/Shanghai"
ROUTING_SWEEP_SECONDS = envfloat("ROUTING_SWEEP_SECONDS", 20.0)
OVERDUE_SWEEP_SECONDS = envfloat("OVERDUE_SWEEP_SECONDS", 60.0)
EVALUATION_CATCH_UP_SECONDS = envfloat("EVALUATION_CATCH_UP_SECONDS", 30.0)
THUMBNAIL_SWEEP_SECONDS = envfloat("THUMBNAIL_SWEEP_SECONDS", 120.0)
PHOTO_ORPHAN_SWEEP_SECONDS = envfloat("PHOTO_ORPHAN_SWEEP_SECONDS", 3600.0)
# A photo file with no row is removed once it is this old (a transaction may still be
# open on a younger one).
PHOTO_ORPHAN_MINUTES = envint("PHOTO_ORPHAN_MINUTES", 60)
# The worker logs through LOGGING below (request id = task id), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Reports filed while the broker was down are routed within a minute of its return.
    "sweep-unrouted": {"task": "reports.tasks.sweep_unrouted", "schedule": ROUTING_SWEEP_SECONDS},
    "sweep-overdue": {"task": "reports.tasks.sweep_overdue", "schedule": OVERDUE_SWEEP_SECONDS},
    # Case events folded into the evaluation rollups (idempotent catch-up from a cursor).
    "evaluation-catch-up": {
        "task": "evaluation.tasks.catch_up_rollups",
        "schedule": EVALUATION_CATCH_UP_SECONDS,
    },
    # Manual care levels whose expiry has passed fall back to the level the tags give.
    "residents-expire-overrides": {
        "task": "residents.tasks.expire_care_overrides",
        "schedule": 3600.0,
    },
    # Photos whose thumbnail task was lost (broker down, worker killed) get one.
    "sweep-thumbnails": {
        "task": "reports.tasks.sweep_thumbnails",
        "schedule": THUMBNAIL_SWEEP_SECONDS,
    },
    # Photo files that no row references (a process killed between file and commit).
    "sweep-orphan-photos": {
        "task": "reports.tasks.sweep_orphan_photos",
        "schedule": PHOTO_ORPHAN_SWEEP_SECONDS,
    },
    # The worker's heartbeat, read by /healthz.
    "worker-heartbeat": {"task": "jinzhitong.worker_heartbeat", "schedule": 30.0},
}
# Without a broker nothing runs beat: the web process runs the schedule above in a thread
# of its own (jinzhitong/scheduler.py, started by jinzhitong/wsgi.py; docs/operations.md).
EMBEDDED_SCHEDULER = envbool("EMBEDDED_SCHEDULER", not REDIS_URL)
# Extra notification transports (dotted paths of callables taking a Notification).
NOTIFICATION_TRANSPORTS = envlist("NOTIFICATION_TRANSPORTS", [])
# Spreadsheet exports never carry live formulas (CSV injection): reports.resources
# escapes every cell with jinzhitong.cells, reversibly. django-import-export's own
# escaping drops the "=" and so alters the value; it stays off.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False
# Limits on filing (docs/architecture.md, "Limits on input"); every one is read where it
# applies, per request, so changing it changes behaviour (tests/reports/test_limits.py).
REPORT_PHOTO_MAX_BYTES = envint("REPORT_PHOTO_MAX_BYTES", 10 * 1024 * 1024)
# Pixels of one photo, from its header before decoding (40 MP: above any phone's default).
REPORT_PHOTO_MAX_PIXELS = envint("REPORT_PHOTO_MAX_PIXELS", 40_000_000)
# Pixels of all photos of one request together (9 × 40 MP took 15 s to decode): the phone
# page resizes to 2048 px a side before upload, so nine photos are ~38 MP.
REPORT_PHOTOS_MAX_PIXELS_PER_REQUEST = envint("REPORT_PHOTOS_MAX_PIXELS_PER_REQUEST", 64_000_000)
# Longest side of the stored photo (re-encoded).
REPORT_PHOTO_MAX_SIDE = envint("REPORT_PHOTO_MAX_SIDE", 2048)
# Memory a photo may take once decoded (rows × bytes a pixel), and its longest side over
# its shortest; checked from the header, before decoding (reports/photos.py).
REPORT_PHOTO_MAX_DECODED_BYTES = envint("REPORT_PHOTO_MAX_DECODED_BYTES", 192 * 1024 * 1024)
REPORT_PHOTO_MAX_ASPECT_RATIO = envint("REPORT_PHOTO_MAX_ASPECT_RATIO", 50)
# Filings (reports, self-handled, sightings) per user and per client address, "count/period"
# (s, m or h): a fixed window in the cache. One address may be a whole office or a
# carrier's NAT, so its limit is wider.
REPORT_FILING_RATE = envrate("REPORT_FILING_RATE", "20/60s")
REPORT_FILING_RATE_PER_ADDRESS = envrate("REPORT_FILING_RATE_PER_ADDRESS", "120/60s")
# How far (metres) the submitted position may lie outside the chosen grid: phone GPS is
# off by tens of metres, more between tall buildings.
REPORT_POSITION_TOLERANCE_M = envint("REPORT_POSITION_TOLERANCE_M", 100)
# Limits on boundaries and region imports (docs/architecture.md, "Limits on input").
GRID_BOUNDARY_MAX_VERTICES = envint("GRID_BOUNDARY_MAX_VERTICES", 5_000)
# Self-crossings beyond this are refused rather than repaired (repair time grows with them).
GRID_BOUNDARY_MAX_CROSSINGS = envint("GRID_BOUNDARY_MAX_CROSSINGS", 200)
GRID_IMPORT_MAX_BYTES = envint("GRID_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
GRID_IMPORT_MAX_VERTICES = envint("GRID_IMPORT_MAX_VERTICES", 2_000_000)
# How far (fraction of the smaller area) a child may stick out of its parent, and grids
# of one community may overlap: separately digitised outlines never match exactly.
GRID_BOUNDARY_TOLERANCE = envfloat("GRID_BOUNDARY_TOLERANCE", 0.01)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Residents' personal data (docs/personal-data.md). RESIDENTS_KEYS: comma-separated Fernet
# keys, newest first (the first encrypts, all decrypt, so keys can be rotated);
# RESIDENTS_HMAC_KEY keys the hashes used for exact search and uniqueness. Both accept
# *_FILE. With DEBUG on a development key is used; with DEBUG off a missing key fails
# loudly the first time residents' data is read or written.
RESIDENTS_KEYS = envlist("RESIDENTS_KEYS", []) or [
    k.strip() for k in envsecret("RESIDENTS_KEYS").split(",") if k.strip()
]
RESIDENTS_HMAC_KEY = envsecret("RESIDENTS_HMAC_KEY")
if DEBUG and not RESIDENTS_KEYS:
    RESIDENTS_KEYS = ["ZGV2LW9ubHktcmVzaWRlbnRzLWtleS0wMTIzNDU2Nzg="]
if DEBUG and not RESIDENTS_HMAC_KEY:
    RESIDENTS_HMAC_KEY = "dev-only-residents-hmac-key"
# Roles that may export registers with full identity and phone numbers.
RESIDENTS_EXPORT_ROLES = envlist(
    "RESIDENTS_EXPORT_ROLES", ["grid_head", "street_staff", "district_staff", "admin"]
)
# Register uploads: above this many rows the import runs as a background task.
RESIDENTS_IMPORT_SYNC_ROWS = envint("RESIDENTS_IMPORT_SYNC_ROWS", 2000)
RESIDENTS_IMPORT_MAX_ROWS = envint("RESIDENTS_IMPORT_MAX_ROWS", 20000)
RESIDENTS_IMPORT_MAX_BYTES = envint("RESIDENTS_IMPORT_MAX_BYTES", 8 * 1024 * 1024)
# Every uploaded spreadsheet (registers, catalogue, rules) is scanned before a reader opens
# it (jinzhitong/xlsx.py): no sheet may reach past this many columns, nor the file inflate
# past this many bytes. Rows are bounded by each importer's own limit.
XLSX_MAX_COLUMNS = envint("XLSX_MAX_COLUMNS", 64)
XLSX_MAX_UNCOMPRESSED_BYTES = envint("XLSX_MAX_UNCOMPRESSED_BYTES", 160 * 1024 * 1024)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out account is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "accounts.validators.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
# Database sessions whose save lets a dropped connection through (→ 503, not a 400).
SESSION_ENGINE = "jinzhitong.sessions"
# JSON for the phone's scripts when a page outlived its CSRF token (jinzhitong/errors.py).
CSRF_FAILURE_VIEW = "jinzhitong.errors.csrf_failure"

# Login throttling (django-axes). Failures are counted per account and, separately, per
# address: the account lock stops guessing one password from many machines, the address
# lock stops one machine spraying a common password over many accounts. 10 failures lock
# for 30 minutes; a success resets the account's count. Superusers unlock in the admin
# (访问尝试 / Access attempts).
AXES_ENABLED = envbool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout"
# Reverse proxies in front of the app (each appends to X-Forwarded-For); 0 = none.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_ip"
AXES_USERNAME_FORM_FIELD = "username"

# Sessions end after 12 idle hours: every request renews the cookie, so an office day
# never logs anyone out, and a phone left in a drawer overnight does.
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_SAVE_EVERY_REQUEST = True
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Every browser library, Leaflet included, is vendored in static/vendor/<name>-<version>/
# (static/vendor/README.md).
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(BASE_DIR / "media")))
# /media/ is never served as a folder: photos go through reports:photo, which checks the
# viewer may see the case. Behind nginx, set this to the internal location aliased to
# MEDIA_ROOT (deploy/nginx/jinzhitong.conf: "/_protected/") and nginx sends the file
# (X-Accel-Redirect); empty, Django streams it.
PHOTO_ACCEL_REDIRECT_PREFIX = envstr("PHOTO_ACCEL_REDIRECT_PREFIX", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Security: strict when DEBUG is off (manage.py check --deploy is clean).
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Maps: government networks often have no internet. An empty MAP_TILE_URL means no
# tile layer at all; maps still draw boundaries on a plain background.
MAP_TILE_URL = envstr("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = envstr("MAP_TILE_ATTRIBUTION", "")
MAP_TILE_SUBDOMAINS = envstr("MAP_TILE_SUBDOMAINS", "")
MAP_DEFAULT_CENTER = (envfloat("MAP_CENTER_LAT", 39.125), envfloat("MAP_CENTER_LNG", 117.19))
MAP_DEFAULT_ZOOM = envint("MAP_DEFAULT_ZOOM", 11)


def _tile_source(url: str) -> list[str]:
    """The CSP source of the tile server: scheme and host, ``{s}`` subdomains as ``*.``."""
    if not url:
        return []
    parts = urlsplit(url.replace("{s}", "x"))
    if not parts.scheme or not parts.hostname:
        return []  # a relative URL: tiles come from this site
    host = parts.netloc
    if "{s}" in urlsplit(url).netloc:
        host = "*." + host.split(".", 1)[1] if "." in host else host
    return [f"{parts.scheme}://{host}"]


# Content-Security-Policy (django-csp): no inline script or style on any page, so a
# name stored by one user can never run as script in another user's browser. Page data
# goes through json_script blocks (type application/json, never executed).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *_tile_source(MAP_TILE_URL)],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Every line: ISO 8601 time with the +08:00 offset, level, logger, request id (the
# X-Request-ID header, or the Celery task id); LOG_FORMAT=json: one JSON object a line.
LOG_FORMAT = envstr("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be text or json")
LOGGING = logging_config(fmt=LOG_FORMAT, level=envstr("LOG_LEVEL", "INFO"), zone=TIME_ZONE)
