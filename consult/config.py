"""Settings. Every value can come from the environment, so that one build runs anywhere.

The environment is read when a configuration is built (by create_app via
config_from_environment), not when this module is imported, so a process
that sets its environment late still gets what it set.
"""

import os
import tempfile
from pathlib import Path

from consult.analysis.settings import CampaignSettings, campaign_settings_from_environment

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
    SECRET_KEY = "development-only-secret-key-change-me"
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'consult.sqlite3'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SERVICE_NAME = "Have your say on draft guidance"
    # UK time for every date a person reads; storage stays UTC.
    DISPLAY_TIMEZONE = "Europe/London"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False

    # werkzeug's method string. scrypt costs about 0.1 s of CPU by design; only
    # the test suite, whose thousands of throwaway accounts guard nothing, may
    # choose a cheaper one.
    PASSWORD_HASH_METHOD = "scrypt"

    WTF_CSRF_TIME_LIMIT = 8 * 3600  # a long comment can take an afternoon to write
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024

    # In-memory limits are per process; production sets a Redis URI so that
    # every worker and instance counts against the same limits.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "consult"
    # How many sign-ins of one instance may check a password at once (see
    # consult/accounts/password_slots.py); 0 means no limit. Production
    # leaves one web worker free of them.
    PASSWORD_CHECKS_AT_ONCE = 0
    FAILED_SIGN_INS_PER_ACCOUNT = "20 per hour"
    SIGN_IN_ATTEMPTS_PER_ADDRESS = "100 per hour"
    REGISTRATIONS_PER_ADDRESS = "30 per hour"
    COMMENT_WRITES_PER_USER = "120 per 10 minutes"
    # Organisation codes are 12 digits; these make guessing one hopeless.
    ORGANISATION_CODE_ATTEMPTS_PER_USER = "10 per 15 minutes"
    ORGANISATION_CODE_ATTEMPTS_PER_ADDRESS = "50 per hour"
    # One JSON line per request on stderr (see consult/operations.py).
    LOG_REQUESTS = True
    # Number of proxies in front of the app whose X-Forwarded-For can be trusted.
    TRUSTED_PROXY_COUNT = 0
    # Stakeholder accounts unused for this many years are anonymised by
    # `flask privacy anonymise-inactive`; the privacy notice states the same figure.
    ACCOUNT_RETENTION_YEARS = 3
    # Campaign grouping thresholds; each can be set with CAMPAIGN_<NAME>, e.g. CAMPAIGN_JACCARD_THRESHOLD.
    CAMPAIGNS = CampaignSettings()

    # The job queue (RQ). A job left unstarted this long is dropped; the mail
    # worker's sweep still finds any email whose job was lost.
    REDIS_URL = "redis://127.0.0.1:6379/0"
    QUEUE_NAME = "consult"
    JOB_TTL_SECONDS = 24 * 3600

    # Email leaves only through the outbox and the worker. In development the
    # defaults point at the local catcher that `make run` starts.
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 1025
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_USE_TLS = False
    MAIL_FROM = "Have your say on draft guidance <no-reply@localhost>"
    MAIL_TIMEOUT_SECONDS = 20
    MAIL_MAX_ATTEMPTS = 6  # then the email is failed and shown to admins
    MAIL_RETRY_SECONDS = 60  # back-off: 1, 2, 4, 8 and 16 minutes between attempts
    # A claim older than this belongs to a worker that died: the email may be sent again.
    MAIL_CLAIM_TIMEOUT_SECONDS = 300
    MAIL_SWEEP_SECONDS = 15  # how often the worker looks for emails that are due
    # Links in emails written outside a request (the command line, a job).
    PUBLIC_URL = "http://127.0.0.1:5000"
    MAIL_CATCHER_DIRECTORY = str(INSTANCE_DIR / "mail")

    # Large downloads and bulk actions are prepared by the worker (see consult.background):
    # a download of more rows than this, or a bulk action on more comments, waits on a progress page.
    DOWNLOAD_JOB_ROWS = 5000
    BULK_JOB_COMMENTS = 500
    DOWNLOADS_DIRECTORY = str(INSTANCE_DIR / "downloads")
    DOWNLOAD_KEEP_SECONDS = 24 * 3600  # a prepared file is offered (and re-used) this long
    # A job no worker has started after this long is reported as such, never waited on in silence.
    JOB_PICKUP_SECONDS = 60
    # Uploaded drafts wait here, parsed, between the preview and the confirmation
    # (consult/consultations/importing/staging.py). Every app server must see the same folder.
    IMPORT_STAGING_DIR = str(INSTANCE_DIR / "import-previews")

    EMAIL_VERIFICATION_SECONDS = 7 * 24 * 3600
    PASSWORD_RESET_SECONDS = 3600
    VERIFICATION_EMAILS_PER_USER = "5 per hour"
    PASSWORD_RESETS_PER_ADDRESS = "30 per hour"
    PASSWORD_RESETS_PER_ACCOUNT = "5 per hour"

    _FROM_ENVIRONMENT = {
        "SECRET_KEY": "SECRET_KEY",
        "SQLALCHEMY_DATABASE_URI": "DATABASE_URL",
        "SERVICE_NAME": "SERVICE_NAME",
        "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
        "RATELIMIT_KEY_PREFIX": "RATELIMIT_KEY_PREFIX",
        "FAILED_SIGN_INS_PER_ACCOUNT": "FAILED_SIGN_INS_PER_ACCOUNT",
        "SIGN_IN_ATTEMPTS_PER_ADDRESS": "SIGN_IN_ATTEMPTS_PER_ADDRESS",
        "REGISTRATIONS_PER_ADDRESS": "REGISTRATIONS_PER_ADDRESS",
        "COMMENT_WRITES_PER_USER": "COMMENT_WRITES_PER_USER",
        "ORGANISATION_CODE_ATTEMPTS_PER_USER": "ORGANISATION_CODE_ATTEMPTS_PER_USER",
        "ORGANISATION_CODE_ATTEMPTS_PER_ADDRESS": "ORGANISATION_CODE_ATTEMPTS_PER_ADDRESS",
        "REDIS_URL": "REDIS_URL",
        "QUEUE_NAME": "QUEUE_NAME",
        "MAIL_SERVER": "MAIL_SERVER",
        "MAIL_USERNAME": "MAIL_USERNAME",
        "MAIL_PASSWORD": "MAIL_PASSWORD",
        "MAIL_FROM": "MAIL_FROM",
        "PUBLIC_URL": "PUBLIC_URL",
        "MAIL_CATCHER_DIRECTORY": "MAIL_CATCHER_DIRECTORY",
        "DOWNLOADS_DIRECTORY": "DOWNLOADS_DIRECTORY",
        "IMPORT_STAGING_DIR": "IMPORT_STAGING_DIR",
        "VERIFICATION_EMAILS_PER_USER": "VERIFICATION_EMAILS_PER_USER",
        "PASSWORD_RESETS_PER_ADDRESS": "PASSWORD_RESETS_PER_ADDRESS",
        "PASSWORD_RESETS_PER_ACCOUNT": "PASSWORD_RESETS_PER_ACCOUNT",
    }
    _NUMBERS_FROM_ENVIRONMENT = ("PASSWORD_CHECKS_AT_ONCE",
                                 "MAIL_PORT", "MAIL_TIMEOUT_SECONDS", "MAIL_MAX_ATTEMPTS", "MAIL_RETRY_SECONDS",
                                 "MAIL_CLAIM_TIMEOUT_SECONDS", "MAIL_SWEEP_SECONDS", "JOB_TTL_SECONDS",
                                 "DOWNLOAD_JOB_ROWS", "BULK_JOB_COMMENTS", "DOWNLOAD_KEEP_SECONDS",
                                 "JOB_PICKUP_SECONDS")

    def __init__(self) -> None:
        for setting, variable in self._FROM_ENVIRONMENT.items():
            if variable in os.environ:
                setattr(self, setting, os.environ[variable])
        self.RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", self.RATELIMIT_ENABLED)
        self.LOG_REQUESTS = _flag("LOG_REQUESTS", self.LOG_REQUESTS)
        self.TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", self.TRUSTED_PROXY_COUNT))
        self.ACCOUNT_RETENTION_YEARS = int(os.environ.get("ACCOUNT_RETENTION_YEARS", self.ACCOUNT_RETENTION_YEARS))
        self.CAMPAIGNS = campaign_settings_from_environment()
        for setting in self._NUMBERS_FROM_ENVIRONMENT:
            setattr(self, setting, int(os.environ.get(setting, getattr(self, setting))))
        self.MAIL_USE_TLS = _flag("MAIL_USE_TLS", self.MAIL_USE_TLS)
        self.SESSION_COOKIE_SECURE = self.REMEMBER_COOKIE_SECURE = self._secure_cookies()

    def _secure_cookies(self) -> bool:
        return _flag("SESSION_COOKIE_SECURE", False)


