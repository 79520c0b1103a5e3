"""CX Console settings, read from the environment.

With no DATABASE_URL / REDIS_URL the product runs embedded: SQLite, Celery's in-memory transport
with an in-process worker, a local-memory cache. See .env.example for every variable.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_float, env_int, env_list, env_rate, env_str, env_time_zone
from core.secret_key import check_secret_key, dev_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=False)
# No default in the source: signed shopper links and tracking tokens rest on this key. With DEBUG
# on, or in the embedded mode (no REDIS_URL: `make run` on one machine), a key is generated once
# into var/; otherwise a weak key stops every process here and a missing one stops every serving
# process (core.secret_key). Production (with Redis) stays strict.
SECRET_KEY = env_str("SECRET_KEY").strip()
if not SECRET_KEY and (DEBUG or not env_str("REDIS_URL")):
    SECRET_KEY = dev_secret_key(BASE_DIR / "var" / "dev-secret-key")
if SECRET_KEY:
    check_secret_key(SECRET_KEY, debug=DEBUG)
# Old keys still accepted when verifying signatures and tracking tokens, so a key can be rotated.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A refused form gets the product's own page, in the interface language.
CSRF_FAILURE_VIEW = "console.views.csrf_failure"

DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
EMBEDDED = not REDIS_URL

# --- HTTPS and proxies ------------------------------------------------------------------------
# Reverse proxies of our own in front of the web processes (each appends to X-Forwarded-For):
# the throttles and the login lockout take the client address that many hops from the right.
NUM_PROXIES = env_int("NUM_PROXIES", 0, minimum=0)
# Secure by default when DEBUG is off. DEBUG and the embedded mode serve plain http://127.0.0.1,
# so there the redirect and secure-only cookies are off (each variable overrides either way).
_PLAIN_HTTP = DEBUG or EMBEDDED
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not _PLAIN_HTTP)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not _PLAIN_HTTP)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not _PLAIN_HTTP)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
# The TLS-terminating proxy says the original scheme in this header ("X-Forwarded-Proto"; empty:
# trust no header). Only set it behind a proxy that overwrites the header on every request.
_PROXY_SSL_HEADER = env_str("SECURE_PROXY_SSL_HEADER", "" if _PLAIN_HTTP else "X-Forwarded-Proto").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https") if _PROXY_SSL_HEADER else None
)
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
# Sessions read from the cache (written through to the database): a console re-read that finds
# its fragment unchanged then costs no query at all (console.live).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "channels",
    "core",
    "teams",
    "tickets",
    "classification",
    "routing",
    "ops",
    "console",
    "notifications",
    "callbacks",
    "satisfaction",
    "orders",
    "webhooks",
    "supervision",
    "shop",
    # Login lockout (console and admin): failures counted per username and client IP.
    "axes",
    "csp",
    "aftersales",
    "macros",
    "proactive",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Before authentication: an unchanged live fragment is a 304 with no query (console.live).
    "console.live.NotModifiedMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a signed-in agent's saved interface language beats the browser's.
    "console.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The site-wide Content Security Policy (settings below); it leaves a header already set alone.
    "csp.middleware.CSPMiddleware",
    # After django-csp, so its headers are set first: CSP, X-Frame-Options, Referrer-Policy of /shop/.
    "shop.middleware.ShopSecurityHeadersMiddleware",
    # Last, as django-axes requires: it answers a locked-out login with the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cxconsole.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "cxconsole.wsgi.application"
ASGI_APPLICATION = "cxconsole.asgi.application"

# A pool of connections per process instead of one persistent connection per thread. Under ASGI
# each request's code runs on a thread of its own, so a per-thread connection is never reused:
# every request would open one (a new PostgreSQL connection costs more than the request) and leave the
# last to the garbage collector. cxconsole/asgi.py turns this on for the processes it starts; WSGI
# web workers and Celery workers keep one persistent connection each.
DB_POOL = env_bool("DB_POOL", False)

if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            # Django's pool hands connections out per request: no persistent ones beside it.
            conn_max_age=0 if DB_POOL else env_int("DB_CONN_MAX_AGE", 600, minimum=0),
            conn_health_checks=True,
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # The same backend, with a health check that needs no round trip (see its docstring);
        # STOCK_DB_BACKEND=1 keeps Django's own (it overrides a private method: see
        # tests/test_private_overrides.py).
        if not env_bool("STOCK_DB_BACKEND", default=False):
            DATABASES["default"]["ENGINE"] = "core.postgresql"
        if DB_POOL:
            # Connections are checked as they leave the pool (CONN_HEALTH_CHECKS). A request
            # waits up to DB_POOL_TIMEOUT seconds for a free one; then the API answers 503.
            DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
                "min_size": 2,
                "max_size": env_int("DB_POOL_MAX_SIZE", 10, minimum=1),
                "timeout": env_float("DB_POOL_TIMEOUT", 10.0, minimum=0.1),
            }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "var" / "cxconsole.sqlite3")),
            # The embedded worker thread and the web threads share one file: wait for locks.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {
        "default": {
            # One redis-py client per process (core.caching); STOCK_CACHE_BACKEND=1 keeps Django's
            # own, which overrides nothing private (the window counter then takes two round trips).
            "BACKEND": (
                "django.core.cache.backends.redis.RedisCache"
                if env_bool("STOCK_CACHE_BACKEND", default=False)
                else "core.caching.RedisCache"
            ),
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGIN_URL = "login"
# API tokens are stored as digests in this model (core.auth).
API_TOKEN_MODEL = "teams.ApiToken"  # noqa: S105  # a model label, not a secret
# django-axes first: it refuses a locked-out username+IP before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Permission checks from each user's set kept across requests (core.auth); ModelBackend,
    # after it, authenticates and is never asked about permissions.
    "core.auth.CachedPermissionsBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_REDIRECT_URL = "console:inbox"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
# var/ holds the embedded database, the classifier artifact and collected static files.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    # Photos on messages (tickets.Attachment). No base_url: they are never served from a public
    # URL, only through views that check who may see the ticket. Production: any django-storages
    # backend here (see the README, "Attachments").
    "attachments": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env_str("ATTACHMENTS_ROOT", str(BASE_DIR / "var" / "attachments"))},
    },
}
WHITENOISE_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Tracking tokens and signed link tokens never reach a log line (core.log_redaction).
    "filters": {"redact_tokens": {"()": "core.log_redaction.RedactTokensFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_tokens"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # httpx logs every request at INFO (an order lookup, a webhook attempt: recorded elsewhere).
    "loggers": {"httpx": {"level": "WARNING"}},
}

# --- Login lockout (django-axes) --------------------------------------------------------------
# Failed logins on the console and the admin are counted per username and client address (the
# pair: a guessed password spree on one account from one place locks that pair only, so an
# attacker cannot lock a real agent out from elsewhere). Locked pairs get the lockout page (429)
# until the cool-off passes or an admin resets them (admin › Axes).
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "console.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "core.proxies.client_ip"
AXES_VERBOSE = False

# --- Content Security Policy (django-csp) -------------------------------------------------------
# Pages load scripts, styles and sockets from this site only; nothing may frame them. The API
# docs (Swagger UI) add inline styles on their own view (cxconsole/urls.py).
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
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Live updates (Django Channels) ----------------------------------------------------------
# A push is only a hint to re-read state from the database, so losing the layer (Redis down)
# delays a screen by the page's polling interval, never loses work.
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # A short connect timeout: a write whose hint cannot be delivered must not wait long.
            # Every socket of a server process shares one Redis list, capped at `capacity`
            # (channels_redis drops what is over it): room for a burst of hints to every agent.
            # socket_timeout above channels_redis's 5 s blocking pop (BZPOPMIN): redis-py 8 defaults
            # it to 5 s, which tears down every idle console socket every 5 s (a reconnect and a
            # full re-read each); a Redis that stops answering is still noticed within 10 s.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 2, "socket_timeout": 10}],
                "capacity": 2000,
            },
        }
    }
else:
    # The in-memory layer, made safe to send to from the embedded Celery worker thread.
    CHANNEL_LAYERS = {"default": {"BACKEND": "console.layers.ThreadSafeInMemoryChannelLayer"}}

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # `Authorization: Token …` against stored digests (teams.ApiToken), remembered briefly.
        "core.auth.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON nested too deep is a 400, never a RecursionError (core.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Every operation documents its error answers too (core.schema).
    "DEFAULT_SCHEMA_CLASS": "core.schema.ApiAutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        # Per storefront client (API token), not per shopper: one client speaks for many shoppers.
        "intake": env_str("INTAKE_THROTTLE_RATE", "6000/minute"),
        "shopper": env_str("SHOPPER_THROTTLE_RATE", "120/minute"),
        # Order-event batches (up to 1,000 events each) per storefront client.
        "order_events": env_str("ORDER_EVENTS_THROTTLE_RATE", "3000/minute"),
    },
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # The client address the throttles count: X-Forwarded-For is read only through this many
    # proxies of our own (0: never, so a client cannot pick its own address).
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CX Console API",
    "DESCRIPTION": "Shopper inquiries, classification and specialist routing.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://localhost//"
if REDIS_URL and not env_bool("STOCK_BROKER_TRANSPORT", default=False):
    # kombu's Redis transport, keeping one redis-py client per channel (see core.broker);
    # STOCK_BROKER_TRANSPORT=1 keeps kombu's own.
    CELERY_BROKER_TRANSPORT = "core.broker:Transport"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# A task is acknowledged only after it ran, so a worker that dies mid-task loses nothing.
CELERY_TASK_ACKS_LATE = True
# ...and a task whose worker process was killed goes back to the queue instead of being dropped.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process: a slow task never holds other tickets hostage in a prefetch.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Tasks are short; a hard limit keeps a stuck one from holding a slot (and an unacked message).
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 60, minimum=5)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, float] = {
    # Redis redelivers an unacked task after this long: it must exceed the longest task.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 600, minimum=120),
}
if not REDIS_URL:
    # The in-memory transport polls; 10 ms keeps an embedded hop at ~10 ms instead of ~1 s.
    # (Never for Redis: there it would become a 10 ms BRPOP timeout, a busy loop.)
    CELERY_BROKER_TRANSPORT_OPTIONS["polling_interval"] = 0.01
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery closes Django's database connections around every task unless told to reuse them; a new
# PostgreSQL connection per task costs more than the task. Reused up to this many tasks (Django's
# CONN_MAX_AGE and health checks still apply).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000, minimum=0)
CELERY_TASK_DEFAULT_QUEUE = "default"
# The one table of task routes. Assignment runs on the Celery queue of the ticket's specialist
# queue ("assign.<slug>"), chosen per publish by routing.services, so it is not listed here.
CELERY_TASK_ROUTES = {
    "routing.route_new_tickets": {"queue": "intake"},
    "routing.sweep_unrouted_tickets": {"queue": "default"},
    "routing.sweep_waiting_tickets": {"queue": "default"},
    "routing.close_resolved_tickets": {"queue": "default"},
    "routing.sweep_absent_agents": {"queue": "default"},
    "routing.expire_offers": {"queue": "default"},
    "supervision.sample_queue_health": {"queue": "default"},
    # Callbacks on a queue of their own: a burst of due callbacks never delays routing sweeps.
    "callbacks.dispatch_due": {"queue": "callbacks"},
    # The shopper notification outbox on its own queue: a slow mail server never delays callbacks.
    "notifications.send_notifications": {"queue": "notifications"},
    "notifications.send_due_notifications": {"queue": "notifications"},
    # Thumbnails of photos: image work, kept off the intake and assignment queues.
    "tickets.make_thumbnails": {"queue": "default"},
    "tickets.sweep_missing_thumbnails": {"queue": "default"},
    "tickets.delete_orphaned_attachments": {"queue": "default"},
    # Webhooks on a queue of their own: a slow or dead receiver only ever holds webhook workers.
    "webhooks.fan_out": {"queue": "webhooks"},
    "webhooks.deliver": {"queue": "webhooks"},
    "webhooks.sweep": {"queue": "webhooks"},
    "webhooks.prune": {"queue": "webhooks"},
    # After-sales execution calls the order system (up to ORDER_API_ACTION_TIMEOUT): its own queue,
    # so a slow order system never delays routing or callbacks.
    "aftersales.execute_due": {"queue": "aftersales"},
    "aftersales.execute_request": {"queue": "aftersales"},
    "aftersales.recover_requests": {"queue": "aftersales"},
    "aftersales.sweep_overdue_returns": {"queue": "aftersales"},
    # The proactive rules sweep opens tickets (routing's intake path): kept off the intake queue so
    # a big sweep never delays a shopper's inquiry.
    "proactive.sweep": {"queue": "default"},
    "proactive.prune": {"queue": "default"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The one beat schedule. Every job here is bounded and safe to run twice at once.
CELERY_BEAT_SCHEDULE = {
    # Kick routing again for tickets stuck in "new" (a kick lost between commit and publish, Redis
    # down): one indexed query, often, so tickets accepted during an outage route seconds after it.
    "sweep-unrouted-tickets": {"task": "routing.sweep_unrouted_tickets", "schedule": 5.0},
    # Agents whose consoles went quiet: Away, then Offline (routing.services.presence).
    "sweep-absent-agents": {"task": "routing.sweep_absent_agents", "schedule": 10.0},
    # Resolved tickets closed after AUTO_CLOSE_RESOLVED_DAYS, in capped batches.
    "close-resolved-tickets": {"task": "routing.close_resolved_tickets", "schedule": 600.0},
    # Overflow and SLA flags, and a kick of every queue with waiting work (lost kicks).
    "sweep-waiting-tickets": {"task": "routing.sweep_waiting_tickets", "schedule": 10.0},
    # Offers past their deadline go to the next agent (an indexed query of pending offers).
    "expire-offers": {"task": "routing.expire_offers", "schedule": 2.0},
    # One sample per queue and minute for the dashboard's sparklines (unique per minute: a second
    # run in the same minute stores nothing).
    "sample-queue-health": {"task": "supervision.sample_queue_health", "schedule": 60.0},
    # Due callbacks surfaced and due reminders queued, found in the database (SKIP LOCKED, one
    # batch per transaction); no long ETA tasks. Re-enqueues itself while a burst lasts.
    "dispatch-due-callbacks": {"task": "callbacks.dispatch_due", "schedule": 10.0},
    # Outbox rows whose time has come: after the "seen on the page" wait, retries after backoff,
    # and rows whose send task was lost (Redis down). One indexed query when there is nothing.
    "send-due-notifications": {"task": "notifications.send_due_notifications", "schedule": 5.0},
    # Photos whose thumbnail task was lost (Redis down, a worker killed) get one within seconds.
    "sweep-missing-thumbnails": {"task": "tickets.sweep_missing_thumbnails", "schedule": 10.0},
    # Photo files no row names (rolled-back writes, deleted tickets), a day old: a capped batch
    # from the last two months' folders (manage.py delete_orphaned_attachments --all for the rest).
    "delete-orphaned-attachments": {"task": "tickets.delete_orphaned_attachments", "schedule": 3600.0},
    # Webhook events whose fan-out kick was lost (fanned out here), retries whose backoff is over,
    # endpoints whose rest ended, delivery runs lost with their message: each endpoint with due
    # rows is kicked (coalesced).
    "sweep-webhook-deliveries": {"task": "webhooks.sweep", "schedule": 5.0},
    # Webhook events older than WEBHOOK_RETENTION_DAYS with nothing left to send, with their
    # deliveries and attempt log: capped batches, repeated every 10 minutes until caught up.
    "prune-webhook-outbox": {"task": "webhooks.prune", "schedule": 600.0},
    # Approved after-sales requests whose execution task was lost, and executing ones whose
    # worker died, sent again (same idempotency key: nothing is paid twice).
    "recover-aftersales-requests": {"task": "aftersales.recover_requests", "schedule": 10.0},
    # Approved returns whose parcel is overdue go to a specialist (indexed, SKIP LOCKED batches).
    "sweep-overdue-returns": {"task": "aftersales.sweep_overdue_returns", "schedule": 300.0},
    # Anomaly rules over the in-flight orders (indexed, SKIP LOCKED batches, one case per order and
    # kind): a stalled, late, failed or cold-chain order gets its proactive ticket within a minute.
    "proactive-sweep": {"task": "proactive.sweep", "schedule": 60.0},
    # Finished orders and old order events deleted in capped batches.
    "proactive-prune": {"task": "proactive.prune", "schedule": 3600.0},
}

# --- Product rules ---------------------------------------------------------------------------
# A ticket still "new" this long after it was accepted makes the sweeper kick routing again.
UNROUTED_TICKET_GRACE_SECONDS = env_int("UNROUTED_TICKET_GRACE_SECONDS", 5, minimum=1)
# Presence: an Online agent with no console heard from for this long is set Away (no new work);
# past the second limit, Offline (their waiting tickets go back to the queues). Consoles send a
# heartbeat every 20 s (console.js), so the first limit is at least 30 s.
PRESENCE_AWAY_SECONDS = env_int("PRESENCE_AWAY_SECONDS", 60, minimum=30)
PRESENCE_OFFLINE_SECONDS = env_int("PRESENCE_OFFLINE_SECONDS", 900, minimum=60)
# Offers (queues in offer mode): an agent who declined or missed a ticket's offer is not offered
# that ticket again for this long; after this many offers missed in a row the agent is set Away.
OFFER_REOFFER_WINDOW_SECONDS = env_int("OFFER_REOFFER_WINDOW_SECONDS", 600, minimum=0)
OFFER_MISSES_BEFORE_AWAY = env_int("OFFER_MISSES_BEFORE_AWAY", 3, minimum=1)
# A resolved ticket is closed this many days after its resolution (a later message opens a new one).
AUTO_CLOSE_RESOLVED_DAYS = env_int("AUTO_CLOSE_RESOLVED_DAYS", 7, minimum=1)
# Below this confidence the text model's category is not trusted: the ticket goes to triage.
CLASSIFIER_CONFIDENCE_THRESHOLD = env_float("CLASSIFIER_CONFIDENCE_THRESHOLD", 0.45, minimum=0)
CLASSIFIER_MODEL_PATH = Path(env_str("CLASSIFIER_MODEL_PATH", str(BASE_DIR / "var" / "classifier.joblib")))
# Orders above this amount (in the order's currency units) raise the "high value" signal.
HIGH_VALUE_ORDER_AMOUNT = env_float("HIGH_VALUE_ORDER_AMOUNT", 2000.0, minimum=0)
# Two or more earlier inquiries from one shopper in this window make a "repeat contact".
REPEAT_CONTACT_WINDOW_HOURS = env_int("REPEAT_CONTACT_WINDOW_HOURS", 24, minimum=1)
INQUIRY_BODY_MAX_LENGTH = 5000

# --- Photos on messages (tickets.attachments) ---------------------------------------------------
# Per message: how many photos, and how large each may be as uploaded.
ATTACHMENT_MAX_PER_MESSAGE = env_int("ATTACHMENT_MAX_PER_MESSAGE", 5, minimum=1)
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
# Decoded size limit (a small file can decode to gigabytes: a "decompression bomb").
ATTACHMENT_MAX_PIXELS = env_int("ATTACHMENT_MAX_PIXELS", 40_000_000, minimum=10_000)
# The longer side of a thumbnail, in pixels.
ATTACHMENT_THUMBNAIL_SIZE = env_int("ATTACHMENT_THUMBNAIL_SIZE", 320, minimum=32)

# --- Shopper page (shop/) ------------------------------------------------------------------------
# Abuse limits on the public page's posts, per client address and per browser session, in fixed
# windows kept in the cache ("N/second|minute|hour|day"). Generous per address: many shoppers can
# share one (mobile carriers, offices).
SHOP_THROTTLE_RATES = {
    "inquiry": {
        "ip": env_rate("SHOP_INQUIRY_RATE_PER_IP", "30/hour"),
        "session": env_rate("SHOP_INQUIRY_RATE_PER_SESSION", "5/hour"),
    },
    "message": {
        "ip": env_rate("SHOP_MESSAGE_RATE_PER_IP", "60/minute"),
        "session": env_rate("SHOP_MESSAGE_RATE_PER_SESSION", "12/minute"),
    },
}

# --- Supervisor dashboard (supervision/) -------------------------------------------------------
# "Today" on the dashboard starts at local midnight in this time zone.
DASHBOARD_TIME_ZONE = env_time_zone("DASHBOARD_TIME_ZONE", "Asia/Shanghai")
# Shoppers who abandon within this many seconds of queueing are left out of the service level.
SERVICE_LEVEL_ABANDON_GRACE_SECONDS = env_int("SERVICE_LEVEL_ABANDON_GRACE_SECONDS", 10, minimum=0)
# The health numbers (page, API, /metrics) are computed at most once per this many seconds.
QUEUE_HEALTH_CACHE_SECONDS = env_int("QUEUE_HEALTH_CACHE_SECONDS", 2, minimum=0)
# Live fragments (console.live): an unchanged fragment is a 304, but re-rendered at least this
# often anyway. Everything they show that moves with time alone ticks in the page (waiting times,
# SLA and offer clocks) or is hinted (callbacks falling due, presence): this only bounds what a
# missed change could leave. Every open page's safety poll past it is a full re-read.
CONSOLE_LIVE_MAX_AGE_SECONDS = env_int("CONSOLE_LIVE_MAX_AGE_SECONDS", 300, minimum=1)
# The inbox re-reads for a change in its queues' waiting line (or, for a supervisor, anywhere) at
# most once per this many seconds, plus up to half again per page (console.js): a busy queue
# must not send all its agents to re-read at once. An agent's own work is shown at once.
CONSOLE_QUEUE_HINT_SECONDS = env_int("CONSOLE_QUEUE_HINT_SECONDS", 10, minimum=0)
# The inbox's live re-read shows sidebar counts at most this old (console.lists.recent_sidebar);
# a page load always counts afresh. 0: count on every re-read.
CONSOLE_SIDEBAR_COUNTS_SECONDS = env_int("CONSOLE_SIDEBAR_COUNTS_SECONDS", 10, minimum=0)
# Bearer token a Prometheus scraper may send to /metrics (empty: only signed-in supervisors).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# --- Satisfaction ratings (satisfaction/) -----------------------------------------------------
# A resolution can be rated for this many days after it (later ratings answer 409).
CSAT_RATING_WINDOW_DAYS = env_int("CSAT_RATING_WINDOW_DAYS", 14, minimum=1)

# --- Callbacks and shopper notifications (callbacks/, notifications/) ----------------------------
# Per-queue rules (business hours, holidays, slot size and limit, retries, reminder lead) live in
# the admin (callbacks.CallbackPolicy); these are the product-wide ones.
# The site's public address: signed links in messages to shoppers start with it.
# The port `runembedded` (make run) serves on; unless PUBLIC_BASE_URL is set, links point at it.
PORT = env_int("PORT", 8000, minimum=1)
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL").strip() or f"http://127.0.0.1:{PORT}"
PUBLIC_BASE_URL_IS_SET = bool(env_str("PUBLIC_BASE_URL").strip())
# A shopper's link to their inquiry's page (tickets.links) stops working after this many days.
SHOPPER_LINK_MAX_AGE_DAYS = env_int("SHOPPER_LINK_MAX_AGE_DAYS", 30, minimum=1)
# A shopper's confirm / reschedule / cancel link stops working after this many days.
CALLBACK_LINK_MAX_AGE_DAYS = env_int("CALLBACK_LINK_MAX_AGE_DAYS", 30, minimum=1)
# Outbox: attempts before a notification is marked failed; first retry after this many seconds,
# doubling each time (capped at an hour).
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 6, minimum=1)
NOTIFICATION_RETRY_BASE_SECONDS = env_int("NOTIFICATION_RETRY_BASE_SECONDS", 30, minimum=1)
# Replies, resolutions and reopenings wait this long before they are sent, and are not sent if
# the shopper's page showed them meanwhile (tickets.services.record_shopper_seen).
NOTIFICATION_SEEN_GRACE_SECONDS = env_int("NOTIFICATION_SEEN_GRACE_SECONDS", 20, minimum=0)
# Inbound email: notification emails get Reply-To reply+<signed ticket>@INBOUND_EMAIL_DOMAIN (none
# while empty); the mail provider posts replies to /api/v1/inbound-email/, signed with
# INBOUND_EMAIL_SECRET (the endpoint refuses everything while it is empty), at most this old.
INBOUND_EMAIL_DOMAIN = env_str("INBOUND_EMAIL_DOMAIN", "")
INBOUND_EMAIL_SECRET = env_str("INBOUND_EMAIL_SECRET", "")
INBOUND_EMAIL_MAX_AGE_SECONDS = env_int("INBOUND_EMAIL_MAX_AGE_SECONDS", 300, minimum=1)
# Email through Django's backends; the console backend (print) unless configured.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "service@cxconsole.example")
# SMS: "file" appends JSON lines to SMS_FILE_PATH (empty: to the log); "http" POSTs JSON to
# SMS_HTTP_URL with a timeout (retries come from the outbox's backoff).
SMS_BACKEND = env_str("SMS_BACKEND", "file")
if SMS_BACKEND not in ("file", "http"):
    raise ImproperlyConfigured(f"SMS_BACKEND={SMS_BACKEND!r} must be 'file' or 'http'.")
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(BASE_DIR / "var" / "sms-outbox.log"))
SMS_HTTP_URL = env_str("SMS_HTTP_URL", "")
if SMS_BACKEND == "http" and not SMS_HTTP_URL:
    raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_HTTP_URL.")
SMS_HTTP_TOKEN = env_str("SMS_HTTP_TOKEN", "")
SMS_HTTP_TIMEOUT = env_float("SMS_HTTP_TIMEOUT", 5.0, minimum=0.1)
# --- The storefront's order system (orders/, docs/order-api.md) -------------------------------
# Base URL of its order API; empty: order lookups show "unavailable" (runembedded starts the
# reference service and points this at it when empty).
ORDER_API_URL = env_str("ORDER_API_URL", "")
# Sent as "Authorization: Bearer <token>" (empty: no header).
ORDER_API_TOKEN = env_str("ORDER_API_TOKEN", "")
# Seconds per phase (connect, read, write) for lookups, which an agent's page waits on...
ORDER_API_TIMEOUT = env_float("ORDER_API_TIMEOUT", 2.0, minimum=0.05)
# ...and for refunds, reships and coupons (a timeout there is retried with the same idempotency key).
ORDER_API_ACTION_TIMEOUT = env_float("ORDER_API_ACTION_TIMEOUT", 10.0, minimum=0.05)
# Lookups are cached this long (0: not at all); an action forgets the order it changed.
ORDER_API_CACHE_SECONDS = env_int("ORDER_API_CACHE_SECONDS", 30, minimum=0)
# Circuit breaker (per process): open after this many consecutive failures, try again after
# this many seconds.
ORDER_API_BREAKER_FAILURES = env_int("ORDER_API_BREAKER_FAILURES", 5, minimum=1)
ORDER_API_BREAKER_RESET_SECONDS = env_float("ORDER_API_BREAKER_RESET_SECONDS", 30.0, minimum=0.1)
# Kept-alive connections per process.
ORDER_API_MAX_CONNECTIONS = env_int("ORDER_API_MAX_CONNECTIONS", 10, minimum=1)
# --- Outbound webhooks (webhooks/) -------------------------------------------------------------
# Seconds a receiver has to connect and to answer each read before the attempt counts as a timeout.
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 5.0, minimum=0.1)
# Retries: the first after about this many seconds, doubling (with jitter, capped at an hour),
# until this many hours after the event; then the delivery is failed.
WEBHOOK_RETRY_BASE_SECONDS = env_float("WEBHOOK_RETRY_BASE_SECONDS", 10.0, minimum=0.01)
WEBHOOK_RETRY_HOURS = env_float("WEBHOOK_RETRY_HOURS", 24.0, minimum=0.01)
# An endpoint is disabled after this many failed attempts in a row spanning at least this many hours.
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 20, minimum=1)
WEBHOOK_DISABLE_AFTER_HOURS = env_float("WEBHOOK_DISABLE_AFTER_HOURS", 24.0, minimum=0)
# Requests in flight at once per delivery run (different tickets only; one ticket's events go in order).
WEBHOOK_CONCURRENCY = env_int("WEBHOOK_CONCURRENCY", 8, minimum=1)
# Events are deleted this many days after they happened, with their deliveries and attempt log,
# once no endpoint still has them pending (the delivery log and resends reach back this far).
WEBHOOK_RETENTION_DAYS = env_int("WEBHOOK_RETENTION_DAYS", 14, minimum=1)

# --- After-sales requests (aftersales/) --------------------------------------------------------
# Per-category and per-stage policies live in the admin (aftersales.AfterSalesPolicy).
# What an agent without an approval limit of their own (admin: ApprovalLimit) may approve alone;
# above it a supervisor gives the second approval.
AFTERSALES_DEFAULT_APPROVAL_LIMIT = env_int("AFTERSALES_DEFAULT_APPROVAL_LIMIT", 500, minimum=0)
# A request outside policy raises its ticket to at least this priority in its specialist queue.
AFTERSALES_REVIEW_PRIORITY = env_int("AFTERSALES_REVIEW_PRIORITY", 50, minimum=0)
# The sweep re-sends approved requests left unexecuted this long (a lost task)...
AFTERSALES_EXECUTION_GRACE_SECONDS = env_int("AFTERSALES_EXECUTION_GRACE_SECONDS", 5, minimum=1)
# ...and executing ones whose attempt started this long ago (a dead worker); longer than an action's timeout.
AFTERSALES_EXECUTING_STALE_SECONDS = env_int("AFTERSALES_EXECUTING_STALE_SECONDS", 60, minimum=5)
# Days from approval for a returned parcel to arrive when the request has no policy's own window
# (AfterSalesPolicy.return_window_days); after that a specialist looks at it.
AFTERSALES_RETURN_WINDOW_DAYS = env_int("AFTERSALES_RETURN_WINDOW_DAYS", 14, minimum=1)

# --- Proactive service (proactive/) -----------------------------------------------------------------
# Anomaly rules (per category, thresholds in hours, the late-delivery compensation) live in the admin.
# A proactive ticket's priority in its specialist queue (a shopper's handoff still goes first).
PROACTIVE_TICKET_PRIORITY = env_int("PROACTIVE_TICKET_PRIORITY", 20, minimum=0)
# Delivered and returned orders are forgotten this long after they finished; events after this long.
PROACTIVE_FINISHED_RETENTION_DAYS = env_int("PROACTIVE_FINISHED_RETENTION_DAYS", 14, minimum=1)
PROACTIVE_EVENT_RETENTION_DAYS = env_int("PROACTIVE_EVENT_RETENTION_DAYS", 30, minimum=1)
# One sweep task stops after this long and hands over to a fresh one (other tasks get the worker).
PROACTIVE_SWEEP_BUDGET_SECONDS = env_float("PROACTIVE_SWEEP_BUDGET_SECONDS", 20.0, minimum=1)

# Floors for bench/bench_routing.py (a bare JSON view and a one-row insert). Never in production.
BENCH_ENDPOINTS = env_bool("BENCH_ENDPOINTS", default=False)
# Each request's CPU counted by view, for bench/bench_console.py. Never in production.
if env_bool("BENCH_CPU_BY_VIEW", default=False):
    MIDDLEWARE = ["ops.bench_views.CpuByViewMiddleware", *MIDDLEWARE]
