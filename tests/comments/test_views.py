"""The stakeholder journey through the pages: take part once, comment, review, submit, receipt."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.comments import services
from consult.comments.models import (
    Comment,
    CommentStatus,
    CommentTarget,
    IndividualType,
    ParticipantKind,
    Participation,
)
from consult.consultations.importing import parse_document
from consult.consultations.services import import_document
from consult.database import utcnow
from consult.extensions import db
from consult.questions.models import Question, QuestionKind
from tests.comments.helpers import AS_CHARITY, AS_PATIENT, answer_questions, confirm, shown_on
from tests.conftest import sections_of

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"

CHARITY_STATUS = "You are taking part on behalf of Foot Health Charity (charity or patient group)"
CLOSED_MESSAGE = "This consultation closed and is no longer accepting comments."
SUBMITTED_MESSAGE = "You have already submitted your response to this consultation"


# --- helpers -------------------------------------------------------------------

def text_of(response) -> str:
    return response.get_data(as_text=True)


def main_of(response) -> str:
    page = text_of(response)
    return page[page.index("<main"):page.index("</main>")]


def error_summary_items(page: str) -> list[str]:
    match = re.search(r'class="govuk-error-summary".*?</ul>', page, re.S)
    assert match, "page has no error summary"
    return [html.unescape(item) for item in re.findall(r'<a href="#[^"]*">(.*?)</a>', match.group(0))]


def path(consultation, rest: str = "") -> str:
    return f"/consultations/{consultation.reference}{rest}"


def document_comment_url(consultation) -> str:
    return path(consultation, f"/documents/{consultation.documents[0].id}/comment")


def chapter_comment_url(consultation, number: str) -> str:
    chapter = next(c for c in consultation.documents[0].chapters if c.number == number)
    return path(consultation, f"/chapters/{chapter.id}/comment")


def section_comment_url(consultation, number: str) -> str:
    return path(consultation, f"/sections/{sections_of(consultation)[number].id}/comment")


def page_after(client, response) -> str:
    """The page the person ends up reading: the response itself, or where it redirects."""
    if response.status_code in (301, 302, 303):
        return text_of(client.get(response.headers["Location"], follow_redirects=True))
    return text_of(response)


def add_draft(participation, body: str, section: str | None = None, chapter: str | None = None,
              document=None, quote: str | None = None) -> Comment:
    consultation = participation.consultation
    document = document or consultation.documents[0]
    if section:
        found = next(s for c in document.chapters for s in c.sections if s.number == section)
        target = services.CommentTargetRef(document=document, chapter=found.chapter, section=found)
    elif chapter:
        target = services.CommentTargetRef(
            document=document, chapter=next(c for c in document.chapters if c.number == chapter))
    else:
        target = services.CommentTargetRef(document=document)
    comment = services.save_draft(participation, target, body, quote, utcnow())
    db.session.commit()
    return comment


def close(consultation) -> None:
    consultation.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()


def stored_comment(comment_id: int) -> Comment | None:
    db.session.expire_all()
    return db.session.get(Comment, comment_id)


def stored_participations(user) -> list[Participation]:
    db.session.expire_all()
    return list(db.session.scalars(select(Participation).where(Participation.user_id == user.id)))


@pytest.fixture
def participant(login_as, make_consultation, make_participation):
    """A signed-in stakeholder taking part, as a patient, in an open consultation."""
    consultation = make_consultation()
    participation = make_participation(login_as(), consultation)
    db.session.commit()
    return participation


@pytest.fixture
def signed_in_at(login_as, make_consultation):
    """A signed-in stakeholder who has not yet said how they take part, and the consultation."""
    consultation = make_consultation()
    user = login_as()
    db.session.commit()
    return user, consultation


def answer_and_confirm(client, post_form, consultation, answers: dict):
    return confirm(client, post_form, answer_questions(post_form, path(consultation, "/take-part"), answers))


# --- Taking part, as every page shows it ---------------------------------------

def test_taking_part_is_shown_on_every_page_of_the_consultation(client, post_form, signed_in_at):
    _, consultation = signed_in_at
    answer_and_confirm(client, post_form, consultation, AS_CHARITY)
    for url in (path(consultation), path(consultation, f"/documents/{consultation.documents[0].id}"),
                section_comment_url(consultation, "1.1"), path(consultation, "/response")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert CHARITY_STATUS in text_of(response), url


def test_stakeholder_takes_part_comments_and_submits_through_the_pages(client, post_form, signed_in_at):
    user, consultation = signed_in_at
    confirmed = answer_and_confirm(client, post_form, consultation, AS_CHARITY)
    assert confirmed.status_code == 302
    saved = post_form(section_comment_url(consultation, "2.1"),
                      {"body": "Please say more about the probe.", "quote": "A thin probe"})
    assert saved.status_code == 302
    review = main_of(client.get(saved.headers["Location"]))
    assert "Please say more about the probe." in review and "A thin probe" in review
    submitted = post_form(path(consultation, "/response/submit"))
    assert submitted.status_code == 302
    receipt = main_of(client.get(submitted.headers["Location"]))
    [participation] = stored_participations(user)
    assert "Response submitted" in receipt
    assert participation.receipt_reference in receipt
    # The time is said as every other page says one: "at 4:05pm on 5 December 2026", not "at 16:05".
    assert re.search(r"\bat (\d{1,2}(:\d\d)?[ap]m|midday|midnight) on \d{1,2} \w+ \d{4}\.", receipt)
    assert f"Comment number {consultation.reference}-0001" in receipt
    assert "Please say more about the probe." in receipt
    # The whole declaration the response was sent under.
    declaration = receipt[receipt.index("Your declaration"):receipt.index("Your comments")]
    for answer in ("On behalf of an organisation", "Foot Health Charity", "Charity or patient group",
                   "Links with the tobacco industry", "A grant in 2019", "We sell insoles",
                   "Name published with the comments", "Your organisation’s name. Your own name is not published."):
        assert answer in declaration, answer
    assert "Change" not in declaration


# --- Writing comments ----------------------------------------------------------

@pytest.mark.parametrize("where, kind, label", [
    ("document", CommentTarget.DOCUMENT, "The whole document"),
    ("chapter", CommentTarget.CHAPTER, "Chapter: 2 The procedure"),
    ("section", CommentTarget.SECTION, "Section 2.1"),
])
def test_comment_can_be_saved_on_the_document_a_chapter_or_a_section(client, post_form, participant,
                                                                     where, kind, label):
    consultation = participant.consultation
    url = {"document": document_comment_url(consultation), "chapter": chapter_comment_url(consultation, "2"),
           "section": section_comment_url(consultation, "2.1")}[where]
    response = post_form(url, {"body": "Please explain the gas."})
    assert response.status_code == 302
    assert response.headers["Location"] == path(consultation, "/response")
    [comment] = services.list_comments(participant)
    assert (comment.target, comment.body, comment.status) == (kind, "Please explain the gas.", CommentStatus.DRAFT)
    review = main_of(client.get(path(consultation, "/response")))
    assert label in review and "Please explain the gas." in review


def test_quote_with_different_spacing_is_accepted(post_form, participant):
    consultation = participant.consultation
    response = post_form(section_comment_url(consultation, "2.1"),
                         {"body": "Which gas?", "quote": "cooled\r\n  with   gas"})
    assert response.status_code == 302
    [comment] = services.list_comments(participant)
    assert comment.quote == "cooled with gas"


def test_quote_not_in_section_is_refused_and_body_kept(post_form, participant):
    consultation = participant.consultation
    response = post_form(section_comment_url(consultation, "2.1"),
                         {"body": "My carefully typed comment", "quote": "The procedure can be repeated"})
    assert response.status_code == 200
    page = text_of(response)
    [message] = error_summary_items(page)
    assert "does not appear in section 2.1" in message
    assert re.search(r'<textarea[^>]*name="body"[^>]*>\s*My carefully typed comment</textarea>', page)
    assert services.list_comments(participant) == []


def test_a_missing_comment_and_a_quote_not_in_the_section_are_both_shown_at_once(post_form, participant):
    response = post_form(section_comment_url(participant.consultation, "2.1"),
                         {"body": "", "quote": "The procedure can be repeated"})
    assert response.status_code == 200
    [body, quote] = error_summary_items(text_of(response))
    assert body == "Enter your comment" and "does not appear in section 2.1" in quote
    assert services.list_comments(participant) == []


def test_quote_box_is_offered_only_on_section_comments(client, participant):
    consultation = participant.consultation
    assert 'name="quote"' in text_of(client.get(section_comment_url(consultation, "2.1")))
    assert 'name="quote"' not in text_of(client.get(chapter_comment_url(consultation, "2")))
    assert 'name="quote"' not in text_of(client.get(document_comment_url(consultation)))


@pytest.mark.parametrize("body", ["", "   \r\n  ", "   \u00a0\u200b  "])
def test_empty_comment_is_refused_with_enter_your_comment(post_form, participant, body):
    response = post_form(section_comment_url(participant.consultation, "1.1"), {"body": body})
    assert response.status_code == 200
    assert error_summary_items(text_of(response)) == ["Enter your comment"]
    assert services.list_comments(participant) == []


def test_comment_over_10000_characters_is_refused_with_its_count_and_kept(post_form, participant):
    typed = "word " * 2000 + "x"  # 10,001 characters
    response = post_form(section_comment_url(participant.consultation, "1.1"), {"body": typed})
    assert response.status_code == 200
    page = text_of(response)
    [message] = error_summary_items(page)
    assert "10,000 characters or fewer" in message and "It has 10,001" in message
    assert typed.strip() in page
    assert services.list_comments(participant) == []


def test_comment_of_exactly_10000_characters_is_saved(post_form, participant):
    response = post_form(section_comment_url(participant.consultation, "1.1"), {"body": "y" * 10_000})
    assert response.status_code == 302
    [comment] = services.list_comments(participant)
    assert len(comment.body) == 10_000


MARKUP_DRAFT = f"""# Draft with markup

