"""Settings for zhunong, read from environment variables.

Embedded default (nothing set): SQLite under var/, in-memory channel layer, local-memory cache and
Huey on SQLite, so `make demo` works on a fresh machine. Production: set DATABASE_URL (PostgreSQL)
and REDIS_URL; several app processes then share one database and one Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = Path(os.environ.get("ZHUNONG_HOME", PACKAGE_DIR.parent)).resolve()
VAR_DIR = Path(os.environ.get("ZHUNONG_VAR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """Use SECRET_KEY if given; otherwise generate one into var/ once (never committed)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()


def _derive_secret(key: str, purpose: str) -> str:
    return hmac.new(key.encode(), purpose.encode(), hashlib.sha256).hexdigest()


DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "huey.contrib.djhuey",
    "axes",
    "csp",
    "zhunong.core",
    "zhunong.zh",
    "zhunong.accounts",
    "zhunong.producers",
    "zhunong.catalog",
    "zhunong.quality",
    "zhunong.live",
    "zhunong.video",
    "zhunong.orders",
    "zhunong.payments",
    "zhunong.fulfilment",
    "zhunong.supervision",
    "zhunong.insights",
    "zhunong.notifications",
    "zhunong.workbench",
    "zhunong.bench",
    "zhunong.demo",
]

MIDDLEWARE = [
    # Outermost, so it sees the finished response: marks public-shaped pages cacheable for the front
    # (nginx microcache, `zhunong front`; docs/decisions/0022-the-front-cache.md).
    "zhunong.core.publiccache.PublicCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Where an audited action came from (core.audit.record_action, called by services without the request).
    "zhunong.core.audit.RequestAddressMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "zhunong.accounts.security.CSPMiddleware",
    # Last: turns a locked-out sign-in into accounts.throttle.lockout_response (429 with Retry-After).
    "axes.middleware.AxesMiddleware",
]

