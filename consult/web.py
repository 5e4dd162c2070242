"""Small helpers that views share."""

from urllib.parse import urlsplit

from flask import request


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


def current_path() -> str:
    """The path and query of this request, for a 'next' parameter."""
    query = request.query_string.decode("utf-8", "replace")
    return request.path + (f"?{query}" if query else "")
