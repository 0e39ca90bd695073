"""Settings for Oshara Characters, all read from the environment (docs/configuration.md)."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from oshara import keys

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# DJANGO_DEBUG unset means off: a forgotten variable must never serve production in debug.
# Development turns it on explicitly (`make run`, `make worker`, the test suite's
# tests/settings.py). Either way no signing or encryption key is a constant: development keys
# are random and kept in DEV_SECRETS_FILE; production refuses to start without its own
# (oshara/keys.py).
DEBUG = env.bool("DJANGO_DEBUG", default=False)
DEV_SECRETS_FILE = env.path("DEV_SECRETS_FILE", default=BASE_DIR / ".dev-secrets.json")
SECRET_KEY = keys.secret_key(env.str("DJANGO_SECRET_KEY", default=""), DEBUG, DEV_SECRETS_FILE)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The admin's structured JSON editors (characters/admin/editors.py).
    "django_jsonform",
    "accounts",
    "characters",
    "knowledge",
    "calls",
    "events",
    # After knowledge, whose `db_worker` (with leases) replaces the library's.
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The request the change feed names (actor, address, request id): events/context.py.
    "events.context.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oshara.http.errors.RequestSizeLimitMiddleware",
    "oshara.http.errors.JSONErrorsMiddleware",
]

ROOT_URLCONF = "oshara.urls"
WSGI_APPLICATION = "oshara.wsgi.application"
ASGI_APPLICATION = "oshara.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "oshara" / "templates"],
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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# One transaction per request: a failed write leaves nothing half-saved.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers wait for each other instead of failing with "database is locked":
    # WAL lets readers run beside the writer, IMMEDIATE takes the write lock when a transaction
    # starts (a read-then-write upgrade cannot deadlock), and a writer waits up to the timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env.int("SQLITE_TIMEOUT_SECONDS", default=20),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
    # A file, not memory, so a worker process started by a test can open the test database.
    DATABASES["default"]["TEST"] = {
        "NAME": env.str("SQLITE_TEST_DATABASE", default=str(BASE_DIR / "test-db.sqlite3"))
    }
    # The list index's INCLUDE columns (an index-only scan on PostgreSQL) are a PostgreSQL
    # feature; SQLite builds the index without them, which is all it needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters travel apart from the SQL, and a statement a connection runs repeatedly is
    # prepared once: PostgreSQL stops planning the read paths' queries again on every request.
    # Measured on the bench's data (2,000 runs, one connection): the retrieve's key query 0.33
    # -> 0.17 ms, the list of 100's 0.85 -> 0.61 ms. Behind a pooler in transaction mode that
    # cannot keep prepared statements (PgBouncer before 1.21), DATABASE_PREPARED_STATEMENTS=false.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5  # psycopg's own default
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # django-redis, so that Redis being down degrades (throttles fail open, caches miss) with a
    # logged error instead of failing every request; nothing that must be exact lives there.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="oshara"),
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_TIMEOUT_SECONDS", default=0.5),
                "SOCKET_TIMEOUT": env.float("REDIS_TIMEOUT_SECONDS", default=0.5),
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "oshara.cache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The API's read cache (characters/api/read_cache.py): rendered characters kept in each worker
# process, at most this many bytes of JSON per process (least recently used dropped first).
READ_CACHE_MAX_BYTES = env.int("READ_CACHE_MAX_BYTES", default=64 * 1024 * 1024)
# How many never-published versions (no session ran them) each character keeps, newest first;
# 0 keeps every version (characters/history.py, prune()).
VERSION_RETENTION = env.int("VERSION_RETENTION", default=0)

# The widget's fetch by slug (GET /api/agents/{slug}/appearance/). Every change invalidates
# the cached copy at once; the lifetime only bounds what bypasses the ORM's signals.
WIDGET_APPEARANCE_CACHE_SECONDS = env.int("WIDGET_APPEARANCE_CACHE_SECONDS", default=3600)
# Widget fetches per client address (DRF rate syntax), generous: every visitor behind one
# office or mobile-carrier address shares it. Counted in the default cache.
WIDGET_THROTTLE_RATE = env.str("WIDGET_THROTTLE_RATE", default="600/minute")
# Local development only: admit every Origin (and none) instead of each allowed_origins.
# Independent of DJANGO_DEBUG on purpose; `manage.py check --deploy` warns when it is on.
WIDGET_ALLOW_ANY_ORIGIN = env.bool("WIDGET_ALLOW_ANY_ORIGIN", default=False)

# Calls (see docs/calls.md): LiveKit tokens for session start, the voice worker's key,
# the per-owner concurrency limit and the history's unit prices (US dollars).
LIVEKIT_URL = env.str("LIVEKIT_URL", default="")
LIVEKIT_API_KEY = env.str("LIVEKIT_API_KEY", default="")
LIVEKIT_API_SECRET = env.str("LIVEKIT_API_SECRET", default="")
LIVEKIT_TOKEN_TTL = env.int("LIVEKIT_TOKEN_TTL", default=3600)
LIVEKIT_AGENT_NAME = env.str("LIVEKIT_AGENT_NAME", default="oshara-voice-agent")
# The voice worker's keys, any of them admitted (a new one is added, the workers moved over,
# then the old one removed: no downtime). AGENT_WORKER_KEY, the single key of earlier
# releases, is still read and admitted too (calls/authentication.py). None: endpoints off.
AGENT_WORKER_KEYS = [key.strip() for key in env.list("AGENT_WORKER_KEYS", default=[])]
AGENT_WORKER_KEY = env.str("AGENT_WORKER_KEY", default="")
if not DEBUG and any(0 < len(key) < 32 for key in [AGENT_WORKER_KEY, *AGENT_WORKER_KEYS]):
    raise ImproperlyConfigured(
        "Each key of AGENT_WORKER_KEYS and AGENT_WORKER_KEY must be at least 32 characters "
        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'), or empty to "
        "turn the worker off."
    )
# How many times the worker may fetch one session's runtime (its secrets); then a 429.
RUNTIME_FETCH_LIMIT = env.int("RUNTIME_FETCH_LIMIT", default=10)
MAX_CONCURRENT_SESSIONS = env.int("MAX_CONCURRENT_SESSIONS", default=10)  # per owner; 0 = none
SESSION_THROTTLE_RATE = env.str("SESSION_THROTTLE_RATE", default="30/minute")  # per client IP
USAGE_PRICES_USD = {
    unit: env.float(f"PRICE_USD_{unit.upper()}", default=0.0)
    for unit in (
        "per_session_minute",
        "per_million_llm_input_tokens",
        "per_million_llm_output_tokens",
        "per_stt_minute",
        "per_million_tts_characters",
    )
}
# Form responses (docs/form-responses.md): submissions per client IP and per call session,
# the largest body accepted, and the time all pattern checks of one submission may take.
FORM_RESPONSE_THROTTLE_RATE = env.str("FORM_RESPONSE_THROTTLE_RATE", default="30/minute")
FORM_RESPONSE_SESSION_THROTTLE_RATE = env.str(
    "FORM_RESPONSE_SESSION_THROTTLE_RATE", default="10/minute"
)
FORM_RESPONSE_MAX_BYTES = env.int("FORM_RESPONSE_MAX_BYTES", default=128 * 1024)
FORM_PATTERN_TIMEOUT_SECONDS = env.float("FORM_PATTERN_TIMEOUT_SECONDS", default=0.2)

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Serves uploads from Django itself; on by default only for local runs.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG)
# Uploads no URL serves (knowledge-base documents): outside MEDIA_ROOT, so neither /media/
# nor a web server publishing MEDIA_ROOT can reach them (a system check keeps them apart).
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=BASE_DIR / "private-media")
STORAGES = {
    "default": {"BACKEND": "oshara.storage.BoundedNameStorage"},
    "private": {"BACKEND": "oshara.storage.PrivateStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Upload limits (bytes and pixels).
CHARACTER_IMAGE_MAX_BYTES = env.int("CHARACTER_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
CHARACTER_IMAGE_MAX_PIXELS = env.int("CHARACTER_IMAGE_MAX_PIXELS", default=4096 * 4096)
CHARACTER_AUDIO_MAX_BYTES = env.int("CHARACTER_AUDIO_MAX_BYTES", default=20 * 1024 * 1024)
KNOWLEDGE_MAX_UPLOAD_BYTES = env.int("KNOWLEDGE_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
# Whole-request cap (multipart uploads included), checked on Content-Length before reading;
# by default just above the largest single upload, leaving room for the multipart framing.
REQUEST_MAX_BYTES = env.int(
    "REQUEST_MAX_BYTES",
    default=max(KNOWLEDGE_MAX_UPLOAD_BYTES, CHARACTER_AUDIO_MAX_BYTES) + 1024 * 1024,
)

# Background tasks (Django's Tasks API). The database backend needs `manage.py db_worker`
# running; any other Tasks backend (Redis, Celery, ...) can be named here instead.
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}
# The database backend's workers (`manage.py db_worker`, knowledge/worker.py): a task left
# RUNNING by a worker unseen for this long runs again, up to TASK_MAX_ATTEMPTS workers; then
# it and its document end FAILED. /healthz says the worker is `stale` past the same time.
TASK_WORKER_LEASE_SECONDS = env.float("TASK_WORKER_LEASE_SECONDS", default=60)
TASK_MAX_ATTEMPTS = env.int("TASK_MAX_ATTEMPTS", default=3)
# Seconds a `db_worker` waits before looking again at an empty queue (the library's default is
# 1): a webhook's first attempt waits for it, half of it on average; each look is one indexed
# SELECT. `db_worker --interval` still overrides it.
TASK_WORKER_POLL_INTERVAL = env.float("TASK_WORKER_POLL_INTERVAL", default=0.25)
# Extraction bounds: a DOCX (a zip) unpacking past this many bytes, or holding more XML than
# the markup bound (python-docx parses it whole: ~18 bytes of memory per byte), or a document
# with more text than this many characters, ends FAILED instead of exhausting the worker's
# memory. At these defaults extracting one document grows the worker by under 256 MiB.
KNOWLEDGE_MAX_UNZIPPED_BYTES = env.int("KNOWLEDGE_MAX_UNZIPPED_BYTES", default=64 * 1024 * 1024)
KNOWLEDGE_MAX_DOCX_MARKUP_BYTES = env.int(
    "KNOWLEDGE_MAX_DOCX_MARKUP_BYTES", default=8 * 1024 * 1024
)
KNOWLEDGE_MAX_TEXT_CHARACTERS = env.int("KNOWLEDGE_MAX_TEXT_CHARACTERS", default=5_000_000)
# Knowledge-base chunking, counted in tokens (runs of non-whitespace characters).
KNOWLEDGE_CHUNK_TOKENS = env.int("KNOWLEDGE_CHUNK_TOKENS", default=500)
KNOWLEDGE_CHUNK_OVERLAP_TOKENS = env.int("KNOWLEDGE_CHUNK_OVERLAP_TOKENS", default=50)
# Knowledge-base search (docs/knowledge-search.md). The embedding model is a dotted path to a
# class (knowledge/embeddings.py); the default ships inside its package, nothing is downloaded.
KNOWLEDGE_EMBEDDING_BACKEND = env.str(
    "KNOWLEDGE_EMBEDDING_BACKEND", default="knowledge.embeddings.WordLlamaEmbedder"
)
# Per process: the characters' vectors kept in memory between searches (least recent out).
KNOWLEDGE_SEARCH_CACHE_MB = env.int("KNOWLEDGE_SEARCH_CACHE_MB", default=128)
# The voice worker's key for GET/POST /api/knowledge-base/query/ (any character); unset = off.
KB_QUERY_API_KEY = env.str("KB_QUERY_API_KEY", default="")
# Searches with KB_QUERY_API_KEY per client address (a session's own key counts per session
# at API_THROTTLE_RATE).
KB_QUERY_KEY_THROTTLE_RATE = env.str("KB_QUERY_KEY_THROTTLE_RATE", default="1000/minute")

# Fernet keys for secrets at rest: comma-separated, newest first (docs/operations.md).
FERNET_KEYS = keys.fernet_keys(env.list("FERNET_KEYS", default=[]), DEBUG, DEV_SECRETS_FILE)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: a request with both a valid X-API-Key and a JWT acts with the key.
        "accounts.api_keys.authentication.ApiKeyAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "oshara.http.json_input.StrictJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "oshara.schema.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["oshara.http.throttling.APIUserRateThrottle"],
    # Proxies in front of the app whose X-Forwarded-For may be trusted (0: use the peer address).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
# JSON bodies (and multipart JSON parts) nested deeper than this are a 400 (http/json_input.py).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
# Tool input schemas are walked recursively by the JSON Schema validator: a tighter bound.
TOOL_INPUT_SCHEMA_MAX_DEPTH = env.int("TOOL_INPUT_SCHEMA_MAX_DEPTH", default=16)
# DRF rate syntax ("10/minute"); throttle counters live in the default cache.
AUTH_THROTTLE_RATE = env.str("AUTH_THROTTLE_RATE", default="10/minute")
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="1000/minute")
# Failed X-API-Key attempts per client address; beyond it every key attempt is a 429.
API_KEY_FAILURE_THROTTLE_RATE = env.str("API_KEY_FAILURE_THROTTLE_RATE", default="30/minute")
# How long an Idempotency-Key is remembered, in seconds.
IDEMPOTENCY_KEY_TTL = env.int("IDEMPOTENCY_KEY_TTL", default=24 * 60 * 60)

# The OpenAPI schema and its docs (docs/api.md, "OpenAPI schema and interactive docs"). Assets
# come from drf-spectacular-sidecar through staticfiles: the docs work offline, without a CDN.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=True)
SPECTACULAR_SETTINGS = {
    "TITLE": "Oshara Characters API",
    "DESCRIPTION": (
        "The AI Characters API: voice-agent definitions (persona, prompt, voice, models, "
        "embed origins, widget appearance, knowledge-base documents). Authenticate with "
        "`Authorization: Bearer <access>`, the access token from `/api/auth/login/`, or, "
        "from a backend, `X-API-Key: sk_…`, a key from `/api/auth/api-keys/`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Staff-only docs accept an admin session (browser) or a staff user's JWT (tooling).
    "SERVE_PERMISSIONS": [
        f"rest_framework.permissions.{'AllowAny' if API_DOCS_PUBLIC else 'IsAdminUser'}"
    ],
    "SERVE_AUTHENTICATION": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    # Separate request and response components: write-only and read-only fields, and file
    # uploads (binary in, URL out), are then exact on each side.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CharacterTypeEnum": "characters.models.CharacterType",
        "BackgroundAudioEnum": "characters.models.BackgroundAudio",
        "LLMProviderEnum": "characters.models.LLMProvider",
        "AuthorTypeEnum": "characters.version_models.AuthorType",
        # A form field's "type" keeps its name beside a version author's "type".
        "TypeEnum": "characters.schemas.form_fields.FORM_FIELD_TYPES",
        "VersionSourceEnum": "characters.version_models.Source",
        "ServiceStatusEnum": [("ok", "ok"), ("unreachable", "unreachable")],  # /healthz
        "WorkerStatusEnum": [("ok", "ok"), ("stale", "stale")],  # /healthz
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "characters.api.openapi.postprocess_multipart_forms",
        "characters.widget.openapi.add_widget_appearance_path",
        # After the others: the rules the served schema adds (see oshara/schema_rules.py), the
        # project's first, then each app's.
        "oshara.schema_rules.describe_request_rules",
        "characters.api.openapi.describe_character_rules",
        "characters.api.openapi_variants.describe_variants",
        "characters.api.openapi.describe_merged_appearance",
        "oshara.schema_rules.require_response_fields",
        "oshara.schema_rules.fix_operations",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No validator badge: it would call an external service.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(
        minutes=env.int("JWT_ACCESS_TOKEN_LIFETIME_MINUTES", default=10 * 24 * 60)
    ),
    "REFRESH_TOKEN_LIFETIME": timedelta(
        minutes=env.int("JWT_REFRESH_TOKEN_LIFETIME_MINUTES", default=30 * 24 * 60)
    ),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "AUTH_TOKEN_CLASSES": ("accounts.tokens.AccessToken",),
}

# Invitation e-mails: the console by default (EMAIL_URL, e.g. smtp+tls://user:pass@host:587).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Oshara <noreply@localhost>")

# Production hardening; every value can be set from the environment.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# The health check answers on plain HTTP: the load balancer's and the container's probes call
# it directly, inside the network, and a redirect to https would read as "unhealthy".
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# The change feed (docs/audit-log.md, docs/webhooks.md).
EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=400)
# Seconds between the task worker's maintenance runs: pruning past the retention, events a
# lost queue left undispatched, deliveries due again (a retry, or a dead worker's claim).
EVENTS_MAINTENANCE_INTERVAL = env.float("EVENTS_MAINTENANCE_INTERVAL", default=60)
# Seconds between a delivery's attempts after a retryable failure (each ±10 %).
WEBHOOK_RETRY_SCHEDULE = [
    int(seconds)
    for seconds in env.list(
        "WEBHOOK_RETRY_SCHEDULE", default=["5", "300", "1800", "7200", "18000", "36000", "36000"]
    )
]
# One attempt's whole time, connecting to reading the answer (a receiver trickling bytes is
# cut there too). A delivery's claim lasts thrice this (events/webhooks/delivery.py): a
# worker that died mid-attempt leaves it due again then.
WEBHOOK_ATTEMPT_TIMEOUT = env.float("WEBHOOK_ATTEMPT_TIMEOUT", default=10)
# An endpoint with nothing but failures for this many seconds is disabled (default 5 days).
WEBHOOK_DISABLE_AFTER = env.int("WEBHOOK_DISABLE_AFTER", default=5 * 24 * 3600)
# Local development and tests only (check --deploy warns): http:// URLs, private addresses.
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False)
