"""The full-text search index stays in step with the comments it covers, on both databases."""

import importlib.util
from pathlib import Path

import pytest

from sqlalchemy import select

from consult.comments import search
from consult.comments import services as comment_services
from consult.comments.models import Comment
from consult.database import utcnow
from consult.extensions import db
from consult.moderation import services
from consult.moderation.states import ModerationState, RejectionReason
from tests.conftest import sections_of

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"
MIGRATION = next(VERSIONS.glob("*_comment_full_text_search.py"))
STORED_MIGRATION = next(VERSIONS.glob("*_stored_search_vectors.py"))


def found(text: str, original: bool = False) -> list[int]:
    return list(db.session.scalars(select(Comment.id).where(search.matches(text, Comment.id, original=original))
                                   .order_by(Comment.id)))


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


def test_the_migrations_index_the_expressions_and_columns_the_queries_read():
    migration = _load(MIGRATION)
    for name in ("SEARCH_TABLE", "SHOWN_INDEX", "ORIGINAL_INDEX", "SHOWN_SQL", "ORIGINAL_SQL", "POSTGRES_DOCUMENT"):
        assert getattr(migration, name) == getattr(search, name), name
    stored = _load(STORED_MIGRATION)
    for name in ("SHOWN_INDEX", "ORIGINAL_INDEX", "SHOWN_COLUMN", "ORIGINAL_COLUMN", "SHOWN_SQL", "ORIGINAL_SQL",
                 "POSTGRES_DOCUMENT"):
        assert getattr(stored, name) == getattr(search, name), name


def test_postgresql_searches_the_stored_vectors_through_their_index(app_context, make_consultation,
                                                                     make_submitted_comments):
    """A search reads the vector stored with each comment, never computing it again per row."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's stored vectors; SQLite searches its FTS5 table.")
    consultation = make_consultation()
    [comment] = make_submitted_comments(consultation, body="Insoles eased the heel pain", quote=None)
    db.session.commit()
    stored = db.session.execute(db.text(
        f"SELECT {search.SHOWN_COLUMN}::text, {search.ORIGINAL_COLUMN}::text FROM comments WHERE id = :id"),
        {"id": comment.id}).one()
    assert "'insol'" in stored[0] and "'heel'" in stored[1]
    db.session.execute(db.text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(row[0] for row in db.session.execute(db.text(
        "EXPLAIN " + str(select(Comment.id).where(search.matches("heel", Comment.id))
                         .compile(db.engine, compile_kwargs={"literal_binds": True})))))
    assert search.SHOWN_INDEX in plan
    assert found("heels") == [comment.id]


def test_new_changed_redacted_and_deleted_comments_are_found_as_they_now_read(make_consultation,
                                                                               make_submitted_comments, make_staff):
    consultation = make_consultation()
    [comment] = make_submitted_comments(consultation, body="Cryoablation helped my neuroma", quote=None)
    db.session.commit()
    assert found("neuroma") == [comment.id]

    staff = make_staff()
    services.decide_comment(comment, services.Decision(
        ModerationState.REDACTED, reason=RejectionReason.PERSONAL_DATA, redacted_body="Cryoablation helped my [removed]"),
        staff, comment.version, utcnow())
    db.session.commit()
    assert found("neuroma") == []  # what staff can read no longer says it
    assert found("neuroma", original=True) == [comment.id]
    assert found("removed") == [comment.id]


def test_a_deleted_draft_leaves_the_index(make_consultation, make_user, make_participation):
    consultation = make_consultation()
    participation = make_participation(make_user(), consultation)
    section = sections_of(consultation)["1.1"]
    target = comment_services.CommentTargetRef(section.document, section.chapter, section)
    draft = comment_services.save_draft(participation, target, "Orthoses first, please", None, utcnow())
    db.session.commit()
    assert found("orthoses") == [draft.id]
    comment_services.delete_draft(draft, utcnow())
    db.session.commit()
    assert found("orthoses") == []
