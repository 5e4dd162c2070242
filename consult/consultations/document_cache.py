"""A document page's body, rendered once per document and kept in each process.

The body of a document page (its contents list, chapters, sections and their
"Comment on …" links) is most of what the page costs, and it is the same for
every reader: only two things differ from person to person, whether the comment
links show (not once a response is submitted) and the "You have 2 comments
here" counters. So the body is rendered without the counters, with a
placeholder where each would go, and kept; each request fills the placeholders
from one grouped count of the reader's own comments.

Nothing has to be invalidated. A document's chapters and sections are written
once, when its document row is created (a replaced draft is a new row), so the
row's id and creation time name one unchanging body. They are in the key with
the consultation's reference (it is in every link) and the application root the
links were built under; a changed title or reference simply misses. Each
process keeps at most MAX_BODIES bodies, the least recently used going first.
Staff previews of a draft are rendered each time and never kept (preview_body).
"""

import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping

from flask import render_template, request
from markupsafe import Markup
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import selectinload

from consult.comments.models import Comment
from consult.consultations.models import Chapter, Consultation, Document
from consult.extensions import db

MAX_BODIES = 64

# Written by the body template for each counter; the readers' text is escaped, so it can never contain one.
_PLACEHOLDER = re.compile(r"<!--your-comments:(document|chapter|section):(\d+)-->")

_bodies: OrderedDict[tuple, "_Body"] = OrderedDict()
_lock = threading.Lock()


class _Body:
    """A rendered body cut at its placeholders once, so a request only joins the pieces and its counters."""

    def __init__(self, html: str):
        pieces = _PLACEHOLDER.split(html)
        self.texts = pieces[::3]
        self.parts = [(kind, int(part_id)) for kind, part_id in zip(pieces[1::3], pieces[2::3])]

    def with_counts(self, counts: Mapping[tuple[str, int], int]) -> str:
        filled = [self.texts[0]]
        for (kind, part_id), text in zip(self.parts, self.texts[1:]):
            filled.append(counter(counts, kind, part_id))
            filled.append(text)
        return "".join(filled)


def document_body(consultation: Consultation, document: Document, can_comment: bool,
                  counts: Mapping[tuple[str, int], int]) -> Markup:
    """The rendered body of `document` for one reader, with their comment counts filled in."""
    key = (document.id, document.created_at, consultation.reference, can_comment, request.script_root)
    with _lock:
        body = _bodies.get(key)
        if body is not None:
            _bodies.move_to_end(key)
    if body is None:
        body = _Body(_render(consultation, document, can_comment))
        with _lock:
            _bodies[key] = body
            while len(_bodies) > MAX_BODIES:
                _bodies.popitem(last=False)
    return Markup(body.with_counts(counts))


def preview_body(consultation: Consultation, document: Document) -> Markup:
    """The body of a draft's document as staff preview it: no comment links, and never kept.

    A draft is previewed rarely and replaced often, so its body takes no place among those kept for
    public readers: it can neither push them out nor be served to them, nor one of theirs to staff.
    """
    return Markup(_Body(_render(consultation, document, can_comment=False)).with_counts({}))


def _render(consultation: Consultation, document: Document, can_comment: bool) -> str:
    chapters = db.session.scalars(
        select(Chapter).where(Chapter.document_id == document.id).order_by(Chapter.position)
        .options(selectinload(Chapter.sections))
    ).all()
    return render_template("consultations/_document_body.html", consultation=consultation, document=document,
                           chapters=chapters, can_comment=can_comment)


def counter(counts: Mapping[tuple[str, int], int], kind: str, part_id: int) -> Markup:
    """'You have 2 comments here' for one part of the document, or nothing."""
    count = counts.get((kind, part_id), 0)
    if not count:
        return ""
    plural = "" if count == 1 else "s"
    return Markup(f'<span class="app-comment-count">You have {count} comment{plural} here</span>')


@functools.cache
def _comment_counts_query() -> Select:
    """Built once: composing the statement costs more CPU than running it, on every document page view."""
    part = func.coalesce(Comment.section_id, Comment.chapter_id, Comment.document_id)
    return (select(Comment.target, part, func.count())
            .where(Comment.participation_id == bindparam("participation_id"),
                   Comment.document_id == bindparam("document_id"))
            .group_by(Comment.target, part))


def comment_counts(participation_id: int, document_id: int) -> dict[tuple[str, int], int]:
    """How many of the participant's comments sit on each part of one document, in one grouped query.

    Keys are ("document" | "chapter" | "section", id), as the body's placeholders name them.
    """
    rows = db.session.execute(_comment_counts_query(),
                              {"participation_id": participation_id, "document_id": document_id})
    return {(target.value, part_id): count for target, part_id, count in rows}


def clear() -> None:
    """Forget every body (tests that change templates or rows under a fixed key)."""
    with _lock:
        _bodies.clear()
