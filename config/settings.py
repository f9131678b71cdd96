"""creditdesk settings: every value comes from the environment (see README, "Configuration")."""

import hashlib
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on-" + "x" * 20

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "csp",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from our own origin (no CDN)
    "creditdesk.core",
    "creditdesk.tenancy",
    "creditdesk.accounts",
    "creditdesk.billing",
    "creditdesk.analytics",
    "creditdesk.events",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "creditdesk.core.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "creditdesk.core.csp.PathAwareCSPMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

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
            ]
        },
    }
]

# --- Database: SQLite under var/ by default, PostgreSQL in production --------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'creditdesk.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two balance changes never interleave.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
if os.environ.get("TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DB_NAME"]}
# A streaming replica of the primary (PostgreSQL): the usage analytics read from it (core/db_router.py).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=60, conn_health_checks=True
    )
    # In tests the replica serves the test database the primary creates: its name is copied, its host kept.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# Server-side binding with prepared statements (PostgreSQL): each connection parses and plans a hot statement
# once, not on every request. Turn it off behind pgbouncer in transaction mode (a statement prepared on one
# server connection is unknown on the next).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", default=True)
if DATABASE_PREPARED_STATEMENTS:
    for _alias in DATABASES:
        if DATABASES[_alias]["ENGINE"] == "django.db.backends.postgresql":
            DATABASES[_alias].setdefault("OPTIONS", {}).update(
                {"server_side_binding": True, "prepare_threshold": 1}
            )
DATABASE_ROUTERS = ["creditdesk.core.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttle counters are shared across workers through it) ----------------------------------
CACHE_URL = os.environ.get("CACHE_URL", "locmem://")
if CACHE_URL.startswith("redis://"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"serializer": "creditdesk.core.cache.RedisSerializer"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

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

# --- Static files and the built front end -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
WHITENOISE_ROOT = FRONTEND_DIST if FRONTEND_DIST.exists() else None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- CORS ---------------------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-request-id",
)
CORS_EXPOSE_HEADERS = ("x-request-id",)

# --- Email ----------------------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "creditdesk <billing@creditdesk.local>")

# --- REST framework -------------------------------------------------------------------------------------
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "6000/min")
# How many reverse proxies in front append to X-Forwarded-For; 0 trusts only the socket's address, so a
# client cannot choose its own IP for throttling and audit rows by sending the header.
NUM_PROXIES = int(os.environ.get("NUM_PROXIES", "0"))
LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10/min")

RENDERERS = ["creditdesk.core.renderers.EnvelopeJSONRenderer"]
if DEBUG:
    RENDERERS.append("rest_framework.renderers.BrowsableAPIRenderer")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: it claims only `cdk_live_` keys and leaves every other bearer token to the JWT class.
        "creditdesk.tenancy.authentication.ApiKeyAuthentication",
        "creditdesk.tenancy.authentication.AccountJWTAuthentication",
        "creditdesk.tenancy.authentication.AccountSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["creditdesk.tenancy.permissions.IsAccountMember"],
    "DEFAULT_RENDERER_CLASSES": RENDERERS,
    "DEFAULT_PARSER_CLASSES": ["creditdesk.core.parsers.BoundedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "creditdesk.core.pagination.EnvelopePagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "creditdesk.core.exceptions.envelope_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["creditdesk.core.throttling.ApiUserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_user": API_RATE_LIMIT,
        "login_ip": LOGIN_RATE_LIMIT,
    },
    "UNAUTHENTICATED_USER": None,
    "NUM_PROXIES": NUM_PROXIES,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=int(os.environ.get("JWT_ACCESS_MINUTES", "15"))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=int(os.environ.get("JWT_REFRESH_DAYS", "7"))),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY", SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# No refresh chain outlives this many days from its sign-in, however often it rotates.
SESSION_MAX_AGE_DAYS = int(os.environ.get("SESSION_MAX_AGE_DAYS", "30"))
# A password-reset link works once, for this long (Django's setting, in seconds).
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT_MINUTES", "60")) * 60
PASSWORD_RESET_RATE_LIMIT = os.environ.get("PASSWORD_RESET_RATE_LIMIT", "3/hour")  # mails per address

SPECTACULAR_SETTINGS = {
    "TITLE": "creditdesk API",
    "DESCRIPTION": "Accounts, credits ledger, purchases, invoices and usage analytics. "
    'Every response is enveloped: {"success": true, "data": ...}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # /api/docs/ loads Swagger UI from our static files (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "creditdesk.core.schema.wrap_responses_in_envelope",
    ],
}

