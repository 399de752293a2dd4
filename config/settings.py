"""Dispatch settings: one file, driven by environment variables.

Local defaults need no services (SQLite, a SQLite-backed Celery broker, email
written to var/outbox/). Production names its services in the environment;
a malformed value stops start-up with a message instead of limping along.
"""

import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import django_stubs_ext
import environ
from botocore.config import Config as BotoConfig
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

# Django's generic classes (ModelAdmin[Post], ModelForm[User], Feed[Post, Tag]) take
# type arguments at run time too, as the strict type check asks of every subclass.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# Under pytest: no secret needed, no HTTPS redirect, plain static storage.
TESTING = env.bool("TESTING", default="pytest" in sys.modules)

if DEBUG or TESTING:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-never-use-in-production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set (50+ characters) when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG or TESTING else [])
SITE_URL = env.url("SITE_URL", default="http://127.0.0.1:8000").geturl().rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="Dispatch")
SITE_DESCRIPTION = env.str("SITE_DESCRIPTION", default="Commentary and analysis.")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",  # search (blog/posts/search.py); harmless on SQLite
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "taggit",
    "ninja",  # the API's docs page from its own static files (no CDN), under the site's CSP
    "anymail",
    "blog",
    "accounts",  # after blog: its post_migrate hook grants blog permissions to roles
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the page cache: a post asked for as ActivityPub JSON is answered here.
    "blog.federation.middleware.ActivityJsonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "blog.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "blog.middleware.LegacyRedirectMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffTwoFactorMiddleware",
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
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "blog.context_processors.site",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'dispatch.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Parameters bound by the server and statements prepared once per connection:
# PostgreSQL then plans a page's hot statement once, not on every request
# (planning cost more than running it). Off behind a pooler in transaction
# mode that cannot keep prepared statements (PgBouncer before 1.21).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool("DATABASE_PREPARE", default=True):
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=2)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# What a shared cache in front (Varnish, a CDN) may keep of a signed-out page, and
# how it is told that a page changed (docs/caching.md). PAGE_CACHE_PURGER is one
# of "" (no shared cache: nothing is purged), "varnish", "fastly" or "cloudflare";
# PAGE_CACHE_PURGE_URLS are the Varnish hosts, or the CDN's purge endpoint.
PAGE_CACHE_MAX_AGE = env.int("PAGE_CACHE_MAX_AGE", default=10)
PAGE_CACHE_SHARED_MAX_AGE = env.int("PAGE_CACHE_SHARED_MAX_AGE", default=60)
PAGE_CACHE_STALE_WHILE_REVALIDATE = env.int("PAGE_CACHE_STALE_WHILE_REVALIDATE", default=30)
PAGE_CACHE_PURGER = env.str("PAGE_CACHE_PURGER", default="")
if PAGE_CACHE_PURGER not in ("", "varnish", "fastly", "cloudflare"):
    raise ImproperlyConfigured("PAGE_CACHE_PURGER must be empty, varnish, fastly or cloudflare.")
PAGE_CACHE_PURGE_URLS = env.list("PAGE_CACHE_PURGE_URLS", default=[])
if any(not url.startswith(("http://", "https://")) for url in PAGE_CACHE_PURGE_URLS):
    raise ImproperlyConfigured("PAGE_CACHE_PURGE_URLS must be http:// or https:// addresses.")
if PAGE_CACHE_PURGER and not PAGE_CACHE_PURGE_URLS:
    raise ImproperlyConfigured("PAGE_CACHE_PURGE_URLS must name where purges go when PAGE_CACHE_PURGER is set.")
PAGE_CACHE_PURGE_TOKEN = env.str("PAGE_CACHE_PURGE_TOKEN", default="")
PAGE_CACHE_PURGE_TIMEOUT = env.float("PAGE_CACHE_PURGE_TIMEOUT", default=5.0)

