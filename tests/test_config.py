"""Settings from the environment, production's refusals, and SQLite's connection rules."""

import pytest

from consult import create_app
from consult.config import PROJECT_ROOT, ProductionConfig, config_from_environment
from consult.extensions import db

PRODUCTION_SERVICES = {"REDIS_URL": "redis://cache.internal:6379/0", "MAIL_SERVER": "smtp.internal",
                       "MAIL_FROM": "Consultations <no-reply@consult.example>",
                       "PUBLIC_URL": "https://consult.example"}


@pytest.fixture
def production(monkeypatch, tmp_path):
    """The environment of a production deployment, with a throwaway database."""
    monkeypatch.setenv("CONSULT_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'production.sqlite3'}")
    for variable, value in PRODUCTION_SERVICES.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    return monkeypatch


@pytest.mark.parametrize("secret", [None, ""])
def test_production_refuses_to_start_without_a_secret_key(production, secret):
    if secret is None:
        production.delenv("SECRET_KEY")
    else:
        production.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config_from_environment()
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_production_names_every_missing_setting_at_once_and_starts_without_a_traceback(production):
    """One missing setting a run, each behind 37 lines of traceback, took six tries to find them all."""
    import subprocess
    import sys

    for variable in ("SECRET_KEY", "REDIS_URL", "PUBLIC_URL"):
        production.delenv(variable)
    with pytest.raises(RuntimeError, match="^SECRET_KEY, REDIS_URL and PUBLIC_URL must be set in the environment"):
        config_from_environment()
    for command in (["-m", "flask", "--app", "wsgi", "db", "current"], ["-m", "consult.serve"]):
        ran = subprocess.run([sys.executable, *command], cwd=PROJECT_ROOT, capture_output=True, text=True,
                             timeout=60)
        assert ran.returncode == 1, ran.stderr
        assert ran.stderr.strip().splitlines()[-1] == (
            "The service cannot start: SECRET_KEY, REDIS_URL and PUBLIC_URL must be set in the environment when "
            "CONSULT_ENV=production. README.md, under Configuration, says what each one is.")
        assert "Traceback" not in ran.stderr


def test_production_uses_the_secret_key_from_the_environment(production):
    config = config_from_environment()
    assert config.SECRET_KEY == "a-long-random-production-secret"


def test_production_keeps_rate_limits_in_its_redis(production):
    production.delenv("RATELIMIT_STORAGE_URI", raising=False)
    production.setenv("REDIS_URL", "redis://cache.internal:6379/2")
    assert ProductionConfig().RATELIMIT_STORAGE_URI == "redis://cache.internal:6379/2"
    production.setenv("RATELIMIT_STORAGE_URI", "redis://limits.internal:6379/0")
    assert ProductionConfig().RATELIMIT_STORAGE_URI == "redis://limits.internal:6379/0"
    production.setenv("RATELIMIT_STORAGE_URI", "memory://")
    with pytest.raises(RuntimeError, match="must not be memory://"):
        ProductionConfig()


def test_production_leaves_one_web_worker_free_of_password_checks(production):
    production.delenv("PASSWORD_CHECKS_AT_ONCE", raising=False)
    production.setenv("WEB_CONCURRENCY", "4")
    assert ProductionConfig().PASSWORD_CHECKS_AT_ONCE == 3
    production.setenv("WEB_CONCURRENCY", "1")
    assert ProductionConfig().PASSWORD_CHECKS_AT_ONCE == 1
    production.setenv("PASSWORD_CHECKS_AT_ONCE", "2")
    assert ProductionConfig().PASSWORD_CHECKS_AT_ONCE == 2


def test_production_session_cookies_are_secure(production):
    config = config_from_environment()
    assert config.SESSION_COOKIE_SECURE is True
    assert config.REMEMBER_COOKIE_SECURE is True
    # One Limiter serves every app in a process and keeps the storage of the last app set up, so
    # this app must not leave the suite's later requests counting in a Redis host that does not exist.
    config.RATELIMIT_STORAGE_URI = "memory://"
    app = create_app(config)
    try:
        response = app.test_client().get("/account/sign-in")
        [session_cookie] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
        attributes = {part.strip().split("=")[0].lower() for part in session_cookie.split(";")[1:]}
        assert {"secure", "httponly"} <= attributes
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def sqlite_engine(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite connection settings; the suite is running on another database")
        yield db.engine


def test_sqlite_connections_enforce_foreign_keys_wait_when_busy_and_use_wal(sqlite_engine):
    with sqlite_engine.connect() as connection:
        values = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                  for name in ("foreign_keys", "busy_timeout", "journal_mode")}
    assert values["foreign_keys"] == 1
    assert values["busy_timeout"] >= 1000
    assert str(values["journal_mode"]).lower() == "wal"


def test_the_environment_is_read_when_the_app_is_built_not_at_import(monkeypatch):
    monkeypatch.setenv("CONSULT_ENV", "development")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("SERVICE_NAME", "Comment on draft guidance")
    config = config_from_environment()
    assert config.RATELIMIT_STORAGE_URI == "redis://127.0.0.1:6379/3"
    assert config.SERVICE_NAME == "Comment on draft guidance"


def test_the_folder_of_import_previews_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CONSULT_ENV", "development")
    monkeypatch.delenv("IMPORT_STAGING_DIR", raising=False)
    assert config_from_environment().IMPORT_STAGING_DIR == str(PROJECT_ROOT / "instance" / "import-previews")
    monkeypatch.setenv("IMPORT_STAGING_DIR", str(tmp_path / "shared"))
    assert config_from_environment().IMPORT_STAGING_DIR == str(tmp_path / "shared")


def test_production_cookies_are_secure_even_if_the_environment_says_otherwise(production):
    production.setenv("DATABASE_URL", "postgresql+psycopg://db/consult")
    production.setenv("SESSION_COOKIE_SECURE", "0")
    config = config_from_environment()
    assert config.SESSION_COOKIE_SECURE is True and config.REMEMBER_COOKIE_SECURE is True


def test_production_and_development_hash_passwords_with_scrypt(production):
    assert config_from_environment().PASSWORD_HASH_METHOD == "scrypt"
    production.setenv("CONSULT_ENV", "development")
    assert config_from_environment().PASSWORD_HASH_METHOD == "scrypt"


@pytest.mark.real_password_hash
def test_the_real_hash_marker_restores_scrypt(app, app_context):
    from consult.accounts.services import hash_password

    assert hash_password("a password of some length").startswith("scrypt:")


def test_the_suite_hashes_quickly_unless_a_test_asks_for_the_real_hash(app, app_context):
    from consult.accounts.services import hash_password

    assert hash_password("a password of some length").startswith("pbkdf2:sha256:1$")


@pytest.mark.parametrize("variable", ["REDIS_URL", "MAIL_SERVER", "MAIL_FROM", "PUBLIC_URL"])
def test_production_refuses_to_start_without_its_mail_queue_and_address(production, variable):
    production.delenv(variable)
    with pytest.raises(RuntimeError, match=variable):
        config_from_environment()
