"""A real server for tests that need real HTTP: browsers, races, the deadline surge.

The app runs under werkzeug's threaded WSGI server on 127.0.0.1 with its own
throwaway database (a SQLite file, or a fresh PostgreSQL database beside the
one TEST_DATABASE_URL names, of this process's own), migrated from nothing. Its data is committed
for real, so live tests make their own unique users and consultations.
"""

import re
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import requests
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server
from werkzeug.wsgi import FileWrapper

from consult import create_app
from consult.extensions import db

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class LiveServer:
    url: str
    app: Flask
    database_url: str

    @contextmanager
    def app_context(self):
        """Run setup code against the server's database, committed when the block ends."""
        with self.app.app_context():
            yield
            db.session.commit()


def _files_sent_whole(app):
    """The app, sending each file (static assets, downloads) whole and closing it at once.

    Werkzeug's development server closes a response only if the connection is still there after it: when a
    browser drops one mid-way (it often does for a favicon or a cached asset), the file stays open until
    garbage collection, and the ResourceWarning fails whichever test is running. Files here are small.
    """

    def send(environ, start_response):
        body = app(environ, start_response)
        if not isinstance(body, FileWrapper):
            return body
        try:
            return [b"".join(body)]
        finally:
            body.close()

    return send


@contextmanager
def running_server(name: str = "live", **config):
    from tests.conftest import make_test_config, throwaway_database_url

    with tempfile.TemporaryDirectory(prefix="consult-live-") as directory:
        database_url = throwaway_database_url(name, directory)
        app = create_app(make_test_config(database_url, **config))
        with app.app_context():
            upgrade()
        server = make_server("127.0.0.1", 0, _files_sent_whole(app), threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, database_url)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            with app.app_context():
                db.engine.dispose()


class Visitor:
    """A person with their own cookie jar, sending what a browser would."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.base_url + path, timeout=60, **kwargs)

    def token(self, path: str) -> str:
        page = self.get(path)
        match = _CSRF.search(page.text)
        assert match, f"no CSRF token on {path} ({page.status_code})"
        return match.group(1)

    def post(self, path: str, data: dict | None = None, token_from: str | None = None,
             token: str | None = None, **kwargs) -> requests.Response:
        payload = {"csrf_token": token or self.token(token_from or path), **(data or {})}
        return self.http.post(self.base_url + path, data=payload, timeout=60,
                              allow_redirects=kwargs.pop("allow_redirects", False), **kwargs)

    def sign_in(self, email: str, password: str) -> None:
        response = self.post("/account/sign-in", {"email": email, "password": password})
        problems = re.findall(r'<a href="#[^"]*">([^<]+)</a>', response.text)
        assert response.status_code == 302, (response.status_code, problems or response.text[:500])


def signed_in_tab(server: LiveServer, email: str, password: str) -> Visitor:
    """A browser tab of its own, signed in as `email`."""
    tab = Visitor(server.url)
    tab.sign_in(email, password)
    return tab


def all_at_once(calls) -> list:
    """Run each call on its own thread, all released at the same moment; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
