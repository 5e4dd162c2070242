"""Load what a URL names, or 404: written once, on top of the rules in access.py.

Each loader answers "does this exist *for the person asking*?". Where a
person may not see an object, it does not exist for them (404), so a URL
never tells a stranger that a draft consultation or someone else's comment
is there. Views call these first, then check what the person may *do*.
"""

import functools

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import contains_eager, joinedload

from consult.access import can_preview_drafts, can_review_consultation
from consult.accounts.models import User
from consult.comments.models import Comment, Participation
from consult.consultations import services as consultation_services
from consult.consultations.models import Consultation, Document, Section
from consult.extensions import db
from consult.moderation.models import Theme
from consult.web import LARGEST_ID


def user_or_404(user_id: int) -> User:
    """An account by its id, for the admin pages that manage it."""
    user = db.session.get(User, user_id) if 0 < user_id <= LARGEST_ID else None
    if user is None:
        abort(404)
    return user


def public_consultation_or_404(reference: str) -> Consultation:
    """A consultation the public may see: any that staff have not held back as a draft."""
    consultation = consultation_services.find_public_consultation(reference)
    if consultation is None:
        abort(404)
    return consultation


@functools.cache
def _public_consultation_with_participation() -> Select:
    """Built once: composing a joined, eager-loading statement costs more CPU than running it."""
    return select(Consultation, Participation).where(
        Consultation.reference == bindparam("reference"), Consultation.is_draft.is_(False)
    ).outerjoin(Participation, and_(
        Participation.consultation_id == Consultation.id, Participation.user_id == bindparam("user_id"))
    ).options(joinedload(Consultation.documents))


def _public_consultation_and_participation(reference: str) -> tuple[Consultation, Participation | None] | None:
    """A public consultation with its documents, and how the signed-in person takes part in it (or None).

    One query where public_consultation_or_404 and a participation lookup take three: the pages a
    participant reads most (a consultation, a document) need both on every view.
    """
    if not current_user.is_authenticated:
        consultation = consultation_services.find_public_consultation(reference)
        return None if consultation is None else (consultation, None)
    row = db.session.execute(_public_consultation_with_participation(),
                             {"reference": reference.upper(), "user_id": current_user.id}).unique().one_or_none()
    if row is None:
        return None
    consultation, participation = row
    return consultation, participation


def public_or_preview_consultation_and_participation_or_404(
        reference: str) -> tuple[Consultation, Participation | None]:
    """A public consultation and how the person takes part, or a draft for those who may preview drafts.

    For the read-only consultation and document pages only: every other page of a draft stays a 404 for
    everyone. A draft comes with no participation, whatever its reader once did there, as a preview is
    for reading. The draft is looked up only once the public lookup has missed, and only for someone who
    may preview, so an ordinary reader pays nothing for it and still gets a 404.
    """
    found = _public_consultation_and_participation(reference)
    if found is not None:
        return found
    if can_preview_drafts(current_user):
        consultation = consultation_services.find_consultation(reference)
        if consultation is not None and consultation.is_draft:
            return consultation, None
    abort(404)


def published_consultation_or_404(reference: str) -> Consultation:
    """A public consultation whose comments staff have published."""
    consultation = public_consultation_or_404(reference)
    if consultation.published_at is None:
        abort(404)
    return consultation


def reviewable_consultation_or_404(reference: str) -> Consultation:
    """Any consultation, drafts included, that the person may review; to anyone else it does not exist."""
    consultation = consultation_services.find_consultation(reference)
    if consultation is None or not can_review_consultation(current_user, consultation):
        abort(404)
    return consultation


def staff_consultation_or_404(reference: str) -> Consultation:
    """Any consultation, drafts included, with its documents, chapters and sections loaded.

    The route rule has already admitted only staff.
    """
    consultation = consultation_services.load_consultation_for_staff(reference)
    if consultation is None:
        abort(404)
    return consultation


def submitted_comment_or_404(consultation: Consultation, number: int) -> Comment:
    """A submitted comment of this consultation by its number; drafts have none, so never match."""
    from consult.moderation import queries

    if number > LARGEST_ID:
        abort(404)
    comment = db.session.scalar(
        queries.submitted_comments(consultation.id).where(Comment.number == number)
        .options(joinedload(Comment.participation), joinedload(Comment.section), joinedload(Comment.chapter),
                 joinedload(Comment.document), joinedload(Comment.moderated_by))
    )
    if comment is None:
        abort(404)
    return comment