# Page views (blog/insights/pageviews.py) are counted in Redis and folded into the
# database every minute; without a Redis URL nothing is counted.
PAGEVIEWS_ENABLED = env.bool("PAGEVIEWS_ENABLED", default=True)
_cache_url = env.str("CACHE_URL", default="")
PAGEVIEWS_REDIS_URL = env.str("PAGEVIEWS_REDIS_URL", default=_cache_url if _cache_url.startswith("redis") else "")
PAGEVIEWS_REDIS_TIMEOUT = env.float("PAGEVIEWS_REDIS_TIMEOUT", default=0.25)
# Views go to Redis from a thread per process, in batches; off sends each one inline.
PAGEVIEWS_IN_BACKGROUND = env.bool("PAGEVIEWS_IN_BACKGROUND", default=True)
# Newsletter links go through a signed redirect that counts clicks; off sends them straight.
NEWSLETTER_CLICK_COUNTING = env.bool("NEWSLETTER_CLICK_COUNTING", default=True)

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing at full strength costs a quarter second a user; tests make hundreds.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# allauth's log-in by e-mail, with users and roles read from the shared cache.
AUTHENTICATION_BACKENDS = ["accounts.backends.CachedAuthenticationBackend"]
# Sessions are read from the cache (Redis in production) and written through
# to the database, so a signed-in request costs no session query.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "blog:home"

# django-allauth: log in by email, verified addresses only.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_USERNAME_MIN_LENGTH = 3
ACCOUNT_ADAPTER = "blog.accountmail.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Confirming the address in the browser that signed up signs the reader in and
# resumes where they were (the `next` of the sign-up form, e.g. a post they liked).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# Two-factor: an authenticator app (TOTP) with recovery codes, at /accounts/2fa/.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
# Staff accounts must turn it on before they may do anything but set it up.
MFA_REQUIRED_FOR_STAFF = env.bool("MFA_REQUIRED_FOR_STAFF", default=not DEBUG and not TESTING)

LANGUAGE_CODE = "en-us"
# allauth's pages in sentence case, in the site's words (locale/en/LC_MESSAGES/django.po).
LOCALE_PATHS = [BASE_DIR / "locale"]
# The site's default zone: for visitors, and for accounts until their browser's zone is known.
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start otherwise
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG or TESTING
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Uploaded imports and finished exports: private, never served like MEDIA_ROOT (blog/shared/files.py).
PRIVATE_ROOT = Path(env.str("PRIVATE_ROOT", default=str(VAR_DIR / "private")))
# Public media (covers, avatars, body images, previews, logos) keep their name once written, so a
# browser or CDN may keep them a year.
MEDIA_CACHE_CONTROL = env.str("MEDIA_CACHE_CONTROL", default="public, max-age=31536000, immutable")
# Where files live: "local" (MEDIA_ROOT and PRIVATE_ROOT on this host's disk) or "s3" (any S3-compatible
# object store, shared by every host; docs/scaling.md).
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local")


def s3_storages(values: environ.Env, cache_control: str) -> dict[str, dict[str, object]]:
    """The public and private S3 storages from MEDIA_S3_* values (docs/scaling.md); tests call it too."""
    common = {
        "endpoint_url": values.str("MEDIA_S3_ENDPOINT_URL", default="") or None,
        "region_name": values.str("MEDIA_S3_REGION", default="us-east-1"),
        "access_key": values.str("MEDIA_S3_ACCESS_KEY_ID", default="") or None,
        "secret_key": values.str("MEDIA_S3_SECRET_ACCESS_KEY", default="") or None,
        "signature_version": "s3v4",
        "addressing_style": values.str("MEDIA_S3_ADDRESSING_STYLE", default="path"),
        # Never overwrite a name: a cached copy of the old file would otherwise outlive it.
        "file_overwrite": False,
        # boto3 1.36+ adds checksums by default that several S3-compatible stores refuse.
        "client_config": BotoConfig(
            request_checksum_calculation="when_required", response_checksum_validation="when_required"
        ),
    }
    public_url = urlsplit(values.str("MEDIA_PUBLIC_URL", default="").rstrip("/"))
    public = {
        **common,
        "bucket_name": values.str("MEDIA_S3_BUCKET"),
        "querystring_auth": False,  # public media: plain, cacheable URLs
        # Unset leaves reading to the bucket's policy (new AWS buckets refuse ACLs); "public-read" elsewhere.
        "default_acl": values.str("MEDIA_S3_ACL", default="") or None,
        "object_parameters": {"CacheControl": cache_control},
    }
    if public_url.netloc:  # a CDN (or the bucket's own public address) in front
        public |= {"custom_domain": public_url.netloc + public_url.path, "url_protocol": public_url.scheme + ":"}
    private = {
        **common,
        "bucket_name": values.str("MEDIA_S3_PRIVATE_BUCKET"),
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": values.int("MEDIA_S3_SIGNED_SECONDS", default=300),
    }
    backend = "storages.backends.s3.S3Storage"
    return {"default": {"BACKEND": backend, "OPTIONS": public}, "private": {"BACKEND": backend, "OPTIONS": private}}