## 1 Recommendations

1.1 Never run {SCRIPT} in a page.

1.2 A plain section.
"""


def test_markup_in_comments_and_quotes_is_escaped_on_every_page(client, post_form, login_as, make_consultation,
                                                                make_participation):
    consultation = make_consultation(text=MARKUP_DRAFT)
    participation = make_participation(login_as(), consultation)
    db.session.commit()
    comment = add_draft(participation, f"I object to {SCRIPT}", section="1.1", quote=SCRIPT)
    pages = [
        path(consultation, f"/documents/{consultation.documents[0].id}"),
        section_comment_url(consultation, "1.1"),
        path(consultation, "/response"),
        path(consultation, f"/comments/{comment.id}/edit"),
        path(consultation, f"/comments/{comment.id}/delete"),
        path(consultation, "/response/submit"),
    ]
    for url in pages:
        page = text_of(client.get(url))
        assert SCRIPT not in page, url
        assert ESCAPED_SCRIPT in page, url
    assert post_form(path(consultation, "/response/submit")).status_code == 302
    receipt = text_of(client.get(path(consultation, "/response/receipt")))
    assert SCRIPT not in receipt
    assert receipt.count(ESCAPED_SCRIPT) >= 2  # the body and the quote


def test_markup_in_organisation_and_user_names_is_escaped_on_every_page(client, post_form, login_as,
                                                                        make_consultation):
    consultation = make_consultation()
    login_as(name=f"Mallory {SCRIPT}")
    db.session.commit()
    check_url = answer_questions(post_form, path(consultation, "/take-part"),
                                 {**AS_CHARITY, "organisation_name": f"Org {SCRIPT}"})
    check_page = text_of(client.get(check_url))
    confirm(client, post_form, check_url)
    post_form(section_comment_url(consultation, "1.1"), {"body": "A comment."})
    pages = {"check": check_page}
    for url in ("/consultations/", path(consultation), path(consultation, f"/documents/{consultation.documents[0].id}"),
                section_comment_url(consultation, "1.2"), path(consultation, "/response"),
                path(consultation, "/response/submit")):
        pages[url] = text_of(client.get(url))
    post_form(path(consultation, "/response/submit"))
    pages["receipt"] = text_of(client.get(path(consultation, "/response/receipt")))
    for name, page in pages.items():
        assert SCRIPT not in page, name
        assert f"Mallory {ESCAPED_SCRIPT}" in page, name
        if name != "/consultations/":
            assert f"Org {ESCAPED_SCRIPT}" in page, name


# --- Your response: drafts, edit, delete ---------------------------------------

def test_drafts_are_listed_by_document_and_section_in_document_order(client, participant):
    consultation = participant.consultation
    second = import_document(consultation, parse_document("# Second document\n\n## 1 Costs\n\n1.1 Money.\n"))
    db.session.commit()
    written = [
        add_draft(participant, "On the second document", document=second),
        add_draft(participant, "Second thought on 2.2", section="2.2"),
        add_draft(participant, "On chapter 2", chapter="2"),
        add_draft(participant, "First thought on 2.2", section="2.2"),
        add_draft(participant, "On 1.1", section="1.1"),
        add_draft(participant, "On the whole document"),
    ]
    page = main_of(client.get(path(consultation, "/response")))
    page = page[page.index("</nav>"):]  # after the filter, which names every document
    expected = ["Sample draft guidance", "The whole document", "On the whole document",
                "Section 1.1: What we recommend", "On 1.1", "Chapter: 2 The procedure", "On chapter 2",
                "Section 2.2", "Second thought on 2.2", "First thought on 2.2",
                "Second document", "On the second document"]
    positions = [page.index(text) for text in expected]
    assert positions == sorted(positions)
    assert page.count("<h3 class=\"govuk-heading-m\">Section 2.2") == 1
    for comment in written:
        assert path(consultation, f"/comments/{comment.id}/edit") in page
        assert path(consultation, f"/comments/{comment.id}/delete") in page


def test_editing_a_draft_shows_its_text_and_saves_the_change(client, post_form, participant):
    consultation = participant.consultation
    comment = add_draft(participant, "First wording", section="2.1", quote="A thin probe")
    edit_url = path(consultation, f"/comments/{comment.id}/edit")
    form = text_of(client.get(edit_url))
    assert "First wording" in form and "A thin probe" in form
    response = post_form(edit_url, {"body": "Better wording", "quote": "cooled with gas"})
    assert response.status_code == 302
    edited = stored_comment(comment.id)
    assert (edited.body, edited.quote, edited.status) == ("Better wording", "cooled with gas", CommentStatus.DRAFT)
    assert "Better wording" in main_of(client.get(path(consultation, "/response")))


def test_editing_with_a_quote_not_in_the_section_keeps_the_draft_and_the_typed_text(post_form, participant):
    comment = add_draft(participant, "First wording", section="2.1")
    response = post_form(path(participant.consultation, f"/comments/{comment.id}/edit"),
                         {"body": "New wording I typed", "quote": "not in this section"})
    assert response.status_code == 200
    assert "New wording I typed" in text_of(response)
    assert "does not appear in section 2.1" in error_summary_items(text_of(response))[0]
    assert stored_comment(comment.id).body == "First wording"


def test_a_save_from_a_page_opened_before_another_tabs_save_is_refused_and_kept_on_the_page(
        client, post_form, participant):
    """Two tabs on one draft: the later save of the older page once undid the other silently."""
    comment = add_draft(participant, "First wording", section="2.1")
    edit_url = path(participant.consultation, f"/comments/{comment.id}/edit")
    tab_a = re.search(r'name="version"[^>]*value="(\d+)"', text_of(client.get(edit_url))).group(1)
    tab_b = re.search(r'name="version"[^>]*value="(\d+)"', text_of(client.get(edit_url))).group(1)
    assert post_form(edit_url, {"body": "Tab B wording", "quote": "", "version": tab_b}).status_code == 302

    stale = post_form(edit_url, {"body": "Tab A wording", "quote": "", "version": tab_a})

    assert stale.status_code == 409
    page = text_of(stale)
    assert "changed in another tab or window" in error_summary_items(page)[0]
    assert "Tab A wording" in page  # what they typed is not lost
    assert stored_comment(comment.id).body == "Tab B wording"
    newer = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    assert newer != tab_a
    # Saving again from that page is a choice made knowing: it replaces the other tab's words.
    assert post_form(edit_url, {"body": "Tab A wording", "quote": "", "version": newer}).status_code == 302
    assert stored_comment(comment.id).body == "Tab A wording"


@pytest.mark.parametrize("garbled", ["-1", "1e9", "0x10", "junk", "99999999999999999999"])
def test_a_save_with_a_version_no_page_could_show_is_checked_as_out_of_date(client, post_form, participant,
                                                                           garbled):
    comment = add_draft(participant, "First wording", section="2.1")
    edit_url = path(participant.consultation, f"/comments/{comment.id}/edit")

    refused = post_form(edit_url, {"body": "Replacement wording", "quote": "", "version": garbled})

    assert refused.status_code == 409
    assert "Replacement wording" in text_of(refused)
    assert stored_comment(comment.id).body == "First wording"


def test_a_submit_from_a_page_shown_before_another_tab_added_a_draft_is_asked_to_check_again(
        client, post_form, participant):
    consultation = participant.consultation
    add_draft(participant, "On the page")
    submit = path(consultation, "/response/submit")
    seen = shown_on(text_of(client.get(submit)))
    add_draft(participant, "Added in another tab", section="2.1")

    refused = post_form(submit, {"shown": seen})

    assert refused.status_code == 409
    assert "changed after this page was shown" in error_summary_items(text_of(refused))[0]
    assert "Added in another tab" in text_of(refused)
    db.session.expire_all()
    assert not participant.is_submitted
    assert post_form(submit, {"shown": shown_on(text_of(refused))}).status_code == 302


def test_deleting_asks_for_confirmation_before_deleting(client, post_form, participant):
    consultation = participant.consultation
    comment = add_draft(participant, "Regrettable remark")
    delete_url = path(consultation, f"/comments/{comment.id}/delete")
    confirm = client.get(delete_url)
    assert confirm.status_code == 200
    assert "Are you sure you want to delete this draft comment?" in text_of(confirm)
    assert "Regrettable remark" in text_of(confirm)
    assert stored_comment(comment.id) is not None
    response = post_form(delete_url)
    assert response.status_code == 302
    assert stored_comment(comment.id) is None
    assert "Regrettable remark" not in main_of(client.get(path(consultation, "/response")))


def test_a_draft_deleted_in_another_tab_keeps_what_the_first_tab_was_saving(client, post_form, participant):
    consultation = participant.consultation
    comment = add_draft(participant, "First thoughts")
    edit_url, delete_url = (path(consultation, f"/comments/{comment.id}/{action}") for action in ("edit", "delete"))
    editing = text_of(client.get(edit_url))
    assert post_form(delete_url).status_code == 302  # the other tab

    saved = post_form(edit_url, {"body": "Second thoughts, <b>typed</b> at length", "version": shown_version(editing)})
    assert saved.status_code == 404
    page = main_of(saved)
    assert "This draft comment is no longer there" in page and "Your changes have not been saved" in page
    assert "Second thoughts, &lt;b&gt;typed&lt;/b&gt; at length" in page
    assert stored_comment(comment.id) is None

    again = post_form(delete_url)  # the first tab's delete, or the same form sent twice
    assert again.status_code == 404
    assert "It has already been deleted, perhaps in another tab or window." in main_of(again)


def shown_version(page: str) -> str:
    return re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)


def test_a_comment_form_sent_again_after_back_keeps_one_draft(client, post_form, participant):
    consultation = participant.consultation
    section = sections_of(consultation)["2.1"]
    form = path(consultation, f"/sections/{section.id}/comment")
    assert post_form(form, {"body": "Said once", "quote": ""}).status_code == 302

    again = post_form(form, {"body": "Said once", "quote": ""})

    assert again.status_code == 302 and again.headers["Location"].endswith(path(consultation, "/response"))
    assert "You had already saved this comment as a draft. It is kept once." in text_of(
        client.get(again.headers["Location"]))
    assert drafts_of(participant) == ["Said once"]
    # Other words, or the same words on another part, are another comment.
    assert post_form(form, {"body": "Said twice", "quote": ""}).status_code == 302
    other = sections_of(consultation)["2.2"]
    assert post_form(path(consultation, f"/sections/{other.id}/comment"), {"body": "Said once"}).status_code == 302
    assert drafts_of(participant) == ["Said once", "Said once", "Said twice"]


def drafts_of(participation) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(Comment.body).where(Comment.participation_id == participation.id)))


def test_a_user_sees_only_their_own_drafts(client, login, make_user, make_participation, participant):
    consultation = participant.consultation
    add_draft(participant, "Private thoughts")
    assert "Private thoughts" in main_of(client.get(path(consultation, "/response")))
    other = make_user()
    make_participation(other, consultation)
    db.session.commit()
    login(other)
    page = main_of(client.get(path(consultation, "/response")))
    assert "Private thoughts" not in page
    assert "You have not written any comments yet." in page


@pytest.mark.parametrize("method, action", [("get", "edit"), ("post", "edit"), ("get", "delete"), ("post", "delete")])
def test_another_users_comment_is_not_found(client, csrf, login, make_user, make_participation, participant,
                                            method, action):
    consultation = participant.consultation
    comment = add_draft(participant, "Private thoughts")
    intruder = make_user()
    make_participation(intruder, consultation)
    db.session.commit()
    login(intruder)
    url = path(consultation, f"/comments/{comment.id}/{action}")
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": csrf(), "body": "Vandalised"})
    assert response.status_code == 404
    assert "Private thoughts" not in text_of(response)
    kept = stored_comment(comment.id)
    assert kept is not None and kept.body == "Private thoughts"


@pytest.mark.parametrize("rest", ["/documents/999999/comment", "/chapters/999999/comment",
                                  "/sections/999999/comment", "/comments/999999/edit", "/comments/999999/delete",
                                  # Beyond a 32-bit id the databases would refuse even to compare.
                                  "/sections/2147483648/comment", "/comments/99999999999/edit"])
def test_unknown_ids_are_not_found(client, participant, rest):
    assert client.get(path(participant.consultation, rest)).status_code == 404


def test_parts_and_comments_of_another_consultation_are_not_found_under_this_one(client, make_consultation,
                                                                                 make_participation, participant):
    consultation = participant.consultation
    other = make_consultation()
    elsewhere = make_participation(participant.user, other)
    db.session.commit()
    foreign_comment = add_draft(elsewhere, "Said elsewhere")
    for rest in (f"/sections/{sections_of(other)['1.1'].id}/comment",
                 f"/chapters/{other.documents[0].chapters[0].id}/comment",
                 f"/documents/{other.documents[0].id}/comment",
                 f"/comments/{foreign_comment.id}/edit",
                 f"/comments/{foreign_comment.id}/delete"):
        assert client.get(path(consultation, rest)).status_code == 404, rest


# --- Submitting ----------------------------------------------------------------

def test_submit_confirms_then_numbers_every_draft_in_document_order(client, post_form, participant):
    consultation = participant.consultation
    later = add_draft(participant, "On 2.2", section="2.2")
    first = add_draft(participant, "On the whole document")
    middle = add_draft(participant, "On 1.1", section="1.1")
    confirm = client.get(path(consultation, "/response/submit"))
    assert "You are about to submit 3 comments" in text_of(confirm)
    assert all(stored_comment(c.id).status is CommentStatus.DRAFT for c in (first, middle, later))

    response = post_form(path(consultation, "/response/submit"))
    assert response.status_code == 302
    assert response.headers["Location"] == path(consultation, "/response/receipt")
    numbers = [stored_comment(c.id).reference for c in (first, middle, later)]
    ref = consultation.reference
    assert numbers == [f"{ref}-0001", f"{ref}-0002", f"{ref}-0003"]
    assert all(stored_comment(c.id).status is CommentStatus.SUBMITTED for c in (first, middle, later))

    receipt = main_of(client.get(response.headers["Location"]))
    db.session.refresh(participant)
    assert "Response submitted" in receipt
    assert participant.receipt_reference and participant.receipt_reference in receipt
    positions = [receipt.index(f"Comment number {number}") for number in numbers]
    assert positions == sorted(positions)
    assert all(body in receipt for body in ("On 2.2", "On the whole document", "On 1.1"))


def test_a_second_submit_creates_nothing_and_shows_the_same_receipt(client, csrf, participant):
    consultation = participant.consultation
    add_draft(participant, "Only comment")
    token = csrf()
    first = client.post(path(consultation, "/response/submit"), data={"csrf_token": token})
    db.session.refresh(participant)
    receipt = participant.receipt_reference
    replay = client.post(path(consultation, "/response/submit"), data={"csrf_token": token})
    assert replay.status_code == 302
    assert replay.headers["Location"] == first.headers["Location"]
    db.session.expire_all()
    assert participant.receipt_reference == receipt
    assert [(c.number, c.status) for c in services.list_comments(participant)] == [(1, CommentStatus.SUBMITTED)]
    assert participant.consultation.last_comment_number == 1
    assert receipt in text_of(client.get(replay.headers["Location"]))


@pytest.mark.parametrize("arrived_before_the_deadline", [True, False])
def test_a_submission_is_judged_by_when_it_reached_the_service(post_form, participant, arrived_before_the_deadline):
    from consult.operations import ARRIVED_AT_KEY

    consultation = participant.consultation
    add_draft(participant, "Sent at 4:59pm and 59 seconds")
    consultation.late_grace_seconds = 0
    closes_at = consultation.closes_at = utcnow() - timedelta(seconds=2)  # a worker only now gets to it
    db.session.commit()
    arrived = closes_at - timedelta(seconds=1 if arrived_before_the_deadline else -1)

    response = post_form(path(consultation, "/response/submit"),
                         environ_base={ARRIVED_AT_KEY: arrived.timestamp()})

    db.session.refresh(participant)
    if arrived_before_the_deadline:
        assert response.status_code == 302 and participant.is_submitted
        assert abs(participant.submitted_at - arrived) < timedelta(milliseconds=1)
    else:
        assert response.status_code == 409 and "closed" in text_of(response)
        assert not participant.is_submitted


def test_submitting_with_no_drafts_is_refused(client, post_form, participant):
    """Nothing to submit: the response page says so, and no Submit button is offered to be refused."""
    submit = path(participant.consultation, "/response/submit")
    for send in (client.get, post_form):
        response = send(submit)
        assert response.status_code == 302 and response.headers["Location"].endswith(
            path(participant.consultation, "/response"))
        assert "You have no draft comments to submit" in text_of(client.get(response.headers["Location"]))
    db.session.refresh(participant)
    assert participant.submitted_at is None


def _attempt(client, post_form, consultation, action: str, comment: Comment):
    """One attempt to change a response, as the pages would send it."""
    return {
        "new comment form": lambda: client.get(section_comment_url(consultation, "1.2")),
        "new comment": lambda: post_form(section_comment_url(consultation, "1.2"), {"body": "An afterthought"}),
        "edit form": lambda: client.get(path(consultation, f"/comments/{comment.id}/edit")),
        "edit": lambda: post_form(path(consultation, f"/comments/{comment.id}/edit"), {"body": "Changed"}),
        "delete form": lambda: client.get(path(consultation, f"/comments/{comment.id}/delete")),
        "delete": lambda: post_form(path(consultation, f"/comments/{comment.id}/delete")),
        "submit": lambda: post_form(path(consultation, "/response/submit")),
    }[action]()


@pytest.mark.parametrize("action", ["new comment form", "new comment", "edit form", "edit", "delete form", "delete"])
def test_submitted_response_is_read_only(client, post_form, participant, action):
    consultation = participant.consultation
    comment = add_draft(participant, "Final words", section="1.1")
    post_form(path(consultation, "/response/submit"))
    response = _attempt(client, post_form, consultation, action, comment)
    if action in ("new comment", "edit"):
        # Words sent after the submit (from another tab) are not saved, and not dropped: shown back, with why.
        assert response.status_code == 409
        page = text_of(response)
        assert "Your comment has not been saved" in page and SUBMITTED_MESSAGE in page
        assert ("An afterthought" if action == "new comment" else "Changed") in page
        assert "/response/receipt" in page
    else:
        # Every other way in ends on the receipt, which says why: never a form whose button would be refused.
        assert response.status_code == 302 and response.headers["Location"].endswith("/response/receipt")
        page = page_after(client, response)
        assert SUBMITTED_MESSAGE in page and "Are you sure" not in page
    assert [(c.body, c.status) for c in services.list_comments(participant)] == \
        [("Final words", CommentStatus.SUBMITTED)]


@pytest.mark.parametrize("action", ["new comment form", "new comment", "edit", "delete", "submit"])
def test_after_the_close_changes_are_refused_with_409(client, post_form, participant, action):
    consultation = participant.consultation
    comment = add_draft(participant, "Draft before the deadline", section="1.1")
    close(consultation)
    response = _attempt(client, post_form, consultation, action, comment)
    assert response.status_code == 409
    assert CLOSED_MESSAGE in text_of(response)
    assert response.get_data(as_text=True).count('data-module="govuk-error-summary"') <= 1  # never two
    assert "Yes, delete this draft" not in text_of(response)  # no button that would be refused again
    assert [(c.body, c.status) for c in services.list_comments(participant)] == \
        [("Draft before the deadline", CommentStatus.DRAFT)]


def test_after_the_close_the_submit_page_says_so_and_offers_nothing_that_would_be_refused(client, post_form,
                                                                                         participant):
    consultation = participant.consultation
    add_draft(participant, "Draft before the deadline", section="1.1")
    db.session.add(Question(consultation_id=consultation.id, kind=QuestionKind.OPEN, text="Anything else?",
                            position=1))
    close(consultation)
    for response in (client.get(path(consultation, "/response/submit")),
                     post_form(path(consultation, "/response/submit"))):
        assert response.status_code == 409
        page = main_of(response)
        assert "This consultation has closed" in page and CLOSED_MESSAGE in page
        assert "Your draft comments are kept." in page
        assert "<form" not in page and "Answer the questions" not in page
    db.session.refresh(participant)
    assert participant.submitted_at is None


def test_drafts_stay_readable_after_the_close_but_cannot_be_edited(client, participant):
    consultation = participant.consultation
    comment = add_draft(participant, "Draft before the deadline")
    close(consultation)
    response = client.get(path(consultation, "/response"))
    assert response.status_code == 200
    page = main_of(response)
    assert "Draft before the deadline" in page
    assert "cannot be changed or submitted" in page
    assert f"/comments/{comment.id}/edit" not in page
    assert "/response/submit" not in page


def test_nothing_can_be_commented_before_the_consultation_opens(client, post_form, login_as, make_consultation):
    consultation = make_consultation(state="upcoming")
    user = login_as()
    choice = services.ParticipationChoice(kind=ParticipantKind.INDIVIDUAL,
                                          individual_type=IndividualType.RESEARCHER)
    participation = services.choose_participation(user, consultation, choice, consultation.opens_at)
    db.session.commit()
    shown = client.get(section_comment_url(consultation, "1.1"))
    posted = post_form(section_comment_url(consultation, "1.1"), {"body": "Too early"})
    for response in (shown, posted):
        assert response.status_code == 409
        assert "not open for comments yet" in text_of(response)
    assert services.list_comments(participation) == []


# --- Forms sent without a valid CSRF token -------------------------------------

def _hidden_fields(page: str, action: str) -> dict[str, str]:
    """The hidden inputs of the form that posts to `action` (not the header's sign-out form)."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, re.S)
    assert form, f"page has no form posting to {action}"
    return {name: html.unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0), re.S)}


