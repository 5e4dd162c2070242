"""Settings. Every value can come from the environment, so that one build runs anywhere."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Development defaults: safe to run on a laptop, never used as production values."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", "development-only-secret-key-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'consult.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SERVICE_NAME = os.environ.get("SERVICE_NAME", "Have your say on draft guidance")
    # UK time for every date a person reads; storage stays UTC.
    DISPLAY_TIMEZONE = "Europe/London"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", False)

    WTF_CSRF_TIME_LIMIT = 8 * 3600  # a long comment can take an afternoon to write
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024

    # In-memory limits are per process; production sets a Redis URI so that
    # every worker and instance counts against the same limits.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "consult")
    FAILED_SIGN_INS_PER_ACCOUNT = os.environ.get("FAILED_SIGN_INS_PER_ACCOUNT", "20 per hour")
    SIGN_IN_ATTEMPTS_PER_ADDRESS = os.environ.get("SIGN_IN_ATTEMPTS_PER_ADDRESS", "100 per hour")
    REGISTRATIONS_PER_ADDRESS = os.environ.get("REGISTRATIONS_PER_ADDRESS", "30 per hour")
    COMMENT_WRITES_PER_USER = os.environ.get("COMMENT_WRITES_PER_USER", "120 per 10 minutes")
    # Number of proxies in front of the app whose X-Forwarded-For can be trusted.
    TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))


class ProductionConfig(Config):
    """Refuses to start without the secrets a public deployment needs."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    def __init__(self) -> None:
        secret = os.environ.get("SECRET_KEY")
        if not secret:
            raise RuntimeError(
                "SECRET_KEY must be set in the environment when CONSULT_ENV=production."
            )
        self.SECRET_KEY = secret
        database = os.environ.get("DATABASE_URL")
        if not database:
            raise RuntimeError(
                "DATABASE_URL must be set in the environment when CONSULT_ENV=production."
            )
        self.SQLALCHEMY_DATABASE_URI = database


class TestConfig(Config):
    """A throwaway database; TEST_DATABASE_URL points the same suite at PostgreSQL."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    # High enough that ordinary tests never meet them; rate-limit tests lower them.
    FAILED_SIGN_INS_PER_ACCOUNT = "10000 per hour"
    SIGN_IN_ATTEMPTS_PER_ADDRESS = "10000 per hour"
    REGISTRATIONS_PER_ADDRESS = "10000 per hour"
    COMMENT_WRITES_PER_USER = "10000 per hour"


def config_from_environment() -> type[Config] | Config:
    """Pick the configuration named by CONSULT_ENV (development unless told otherwise)."""
    env = os.environ.get("CONSULT_ENV", "development").lower()
    if env == "production":
        return ProductionConfig()
    if env == "testing":
        return TestConfig
    return Config
