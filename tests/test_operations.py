"""What an operator relies on: the health check, request logs, and cacheable static files."""

import json
import logging
import os
import re
import time

import pytest
import redis

from consult import create_app
from consult.operations import YEAR_IN_SECONDS
from tests.conftest import make_test_config


def _redis_or_skip(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is not reachable at {url}, and this run requires it.")
        pytest.skip(f"Redis is not reachable at {url}")


def test_health_check_reports_the_database_and_the_queue_redis(app, client):
    _redis_or_skip(app.config["REDIS_URL"])
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_health_check_says_when_no_redis_is_configured(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    monkeypatch.setitem(app.config, "RATELIMIT_STORAGE_URI", "memory://")
    assert client.get("/healthz").json == {"status": "ok", "database": "ok", "redis": "not used"}


def test_health_check_is_unavailable_when_redis_cannot_be_reached(app, client, monkeypatch):
    # Nothing listens on port 1: the instance must say it cannot serve rather than claim health.
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["redis"] == "unreachable" and response.json["status"] == "unavailable"


def test_each_request_is_one_json_log_line_with_the_request_id(app, caplog):
    logged = create_app(make_test_config(app.config["SQLALCHEMY_DATABASE_URI"], LOG_REQUESTS=True))
    with caplog.at_level(logging.INFO, logger="consult.requests"):
        logging.getLogger("consult.requests").propagate = True
        try:
            response = logged.test_client().get("/healthz?q=secret-search", headers={"X-Request-Id": "abc123"})
        finally:
            logging.getLogger("consult.requests").propagate = False
    assert response.headers["X-Request-Id"] == "abc123"
    line = json.loads(caplog.records[-1].getMessage())
    assert line["request_id"] == "abc123" and line["path"] == "/healthz" and line["status"] == 200
    assert line["method"] == "GET" and line["duration_ms"] >= 0 and line["user_id"] is None
    assert "secret-search" not in caplog.text  # query strings are never logged


def test_static_files_are_linked_by_content_and_cached_for_a_year(client):
    page = client.get("/account/sign-in").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', page).group(1)
    assert "immutable" in _cache_control(client, stylesheet)
    assert f"max-age={YEAR_IN_SECONDS}" in _cache_control(client, stylesheet)
    # Without the current hash, a browser must revalidate: it may be an old page asking.
    for stale in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        assert "immutable" not in _cache_control(client, stale)


def test_a_static_file_is_versioned_once_per_process_and_afresh_in_debug_mode(tmp_path):
    """A running server names each file by the content it started with; the debug server follows edits."""
    import os
    from types import SimpleNamespace

    from consult.operations import static_version

    asset = tmp_path / "app.css"
    asset.write_text("body { color: black }")
    served = SimpleNamespace(debug=False, static_folder=str(tmp_path))
    debugging = SimpleNamespace(debug=True, static_folder=str(tmp_path))
    first = static_version(served, "app.css")
    assert first == static_version(debugging, "app.css")
    asset.write_text("body { color: navy }")
    os.utime(asset, (1_700_000_000, 1_700_000_000))
    assert static_version(debugging, "app.css") not in (None, first)
    assert static_version(served, "app.css") == first
    assert static_version(served, "missing.css") is None


def _cache_control(client, url: str) -> str:
    response = client.get(url)
    response.close()  # a static file is sent from an open file
    assert response.status_code == 200
    return response.headers.get("Cache-Control", "")


def test_modules_import_gov_uk_frontend_through_its_versioned_address(client):
    page = client.get("/account/sign-in").get_data(as_text=True)
    importmap = re.search(r'<script type="importmap" nonce="[^"]+">(.*?)</script>', page).group(1)
    target = json.loads(importmap)["imports"]["govuk-frontend"]
    assert re.fullmatch(r"/static/vendor/govuk/govuk-frontend\.min\.js\?v=[0-9a-f]{12}", target)


# --- When a request arrived ----------------------------------------------------------


def _arrival(app, environ_stamp: float | None, header: str | None = None):
    from consult.operations import ARRIVED_AT_KEY
    from consult.web import request_arrived_at

    environ = {ARRIVED_AT_KEY: environ_stamp} if environ_stamp is not None else {}
    headers = {"X-Request-Start": header} if header is not None else {}
    with app.test_request_context("/", environ_base=environ, headers=headers):
        return request_arrived_at().timestamp()


def test_a_request_is_stamped_when_it_reaches_the_app_before_anything_else_runs(app):
    from consult.operations import ARRIVED_AT_KEY

    seen = {}
    stamp = type(app.wsgi_app)  # the outermost layer
    layer = stamp(lambda environ, start_response: seen.update(environ) or [b""])
    before = time.time()
    layer({}, lambda *args: None)
    assert before <= seen[ARRIVED_AT_KEY] <= time.time()
    assert stamp.__name__ == "_StampArrival"


def test_arrival_is_the_apps_own_stamp_without_a_trusted_front_server(app):
    queued = time.time() - 4
    assert _arrival(app, queued) == pytest.approx(queued)
    assert _arrival(app, queued, header=f"t={time.time() - 30:.3f}") == pytest.approx(queued)


@pytest.mark.parametrize("scale", [1, 1_000, 1_000_000])
def test_a_trusted_front_servers_stamp_counts_the_time_queued(app, monkeypatch, scale):
    monkeypatch.setitem(app.config, "TRUSTED_PROXY_COUNT", 1)
    sent = time.time() - 30
    assert _arrival(app, time.time(), header=f"t={sent * scale:.0f}") == pytest.approx(sent, abs=1)


@pytest.mark.parametrize("header", ["t=not-a-time", "", "an hour ahead", "an hour ago"])
def test_a_front_server_stamp_that_cannot_be_right_is_ignored(app, monkeypatch, header):
    monkeypatch.setitem(app.config, "TRUSTED_PROXY_COUNT", 1)
    offsets = {"an hour ahead": 3600, "an hour ago": -3600}
    if header in offsets:
        header = f"t={time.time() + offsets[header]:.3f}"
    own = time.time() - 1
    assert _arrival(app, own, header=header) == pytest.approx(own)


def test_a_static_file_not_modified_is_answered_without_leaving_its_file_open(client):
    """A 304 sends no body, so the server never reads, and never closes, the file the response opened."""
    import gc
    import warnings

    first = client.get("/static/css/app.css")
    first.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = client.get("/static/css/app.css", headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304
        del again
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [str(w.message) for w in caught]