# --- Billing ---------------------------------------------------------------------------------------------
# Money: every amount is a Decimal with MONEY_DECIMAL_PLACES places, in BILLING_CURRENCY unless stated.
MONEY_MAX_DIGITS = 12
MONEY_DECIMAL_PLACES = 2
BILLING_CURRENCY = os.environ.get("BILLING_CURRENCY", "USD")
INVOICE_TAX_RATE = Decimal(os.environ.get("INVOICE_TAX_RATE", "0"))
INVOICE_DUE_DAYS = int(os.environ.get("INVOICE_DUE_DAYS", "14"))
INVOICE_SELLER = {
    "name": os.environ.get("INVOICE_SELLER_NAME", "creditdesk Inc."),
    "address": os.environ.get("INVOICE_SELLER_ADDRESS", "1 Ledger Lane, Springfield"),
    "email": os.environ.get("INVOICE_SELLER_EMAIL", "billing@creditdesk.local"),
    "tax_id": os.environ.get("INVOICE_SELLER_TAX_ID", ""),
}
BILLING_SANDBOX = env_bool("BILLING_SANDBOX")
BANK_TRANSFER_EXPIRY_DAYS = int(os.environ.get("BANK_TRANSFER_EXPIRY_DAYS", "14"))
BANK_TRANSFER_INSTRUCTIONS = os.environ.get(
    "BANK_TRANSFER_INSTRUCTIONS",
    "Pay to creditdesk Inc., IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX. "
    "Put the reference code in the transfer's description.",
)
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_WEBHOOK_TOLERANCE = int(os.environ.get("STRIPE_WEBHOOK_TOLERANCE", "300"))
# Usage logs' client-supplied `metadata`: compact UTF-8 JSON size and nesting depth (README, "Input limits").
# Metered usage may be reversed (credits back to their grants) for this many days.
USAGE_REVERSAL_DAYS = int(os.environ.get("USAGE_REVERSAL_DAYS", "30"))
USAGE_METADATA_MAX_BYTES = int(os.environ.get("USAGE_METADATA_MAX_BYTES", "16384"))
USAGE_METADATA_MAX_DEPTH = int(os.environ.get("USAGE_METADATA_MAX_DEPTH", "10"))
IDEMPOTENCY_KEY_TTL_HOURS = int(os.environ.get("IDEMPOTENCY_KEY_TTL_HOURS", "48"))
# A purchase's repeat waits this long for the request still working on its Idempotency-Key, then 409.
IDEMPOTENCY_WAIT_SECONDS = float(os.environ.get("IDEMPOTENCY_WAIT_SECONDS", "30"))
# Without PostgreSQL (no advisory lock tells a dead request from a slow one), a purchase's key still in
# progress after this long is taken over by its repeat. Longer than a payment provider's slowest answer.
IDEMPOTENCY_LEASE_SECONDS = int(os.environ.get("IDEMPOTENCY_LEASE_SECONDS", "120"))
# A purchase whose provider never answered (the server stopped mid-request) is given up after this long.
PURCHASE_START_TIMEOUT_SECONDS = int(os.environ.get("PURCHASE_START_TIMEOUT_SECONDS", "600"))
INVITATION_TTL_DAYS = 7
# Invitations (and resends) per account, and per recipient address across all accounts ("off" disables).
INVITATION_ACCOUNT_RATE_LIMIT = os.environ.get("INVITATION_ACCOUNT_RATE_LIMIT", "30/hour")
INVITATION_RECIPIENT_RATE_LIMIT = os.environ.get("INVITATION_RECIPIENT_RATE_LIMIT", "3/day")
# API keys are stored as HMAC-SHA256 under this key. Set it explicitly in production so that SECRET_KEY
# can be rotated without invalidating every service's key; by default it is derived from SECRET_KEY.
API_KEY_HASH_KEY = (
    os.environ.get("API_KEY_HASH_KEY", "")
    or hashlib.sha256(("creditdesk.api-key-hash:" + SECRET_KEY).encode()).hexdigest()
)

# --- Background tasks (django-tasks; see README "Background work") ----------------------------------------
# The database backend stores a task in the transaction that enqueues it; `manage.py run_worker` runs them.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- Outbound webhooks -----------------------------------------------------------------------------------
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_DISABLE_AFTER_FAILURES = int(os.environ.get("WEBHOOK_DISABLE_AFTER_FAILURES", "100"))
# The backoff starts here and grows fourfold per attempt (capped at a day); the reliability suite shortens it.
WEBHOOK_FIRST_RETRY_SECONDS = float(os.environ.get("WEBHOOK_FIRST_RETRY_SECONDS", "30"))
# How often the worker looks for retries that came due and for deliveries a dead worker left behind.
WEBHOOK_RETRY_SWEEP_SECONDS = int(os.environ.get("WEBHOOK_RETRY_SWEEP_SECONDS", "15"))
# http:// and private or loopback addresses, for a receiver on the same machine; never in production.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=DEBUG)

# --- Production hardening (all on when DEBUG is off) ------------------------------------------------------
# X-Forwarded-Proto is the client's to forge unless a counted proxy (NUM_PROXIES) sets it.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if NUM_PROXIES else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# The SPA (one module script from /assets/) and the admin load nothing from elsewhere and run no inline
# script. Inline styles only under /admin/ and /api/docs/ (core/csp.py). Swagger UI (/api/docs/) is
# otherwise under the same policy: its files and start-up script come from our origin
# (drf-spectacular-sidecar, split view).
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING"}},
}