class ConfigurationError(RuntimeError):
    """The environment cannot run the service as it is; the message says what to set."""


class ProductionConfig(Config):
    """Refuses to start without what a public deployment needs; cookies are always Secure.

    The mail server, sender, public address and Redis have development
    defaults that would fail quietly in production (email to a catcher that
    is not there, links to 127.0.0.1), so they must be named.
    """

    ENV_NAME = "production"
    REQUIRED = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MAIL_SERVER", "MAIL_FROM", "PUBLIC_URL")

    def __init__(self) -> None:
        missing = [variable for variable in self.REQUIRED if not os.environ.get(variable)]
        if missing:  # every one at once: an operator should not find them a restart at a time
            names = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1]
            raise ConfigurationError(f"{names} must be set in the environment when CONSULT_ENV=production. "
                                     "README.md, under Configuration, says what each one is.")
        super().__init__()
        # Limits kept in memory are per process: with two web workers, let alone two instances, each
        # would let the full limit through. Production keeps them in its Redis unless told otherwise.
        if "RATELIMIT_STORAGE_URI" not in os.environ:
            self.RATELIMIT_STORAGE_URI = self.REDIS_URL
        elif self.RATELIMIT_STORAGE_URI.startswith("memory://"):
            raise ConfigurationError("RATELIMIT_STORAGE_URI must not be memory:// in production: each process "
                                     "would keep its own count. Leave it unset to use REDIS_URL.")
        if "PASSWORD_CHECKS_AT_ONCE" not in os.environ:
            web_workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
            self.PASSWORD_CHECKS_AT_ONCE = max(1, web_workers - 1)

    def _secure_cookies(self) -> bool:
        return True


