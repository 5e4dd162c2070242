"""Themes: create, rename, merge and delete them, and put them on comments one at a time or many at once."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from consult.audit.models import AuditEvent
from consult.audit.services import record, snapshot
from consult.comments.models import Comment
from consult.extensions import db
from consult.moderation.models import CommentTheme, Theme
from consult.moderation.services.common import (
    THEME_DESCRIPTION_MAX,
    THEME_NAME_MAX,
    BulkOutcome,
    add_to_each,
    clean_name,
    clean_text,
    last_change,
    require_submitted,
    selected_comments,
    versioned_savepoint,
)
from consult.moderation.services.errors import (
    DuplicateThemeName,
    InvalidInput,
    NothingToChange,
    StaleTheme,
    ThemeGone,
    ThemeInUse,
    ThemesChanged,
)
from consult.moderation.states import TagSource
from consult.web import LARGEST_ID

_THEME_FIELDS = ("consultation_id", "name", "description", "version")


def _clean_theme_name(name: str) -> str:
    return clean_name(name, THEME_NAME_MAX, "Enter a name for the theme", "The theme name")


def _clean_description(description: str) -> str:
    description = clean_text(description)
    if len(description) > THEME_DESCRIPTION_MAX:
        raise InvalidInput(f"The description must be {THEME_DESCRIPTION_MAX:,} characters or fewer", "description")
    return description


def _theme_named(consultation_id: int, name: str) -> Theme | None:
    """A theme with this name whatever its case: 'Cost' and 'cost' would read as one theme."""
    return db.session.scalar(select(Theme).where(Theme.consultation_id == consultation_id,
                                                 func.lower(Theme.name) == name.lower()).limit(1))


def _save_theme(theme: Theme) -> None:
    """Flush a new or renamed theme; the unique constraint settles a race between two names."""
    try:
        with db.session.begin_nested():
            db.session.add(theme)
    except IntegrityError:
        raise DuplicateThemeName(theme.name) from None


def create_theme(consultation_id: int, name: str, description: str, actor) -> Theme:
    """A new theme; names are unique within a consultation, ignoring case."""
    name = _clean_theme_name(name)
    description = _clean_description(description)
    if (existing := _theme_named(consultation_id, name)) is not None:
        raise DuplicateThemeName(existing.name)
    theme = Theme(consultation_id=consultation_id, name=name, description=description)
    _save_theme(theme)
    record(actor, "theme.create", theme, None, snapshot(theme, _THEME_FIELDS))
    return theme


def update_theme(theme: Theme, name: str, description: str, actor, expected_version: int) -> bool:
    """Rename or describe a theme as of the version the person opened; False if nothing changed."""
    if theme.version != expected_version:
        raise StaleTheme(theme, last_change(theme), actor)
    name = _clean_theme_name(name)
    description = _clean_description(description)
    if name == theme.name and description == theme.description:
        return False
    other = _theme_named(theme.consultation_id, name)
    if other is not None and other.id != theme.id:
        raise DuplicateThemeName(other.name)
    before = snapshot(theme, _THEME_FIELDS)
    try:
        with versioned_savepoint(theme, stale=lambda: StaleTheme(theme, last_change(theme), actor)):
            theme.name, theme.description = name, description
    except IntegrityError:
        raise DuplicateThemeName(name) from None
    record(actor, "theme.update", theme, before, snapshot(theme, _THEME_FIELDS))
    return True


def _tags_of(theme: Theme) -> list[CommentTheme]:
    return list(db.session.scalars(select(CommentTheme).where(CommentTheme.theme_id == theme.id)))


def _move_tags(source: Theme, target: Theme) -> tuple[list[int], int]:
    """Every comment tagged `source` ends up tagged `target` once, with the earliest provenance of the two.

    Returns the ids of the comments moved and how many already carried both.
    """
    moved: list[int] = []
    duplicates = 0
    tags = _tags_of(source)
    existing = {tag.comment_id: tag for tag in db.session.scalars(
        select(CommentTheme).where(CommentTheme.theme_id == target.id,
                                   CommentTheme.comment_id.in_([t.comment_id for t in tags] or [-1])))}
    for tag in tags:
        kept = existing.get(tag.comment_id)
        if kept is None:
            db.session.add(CommentTheme(comment_id=tag.comment_id, theme_id=target.id, source=tag.source,
                                        tagged_by_id=tag.tagged_by_id, tagged_at=tag.tagged_at))
        else:
            duplicates += 1
            if tag.tagged_at < kept.tagged_at:
                kept.source, kept.tagged_by_id, kept.tagged_at = tag.source, tag.tagged_by_id, tag.tagged_at
        moved.append(tag.comment_id)
        db.session.delete(tag)
    db.session.flush()
    return sorted(moved), duplicates


def _require_other_theme(theme: Theme, target: Theme) -> None:
    if target.id == theme.id:
        raise InvalidInput("Choose a different theme", "target")
    if target.consultation_id != theme.consultation_id:
        raise InvalidInput("Choose a theme from this consultation", "target")


_ENDINGS = ("theme.merge", "theme.delete")


def _name_now(theme_id: int, recorded: str) -> str:
    """A theme's name as it is now, or as recorded if it has gone since."""
    return db.session.scalar(select(Theme.name).where(Theme.id == theme_id)) or recorded


