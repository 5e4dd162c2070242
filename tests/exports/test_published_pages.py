"""The public page of published comments, read a page at a time in document order."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.comments import services as comment_services
from consult.comments.models import Comment, IndividualType, OrganisationType
from consult.consultations.models import Consultation
from consult.database import utcnow
from consult.exports import publication
from consult.exports.paging import PAGE_SIZE
from consult.exports.rows import export_comments, in_document_order
from consult.extensions import db
from consult.moderation.states import ModerationState, RejectionReason
from tests.conftest import new_consultation, new_participation, new_user, sections_of, session_on

PER_PERSON = 44
_REFERENCE = re.compile(r'<div class="app-comment" id="([A-Z0-9]+-\d{4})">')
_NEXT = re.compile(r'<div class="govuk-pagination__next">\s*<a class="govuk-link govuk-pagination__link" href="([^"]+)"')
_PREVIOUS = re.compile(
    r'<div class="govuk-pagination__prev">\s*<a class="govuk-link govuk-pagination__link" href="([^"]+)"')
_INDEX_ENTRY = re.compile(r'<li><a class="govuk-link" href="([^"]+)">([^<]+)</a> \((\d+) comments?\)</li>')


# The comments below are built once per module and worker (tests/conftest.py module_database);
# each test runs in a SAVEPOINT of the module's transaction, so what a test changes is rolled back.
pytestmark = pytest.mark.usefixtures("module_database")


@pytest.fixture(scope="module")
def published_world(app, module_database) -> tuple[int, list[int]]:
    """Three people's comments spread over every part of the document, some rejected, then published.

    Plain ids only: each test loads the rows in its own session (many_published).
    """
    with app.app_context(), session_on(module_database):
        consultation = new_consultation(reference="HTE4001")
        sections = list(sections_of(consultation).values())
        document = consultation.documents[0]
        targets = [comment_services.CommentTargetRef(document)] + [
            comment_services.CommentTargetRef(document, section.chapter, section) for section in sections]
        people = [
            (new_user(name="Pat Consenting", email="pat@example.org"),
             {"individual_type": IndividualType.PATIENT_OR_CARER}, True),
            (new_user(name="Hidden Professional", email="hidden@example.org"),
             {"individual_type": IndividualType.HEALTH_PROFESSIONAL}, False),
            (new_user(name="Charity Contact", email="charity@example.org"),
             {"kind": "organisation", "organisation_name": "Neuroma Support",
              "organisation_type": OrganisationType.CHARITY_OR_PATIENT_GROUP}, False),
        ]
        comments = []
        for person, (user, answers, consent) in enumerate(people):
            participation = new_participation(user, consultation, **answers)
            participation.publish_name = consent
            for n in range(PER_PERSON):
                comments.append(comment_services.save_draft(
                    participation, targets[(n * 7 + person) % len(targets)], f"Comment {person}-{n} body", None,
                    utcnow()))
            comment_services.submit_response(participation, utcnow())
        for index, comment in enumerate(comments):
            if index % 9 == 4:
                comment.moderation_state, comment.rejection_reason = ModerationState.REJECTED, RejectionReason.SPAM
            elif index % 11 == 5:
                comment.redacted_body = f"Redacted {comment.body.removesuffix(' body')}"
                comment.moderation_state = ModerationState.REDACTED
            elif index % 13 != 6:  # left untriaged, so not published
                comment.moderation_state = ModerationState.ACCEPTED
        consultation.opens_at = utcnow() - timedelta(days=40)
        consultation.closes_at = utcnow() - timedelta(days=1)
        publication.publish_comments(consultation, new_user(name="Staff Member"), utcnow(),
                                     publication.publication_counts(consultation))
        db.session.commit()
        return consultation.id, [comment.id for comment in comments]


@pytest.fixture
def many_published(app_context, published_world):
    """The module's published consultation and its comments (in the order written), in this test's session."""
    consultation_id, comment_ids = published_world
    by_id = {comment.id: comment for comment in db.session.scalars(select(Comment).where(Comment.id.in_(comment_ids)))}
    return db.session.get(Consultation, consultation_id), [by_id[comment_id] for comment_id in comment_ids]


def _expected(consultation) -> list:
    return list(export_comments(in_document_order(publication.published_comments_query(consultation))))


def _walk(client, path: str, link: re.Pattern) -> list[str]:
    """The pages reached from `path` by following one pager link; the HTML of each."""
    pages = []
    while path:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        pages.append(html)
        found = link.search(html)
        path = found.group(1).replace("&amp;", "&") if found else None
        assert len(pages) < 50, "the pager goes round in circles"
    return pages


def test_every_published_comment_appears_once_in_document_order_across_bounded_pages(client, many_published):
    consultation, _ = many_published
    expected = [item.reference for item in _expected(consultation)]
    assert len(expected) > 2 * PAGE_SIZE

    forward = _walk(client, f"/consultations/{consultation.reference}/published-comments", _NEXT)
    pages = [_REFERENCE.findall(html) for html in forward]
    assert len(pages) == 3
    assert all(0 < len(page) <= PAGE_SIZE for page in pages)
    assert [reference for page in pages for reference in page] == expected
    assert not _PREVIOUS.search(forward[0])

    last = _NEXT.search(forward[-2]).group(1).replace("&amp;", "&")
    backward = _walk(client, last, _PREVIOUS)
    pages = [_REFERENCE.findall(html) for html in reversed(backward)]
    assert all(0 < len(page) <= PAGE_SIZE for page in pages)
    assert [reference for page in pages for reference in page] == expected


def test_every_page_names_people_only_as_they_allowed(client, many_published):
    consultation, comments = many_published
    for html in _walk(client, f"/consultations/{consultation.reference}/published-comments", _NEXT):
        assert "@example.org" not in html
        assert "Hidden Professional" not in html and "Charity Contact" not in html
        for comment in comments:
            if comment.moderation_state is ModerationState.REDACTED:
                assert f">{comment.body}<" not in html
            if comment.moderation_state not in (ModerationState.ACCEPTED, ModerationState.REDACTED):
                assert comment.reference not in html
        assert "Pat Consenting" in html or "Neuroma Support" in html


def test_the_section_index_counts_each_part_and_links_to_its_first_comment(client, many_published):
    consultation, _ = many_published
    expected = _expected(consultation)
    per_part = Counter(item.target_label for item in expected)
    html = client.get(f"/consultations/{consultation.reference}/published-comments").get_data(as_text=True)
    entries = _INDEX_ENTRY.findall(html)
    assert [int(count) for _, _, count in entries] == list(per_part.values())
    assert sum(int(count) for _, _, count in entries) == len(expected)
    for href, label, count in entries:
        first = next(item for item in expected if label.startswith(item.target_label))
        page = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
        assert _REFERENCE.findall(page)[0] == first.reference
        if first.section_number:
            assert label.startswith(f"Section {first.section_number}")


def test_the_kept_page_follows_every_change_made_after_publication(client, make_user, many_published):
    """The page is kept per process, but a decision made after publication reaches it at once, in every
    process: a comment rejected then must not stay public, and the pages agree with the staff counts."""
    consultation, comments = many_published
    path = f"/consultations/{consultation.reference}/published-comments"
    untriaged = next(c for c in comments if c.moderation_state is ModerationState.NEW)
    section_key = f"s{untriaged.section_id}" if untriaged.section_id else f"d{untriaged.document_id}"
    part = _REFERENCE.findall(client.get(f"{path}?part={section_key}").get_data(as_text=True))
    assert untriaged.reference not in part
    untriaged.moderation_state = ModerationState.ACCEPTED
    db.session.commit()
    part = _REFERENCE.findall(client.get(f"{path}?part={section_key}").get_data(as_text=True))
    assert untriaged.reference in part
    untriaged.moderation_state = ModerationState.REJECTED
    untriaged.rejection_reason = RejectionReason.OFFENSIVE
    db.session.commit()
    assert untriaged.reference not in client.get(f"{path}?part={section_key}").get_data(as_text=True)
    assert untriaged.reference not in client.get(path).get_data(as_text=True)
    untriaged.moderation_state = ModerationState.ACCEPTED
    untriaged.rejection_reason = None
    db.session.commit()

    staff = make_user(name="Another Staff Member")
    publication.withdraw_publication(consultation, staff, publication.publication_counts(consultation))
    db.session.commit()
    assert client.get(path).status_code == 404
    publication.publish_comments(consultation, staff, utcnow(), publication.publication_counts(consultation))
    db.session.commit()
    after = client.get(f"{path}?part={section_key}").get_data(as_text=True)
    assert untriaged.reference in after


@pytest.mark.parametrize("query", ["after=abc", "before=abc", "after=99999999999999999999999", "after=%00",
                                   "after=1%002", "before=-1", "part=%00", "after=1&before=2", "after=%C2%B2"])
def test_a_malformed_cursor_is_a_bad_request(client, many_published, query):
    consultation, _ = many_published
    assert client.get(f"/consultations/{consultation.reference}/published-comments?{query}").status_code == 400


@pytest.mark.parametrize("part", ["zzz", "s0", "s999999999999999999999", "d1%20"])
def test_an_unknown_part_is_not_found(client, many_published, part):
    consultation, _ = many_published
    assert client.get(f"/consultations/{consultation.reference}/published-comments?part={part}").status_code == 404


def test_a_cursor_past_the_end_shows_an_empty_page(client, many_published):
    consultation, _ = many_published
    parts = publication.published_parts(consultation)
    response = client.get(f"/consultations/{consultation.reference}/published-comments"
                          f"?part={parts[-1].key}&after=999999999")
    assert response.status_code == 200
    assert not _REFERENCE.findall(response.get_data(as_text=True))


@pytest.fixture
def themed_review(make_user, many_published):
    """Most comments tagged with one theme, and a committee member assigned to review them."""
    from consult.accounts.models import Role
    from consult.consultations.models import CommitteeAssignment
    from consult.moderation.models import CommentTheme, Theme

    consultation, comments = many_published
    staff = make_user(name="Theming Staff")
    theme = Theme(consultation_id=consultation.id, name="Access")
    db.session.add(theme)
    db.session.flush()
    for index, comment in enumerate(comments):
        if index % 4:
            db.session.add(CommentTheme(comment_id=comment.id, theme_id=theme.id, tagged_by_id=staff.id))
    member = make_user(role=Role.COMMITTEE, name="Committee Member")
    db.session.add(CommitteeAssignment(consultation_id=consultation.id, user_id=member.id))
    db.session.commit()
    return consultation, comments, theme, member


def _review_expected(consultation, keep) -> list[str]:
    from consult.comments.models import Comment
    from consult.exports.rows import comments_select, publishable

    query = in_document_order(publishable(comments_select().where(Comment.consultation_id == consultation.id)))
    return [item.reference for item in export_comments(query) if keep(item)]


@pytest.mark.parametrize("drill", ["theme", "large theme", "none", "section"])
def test_drill_downs_read_every_comment_once_in_document_order_a_page_at_a_time(client, login, themed_review,
                                                                                 drill, monkeypatch):
    consultation, comments, theme, member = themed_review
    if drill == "large theme":  # a theme this size is found by probing each comment, not from its tags
        monkeypatch.setattr("consult.exports.review.FEW_IN_THEME", 1)
        drill = "theme"
    login(member)
    by_reference = {comment.reference: comment for comment in comments}
    themed = {comment.reference for index, comment in enumerate(comments) if index % 4}
    busiest = Counter(comment.section_id for comment in comments if comment.section_id).most_common(1)[0][0]
    query, keep = {
        "theme": (f"theme={theme.id}", lambda item: item.reference in themed),
        "none": ("theme=none", lambda item: item.reference not in themed),
        "section": (f"section={busiest}", lambda item: by_reference[item.reference].section_id == busiest),
    }[drill]
    expected = _review_expected(consultation, keep)
    path = f"/staff/consultations/{consultation.reference}/review?{query}"
    heading = re.compile(r'<h3 class="govuk-heading-s govuk-!-margin-bottom-1">([A-Z0-9]+-\d{4}) –')
    forward = _walk(client, path, _NEXT)
    pages = [heading.findall(html) for html in forward]
    assert all(len(page) <= PAGE_SIZE for page in pages)
    assert [reference for page in pages for reference in page] == expected
    if drill == "theme":
        assert len(pages) > 1
        # Back from the last page, part by part, to the first: the same comments in the same order.
        backward = _walk(client, _NEXT.search(forward[-2]).group(1).replace("&amp;", "&"), _PREVIOUS)
        assert [reference for html in reversed(backward) for reference in heading.findall(html)] == expected
    first = client.get(path).get_data(as_text=True)
    assert "Comments per theme" not in first and "Back to all themes" in first  # the counts stay on the review
    for bad in ("after=abc", "after=%00", "before=12345678901", "after=1&before=2"):
        assert client.get(f"{path}&{bad}").status_code == 400, bad
    assert client.get(f"{path}&part=nowhere").status_code == 404