if MEDIA_STORAGE == "local":
    FILE_STORAGES: dict[str, dict[str, object]] = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "private": {"BACKEND": "blog.shared.files.PrivateFileSystemStorage"},
    }
elif MEDIA_STORAGE == "s3":
    FILE_STORAGES = s3_storages(env, MEDIA_CACHE_CONTROL)
else:
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be 'local' or 's3', not {MEDIA_STORAGE!r}.")
STORAGES = {
    **FILE_STORAGES,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
# Cover images larger than this are refused with a message.
MAX_COVER_BYTES = env.int("MAX_COVER_BYTES", default=5 * 1024 * 1024)
# Covers and avatars with more pixels than this are refused before decoding (accounts/images.py).
MAX_IMAGE_PIXELS = env.int("MAX_IMAGE_PIXELS", default=40_000_000)
# "News" and "news" are one tag (imports from other platforms often hold both).
TAGGIT_CASE_INSENSITIVE = True
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=500 * 1024 * 1024)
# What one file of an import may unpack to: parsed whole (Ghost's JSON, WordPress's XML, a CSV of posts),
# about thirty times that in memory; read a row at a time (Substack's e-mail list). See docs/imports.md.
IMPORT_MAX_DOCUMENT_BYTES = env.int("IMPORT_MAX_DOCUMENT_BYTES", default=8 * 1024 * 1024)
IMPORT_MAX_STREAMED_BYTES = env.int("IMPORT_MAX_STREAMED_BYTES", default=64 * 1024 * 1024)
# An upload checked but not imported is deleted after this long; each account may upload this often.
IMPORT_UPLOAD_HOURS = env.int("IMPORT_UPLOAD_HOURS", default=24)
IMPORT_UPLOAD_RATE = env.str("IMPORT_UPLOAD_RATE", default="6/h")
# Imported images are fetched only from public addresses (blog/transfers/imports/media.py). Tests that serve
# images from a server of their own on loopback name its network here; production leaves it empty.
IMPORT_FETCH_ALLOWED_NETWORKS: list[str] = []
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024


ANYMAIL_ESPS = {
    "amazon_ses", "brevo", "mailersend", "mailgun", "mailjet", "mailtrap", "mandrill", "postal", "postmark",
    "resend", "sendgrid", "sparkpost", "unisender_go",
}  # fmt: skip


def mailers_from_url(url: str) -> dict[str, dict[str, Any]]:
    """Turn EMAIL_URL (smtp://user:pass@host:587?tls=1, file:///path, console:, locmem:)
    into Django 6.1's MAILERS setting."""
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    backends = "django.core.mail.backends."
    if parts.scheme in ("smtp", "smtps"):
        if not parts.hostname:
            raise ImproperlyConfigured(f"EMAIL_URL {url!r} names no host.")
        options = {
            "host": parts.hostname,
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": query.get("tls") in ("1", "true"),
            "use_ssl": parts.scheme == "smtps" or query.get("ssl") in ("1", "true"),
            "timeout": int(query.get("timeout", 10)),
        }
        return {"default": {"BACKEND": backends + "smtp.EmailBackend", "OPTIONS": options}}
    if parts.scheme == "file":
        return {"default": {"BACKEND": backends + "filebased.EmailBackend", "OPTIONS": {"file_path": parts.path}}}
    if parts.scheme in ("console", "locmem", "dummy"):
        return {"default": {"BACKEND": f"{backends}{parts.scheme}.EmailBackend"}}
    if parts.scheme == "anymail":
        # anymail://postmark?server_token=..., anymail://amazon_ses, anymail://mailgun?api_key=...
        esp = parts.hostname or ""
        if esp not in ANYMAIL_ESPS:
            raise ImproperlyConfigured(f"EMAIL_URL names {esp!r}; anymail's are {', '.join(sorted(ANYMAIL_ESPS))}.")
        return {"default": {"BACKEND": f"anymail.backends.{esp}.EmailBackend", "OPTIONS": query}}
    raise ImproperlyConfigured(f"EMAIL_URL scheme {parts.scheme!r} is not supported.")