def reviewable_consultation_and_comment_or_404(reference: str, number: int) -> tuple[Consultation, Comment]:
    """The consultation under review and its submitted comment by number: what a staff comment URL names."""
    consultation = reviewable_consultation_or_404(reference)
    return consultation, submitted_comment_or_404(consultation, number)


def own_comment_or_none(consultation: Consultation, comment_id: int) -> Comment | None:
    """A comment of this consultation that the person may see (their own draft, or a submitted one), or None:
    one answer for a comment deleted and a comment that is someone else's, so neither is revealed."""
    comment = db.session.get(Comment, comment_id) if 0 < comment_id <= LARGEST_ID else None
    if comment is None or comment.consultation_id != consultation.id or not comment.is_visible_to(current_user):
        return None
    return comment


def theme_or_404(consultation: Consultation, theme_id) -> Theme:
    """A theme of this consultation; an id that is not a number, or another consultation's, is not found."""
    try:
        theme_id = int(theme_id)
    except (TypeError, ValueError):
        abort(404)
    theme = db.session.get(Theme, theme_id) if 0 < theme_id <= LARGEST_ID else None
    if theme is None or theme.consultation_id != consultation.id:
        abort(404)
    return theme


def reviewable_consultation_and_theme_or_404(reference: str, theme_id) -> tuple[Consultation, Theme]:
    """The consultation under review and one of its themes: what a theme URL names."""
    consultation = reviewable_consultation_or_404(reference)
    return consultation, theme_or_404(consultation, theme_id)


def part_of_consultation_or_404(model, object_id: int, consultation: Consultation):
    """A document, chapter or section of this consultation, else 404 (another consultation's too)."""
    query = select(model).where(model.id == object_id)
    if model is Document:
        query = query.where(Document.consultation_id == consultation.id)
    else:
        query = query.join(Document, model.document_id == Document.id).where(
            Document.consultation_id == consultation.id)
    found = db.session.scalar(query) if 0 < object_id <= LARGEST_ID else None
    if found is None:
        abort(404)
    return found


@functools.cache
def _public_part_with_participation(model) -> Select:
    """Built once per kind of part, for the same reason as _public_consultation_with_participation."""
    query = select(model, Participation).where(model.id == bindparam("object_id"))
    if model is Document:
        query = query.join(Document.consultation).options(contains_eager(Document.consultation))
    else:
        query = query.join(model.document).join(Document.consultation).options(
            contains_eager(model.document).contains_eager(Document.consultation))
    if model is Section:
        query = query.options(joinedload(Section.chapter))
    return query.where(Consultation.reference == bindparam("reference"), Consultation.is_draft.is_(False)).outerjoin(
        Participation, and_(Participation.consultation_id == Document.consultation_id,
                            Participation.user_id == bindparam("user_id")))


def public_part_and_participation_or_404(model, object_id: int, reference: str):
    """A document, chapter or section of a public consultation, and the signed-in person's participation.

    The part comes with its document and consultation (and a section's chapter), so a view that needs
    all of them, such as a comment save, pays one round trip where public_consultation_or_404,
    part_of_consultation_or_404 and a participation lookup take five. A part that is not found, or
    belongs to another or a draft consultation, is a 404 as with those; the participation is None
    when the person has not chosen how to take part.
    """
    if not 0 < object_id <= LARGEST_ID:
        abort(404)
    row = db.session.execute(_public_part_with_participation(model), {
        "object_id": object_id, "reference": reference.upper(), "user_id": current_user.id}).one_or_none()
    if row is None:
        abort(404)
    part, participation = row
    return part, participation


def question_or_404(consultation: Consultation, question_id: int):
    """A question of this consultation; another consultation's, or none, is not found."""
    from consult.questions.models import Question

    question = db.session.get(Question, question_id) if 0 < question_id <= LARGEST_ID else None
    if question is None or question.consultation_id != consultation.id:
        abort(404)
    return question


def staff_consultation_and_question_or_404(reference: str, question_id: int):
    """Any consultation, drafts included, and one of its questions: what a staff question URL names."""
    consultation = staff_consultation_or_404(reference)
    return consultation, question_or_404(consultation, question_id)