def theme_gone(consultation_id: int, theme_id: int) -> ThemeGone | None:
    """How a theme of this consultation that is no longer there ended, as the refusal to end it again.

    Read from the audit trail: the merge or delete event keeps the theme's
    name and consultation, and where its comments went. None while the theme
    is there, or if no theme of this consultation ever had this id, so an id
    from elsewhere tells nothing about what it was.
    """
    if not 0 < theme_id <= LARGEST_ID or db.session.scalar(select(Theme.id).where(Theme.id == theme_id)):
        return None
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.object_type == Theme.__tablename__,
                                 AuditEvent.object_id == str(theme_id), AuditEvent.action.in_(_ENDINGS))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(1))
    before = (event.before if event is not None else None) or {}
    if before.get("consultation_id") != consultation_id:
        return None
    after = event.after or {}
    if event.action == "theme.merge":
        return ThemeGone(before["name"], merged_into=_name_now(after["merged_into_id"], after["merged_into"]))
    moved_to = _name_now(after["reassigned_to_id"], after["reassigned_to"]) if after else None
    return ThemeGone(before["name"], moved_to=moved_to)


def _lost_race(consultation_id: int, theme_id: int) -> ThemeGone | ThemesChanged:
    """Why a merge or delete that another transaction overtook changed nothing: that one ended the theme
    (a form sent twice at once, or a colleague's), or it changed one of the themes."""
    return theme_gone(consultation_id, theme_id) or ThemesChanged()


def merge_themes(source: Theme, target: Theme, actor) -> int:
    """Fold `source` into `target`: its comments move across and `source` is removed.

    A comment tagged with both keeps one tag, with whichever provenance is
    earlier. Returns how many comments were tagged with `source`. If someone
    else changes either theme at the same moment, nothing is changed; if that
    was a merge or delete of `source`, ThemeGone says where it went.
    """
    _require_other_theme(source, target)
    consultation_id, source_id = source.consultation_id, source.id
    before = snapshot(source, _THEME_FIELDS)
    try:
        with db.session.begin_nested():
            moved, duplicates = _move_tags(source, target)
            record(actor, "theme.merge", source, before,
                   {"merged_into_id": target.id, "merged_into": target.name, "comment_ids": moved,
                    "already_in_target": duplicates})
            db.session.delete(source)
            db.session.flush()
    except (IntegrityError, StaleDataError):
        raise _lost_race(consultation_id, source_id) from None
    return len(moved)


