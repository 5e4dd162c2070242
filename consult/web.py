"""Small helpers that views share."""

import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.routing import IntegerConverter

# Ids and numbers beyond a 32-bit signed integer cannot exist: both databases' keys stop there, and
# SQLite's driver refuses even to compare a larger number (OverflowError, a 500).
LARGEST_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:…>` in every URL: a number that could be an id, or no route at all (a 404).

    Registered in place of Werkzeug's own int converter, so that no view and no loader has to remember
    the bound: a URL naming 99999999999999999999 simply matches nothing.
    """

    def __init__(self, url_map, fixed_digits=0, min=None, max=LARGEST_ID, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def query_id(name: str) -> int | None:
    """A number in the query string that could be an id (a theme, a section), or None for anything else."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= LARGEST_ID else None


# Far beyond any real page of a list, and low enough that its OFFSET never overflows.
MAX_PAGE = 100_000


def query_page(last: int = MAX_PAGE) -> int:
    """The query string's page number, from 1 to `last`: a page beyond any list is the last one asked for,
    never an offset the database cannot hold."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), last)


# How long a request may plausibly have queued before the app saw it. A front server's stamp older
# than this (or in the future) is a wrong clock or a forged header, and is ignored.
MAX_QUEUED_SECONDS = 120


def safe_next_url(target: str | None) -> str | None:
    """A same-site path to return to after sign-in, or None.

    Only a plain local path is accepted: "//evil.example", "/\\evil.example",
    "https://…" and anything with a scheme or host are refused, so the sign-in
    page cannot be used as an open redirect.
    """
    if not target:
        return None
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


# Fields never written back into a page: a password is typed again, never carried.
SECRET_FIELDS = frozenset({"password", "confirm", "current_password", "new_password"})
# What a form sent while its sender was signed out travels through the sign-in form under this prefix,
# with the address it was sent to, so that it can be offered back once they are signed in.
KEPT_PREFIX = "kept:"
KEPT_ACTION = "kept_action"


def sent_from_here() -> bool:
    """Whether this request's form was sent from one of the service's own pages.

    Browsers say where a POST came from (Sec-Fetch-Site, and Origin on every
    cross-site POST). A form that could not be taken is offered back to send
    again only if it came from here: one posted by another site holds that
    site's choices, and offering them back with a fresh token would let it
    act through a person's single press.
    """
    fetched_from = request.headers.get("Sec-Fetch-Site")
    if fetched_from is not None and fetched_from not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    return origin is None or origin == request.host_url.rstrip("/")


def fields_to_keep(form) -> list[tuple[str, str]]:
    """What a person sent from one of the service's pages in a form that could not be taken (its token was
    stale, or they were signed out elsewhere), to offer back: every field but the token and secrets, in the
    order sent. Nothing of a form another site sent (see sent_from_here)."""
    if not sent_from_here():
        return []
    return [(key, value) for key, value in form.items(multi=True)
            if key != "csrf_token" and key not in SECRET_FIELDS and not key.startswith(KEPT_PREFIX)
            and key != KEPT_ACTION]


# Hidden fields the service's forms carry for their own checks (versions, fingerprints, confirmations) and
# buttons: sent again with what was kept, but neither shown as what the person sent nor counted as writing.
CARRIED_NOT_TYPED = frozenset({"submit", "version", "note_version", "seen", "shown", "digest", "confirmed",
                               "from_role", "filters", "snapshot", "total", "matched", "items", "on", "token",
                               "source_id", "loaded_at"})
# What the kept fields that people type are called on the forms they come from.
KEPT_LABELS = {"body": "Your comment", "quote": "Quoted passage", "text": "Your words", "yes_no": "Yes or no",
               "note": "Note", "name": "Name", "summary": "Summary", "reason": "Reason"}
# Fields a person would know by a name, for a page that has to say which one holds something (a NUL).
NAMED_FIELDS = {**KEPT_LABELS, "q": "Search words", "email": "Email address", "password": "Password",
                "organisation": "Organisation name", "organisation_name": "Organisation name",
                "tobacco_details": "Details of the links", "other_interests": "Other interests",
                "title": "Title", "description": "Description", "response": "Response",
                "submitted_from": "Submitted on or after", "submitted_to": "Submitted on or before"}


def wrote_anything(kept: list[tuple[str, str]]) -> bool:
    """Whether kept fields hold something the person typed or chose, beyond the button they pressed and the
    fields a form carries for its own checks."""
    return any(value.strip() for key, value in kept if key not in CARRIED_NOT_TYPED)


def kept_through_sign_in(form) -> tuple[list[tuple[str, str]], str | None]:
    """The fields a sign-in form carried for the page the person was signed out of, and that page's path."""
    if not sent_from_here():
        return [], None
    kept = [(key.removeprefix(KEPT_PREFIX), value) for key, value in form.items(multi=True)
            if key.startswith(KEPT_PREFIX) and key.removeprefix(KEPT_PREFIX) not in SECRET_FIELDS]
    return kept, safe_next_url(form.get(KEPT_ACTION))


def current_path() -> str:
    """The path and query of this request, for a 'next' parameter."""
    query = request.query_string.decode("utf-8", "replace")
    return request.path + (f"?{query}" if query else "")


def request_arrived_at() -> datetime:
    """When this request reached the service: writes are judged against the deadline by this.

    At a deadline every web worker is busy, and a response sent at 16:59:59 may reach a view
    after 17:00. Behind a trusted front server (TRUSTED_PROXY_COUNT > 0) its X-Request-Start
    header says when the request arrived, queue included; nginx sets it with
    ``proxy_set_header X-Request-Start "t=${msec}";``. Otherwise it is the moment the app first
    saw the request (stamped by consult.operations). Never later than now, and a stamp from
    more than MAX_QUEUED_SECONDS ago is ignored, so no header can reopen a consultation.
    """
    from consult.operations import ARRIVED_AT_KEY

    now = time.time()
    moment = request.environ.get(ARRIVED_AT_KEY, now)
    if current_app.config.get("TRUSTED_PROXY_COUNT"):
        stamped = _front_server_stamp(request.headers.get("X-Request-Start", ""))
        if stamped is not None and now - MAX_QUEUED_SECONDS <= stamped <= now:
            moment = min(moment, stamped)
    return datetime.fromtimestamp(min(moment, now), tz=timezone.utc)


def _front_server_stamp(header: str) -> float | None:
    """Seconds since the epoch from 't=1733331599.123' (nginx), or the same in ms or µs."""
    value = header.strip().removeprefix("t=")
    try:
        number = float(value)
    except ValueError:
        return None
    if number > 1e14:
        return number / 1_000_000
    if number > 1e11:
        return number / 1_000
    return number
