"""Triage marks: flag a comment for a second look, leave a note on it, and say who is reading it now.

None of these is a moderation decision: they never move the comment's
version, so a colleague's decision made on the version they saw still holds.
Flags and notes are audited like every other staff act. Reading is presence,
not a change to the record: it is shown to colleagues and lapses on its own.
"""

from datetime import datetime, timedelta

from sqlalchemy import and_, case, or_, update
from sqlalchemy.exc import IntegrityError

from consult.audit.services import record
from consult.comments.models import Comment
from consult.extensions import db
from consult.moderation.models import TriageMark
from consult.moderation.services.common import NOTE_MAX, clean_text, require_submitted
from consult.moderation.services.errors import Change, InvalidInput, NothingToChange, StaleVersion

# Someone who opened a comment and went quiet stops holding it after this long.
READING_FOR = timedelta(minutes=15)


class StaleNote(StaleVersion):
    """Someone else saved the note after this person opened it."""

    def __init__(self, mark: TriageMark, change: Change, actor=None):
        self.mark = mark
        super().__init__("The note on this comment", change, actor)


def triage_mark(comment_id: int) -> TriageMark | None:
    return db.session.get(TriageMark, comment_id)


def _mark_of(comment: Comment) -> TriageMark:
    """The comment's row, made if it has none yet; if two requests make it at once, the database keeps one."""
    mark = db.session.get(TriageMark, comment.id)
    if mark is not None:
        return mark
    try:
        with db.session.begin_nested():
            mark = TriageMark(comment_id=comment.id, flagged=False, note="", note_version=0)
            db.session.add(mark)
    except IntegrityError:
        mark = db.session.get(TriageMark, comment.id, populate_existing=True)
    return mark


def read_by_someone_else(mark: TriageMark | None, viewer_id: int, now: datetime) -> bool:
    """True while another person holds the comment (they opened it less than READING_FOR ago)."""
    return (mark is not None and mark.reader_id is not None and mark.reader_id != viewer_id
            and mark.reading_since > now - READING_FOR)


def start_reading(comment: Comment, actor, now: datetime) -> TriageMark:
    """Say that `actor` is reading this comment, unless someone else is; they stop reading any other.

    A person reads one comment at a time, so opening this one lets go of the
    last. The hold is taken with a conditional UPDATE, so when two people
    open the same comment at once exactly one of them holds it. Returns the
    mark as it now is: its reader is whoever holds the comment.
    """
    require_submitted(comment)
    db.session.execute(
        update(TriageMark).where(TriageMark.reader_id == actor.id, TriageMark.comment_id != comment.id)
        .values(reader_id=None, reading_since=None).execution_options(synchronize_session=False))
    _mark_of(comment)
    db.session.flush()
    db.session.execute(
        update(TriageMark)
        .where(TriageMark.comment_id == comment.id,
               or_(TriageMark.reader_id.is_(None), TriageMark.reader_id == actor.id,
                   TriageMark.reading_since <= now - READING_FOR))
        .values(reader_id=actor.id,
                reading_since=_keep_since(actor.id, now))
        .execution_options(synchronize_session=False))
    return db.session.get(TriageMark, comment.id, populate_existing=True)


def _keep_since(reader_id: int, now: datetime):
    """Still reading the same comment keeps the time they started; anyone else starts now."""
    return case((and_(TriageMark.reader_id == reader_id, TriageMark.reading_since > now - READING_FOR),
                 TriageMark.reading_since), else_=now)


def _flag_state(mark: TriageMark) -> dict:
    return {"flagged": mark.flagged, "flagged_by_id": mark.flagged_by_id,
            "flagged_at": mark.flagged_at.isoformat() if mark.flagged_at else None}


def set_flag(comment: Comment, flagged: bool, actor, now: datetime) -> TriageMark:
    """Flag the comment as needing a second look (or clear the flag), with who and when; audited.

    The change is a conditional UPDATE, so when two people flag the same
    comment at once one of them is told it is already flagged, and one audit
    event is written. Raises NothingToChange if it is already so.
    """
    require_submitted(comment)
    mark = _mark_of(comment)
    db.session.flush()
    before = _flag_state(mark)
    done = db.session.execute(
        update(TriageMark).where(TriageMark.comment_id == comment.id, TriageMark.flagged == (not flagged))
        .values(flagged=flagged, flagged_by_id=actor.id if flagged else None, flagged_at=now if flagged else None)
        .execution_options(synchronize_session=False))
    mark = db.session.get(TriageMark, comment.id, populate_existing=True)
    if done.rowcount != 1:
        raise NothingToChange("This comment is already flagged for a second look." if flagged
                              else "This comment is not flagged.")
    record(actor, "comment.flag" if flagged else "comment.unflag", comment, before, _flag_state(mark))
    return mark


def save_triage_note(comment: Comment, note: str, expected_version: int, actor, now: datetime) -> TriageMark:
    """Replace the comment's triage note, with who and when; audited with the note before and after.

    `expected_version` is the note's version the person opened; if someone
    saved the note since, StaleNote names them and nothing is saved. An empty
    note removes it. The check is a conditional UPDATE, so of two saves racing
    from the same version exactly one lands.
    """
    require_submitted(comment)
    text = clean_text(note)
    if len(text) > NOTE_MAX:
        raise InvalidInput(f"The note must be {NOTE_MAX:,} characters or fewer", "note")
    mark = _mark_of(comment)
    db.session.flush()
    before = {"note": mark.note}
    if mark.note_version == expected_version and mark.note == text:
        raise NothingToChange("The note is already saved as it is.")
    done = db.session.execute(
        update(TriageMark).where(TriageMark.comment_id == comment.id, TriageMark.note_version == expected_version)
        .values(note=text, note_by_id=actor.id if text else None, note_at=now if text else None,
                note_version=TriageMark.note_version + 1)
        .execution_options(synchronize_session=False))
    mark = db.session.get(TriageMark, comment.id, populate_existing=True)
    if done.rowcount != 1:
        by = mark.note_by.name if mark.note_by else "another member of staff"
        raise StaleNote(mark, Change(by, mark.note_at, mark.note_by_id), actor)
    record(actor, "comment.note", comment, before, {"note": text})
    return mark
