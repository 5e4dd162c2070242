"""The document page's body is rendered once per document, and each reader still sees their own page.

The body is kept per process (consult/consultations/document_cache.py); what
differs between readers (their comment counts, and whether they may still
comment) must never leak from one reader's page into another's.
"""

import pytest
from flask import template_rendered

from consult.accounts.models import Role
from consult.comments import services as comment_services
from consult.comments.services import CommentTargetRef
from consult.consultations import document_cache
from consult.consultations.importing import parse_document
from consult.consultations.services import replace_document
from consult.database import utcnow
from consult.extensions import db
from tests.conftest import sections_of


@pytest.fixture(autouse=True)
def fresh_cache():
    document_cache.clear()
    yield
    document_cache.clear()


@pytest.fixture
def bodies_rendered(app):
    """How many times the body template has been rendered since the test began."""
    rendered = []

    def count(_app, template=None, **_extra):
        if template is not None and template.name == "consultations/_document_body.html":
            rendered.append(template.name)

    template_rendered.connect(count, app)
    yield rendered
    template_rendered.disconnect(count, app)


def _page(client, consultation) -> str:
    document = consultation.documents[0]
    response = client.get(f"/consultations/{consultation.reference}/documents/{document.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _draft(participation, consultation, number: str | None = None, chapter: bool = False) -> None:
    document = consultation.documents[0]
    if number:
        section = sections_of(consultation)[number]
        target = CommentTargetRef(document=document, chapter=section.chapter, section=section)
    elif chapter:
        target = CommentTargetRef(document=document, chapter=document.chapters[0])
    else:
        target = CommentTargetRef(document=document)
    comment_services.save_draft(participation, target, "A comment.", None, utcnow())
    db.session.commit()


def test_two_readers_share_one_rendering_but_each_sees_only_their_own_counts(
        client, make_user, make_consultation, make_participation, login, bodies_rendered):
    consultation = make_consultation()
    first, second = make_user(), make_user()
    first_part = make_participation(first, consultation)
    second_part = make_participation(second, consultation)
    _draft(first_part, consultation, "1.1")
    _draft(first_part, consultation, "1.1")
    _draft(first_part, consultation, chapter=True)
    _draft(second_part, consultation, "2.2")
    _draft(second_part, consultation)

    login(first)
    page = _page(client, consultation)
    assert "You have 2 comments here" in page
    assert page.count("You have 1 comment here") == 1  # the chapter
    login(second)
    page = _page(client, consultation)
    assert "You have 2 comments here" not in page
    assert page.count("You have 1 comment here") == 2  # section 2.2 and the whole document
    assert "your-comments:" not in page  # no placeholder is ever sent
    assert len(bodies_rendered) == 1


def test_a_reader_who_has_submitted_gets_no_comment_links_while_others_still_do(
        client, make_user, make_consultation, make_participation, login):
    consultation = make_consultation()
    done, still_writing = make_user(), make_user()
    done_part = make_participation(done, consultation)
    make_participation(still_writing, consultation)
    _draft(done_part, consultation, "1.1")
    comment_services.submit_response(done_part, utcnow())
    db.session.commit()

    login(still_writing)
    assert "Comment on section 1.1" in _page(client, consultation)
    login(done)
    page = _page(client, consultation)
    assert "Comment on section 1.1" not in page
    assert "You have 1 comment here" in page
    login(still_writing)
    assert "Comment on section 1.1" in _page(client, consultation)


def test_a_replaced_draft_is_shown_at_once(client, app, make_consultation, bodies_rendered):
    consultation = make_consultation()
    assert "The committee considered" not in _page(client, consultation)
    replace_document(None, consultation, consultation.documents[0],
                     parse_document("# New draft\n\n## 1 Only chapter\n\n1.1 The committee considered it again.\n"),
                     "new.md")
    db.session.commit()
    db.session.expire_all()
    assert "The committee considered it again." in _page(client, consultation)
    assert len(bodies_rendered) == 2


def test_text_that_looks_like_a_placeholder_is_shown_as_written(client, make_consultation, make_user,
                                                               make_participation, login):
    consultation = make_consultation(text=(
        "# Draft\n\n## 1 Chapter\n\n1.1 Tricky <!--your-comments:section:1--> text.\n"))
    user = make_user()
    participation = make_participation(user, consultation)
    _draft(participation, consultation, "1.1")
    login(user)
    page = _page(client, consultation)
    assert "Tricky &lt;!--your-comments:section:1--&gt; text." in page
    assert page.count("You have 1 comment here") == 1


def test_the_kept_bodies_are_bounded(client, make_consultation, monkeypatch):
    monkeypatch.setattr(document_cache, "MAX_BODIES", 2)
    for _ in range(4):
        _page(client, make_consultation())
    assert len(document_cache._bodies) == 2


PREVIEW_BANNER = "Preview: this consultation is held as a draft and is not visible to the public"


def _hold_back(consultation, is_draft: bool = True) -> None:
    consultation.is_draft = is_draft
    db.session.commit()


def test_the_public_page_kept_for_readers_is_not_what_staff_preview(client, make_consultation, login_as):
    consultation = make_consultation()
    assert "Comment on section 1.1" in _page(client, consultation)  # kept, with its comment links
    _hold_back(consultation)
    login_as(Role.STAFF)
    page = _page(client, consultation)
    assert PREVIEW_BANNER in page
    assert "Comment on" not in page and "/comment" not in page


def test_a_preview_is_never_kept_for_the_public(client, make_consultation, login_as, bodies_rendered):
    """A draft is previewed rarely and replaced often: its body is rendered each time and takes no place
    among the bodies kept for public readers, so it can neither push them out nor be served to them."""
    public = make_consultation()
    _page(client, public)
    consultation = make_consultation()
    _hold_back(consultation)
    login_as(Role.STAFF)
    for _ in range(2):
        assert "The procedure should only be used in research." in _page(client, consultation)
    assert len(bodies_rendered) == 3
    assert len(document_cache._bodies) == 1

    _hold_back(consultation, is_draft=False)
    client.post("/account/sign-out", data={})
    with client.session_transaction() as session:
        session.clear()
    page = _page(client, consultation)
    assert PREVIEW_BANNER not in page
    assert "Comment on section 1.1" in page