@pytest.mark.parametrize("token", ["missing", "wrong", "stale"])
def test_comment_sent_without_a_valid_token_is_kept_on_the_session_timed_out_page(client, csrf, participant,
                                                                                  token):
    consultation = participant.consultation
    url = section_comment_url(consultation, "2.1")
    typed = f"A long afternoon's comment {SCRIPT}"
    data = {"body": typed, "quote": "A thin probe"}
    if token == "wrong":
        data["csrf_token"] = "not-a-real-token"
    elif token == "stale":
        data["csrf_token"] = csrf()
        with client.session_transaction() as session:  # the session that issued it has gone
            session.pop("csrf_token")
    response = client.post(url, data=data)
    assert response.status_code == 400
    page = text_of(response)
    assert "Your session timed out" in page
    # An earlier send of the same form (a double press) may have worked: the page must not deny it.
    assert "Nothing was saved this time" in page and "what you sent then still stands" in page
    assert SCRIPT not in page
    assert f"A long afternoon&#39;s comment {ESCAPED_SCRIPT}" in page
    assert services.list_comments(participant) == []

    offered = _hidden_fields(page, url)
    assert offered["body"] == typed and offered["quote"] == "A thin probe"
    assert offered["csrf_token"] and offered["csrf_token"] != data.get("csrf_token")
    retried = client.post(url, data=offered)
    assert retried.status_code == 302
    assert [c.body for c in services.list_comments(participant)] == [typed]


