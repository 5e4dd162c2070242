"""The document page and the response review page cost the same number of queries at any size.

A page whose query count grows with the number of sections or comments (an
N+1: one lazy load per row) is invisible on the two-chapter sample draft and
slow on a 60-section draft with dozens of comments. Each page is requested for
a small and a large consultation, and the statements are counted on the engine.
"""

from collections import Counter

import pytest

from consult.comments import services as comment_services
from consult.database import utcnow
from consult.extensions import db
from tests.query_counting import counted_queries, statement_shape

SMALL, LARGE = 5, 50


def draft_with_sections(count: int) -> str:
    """A Markdown draft with `count` numbered sections, ten to a chapter."""
    lines = [f"# Draft with {count} sections", ""]
    for index in range(count):
        chapter, number = divmod(index, 10)
        if number == 0:
            lines += [f"## {chapter + 1} Chapter {chapter + 1}", "", f"### Topic {chapter + 1}", ""]
        lines += [f"{chapter + 1}.{number + 1} The committee considered point {index + 1} of the evidence.", ""]
    return "\n".join(lines)


@pytest.fixture
def participant_with_comments(make_user, make_consultation, make_participation, login):
    """A signed-in participant with `size` draft comments on a `size`-section consultation.

    The comments cover every kind of target (sections, with and without a quote, a
    chapter, the whole document), so every lazy relationship a page might touch is in play.
    """

    def build(size: int):
        consultation = make_consultation(text=draft_with_sections(size))
        user = make_user()
        participation = make_participation(user, consultation)
        document = consultation.documents[0]
        chapters = list(document.chapters)
        sections = [section for chapter in chapters for section in chapter.sections]
        assert len(sections) == size
        for index, section in enumerate(sections):
            if index % 5 == 3:
                target = comment_services.CommentTargetRef(document=document, chapter=chapters[index % len(chapters)])
            elif index % 5 == 4:
                target = comment_services.CommentTargetRef(document=document)
            else:
                target = comment_services.CommentTargetRef(document=document, chapter=section.chapter,
                                                           section=section)
            quote = section.text.split()[1] if index % 5 == 0 else None
            comment_services.save_draft(participation, target, f"Comment {index + 1}.", quote, utcnow())
        db.session.commit()
        login(user)
        return consultation, document

    return build


def _queries_for(app, client, path: str) -> tuple[list[str], str]:
    """Request a page as a fresh request would run: its own app context, nothing cached from seeding."""
    with app.app_context(), counted_queries() as statements:
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        body = response.get_data(as_text=True)
    return statements, body


def _assert_same_count(small: list[str], large: list[str]) -> None:
    if len(small) == len(large):
        return
    grown = Counter(map(statement_shape, large)) - Counter(map(statement_shape, small))
    repeated = "\n".join(f"  +{times}× {statement[:300]}" for statement, times in grown.most_common())
    pytest.fail(f"{len(small)} queries for {SMALL} sections and comments, {len(large)} for {LARGE}; "
                f"the statements that repeat with size:\n{repeated}")


def test_document_page_queries_do_not_grow_with_sections_or_comments(app, client, participant_with_comments):
    counts = {}
    for size in (SMALL, LARGE):
        consultation, document = participant_with_comments(size)
        statements, body = _queries_for(
            app, client, f"/consultations/{consultation.reference}/documents/{document.id}")
        assert body.count('class="app-section"') == size
        assert "You have 1 comment here" in body
        counts[size] = statements
    _assert_same_count(counts[SMALL], counts[LARGE])


def test_response_review_page_queries_do_not_grow_with_comments(app, client, participant_with_comments):
    counts = {}
    for size in (SMALL, LARGE):
        consultation, _document = participant_with_comments(size)
        statements, body = _queries_for(app, client, f"/consultations/{consultation.reference}/response")
        assert body.count('class="app-comment"') == size
        counts[size] = statements
    _assert_same_count(counts[SMALL], counts[LARGE])


def _selects(statements: list[str]) -> list[str]:
    return [statement for statement in statements if statement.lstrip().upper().startswith("SELECT")]


def test_ordinary_visitors_pay_no_query_for_the_staff_preview(app, client, make_consultation, make_user,
                                                              make_participation, login):
    """Staff may preview a draft, but finding that out must cost a reader of a public page nothing.

    A signed-out visitor reads a page in two queries (the consultation, its documents), a participant
    in three (their account, the consultation with how they take part, their comments), and someone
    who asks for a draft they may not preview is turned away without the draft being looked up.
    """
    consultation = make_consultation()
    held_back = make_consultation()
    held_back.is_draft = True
    db.session.commit()
    pages = [f"/consultations/{consultation.reference}",
             f"/consultations/{consultation.reference}/documents/{consultation.documents[0].id}"]
    drafts = [f"/consultations/{held_back.reference}",
              f"/consultations/{held_back.reference}/documents/{held_back.documents[0].id}"]
    client.get(pages[1])  # the document body is rendered once and kept; readers after the first pay for counts

    def selects_for(path: str, status: int = 200) -> int:
        with app.app_context(), counted_queries() as statements:
            assert client.get(path).status_code == status, path
        return len(_selects(statements))

    assert [selects_for(path) for path in pages] == [2, 2]
    assert [selects_for(path, 404) for path in drafts] == [1, 1]
    user = make_user()
    make_participation(user, consultation)
    login(user)
    assert [selects_for(path) for path in pages] == [3, 3]
    assert [selects_for(path, 404) for path in drafts] == [2, 2]