MAILERS = mailers_from_url(env.str("EMAIL_URL", default=f"file://{VAR_DIR / 'outbox'}"))

# Newsletter delivery (blog/newsletter/delivery.py).
POSTAL_ADDRESS = env.str("POSTAL_ADDRESS", default="Dispatch, 1 Example Street, Example City")
EMAIL_REPLY_TO = env.list("EMAIL_REPLY_TO", default=[])
DELIVERY_BATCH_SIZE = env.int("DELIVERY_BATCH_SIZE", default=500)
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=8)
DELIVERY_RETRY_BASE_SECONDS = env.float("DELIVERY_RETRY_BASE_SECONDS", default=15)
DELIVERY_RETRY_MAX_SECONDS = env.float("DELIVERY_RETRY_MAX_SECONDS", default=600)
# A delivery left "sending" or "queued" this long by a dead worker is put back in the queue.
DELIVERY_STUCK_AFTER_SECONDS = env.int("DELIVERY_STUCK_AFTER_SECONDS", default=300)
# A send with this many permanent failures pauses and tells the author.
SEND_PAUSE_AFTER_FAILURES = env.int("SEND_PAUSE_AFTER_FAILURES", default=1000)

# E-mail providers' bounce and complaint webhooks (django-anymail, blog/newsletter/providerevents.py),
# at /api/anymail/<provider>/tracking/. Without a secret they are not served at all.
ANYMAIL = {
    "WEBHOOK_SECRET": env.list("ANYMAIL_WEBHOOK_SECRET", default=[]),  # "user:password", rotate with a list
    "MAILGUN_WEBHOOK_SIGNING_KEY": env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
    "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": env.str("SENDGRID_WEBHOOK_VERIFICATION_KEY", default=""),
    "POSTAL_WEBHOOK_KEY": env.str("POSTAL_WEBHOOK_KEY", default=""),
    # SNS asks to confirm a subscription; anymail confirms it only with the basic auth above.
    "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": True,
}
ANYMAIL = {name: value for name, value in ANYMAIL.items() if value not in ("", [])}

# The API (blog/api/, docs/api.md): published rate limits, per address without a key, per key with one.
API_PUBLIC_RATE = env.str("API_PUBLIC_RATE", default="60/m")
API_KEY_RATE = env.str("API_KEY_RATE", default="600/m")
API_CACHE_SECONDS = env.int("API_CACHE_SECONDS", default=60)
# Webhooks out (blog/integrations/webhooks.py). Retries stay short: Redis redelivers long countdowns.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=10)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=600)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=20)
# Only for tests and local development: allow hooks to loopback and private addresses.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)