@pytest.mark.parametrize("action", ["edit", "delete", "submit"])
def test_posts_without_a_token_change_nothing(client, participant, action):
    consultation = participant.consultation
    comment = add_draft(participant, "Untouched")
    url = {"edit": f"/comments/{comment.id}/edit", "delete": f"/comments/{comment.id}/delete",
           "submit": "/response/submit"}[action]
    response = client.post(path(consultation, url), data={"body": "Changed"})
    assert response.status_code == 400
    assert "Your session timed out" in text_of(response)
    kept = stored_comment(comment.id)
    assert (kept.body, kept.status) == ("Untouched", CommentStatus.DRAFT)
    db.session.refresh(participant)
    assert participant.submitted_at is None


def test_confirming_how_you_take_part_without_a_token_stores_nothing(client, post_form, signed_in_at):
    user, consultation = signed_in_at
    check_url = answer_questions(post_form, path(consultation, "/take-part"), AS_PATIENT)
    response = client.post(check_url)
    assert response.status_code == 400
    assert "Your session timed out" in text_of(response)
    assert stored_participations(user) == []


def test_a_quote_not_in_the_section_is_told_beside_the_quote_and_the_summary_links_there(post_form, participant):
    response = post_form(section_comment_url(participant.consultation, "2.1"),
                         {"body": "My comment", "quote": "Not a passage of this section"})
    page = text_of(response)
    assert re.search(r'<a href="#quote"[^>]*>[^<]*does not appear in section 2\.1', page)
    assert re.search(r'id="quote-error"[^>]*>.*?does not appear in section 2\.1', page, re.S)