# Browser security (docs/deploy.md "Security settings", docs/decisions/0006). ZHUNONG_HTTPS=1 when the site is
# served over TLS (directly or by a TLS-terminating proxy): secure cookies, HTTP → HTTPS redirects and HSTS.
# Off by default so the embedded demo works on http://127.0.0.1.
HTTPS = env_bool("ZHUNONG_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("ZHUNONG_SSL_REDIRECT", HTTPS)
# Loopback callers that speak plain HTTP to the app: the worker's event relay and nginx-rtmp's callbacks.
SECURE_REDIRECT_EXEMPT = [r"^internal/", r"^video/rtmp/"]
SECURE_HSTS_SECONDS = int(os.environ.get("ZHUNONG_HSTS_SECONDS", 31536000 if HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("ZHUNONG_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("ZHUNONG_HSTS_PRELOAD", False)
# Behind a proxy that terminates TLS: the header it sets to "https" for secure requests, e.g.
# ZHUNONG_PROXY_SSL_HEADER=X-Forwarded-Proto (the proxy must overwrite any such header from the client).
_proxy_ssl_header = os.environ.get("ZHUNONG_PROXY_SSL_HEADER", "").strip()
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if rest else ""


# Content-Security-Policy (django-csp). Scripts only from this site (no inline scripts or handlers: pages use
# static files). Inline styles stay allowed (style attributes in templates, the admin, htmx's indicator style).
# The player fetches HLS from the media server (VIDEO_HLS_BASE_URL / VIDEO_MEDIA_BASE_URL, by default
# http://127.0.0.1:VIDEO_HTTP_PORT) and plays it through blob: URLs (hls.js, MediaSource, its worker);
# ZHUNONG_CSP_MEDIA_ORIGINS adds origins (comma-separated), e.g. a CDN.
_video_http = f"http://127.0.0.1:{os.environ.get('VIDEO_HTTP_PORT', '').strip() or 8935}"
CSP_MEDIA_ORIGINS = sorted({o for o in [
    _origin(os.environ.get("VIDEO_HLS_BASE_URL", "").strip() or _video_http),
    _origin(os.environ.get("VIDEO_MEDIA_BASE_URL", "").strip() or _video_http),
    *(o.strip().rstrip("/") for o in os.environ.get("ZHUNONG_CSP_MEDIA_ORIGINS", "").split(",")),
] if o})
CONTENT_SECURITY_POLICY = {
    # The API's interactive docs page (django-ninja's Swagger UI) loads its scripts from a CDN.
    "EXCLUDE_URL_PREFIXES": ["/api/v1/docs"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        # Replay covers come from the media server too (video/replays: <id>/cover.jpg).
        "img-src": ["'self'", "data:", "blob:", *CSP_MEDIA_ORIGINS],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *CSP_MEDIA_ORIGINS],
        "media-src": ["'self'", "blob:", *CSP_MEDIA_ORIGINS],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

ROOT_URLCONF = "zhunong.urls"
ASGI_APPLICATION = "zhunong.asgi.application"
WSGI_APPLICATION = "zhunong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # Last: a public-shaped page gets no user, token or messages (core/publiccache.py).
                "zhunong.core.publiccache.context",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'zhunong.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
# PostgreSQL: a psycopg connection pool per process, at most DB_POOL_SIZE connections (default 8; 0 = a new
# connection per request). Under ASGI every request runs in its own thread, so per-thread persistent
# connections (CONN_MAX_AGE) would leak. A new connection costs PostgreSQL a forked backend with cold catalog
# caches: 9-14 ms of its CPU per uncached page, against 1.5-3.3 ms from the pool (docs/benchmarks.md
# "Uncached pages"). The pool also bounds the connections a crowd can open (processes x DB_POOL_SIZE).
DB_POOL_SIZE = int(os.environ.get("DB_POOL_SIZE", "").strip() or 8)
if DATABASES["default"]["ENGINE"].endswith("postgresql") and DB_POOL_SIZE > 0:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": DB_POOL_SIZE, "timeout": 30}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and the worker share the file without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file-backed test database, so tests that use threads or subprocesses see the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
# Sign-in without a page to return to lands where the user's role works (workbench.places.landing_url).
LOGIN_REDIRECT_URL = "workbench:landing"
LOGOUT_REDIRECT_URL = "storefront:home"

# Argon2id (argon2-cffi) for new and changed passwords; older PBKDF2 hashes still verify and are upgraded
# to Argon2 at the user's next sign-in. Tests and the e2e server use MD5 (conftest.py, e2e/settings.py).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Sign-in throttling (django-axes; accounts/throttle.py, docs/decisions/0006-login-throttling-and-browser-security.md):
# after ZHUNONG_LOGIN_FAILURE_LIMIT failed sign-ins of one username from one address, that pair is locked out
# for ZHUNONG_LOGIN_COOLOFF_MINUTES (API: 429 too_many_attempts with Retry-After; pages: a message). A success
# clears the count. Failures are recorded in the database (axes' AccessAttempt, shown in the admin) and logged.
AUTHENTICATION_BACKENDS = [
    "zhunong.accounts.throttle.RequestAxesBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("ZHUNONG_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("ZHUNONG_LOGIN_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "zhunong.accounts.throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "zhunong.accounts.throttle.client_ip_for_axes"
AXES_USERNAME_CALLABLE = "zhunong.accounts.throttle.username_for_axes"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are not recorded (failures are)
AXES_VERBOSE = False  # accounts.throttle logs the lockouts
# Behind N reverse proxies that append to X-Forwarded-For, the client address is the N-th from the right
# (0: REMOTE_ADDR, no proxy). Used by the sign-in and registration throttles.
TRUSTED_PROXY_COUNT = int(os.environ.get("ZHUNONG_TRUSTED_PROXY_COUNT", 0))
# Buyer self-registration: at most ZHUNONG_REGISTER_LIMIT attempts per address per ZHUNONG_REGISTER_WINDOW_MINUTES.
REGISTER_LIMIT = int(os.environ.get("ZHUNONG_REGISTER_LIMIT", 20))
REGISTER_WINDOW_MINUTES = int(os.environ.get("ZHUNONG_REGISTER_WINDOW_MINUTES", 60))
# API bearer tokens expire this many days after they are issued.
API_TOKEN_TTL_DAYS = int(os.environ.get("ZHUNONG_API_TOKEN_TTL_DAYS", 30))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REDIS_URL = os.environ.get("REDIS_URL", "").strip()

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, the same as channels_redis's BZPOPMIN
            # wait: an idle receive then times out client-side and a message popped at that instant is
            # lost. A longer socket timeout lets the blocking pop return by itself.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                       "prefix": os.environ.get("ZHUNONG_REDIS_PREFIX", "zhunong")},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("ZHUNONG_REDIS_PREFIX", "zhunong"),
        }
    }
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": os.environ.get("ZHUNONG_REDIS_PREFIX", "zhunong"),
        "url": REDIS_URL,
        "immediate": env_bool("HUEY_IMMEDIATE", False),
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "zhunong"}}
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "zhunong",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": env_bool("HUEY_IMMEDIATE", False),
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
# Without REDIS_URL each process has its own in-memory channel layer, so a process other than the web server
# (the Huey worker) posts its realtime events to this URL of the web server instead (core/relay.py).
# `zhunong serve` sets it for its worker; ignored when REDIS_URL is set.
EVENT_RELAY_URL = os.environ.get("ZHUNONG_EVENT_RELAY_URL", "").strip()

# Orders and payments. The inventory backend holds flash-sale and coupon stock: "db" (conditional
# updates; embedded default), "redis" (atomic Lua; default with REDIS_URL) or "naive" (row lock per
# attempt; the benchmark's baseline). Unpaid reservations expire after RESERVATION_MINUTES.
REDIS_PREFIX = os.environ.get("ZHUNONG_REDIS_PREFIX", "zhunong")
INVENTORY_BACKEND = os.environ.get("ZHUNONG_INVENTORY_BACKEND", "").strip() or ("redis" if REDIS_URL else "db")
RESERVATION_MINUTES = int(os.environ.get("ZHUNONG_RESERVATION_MINUTES", 15))
# Hoarding caps (orders.purchase.check_holding_caps, docs/decisions/0010): per buyer, unpaid orders, and units
# of one product held in unpaid ordinary lines, when an order takes ordinary stock; 0 turns a cap off.
MAX_OPEN_ORDERS_PER_BUYER = int(os.environ.get("ZHUNONG_MAX_OPEN_ORDERS_PER_BUYER", 5))
MAX_UNITS_PER_PRODUCT_PER_BUYER = int(os.environ.get("ZHUNONG_MAX_UNITS_PER_PRODUCT_PER_BUYER", 20))
# Seconds each process may reuse the product/sale rows it priced an order with (0 = off; 1 for flash sales).
ORDERS_CONTEXT_CACHE_SECONDS = float(os.environ.get("ZHUNONG_ORDERS_CACHE_SECONDS", 0))
# With the Redis inventory backend, `POST /api/v1/orders` for a running flash sale is served by the purchase
# fast path (orders/fastpath.py) in front of Django; 0 sends every purchase through Django (for comparison).
ORDERS_FAST_PATH = os.environ.get("ZHUNONG_ORDERS_FAST_PATH", "1").strip().lower() not in ("0", "false", "no", "")
# The fast path's Redis client: "resp" (core/resp.py, one pipelined connection per process) or "redis-py"
# (its asyncio client; kept so the two can be measured side by side, docs/decisions/0004).
FASTPATH_REDIS_CLIENT = os.environ.get("ZHUNONG_FASTPATH_REDIS_CLIENT", "resp").strip().lower()
if FASTPATH_REDIS_CLIENT not in ("resp", "redis-py"):
    raise ImproperlyConfigured("ZHUNONG_FASTPATH_REDIS_CLIENT must be resp or redis-py")
# Shared with the payment gateway for HMAC-SHA256 webhook signatures; derived from SECRET_KEY if unset.
PAYMENT_WEBHOOK_SECRET = os.environ.get("PAYMENT_WEBHOOK_SECRET") or _derive_secret(SECRET_KEY, "payments.webhook")
# Demo mode (`make demo`, `zhunong serve --demo-video`, CI's schemathesis and e2e runs): the only way the
# sandbox payment gateway may run with DEBUG off (docs/decisions/0007-payment-provider.md).
DEMO = env_bool("ZHUNONG_DEMO", False)
# Hosts' resident ID numbers (accounts/idvault.py): Fernet keys, newest first, and the HMAC key of the
# uniqueness digest. Unset: derived from SECRET_KEY, allowed only with DEBUG or DEMO (check live.E002).
ID_KEYS = [k.strip() for k in os.environ.get("ZHUNONG_ID_KEYS", "").split(",") if k.strip()]
ID_HASH_KEY = os.environ.get("ZHUNONG_ID_HASH_KEY", "").strip()
# The payment provider: "alipay" or "sandbox". Unset: "sandbox" in demo mode, else none (checkout answers
# 503 payments_unavailable). The sandbox with DEBUG off and without ZHUNONG_DEMO fails `zhunong check`
# (payments.E001) and is refused at run time.
PAYMENT_PROVIDER = os.environ.get("ZHUNONG_PAYMENT_PROVIDER", "").strip().lower() or ("sandbox" if DEMO else "")
# Alipay (open platform, RSA2 public-key mode): the app id, the app's private key and Alipay's public key
# (PEM files); ALIPAY_DEBUG=1 uses Alipay's own sandbox gateway (openapi-sandbox.dl.alipaydev.com).
ALIPAY_APP_ID = os.environ.get("ALIPAY_APP_ID", "").strip()
ALIPAY_APP_PRIVATE_KEY_FILE = os.environ.get("ALIPAY_APP_PRIVATE_KEY_FILE", "").strip()
ALIPAY_PUBLIC_KEY_FILE = os.environ.get("ALIPAY_PUBLIC_KEY_FILE", "").strip()
ALIPAY_DEBUG = env_bool("ALIPAY_DEBUG", False)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
NODE_MODULES = Path(os.environ.get("ZHUNONG_NODE_MODULES", BASE_DIR / "node_modules"))
# Front-end libraries come from the npm registry (package-lock.json), installed by `make`, never committed.
STATICFILES_DIRS = [
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    ("vendor/hls", NODE_MODULES / "hls.js" / "dist"),
]
STATICFILES_DIRS = [(prefix, path) for prefix, path in STATICFILES_DIRS if path.exists()]

MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Inspection certificates: outside MEDIA_ROOT, handed out only as downloads (/certificates/<id>/); PDF, JPEG
# or PNG by content, at most this many bytes.
CERTIFICATE_ROOT = Path(os.environ.get("ZHUNONG_CERTIFICATE_ROOT", VAR_DIR / "certificates"))
CERTIFICATE_MAX_BYTES = int(os.environ.get("ZHUNONG_CERTIFICATE_MAX_BYTES", 10 * 1024 * 1024))
# Product and after-sales photos (core/images.py, docs/decisions/0025-image-pipeline.md): the largest file
# and the most pixels accepted (a picture over the pixel limit is refused from its header, before decoding).
IMAGE_MAX_BYTES = int(os.environ.get("ZHUNONG_IMAGE_MAX_BYTES", 10 * 1024 * 1024))
IMAGE_MAX_PIXELS = int(os.environ.get("ZHUNONG_IMAGE_MAX_PIXELS", 40_000_000))

# Public base URL, used in QR codes and EPCIS identifiers.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Live-stream and chat records are kept 3 years by default (China's online-trade rules).
RECORD_RETENTION_DAYS = int(os.environ.get("RECORD_RETENTION_DAYS", 3 * 365))

# Fulfilment (一件代发): producers ship within N hours of payment or the parcel is flagged late; a shipped
# parcel is auto-confirmed N days after shipping; a delivered order completes (after-sales window closes)
# N days after delivery.
FULFILMENT_SHIP_WITHIN_HOURS = int(os.environ.get("FULFILMENT_SHIP_WITHIN_HOURS", 48))
FULFILMENT_AUTO_CONFIRM_DAYS = int(os.environ.get("FULFILMENT_AUTO_CONFIRM_DAYS", 10))
FULFILMENT_AUTO_COMPLETE_DAYS = int(os.environ.get("FULFILMENT_AUTO_COMPLETE_DAYS", 7))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Phones and ID numbers are masked in every record (core/redaction.py; docs/people.md "Personal data").
    "filters": {"personal_data": {"()": "zhunong.core.redaction.PersonalDataFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["personal_data"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "jieba": {"level": "WARNING"},
        # Huey logs every periodic task at INFO; keep the console for what needs attention. With a handler of
        # its own, `run_huey` leaves this logger alone (it otherwise adds one at INFO, printing twice).
        "huey": {"level": "WARNING", "handlers": ["console"], "propagate": False},
    },
}

# Notifications (zhunong/notifications, docs/people.md): email through Django's backend (the console by default:
# messages are printed, nothing leaves the machine until a real backend is configured) and SMS through a
# provider ("sandbox" records messages in the database: the only provider until a gateway is contracted).
EMAIL_BACKEND = os.environ.get("ZHUNONG_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("ZHUNONG_FROM_EMAIL", "noreply@zhunong.local")
NOTIFICATIONS_SMS_PROVIDER = os.environ.get("ZHUNONG_SMS_PROVIDER", "sandbox")