# Celery: tasks take ids, acknowledge after running, and survive a dead worker.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=2)
# Imports run on a queue of their own, for workers with a memory limit per child (docs/deployment.md):
# an export is a stranger's file, and one that takes its worker down must not stall the e-mail.
CELERY_TASK_ROUTES = {
    "blog.tasks.check_import": {"queue": "imports"},
    "blog.tasks.import_publication": {"queue": "imports"},
    "blog.federation.tasks.*": {"queue": "federation"},
}
CELERY_BEAT_SCHEDULE = {
    "publish-due-posts": {"task": "blog.tasks.publish_due_posts", "schedule": crontab()},
    "send-due-digests": {"task": "blog.tasks.send_due_digests", "schedule": crontab(minute=1)},
    "requeue-stuck-deliveries": {"task": "blog.tasks.requeue_stuck_deliveries", "schedule": crontab()},
    "fold-page-views": {"task": "blog.tasks.fold_page_views", "schedule": crontab()},
    "moderation-digest": {"task": "blog.tasks.send_moderation_digest", "schedule": crontab(minute="*/5")},
    "expire-import-uploads": {"task": "blog.tasks.expire_import_uploads", "schedule": crontab(minute=7)},
    "requeue-stuck-webhooks": {"task": "blog.tasks.requeue_stuck_webhooks", "schedule": crontab(minute="*/5")},
    "requeue-stuck-federation": {"task": "blog.federation.tasks.requeue_stuck", "schedule": crontab()},
}
# Federation's deliveries go on their own queue: 10,000 followers never hold up an e-mail
# (workers: `celery -A config worker -Q celery,federation`; see docs/federation.md).

# Federation (docs/federation.md).
FEDERATION_ENABLED = env.bool("FEDERATION_ENABLED", default=True)
# The publication's handle: acct:<this>@<host>. No author may have it as a handle.
FEDERATION_PUBLICATION_HANDLE = env.str("FEDERATION_PUBLICATION_HANDLE", default="publication")
# Tests and the two-site drill only: let fetches and deliveries reach loopback and private addresses, over http.
FEDERATION_ALLOW_PRIVATE_ADDRESSES = env.bool("FEDERATION_ALLOW_PRIVATE_ADDRESSES", default=False)
FEDERATION_BATCH_SIZE = env.int("FEDERATION_BATCH_SIZE", default=50)
FEDERATION_MAX_ATTEMPTS = env.int("FEDERATION_MAX_ATTEMPTS", default=8)
FEDERATION_RETRY_BASE_SECONDS = env.float("FEDERATION_RETRY_BASE_SECONDS", default=30)
FEDERATION_STUCK_AFTER_SECONDS = env.int("FEDERATION_STUCK_AFTER_SECONDS", default=300)
FEDERATION_INBOX_RATE = env.str("FEDERATION_INBOX_RATE", default="300/m")  # per sending instance
FEDERATION_MAX_BODY_BYTES = env.int("FEDERATION_MAX_BODY_BYTES", default=256 * 1024)
FEDERATION_TIMEOUT_SECONDS = env.float("FEDERATION_TIMEOUT_SECONDS", default=10)

# Security. Production is HTTPS behind a proxy; every switch can be turned off
# by environment for local benchmarks.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG and not TESTING)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG or TESTING else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Off only for load benchmarks, which send everything from one address.
RATELIMIT_ENABLED = env.bool("RATELIMIT_ENABLED", default=True)
if not RATELIMIT_ENABLED:
    ACCOUNT_RATE_LIMITS = False  # allauth's own switch; its limits are on by default
# Rate limits and allauth's log-in limits count in the cache: one that each
# process keeps for itself (or a database, without atomic increments) is no limit.
PER_PROCESS_CACHES = ("locmem.", "dummy.", "filebased.", "db.")
if (
    RATELIMIT_ENABLED
    and not DEBUG
    and not TESTING
    and any(k in CACHES["default"]["BACKEND"] for k in PER_PROCESS_CACHES)
):
    raise ImproperlyConfigured("CACHE_URL must name a shared cache (redis://...) when DEBUG is off.")
# How many reverse proxies in front of the app append to X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "https:", "data:"],  # data: for the two-factor QR code (an SVG image)
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Search (blog/posts/search.py): the PostgreSQL text-search configuration, i.e. the
# publication's language. After changing it, run `manage.py update_search_index`.
SEARCH_CONFIG = env.str("SEARCH_LANGUAGE", default="english")
if not SEARCH_CONFIG.isidentifier():
    raise ImproperlyConfigured(f"SEARCH_LANGUAGE {SEARCH_CONFIG!r} is not a text-search configuration name.")