# --- The comment form's way back and its word count ----------------------------------

def back_link(page: str) -> str:
    match = re.search(r'<a href="([^"]*)" class="govuk-back-link"', page)
    assert match, "page has no back link"
    return html.unescape(match.group(1))


def test_the_comment_form_goes_back_to_the_part_of_the_document_being_read(client, participant):
    consultation = participant.consultation
    document = path(consultation, f"/documents/{consultation.documents[0].id}")
    assert back_link(text_of(client.get(section_comment_url(consultation, "2.1")))) == f"{document}#section-2-1"
    assert back_link(text_of(client.get(chapter_comment_url(consultation, "2")))) == f"{document}#chapter-2"
    assert back_link(text_of(client.get(document_comment_url(consultation)))) == document


def test_the_comment_form_goes_back_where_the_person_came_from_if_that_is_on_this_site(client, participant):
    consultation = participant.consultation
    review = path(consultation, "/response")
    url = section_comment_url(consultation, "2.1")
    assert back_link(text_of(client.get(f"{url}?next={review}"))) == review
    for outside in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert "evil" not in back_link(text_of(client.get(url, query_string={"next": outside})))
    comment = add_draft(participant, "Draft words", section="1.1")
    edit_link = re.search(r'href="([^"]*/comments/%d/edit[^"]*)"' % comment.id, text_of(client.get(review)))
    assert back_link(text_of(client.get(html.unescape(edit_link.group(1))))) == review


