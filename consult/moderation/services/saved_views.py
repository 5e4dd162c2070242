"""Saved views: a member of staff names a set of queue filters to open again from the dashboard.

A view belongs to the person who saved it: nobody else sees it or can delete
it. The database keeps one name once per person and consultation, so two
saves of the same name at once end with one view.
"""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from consult.audit.services import record
from consult.extensions import db
from consult.moderation.models import SavedView
from consult.moderation.services.common import clean_name
from consult.moderation.services.errors import InvalidInput, ModerationError

VIEW_NAME_MAX = 80
VIEWS_MAX = 50  # per person and consultation: a list to choose from, not a store


class DuplicateViewName(ModerationError):
    field = "name"
    status = 409

    def __init__(self, name: str):
        super().__init__(f"You already have a view called ‘{name}’ for this consultation. Choose a different name.")


class SavedViewNotFound(ModerationError):
    message = "That saved view does not exist, or is not yours."
    status = 404


def save_view(user, consultation, name: str, query: str) -> SavedView:
    """Save the queue's filters (`query`, a query string of filters only) under `name`, for `user`.

    Raises InvalidInput for an empty or long name, or when the person already
    has VIEWS_MAX views here; DuplicateViewName when the name is taken (also
    when another save of the same name won a race).
    """
    name = clean_name(name, VIEW_NAME_MAX, "Enter a name for this view")
    mine = select(SavedView).where(SavedView.user_id == user.id, SavedView.consultation_id == consultation.id)
    if db.session.scalar(mine.where(SavedView.name == name)) is not None:
        raise DuplicateViewName(name)
    if len(db.session.scalars(mine.with_only_columns(SavedView.id).limit(VIEWS_MAX)).all()) >= VIEWS_MAX:
        raise InvalidInput(f"You can keep up to {VIEWS_MAX} views for a consultation. Delete one first.", "name")
    view = SavedView(user_id=user.id, consultation_id=consultation.id, name=name, query=query)
    try:
        with db.session.begin_nested():
            db.session.add(view)
    except IntegrityError:
        raise DuplicateViewName(name) from None
    record(user, "saved_view.create", view, None, {"name": name, "query": query,
                                                   "consultation_id": consultation.id})
    return view


def delete_view(user, view_id: int) -> SavedView:
    """Delete one of `user`'s own views; anyone else's, or one that is gone, is SavedViewNotFound."""
    view = db.session.get(SavedView, view_id)
    if view is None or view.user_id != user.id:
        raise SavedViewNotFound()
    record(user, "saved_view.delete", view, {"name": view.name, "query": view.query}, None)
    db.session.delete(view)
    db.session.flush()
    return view


def views_of(user) -> list[SavedView]:
    """The person's own views, by consultation then name."""
    return list(db.session.scalars(
        select(SavedView).where(SavedView.user_id == user.id)
        .order_by(SavedView.consultation_id.desc(), SavedView.name)))
