"""Parsed drafts waiting, on the server, for the person who uploaded them to confirm the import.

Between the preview and the confirmation the browser only ever holds an unguessable token.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from consult.consultations.importing.text import ParsedChapter, ParsedDocument, ParsedSection, SkippedBlock
from consult.errors import DomainError

log = logging.getLogger(__name__)


class PreviewNotFound(DomainError):
    """No staged draft for this token, user and consultation: expired, used, or never there."""

    status = 404

    message = ("This preview has expired or has already been used, so nothing was imported. "
               "Upload the file again.")


@dataclass(frozen=True)
class PendingImport:
    token: str
    user_id: int
    consultation_id: int
    filename: str
    replace_document_id: int | None
    parsed: ParsedDocument
    expires_at: datetime


_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


class ImportStaging:
    """Parsed drafts waiting for a person to confirm the import, kept in a private directory.

    Why on the server and not in the page or the session: a hidden field, or
    a session cookie (signed but readable, and capped at about 4KB), would
    hand the parsed content to the browser, which could change it between
    preview and confirm. Asking for the file again at confirmation would
    import whatever arrived second, not what was previewed. Here the browser
    holds only a random token; the staged file is bound to the user and the
    consultation, expires after `lifetime`, and is claimed by an atomic
    rename so that a double click imports once.

    Files are JSON (never pickle), so a staged file is data and nothing
    more. Where several app servers run, IMPORT_STAGING_DIR must name
    storage they share.
    """

    def __init__(self, directory: Path, lifetime: timedelta = timedelta(hours=1)):
        self.directory = Path(directory)
        self.lifetime = lifetime

    def stage(self, *, user_id: int, consultation_id: int, filename: str,
              replace_document_id: int | None, parsed: ParsedDocument, now: datetime) -> PendingImport:
        """Keep a parsed draft for this user and consultation; return it with its new token."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.remove_expired(now)
        pending = PendingImport(
            token=secrets.token_urlsafe(32), user_id=user_id, consultation_id=consultation_id,
            filename=filename, replace_document_id=replace_document_id, parsed=parsed,
            expires_at=now + self.lifetime,
        )
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".staging-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(_to_json(pending), file)
            os.replace(temporary, self._path(pending.token))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return pending

    def load(self, token: str | None, *, user_id: int, consultation_id: int, now: datetime) -> PendingImport:
        """The staged draft, if the token is this user's for this consultation and still fresh."""
        path = self._path_or_none(token)
        if path is None:
            raise PreviewNotFound()
        return self._read(path, user_id, consultation_id, now)

    def claim(self, token: str | None, *, user_id: int, consultation_id: int, now: datetime) -> PendingImport:
        """Take the staged draft for importing; a second claim of the same token finds nothing."""
        path = self._path_or_none(token)
        if path is None:
            raise PreviewNotFound()
        claimed = path.with_name(f".claimed-{secrets.token_hex(8)}-{path.name}")
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            raise PreviewNotFound() from None
        try:
            return self._read(claimed, user_id, consultation_id, now, restore_to=path)
        finally:
            claimed.unlink(missing_ok=True)

    def remove_expired(self, now: datetime) -> None:
        """Delete staged drafts past their lifetime, judged by file age."""
        if not self.directory.is_dir():
            return
        cutoff = (now - self.lifetime).timestamp()
        for path in self.directory.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                continue

    def _path(self, token: str) -> Path:
        return self.directory / f"{token}.json"

    def _path_or_none(self, token: str | None) -> Path | None:
        # The token becomes a file name, so only the exact shape we hand out is accepted.
        if not token or not _TOKEN.fullmatch(token):
            return None
        return self._path(token)

    def _read(self, path: Path, user_id: int, consultation_id: int, now: datetime,
              restore_to: Path | None = None) -> PendingImport:
        try:
            pending = _from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise PreviewNotFound() from None
        except (ValueError, KeyError, TypeError):
            log.warning("Discarding unreadable staged import %s", path.name)
            path.unlink(missing_ok=True)
            raise PreviewNotFound() from None
        if pending.user_id != user_id or pending.consultation_id != consultation_id:
            if restore_to is not None:  # someone else's token: leave it for its owner
                os.rename(path, restore_to)
            raise PreviewNotFound()
        if pending.expires_at <= now:
            path.unlink(missing_ok=True)
            raise PreviewNotFound()
        return pending


def _to_json(pending: PendingImport) -> dict:
    parsed = pending.parsed
    return {
        "token": pending.token,
        "user_id": pending.user_id,
        "consultation_id": pending.consultation_id,
        "filename": pending.filename,
        "replace_document_id": pending.replace_document_id,
        "expires_at": pending.expires_at.isoformat(),
        "parsed": {
            "title": parsed.title,
            "numbers_generated": parsed.numbers_generated,
            "chapters": [
                {
                    "number": chapter.number, "title": chapter.title, "body": chapter.body,
                    "sections": [
                        {"number": s.number, "heading": s.heading, "text": s.text} for s in chapter.sections
                    ],
                }
                for chapter in parsed.chapters
            ],
            "skipped": [
                {"text": block.text, "reason": block.reason, "includable": block.includable}
                for block in parsed.skipped
            ],
        },
    }


def _from_json(data: dict) -> PendingImport:
    parsed = data["parsed"]
    document = ParsedDocument(
        title=str(parsed["title"]),
        numbers_generated=bool(parsed["numbers_generated"]),
        chapters=tuple(
            ParsedChapter(
                number=chapter["number"], title=str(chapter["title"]), body=str(chapter["body"]),
                sections=tuple(
                    ParsedSection(str(s["number"]), s["heading"], str(s["text"])) for s in chapter["sections"]
                ),
            )
            for chapter in parsed["chapters"]
        ),
        # Previews staged before skipped text was kept have none to offer.
        skipped=tuple(
            SkippedBlock(str(block["text"]), str(block["reason"]), bool(block["includable"]))
            for block in parsed.get("skipped", ())
        ),
    )
    expires_at = datetime.fromisoformat(data["expires_at"])
    if expires_at.tzinfo is None:
        raise ValueError("naive expiry")
    replace = data["replace_document_id"]
    return PendingImport(
        token=str(data["token"]), user_id=int(data["user_id"]), consultation_id=int(data["consultation_id"]),
        filename=str(data["filename"]), replace_document_id=None if replace is None else int(replace),
        parsed=document, expires_at=expires_at,
    )