class TestConfig(Config):
    """A throwaway database; TEST_DATABASE_URL points the same suite at PostgreSQL."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    # High enough that ordinary tests never meet them; rate-limit tests lower them.
    FAILED_SIGN_INS_PER_ACCOUNT = "10000 per hour"
    SIGN_IN_ATTEMPTS_PER_ADDRESS = "10000 per hour"
    REGISTRATIONS_PER_ADDRESS = "10000 per hour"
    COMMENT_WRITES_PER_USER = "10000 per hour"
    ORGANISATION_CODE_ATTEMPTS_PER_USER = "10000 per hour"
    ORGANISATION_CODE_ATTEMPTS_PER_ADDRESS = "10000 per hour"
    LOG_REQUESTS = False
    # One round of PBKDF2: tests that prove the real hash opt back in with
    # @pytest.mark.real_password_hash.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
    # A queue of this process's own, so that parallel runs never take each
    # other's jobs; jobs nobody runs expire instead of piling up in Redis.
    QUEUE_NAME = f"consult-test-{os.getpid()}"
    JOB_TTL_SECONDS = 600
    DOWNLOADS_DIRECTORY = os.path.join(tempfile.gettempdir(), f"consult-test-downloads-{os.getpid()}")
    REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    PUBLIC_URL = "http://consult.test"
    MAIL_PORT = 9  # nothing listens; tests that send start their own SMTP server
    MAIL_TIMEOUT_SECONDS = 5
    VERIFICATION_EMAILS_PER_USER = "10000 per hour"
    PASSWORD_RESETS_PER_ADDRESS = "10000 per hour"
    PASSWORD_RESETS_PER_ACCOUNT = "10000 per hour"


def config_from_environment() -> Config:
    """The configuration named by CONSULT_ENV (development unless told otherwise), read now."""
    env = os.environ.get("CONSULT_ENV", "development").lower()
    if env == "production":
        return ProductionConfig()
    if env == "testing":
        # Tests build their own configuration; this is for running the app by hand in test mode.
        config = TestConfig.__new__(TestConfig)
        config.SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", TestConfig.SQLALCHEMY_DATABASE_URI)
        return config
    return Config()
