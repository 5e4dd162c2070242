"""The floor the service is compared against: the least Flask + Flask-SQLAlchemy can do for the same jobs.

One route inserts one row (POST), one renders a 50-row Jinja table (GET). It runs
under the same gunicorn settings and on the same database engine as the service,
so that the ratio between the two measures what the service adds (sign-in, CSRF,
access rules, the ORM queries and GOV.UK templates) rather than the machine.

SQLite gets the same WAL, synchronous=NORMAL and busy timeout as the service: those
are storage settings, not application work, and leaving SQLite's defaults would
make every baseline insert wait for a full fsync the service never waits for.

Started by gunicorn as the factory ``bench.baseline_app:create_app()``, reading
DATABASE_URL from the environment.
"""

import os
from datetime import datetime, timezone

from flask import Flask, redirect, render_template, request, url_for
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy import DateTime, String, Text, event, select
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()

TABLE_TEMPLATE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Items</title></head>
<body>
<h1>Latest items</h1>
<table>
  <thead><tr><th>Number</th><th>Title</th><th>Text</th><th>Added</th></tr></thead>
  <tbody>
  {% for item in items %}
    <tr><td>{{ item.id }}</td><td><a href="{{ url_for('table') }}#item-{{ item.id }}">{{ item.title }}</a></td>
      <td>{{ item.body }}</td><td>{{ item.created_at.strftime('%d %B %Y %H:%M') }}</td></tr>
  {% endfor %}
  </tbody>
</table>
</body>
</html>
"""


class Item(db.Model):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=lambda: datetime.now(timezone.utc))


def create_app(database_url: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url or os.environ["DATABASE_URL"]
    app.jinja_loader = DictLoader({"table.html": TABLE_TEMPLATE})
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _same_sqlite_settings_as_the_service(db.engine)

    @app.get("/items")
    def table():
        items = db.session.scalars(select(Item).order_by(Item.id.desc()).limit(50)).all()
        return render_template("table.html", items=items)

    @app.post("/items")
    def insert():
        db.session.add(Item(title=request.form.get("title", "")[:200], body=request.form.get("body", "")))
        db.session.commit()
        return redirect(url_for("table"))

    return app


def _same_sqlite_settings_as_the_service(engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
