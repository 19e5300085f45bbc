"""AlphaForge settings: one module, configured by environment variables.

With no variables set the project runs on laptop-safe defaults: DEBUG on, an embedded
SQLite database and a SQLite cache (core.local_cache) every local process shares.
Production sets at least DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and
REDIS_URL.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from core.environment import env_bool, env_float, env_int, env_list, env_pairs
from core.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if DEBUG:
    SECRET_KEY = SECRET_KEY or "django-insecure-local-development-only"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]", "testserver"]
elif not SECRET_KEY or not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "SECRET_KEY and ALLOWED_HOSTS must be set when DEBUG is off"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "alphaforge",  # wiring only: its run_schedule command
    "api",  # the HTTP layer: its one table holds Idempotency-Key records
    "market",
    "signals",
    "monitoring",
    "django_prometheus",
    "journal",
    "events",
    "webhooks",
]

MIDDLEWARE = [
    # X-Request-ID on every answer and log line (api/request_id.py).
    "api.request_id.RequestIdMiddleware",
    # django-prometheus' request metrics (django_http_*): first and last, so they
    # see every request; the WSGI fast path's hits are counted by monitoring's hook.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "monitoring.middleware.TimingMiddleware",
    "api.fast_path.AnonymousCacheMiddleware",
    "api.middleware.CompressionMiddleware",
    # ETag on every GET answer (of the uncompressed body), If-None-Match -> 304.
    "django.middleware.http.ConditionalGetMiddleware",
    "api.middleware.DatabaseUnavailableMiddleware",
    "api.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's sessions, user and messages, skipped for API requests without a
    # session cookie (api/middleware.py).
    "api.middleware.APISessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "api.middleware.APIAuthenticationMiddleware",
    "api.middleware.APIMessageMiddleware",
    # Idempotency-Key on every POST (api/idempotency.py): inside the compression and
    # timing, so a replay is compressed and timed like any answer.
    "api.idempotency.IdempotencyMiddleware",
    "api.throttling.RateLimitHeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "alphaforge.urls"
APPEND_SLASH = False  # the contract's paths are exact: no redirects
WSGI_APPLICATION = "alphaforge.wsgi.application"
ASGI_APPLICATION = "alphaforge.asgi.application"

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

# Database: SQLite by default, PostgreSQL (psycopg 3, Django's pool) from DATABASE_URL.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
DB_POOL_SIZE = env_int("DB_POOL_SIZE", 5)
DB_MAX_OVERFLOW = env_int("DB_MAX_OVERFLOW", 5)
# django-prometheus wraps each backend to count queries and errors for /metrics.
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    engine = DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    DATABASES["default"]["ENGINE"] = f"django_prometheus.db.backends.{engine}"
    if engine == "postgresql":
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool refuses persistent conns
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 2)
        options["pool"] = {
            "min_size": DB_POOL_SIZE,
            "max_size": DB_POOL_SIZE + DB_MAX_OVERFLOW,
            # Waiting for a free connection (or for a database that is down) ends
            # in a 503 after this many seconds, never a hang.
            "timeout": env_int("DB_POOL_TIMEOUT", 3),
        }
        # The pool then checks a connection before handing it out, so one broken by
        # a database restart is replaced rather than failing a request.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            # Not wrapped by django-prometheus: pytest-django recognises the plain
            # engine name and keeps the test database in memory.
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # WAL lets the server's readers and a command's writer work side by side.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when REDIS_URL is set, else a SQLite store every local process shares.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "af",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
else:
    CACHES = {
        "default": {
            # One SQLite file (WAL) every local process shares; counts its gets
            # in django-prometheus' django_cache_* series like the other backends.
            "BACKEND": "core.local_cache.LocalCache",
            "LOCATION": VAR_DIR / "cache.sqlite3",
            "KEY_PREFIX": "af",
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }
CACHE_TTL = env_int("CACHE_TTL", 300)
# One recompute per miss (api/caching.py): concurrent misses wait for the claimant.
CACHE_FILL_WAIT_SECONDS = env_float("CACHE_FILL_WAIT_SECONDS", 2)
CACHE_FILL_LOCK_SECONDS = env_int("CACHE_FILL_LOCK_SECONDS", 10)
# Idempotency-Key: how long an answer is kept; when a dead request's claim frees.
IDEMPOTENCY_TTL_SECONDS = env_int("IDEMPOTENCY_TTL_SECONDS", 86400)
IDEMPOTENCY_LOCK_SECONDS = env_int("IDEMPOTENCY_LOCK_SECONDS", 60)
ENABLE_CACHE = env_bool("ENABLE_CACHE", True)
ENABLE_COMPRESSION = env_bool("ENABLE_COMPRESSION", True)
# Under ASGI brotli-asgi compresses (alphaforge/asgi.py); under WSGI our middleware.
COMPRESS_IN_DJANGO = (
    ENABLE_COMPRESSION and os.environ.get("ALPHAFORGE_SERVER") != "asgi"
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Serve the docs page's assets straight from the installed apps: no collectstatic step.
WHITENOISE_USE_FINDERS = True

# API behaviour from the contract.
MAX_PAGE_SIZE = env_int("MAX_PAGE_SIZE", 100)
DEFAULT_PAGE_SIZE = min(50, MAX_PAGE_SIZE)
BULK_MAX_ITEMS = env_int("BULK_MAX_ITEMS", 10000)
RATE_LIMIT_PER_MINUTE = env_int("RATE_LIMIT_PER_MINUTE", 60)
RATE_LIMIT_USER_PER_MINUTE = env_int("RATE_LIMIT_USER_PER_MINUTE", 600)
NUM_PROXIES = env_int("NUM_PROXIES", 0)
LOGIN_RATE_LIMIT_PER_MINUTE = env_int("LOGIN_RATE_LIMIT_PER_MINUTE", 10)
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 10)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 300)
SLOW_REQUEST_MS = env_int("SLOW_REQUEST_MS", 500)
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
SIGNAL_PAIRS = env_list(
    "SIGNAL_PAIRS", "EUR/USD,GBP/USD,USD/JPY,AUD/USD,USD/CHF,BTC/USDT"
)
SIGNAL_TIMEFRAME = os.environ.get("SIGNAL_TIMEFRAME", "1h")
# The timeframes the scheduler generates for, after each candle close.
SIGNAL_TIMEFRAMES = env_list("SIGNAL_TIMEFRAMES", SIGNAL_TIMEFRAME)
SIGNAL_LOOKBACK = env_int("SIGNAL_LOOKBACK", 500)
SIGNAL_EXPIRY_BARS = env_int("SIGNAL_EXPIRY_BARS", 48)
PIP_SIZES = env_pairs("PIP_SIZES")
KLINES_BASE_URL = os.environ.get("KLINES_BASE_URL", "https://api.binance.com")
KLINES_TIMEOUT = env_float("KLINES_TIMEOUT", 10)

# The event log and its live channels (events/): retention, per-connection limits.
EVENT_RETENTION_DAYS = env_int("EVENT_RETENTION_DAYS", 30)
WS_MAX_PENDING = env_int("WS_MAX_PENDING", 1000)
WS_MAX_CONNECTIONS_PER_IP = env_int("WS_MAX_CONNECTIONS_PER_IP", 20)
WS_PING_SECONDS = env_float("WS_PING_SECONDS", 25)  # contract: <= 30
SSE_HEARTBEAT_SECONDS = env_float("SSE_HEARTBEAT_SECONDS", 10)  # <= 15
EVENTS_POLL_SECONDS = 0.5  # each ASGI process's tailer reads the log this often
# Commits wake every process's tailer through Redis; without it, by the next poll.
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # A read timeout above the layer's 5 s blocking pop, which redis-py's
            # default would cut short.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                "prefix": "af-channels",
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Strategies, calibration and the publish gate (README.md, Configuration).
SIGNAL_STRATEGIES = env_list("SIGNAL_STRATEGIES")  # "name[@tf][:pair]", …; empty: all
CALIBRATION_MIN_OUTCOMES = env_int("CALIBRATION_MIN_OUTCOMES", 30)  # also its k
PUBLISH_MIN_SKILL = os.environ.get("PUBLISH_MIN_SKILL") or None  # a number
PUBLISH_MIN_EXPECTANCY_R = os.environ.get("PUBLISH_MIN_EXPECTANCY_R") or None
# trend_momentum's overrides, e.g. "atr_stop_multiple=2,risk_reward=1.5".
SIGNAL_STRATEGY_PARAMS = env_pairs("SIGNAL_STRATEGY_PARAMS")
MARKET_DATA_PROVIDER = os.environ.get("MARKET_DATA_PROVIDER", "database")

# A bulk body of BULK_MAX_ITEMS signals is a few MB; refuse anything far larger.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_BODY_BYTES", 16 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.AnonMinuteThrottle",
        "api.throttling.UserMinuteThrottle",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "COERCE_DECIMAL_TO_STRING": False,
    "LIST_SERIALIZER_ERRORS_AS_DICT": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "AlphaForge API",
    "DESCRIPTION": "Trading signals, their outcomes and a private trade journal.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Backtest.status and Signal.status are both called "status": name both.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "signals.choices.Status",
        "BacktestStatusEnum": "signals.models.BacktestStatus",
        "TimeframeEnum": "core.vocabulary.Timeframe",
        "EventTypeEnum": "core.vocabulary.EventType",
        "WebhookStateEnum": "webhooks.models.SubscriptionState",
        "DeliveryStateEnum": "webhooks.models.DeliveryState",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
        "api.schema.add_tags",
        "api.schema.add_links",
        "api.schema.add_examples",
    ],
}

# Logs: readable text, or one JSON object a line with LOG_FORMAT=json; every line
# carries the request id (core/logs.py, which builds the dictConfig).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be text or json")
REQUEST_LOG = env_bool("REQUEST_LOG", False)  # one line a request (alphaforge.access)
LOGGING = logging_config(LOG_FORMAT, os.environ.get("LOG_LEVEL", "INFO"))

# Production hardening; `manage.py check --deploy` is clean when DEBUG is off.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^api/health$", r"^api/ready$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
    if NUM_PROXIES:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        },
    }

# Background work (Celery): Redis is the broker with REDIS_URL; without it tasks run
# eagerly and `manage.py run_schedule` keeps the schedule. The app is loaded by the
# first tasks module a process imports (core/background.py), never by web workers.
TASK_APPLICATION = "alphaforge.celery.app"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged when it ends, not when it starts: a worker that dies
# mid-task (SIGKILL, OOM) leaves it to another worker. Tasks are idempotent for that.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("TASK_SOFT_TIME_LIMIT", 600)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
# Redis redelivers an unacknowledged task after the visibility timeout (longer than
# the longest task); workers look every interval x throttle seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int(
        "TASK_VISIBILITY_TIMEOUT", 2 * CELERY_TASK_TIME_LIMIT
    ),
    "unacked_restore_interval": env_int("TASK_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": env_int("TASK_RESTORE_THROTTLE", 10),
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
# Pairs per generation task: a run over many pairs is spread over the workers.
GENERATION_CHUNK_SIZE = env_int("GENERATION_CHUNK_SIZE", 250)
# Seconds after a candle closes before its generation starts (the candle must be in).
GENERATION_DELAY_SECONDS = env_int("GENERATION_DELAY_SECONDS", 15)
BACKFILL_EVERY_MINUTES = env_int("BACKFILL_EVERY_MINUTES", 5)

# Webhooks (webhooks/): who may receive them, how long and how often we try.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_MAX_PER_USER = env_int("WEBHOOK_MAX_PER_USER", 10)
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 10)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 5)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_CONCURRENCY = env_int("WEBHOOK_CONCURRENCY", 100)  # attempts in flight a worker
