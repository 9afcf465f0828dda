"""Settings read from the environment, with embedded defaults that run on a laptop."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("PPP_INSTANCE_DIR", BASE_DIR / "instance")).resolve()

#: The only secret key that may ever be in the repository; production refuses it.
DEV_SECRET_KEY = "dev-only-not-a-secret"  # noqa: S105
#: What PPP_ENV may say; anything else (`prod`, `Production`) stops the start.
ENVIRONMENTS = ("development", "test", "production")
#: Production refuses a shorter SECRET_KEY (it signs the session cookies).
MIN_SECRET_KEY_LENGTH = 32


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise RuntimeError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


class Config:
    """Everything the app reads, each from an environment variable of the same name."""

    ENV_NAME = env_str("PPP_ENV", "development")
    SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)

    SQLALCHEMY_DATABASE_URI = env_str("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'ppp.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    CELERY = {
        "broker_url": env_str("CELERY_BROKER_URL", f"sqla+sqlite:///{INSTANCE_DIR / 'broker.db'}"),
        "result_backend": env_str(
            "CELERY_RESULT_BACKEND", f"db+sqlite:///{INSTANCE_DIR / 'results.db'}"
        ),
        #: The queue tasks go to: deployments (or test runs) sharing one Redis keep apart by it.
        "task_default_queue": env_str("CELERY_QUEUE", "celery"),
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "timezone": "UTC",
        "broker_connection_retry_on_startup": True,
        # Longer than any retry countdown, so Redis never redelivers a task that is merely waiting.
        "broker_transport_options": {"visibility_timeout": 6 * 3600},
    }
    #: Redis for the page bodies kept per data version (core.versions); unset: the broker's Redis
    #: if the broker is Redis, else none is kept (the embedded default).
    CACHE_REDIS_URL = env_str("CACHE_REDIS_URL")
    #: Minutes between two deadline scans run by beat.
    SCAN_INTERVAL_MINUTES = env_int("SCAN_INTERVAL_MINUTES", 15)
    #: When above 0, beat runs the scans this many seconds apart instead (fault drills, demos).
    SCAN_INTERVAL_SECONDS = env_int("SCAN_INTERVAL_SECONDS", 0)
    #: A warning banner appears when no scan has completed for this long (0: 3 × the interval).
    SCAN_STALE_MINUTES = env_int("SCAN_STALE_MINUTES", 0)
    #: A worker that starts runs a scan at once instead of waiting for beat's first interval.
    ALERT_SCAN_ON_WORKER_START = env_bool("ALERT_SCAN_ON_WORKER_START", True)
    #: Local hour (Asia/Almaty) from which the day's digests are sent.
    ALERT_DIGEST_HOUR = env_int("ALERT_DIGEST_HOUR", 8)
    #: Failed sends are retried after 1, 2, 4 … times this, at most ALERT_MAX_ATTEMPTS times.
    ALERT_RETRY_BASE_SECONDS = env_int("ALERT_RETRY_BASE_SECONDS", 60)
    ALERT_MAX_ATTEMPTS = env_int("ALERT_MAX_ATTEMPTS", 8)
    #: A send that has not finished after this long is taken over (its worker died).
    ALERT_SEND_LEASE_SECONDS = env_int("ALERT_SEND_LEASE_SECONDS", 600)
    #: Work queued this long ago and not started is queued again by the scan (a lost task).
    ALERT_REQUEUE_AFTER_SECONDS = env_int("ALERT_REQUEUE_AFTER_SECONDS", 120)

    MAIL_SERVER = env_str("MAIL_SERVER")
    MAIL_PORT = env_int("MAIL_PORT", 25)
    MAIL_USERNAME = env_str("MAIL_USERNAME")
    MAIL_PASSWORD = env_str("MAIL_PASSWORD")
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)
    MAIL_DEFAULT_SENDER = env_str("MAIL_DEFAULT_SENDER", "ppp-tracker@localhost")
    MAIL_TIMEOUT = env_int("MAIL_TIMEOUT", 20)

    #: The address used in links inside e-mails and calendar feeds.
    BASE_URL = env_str("BASE_URL", "http://127.0.0.1:5000")
    TIMEZONE = env_str("TIMEZONE", "Asia/Almaty")
    BABEL_DEFAULT_LOCALE = env_str("DEFAULT_LOCALE", "ru")
    BABEL_DEFAULT_TIMEZONE = TIMEZONE
    LANGUAGES = ("ru", "kk", "en")

    #: The department's prefix of outgoing letter numbers (14-28-9-1987).
    OUTGOING_NUMBER_PREFIX = env_str("OUTGOING_NUMBER_PREFIX", "14-28-9")
    #: Restart the outgoing sequence every 1 January (numbers unique per prefix and year).
    OUTGOING_NUMBER_RESTARTS_YEARLY = env_bool("OUTGOING_NUMBER_RESTARTS_YEARLY", False)
    #: Civil Code Art. 178: penalty days older than this many years are shown as time-barred.
    PENALTY_LIMITATION_YEARS = env_int("PENALTY_LIMITATION_YEARS", 3)

    DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_MB", 20) * 1024 * 1024
    #: The whole request: a little above the document limit, so that a document just over its
    #: limit reaches the form and gets the form's message rather than the bare 413 page.
    MAX_CONTENT_LENGTH = env_int("MAX_UPLOAD_MB", 21) * 1024 * 1024

    PERMANENT_SESSION_LIFETIME = timedelta(hours=env_int("SESSION_HOURS", 12))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None

    #: A fixed "today" (YYYY-MM-DD) for demos and tests; empty means the real date.
    FAKE_TODAY = env_str("FAKE_TODAY")

    API_TITLE = "ppp-tracker API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    #: Failed logins (web or token) from one address or for one e-mail before throttling.
    LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_THROTTLE_SECONDS = env_int("LOGIN_THROTTLE_SECONDS", 300)
    #: How passwords are hashed (Werkzeug's method string): scrypt at Werkzeug's cost. Not read
    #: from the environment; only the test suite lowers the cost (a lower cost is still checked
    #: by the parameters stored in each hash).
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (a method, not a password)
    #: Days an API token is valid; 0: no expiry.
    API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 365)
    #: Reverse proxies in front of the app (nginx: 1) whose X-Forwarded-For/-Proto are trusted;
    #: without it, every login behind a proxy comes from the proxy's address and one guesser
    #: locks the whole office out.
    TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = True


def load_config(overrides: dict | None = None) -> dict:
    """The settings as a dict. PPP_ENV must name one of ENVIRONMENTS exactly, and production
    refuses to start without a SECRET_KEY of its own of at least MIN_SECRET_KEY_LENGTH
    characters: a typo must not quietly run a production with the development key, non-Secure
    cookies and no HSTS."""
    env_name = (overrides or {}).get("ENV_NAME") or env_str("PPP_ENV", "development")
    if env_name not in ENVIRONMENTS:
        raise RuntimeError(
            f"PPP_ENV must be one of {', '.join(ENVIRONMENTS)} (exactly, in lower case); "
            f"got {env_name!r}"
        )
    cls = ProductionConfig if env_name == "production" else Config
    settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
    settings["SECRET_KEY"] = env_str("SECRET_KEY", DEV_SECRET_KEY)
    if env_name == "production":
        # Read now, not when this module was first imported under another PPP_ENV.
        settings["SESSION_COOKIE_SECURE"] = env_bool("SESSION_COOKIE_SECURE", True)
        settings["REMEMBER_COOKIE_SECURE"] = True
    settings["ENV_NAME"] = env_name
    settings["CELERY"] = dict(settings["CELERY"])
    if overrides:
        settings.update(overrides)
    if settings["ENV_NAME"] == "production":
        key = settings["SECRET_KEY"]
        if key in (None, DEV_SECRET_KEY):
            raise RuntimeError(
                "SECRET_KEY is not set: production refuses to start with the development key"
            )
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise RuntimeError(
                f"SECRET_KEY is too short ({len(key)} characters): production needs at least "
                f"{MIN_SECRET_KEY_LENGTH}, e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'"
            )
    return settings