def delete_theme(theme: Theme, actor, reassign_to: Theme | None = None) -> int:
    """Remove a theme. One in use needs another theme to move its comments to; returns how many moved.

    If it is merged or deleted at the same moment by another request, nothing is changed and ThemeGone says so.
    """
    consultation_id, theme_id = theme.consultation_id, theme.id
    used = len(_tags_of(theme))
    if used and reassign_to is None:
        raise ThemeInUse(theme, used)
    if reassign_to is not None:
        _require_other_theme(theme, reassign_to)
    before = snapshot(theme, _THEME_FIELDS)
    try:
        with db.session.begin_nested():
            moved = _move_tags(theme, reassign_to)[0] if reassign_to is not None else []
            after = {"reassigned_to_id": reassign_to.id, "reassigned_to": reassign_to.name,
                     "comment_ids": moved} if reassign_to is not None else None
            record(actor, "theme.delete", theme, before, after)
            db.session.delete(theme)
            db.session.flush()
    except (IntegrityError, StaleDataError):
        raise _lost_race(consultation_id, theme_id) from None
    return len(moved)


def _require_same_consultation(comment: Comment, theme: Theme) -> None:
    if comment.consultation_id != theme.consultation_id:
        raise InvalidInput("Choose a theme from this consultation", "theme")


def _tag_after(theme: Theme, tag: CommentTheme) -> dict:
    return {"theme_id": theme.id, "theme": theme.name, "source": tag.source.value,
            "tagged_by_id": tag.tagged_by_id, "tagged_at": tag.tagged_at.isoformat()}


def tag_comment(comment: Comment, theme: Theme, actor, now: datetime,
                source: TagSource = TagSource.PERSON) -> CommentTheme:
    """Put a theme on a comment, recording who (or the system) did it and when."""
    require_submitted(comment)
    _require_same_consultation(comment, theme)
    if db.session.get(CommentTheme, (comment.id, theme.id)) is not None:
        raise NothingToChange(f"This comment already has the theme ‘{theme.name}’.")
    tag = CommentTheme(comment_id=comment.id, theme_id=theme.id, source=source,
                       tagged_by_id=actor.id if source is TagSource.PERSON and actor else None, tagged_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(tag)
    except IntegrityError:
        raise NothingToChange(f"This comment already has the theme ‘{theme.name}’.") from None
    record(actor, "comment.tag", comment, None, _tag_after(theme, tag))
    return tag


def untag_comment(comment: Comment, theme: Theme, actor) -> None:
    """Take a theme off a comment; the audit trail keeps who had put it there."""
    _require_same_consultation(comment, theme)
    tag = db.session.get(CommentTheme, (comment.id, theme.id))
    if tag is None:
        raise NothingToChange(f"This comment does not have the theme ‘{theme.name}’.")
    record(actor, "comment.untag", comment, _tag_after(theme, tag), None)
    db.session.delete(tag)
    db.session.flush()


def bulk_tag(consultation_id: int, comment_ids: Iterable[int], theme: Theme, actor, now: datetime) -> BulkOutcome:
    """Tag many comments with one theme in one transaction; those already tagged are reported unchanged.

    Tagging adds and never overwrites, so a comment changed by someone else
    since it was selected is still tagged.
    """
    if theme.consultation_id != consultation_id:
        raise InvalidInput("Choose a theme from this consultation", "theme")
    comments = selected_comments(consultation_id, comment_ids)
    tagged = set(db.session.scalars(select(CommentTheme.comment_id).where(
        CommentTheme.theme_id == theme.id, CommentTheme.comment_id.in_([c.id for c in comments]))))

    def add(comment: Comment) -> None:
        tag = CommentTheme(comment_id=comment.id, theme_id=theme.id, source=TagSource.PERSON,
                           tagged_by_id=actor.id, tagged_at=now)
        db.session.add(tag)
        record(actor, "comment.tag", comment, None, _tag_after(theme, tag))

    return add_to_each(comments, tagged, add)


def comment_ids_with_theme(theme: Theme) -> list[int]:
    return list(db.session.scalars(
        select(CommentTheme.comment_id).where(CommentTheme.theme_id == theme.id).order_by(CommentTheme.comment_id)))