def test_the_comment_form_counts_words_as_well_as_characters(client, post_form, participant):
    url = section_comment_url(participant.consultation, "2.1")
    assert "You have written 0 words" in text_of(client.get(url))
    refused = post_form(url, {"body": "Three short  words", "quote": "Not in this section"})
    page = text_of(refused)
    assert "You have written 3 words" in page
    assert re.search(r"You can enter up to 10,?000 characters", page)
    comment = add_draft(participant, "One", section="1.1")
    assert "You have written 1 word<" in text_of(client.get(path(participant.consultation,
                                                                  f"/comments/{comment.id}/edit")))


@pytest.mark.parametrize("closed", [False, True])
def test_asking_for_a_receipt_before_submitting_says_what_is_true_now(client, participant, closed):
    consultation = participant.consultation
    add_draft(participant, "Only comment")
    if closed:
        close(consultation)
    page = client.get(path(consultation, "/response/receipt"), follow_redirects=True).get_data(as_text=True)
    if closed:
        assert "no response was submitted before the consultation closed" in page
        assert "submit them before the consultation closes" not in page
    else:
        assert "Review your comments and submit them before the consultation closes." in page


@pytest.mark.parametrize("page", ["section comment", "response"])
def test_someone_not_taking_part_in_a_closed_consultation_is_told_it_has_closed_not_to_take_part(
        client, signed_in_at, page):
    """They were sent to 'Tell us how you are taking part … before you comment', above 'this has closed'."""
    _, consultation = signed_in_at
    close(consultation)
    url = section_comment_url(consultation, "2.1") if page == "section comment" else path(consultation, "/response")

    response = client.get(url)

    assert response.status_code == 409
    text = text_of(response)
    assert "closed" in text and "Tell us how you are taking part" not in text
    assert "/take-part" not in response.headers.get("Location", "")
