"""What an operator needs from every instance: a health check, request logs, cacheable assets.

- ``/healthz`` says whether this instance can reach its database and Redis,
  so a load balancer stops sending people to one that cannot serve them.
- One JSON line per request on the ``consult.requests`` logger, carrying the
  request id that is also sent back in ``X-Request-Id``: a person quoting the
  id from an error page leads straight to the line.
- Static files are linked with a content hash (``?v=…``) and served with a
  year-long ``immutable`` cache when asked for by that hash, so a browser
  fetches each asset once per release instead of revalidating it on every
  page.
"""

import hashlib
import json
import logging
import time
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Flask, current_app, g, jsonify, request
from sqlalchemy import text

from consult.access import public
from consult.extensions import db

bp = Blueprint("operations", __name__)
ARRIVED_AT_KEY = "consult.arrived_at"
request_log = logging.getLogger("consult.requests")

YEAR_IN_SECONDS = 365 * 24 * 3600


# --- Health ------------------------------------------------------------------------


def _check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception:  # any failure means this instance cannot serve; the log says which
        current_app.logger.exception("Health check: database unreachable")
        db.session.rollback()
        return "unreachable"


def redis_url(app: Flask) -> str | None:
    """The Redis this instance shares with others, if it is configured to use one."""
    url = app.config.get("REDIS_URL") or app.config.get("RATELIMIT_STORAGE_URI", "")
    return url if url.startswith(("redis://", "rediss://", "unix://")) else None


def _check_redis() -> str:
    url = redis_url(current_app)
    if url is None:
        return "not used"
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
        return "ok"
    except redis.RedisError:
        current_app.logger.exception("Health check: Redis unreachable")
        return "unreachable"


@bp.get("/healthz")
@public
def healthz():
    """200 when the database and (where used) Redis answer, else 503; never any detail beyond that."""
    checks = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(state in ("ok", "not used") for state in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", **checks), 200 if healthy else 503


# --- Request logs ---------------------------------------------------------------------


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _log_request(response):
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    # The path only: query strings can hold search text or tokens that logs should not keep.
    request_log.info(json.dumps({
        "request_id": g.get("request_id", ""),
        "method": request.method,
        "path": request.path,
        "endpoint": request.endpoint,
        "status": response.status_code,
        "duration_ms": duration_ms,
        "user_id": _user_id(),
        "remote_addr": request.remote_addr,
    }, separators=(",", ":")))
    return response


def _user_id() -> int | None:
    from flask_login import current_user

    try:
        return current_user.id if current_user.is_authenticated else None
    except Exception:  # a failed user load must not cost the log line
        return None


# --- Versioned static files -----------------------------------------------------------


@lru_cache(maxsize=256)
def _content_hash(path: str, modified: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def static_version(app: Flask, filename: str) -> str | None:
    """A short hash of the file's content; a changed file gets a new name, so caches never serve it stale.

    Outside debug mode the files do not change under a running process (a
    deployment starts new ones), so each file's version is worked out once:
    a page names five or six files, and asking the disk each time was a
    twentieth of a document page's time. In debug mode an edited file is
    seen at once.
    """
    if app.debug:
        return _version_from_disk(app.static_folder, filename)
    return _version_for_process(app.static_folder, filename)


def _version_from_disk(folder: str, filename: str) -> str | None:
    path = Path(folder) / filename
    try:
        return _content_hash(str(path), path.stat().st_mtime)
    except OSError:
        return None


@lru_cache(maxsize=256)
def _version_for_process(folder: str, filename: str) -> str | None:
    return _version_from_disk(folder, filename)


def _version_static_urls(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = static_version(current_app, values["filename"])
        if version:
            values["v"] = version


def _cache_versioned_static(response):
    if request.endpoint == "static" and response.status_code == 304:
        # Not modified: no body is sent, so the server never reads the file the response opened, nor
        # closes it; it stayed open until garbage collection found it.
        response.close()
    if request.endpoint == "static" and response.status_code == 200:
        version = request.args.get("v")
        if version and version == static_version(current_app, request.view_args.get("filename", "")):
            response.cache_control.public = True
            response.cache_control.max_age = YEAR_IN_SECONDS
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
    return response


class _StampArrival:
    """Note when a request reaches the app, before anything else runs (proxy headers, sessions, views).

    The deadline is judged by this moment (see consult.web.request_arrived_at), not by when a
    view got round to the request.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        environ.setdefault(ARRIVED_AT_KEY, time.time())
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    app.wsgi_app = _StampArrival(app.wsgi_app)  # outermost, so it is the first thing a request meets
    app.register_blueprint(bp)
    app.url_defaults(_version_static_urls)
    app.before_request(_start_timer)
    app.after_request(_cache_versioned_static)
    if app.config.get("LOG_REQUESTS"):
        if not request_log.handlers:
            handler = logging.StreamHandler()  # stderr, where gunicorn and systemd collect it
            handler.setFormatter(logging.Formatter("%(message)s"))
            request_log.addHandler(handler)
            request_log.setLevel(logging.INFO)
            request_log.propagate = False
        app.after_request(_log_request)
