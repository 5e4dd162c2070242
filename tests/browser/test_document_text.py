"""A section with a list and bold words, in a real browser: it reads as a list and in bold, and a passage
selected across them is quoted in a comment."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from consult.accounts.services import find_user_by_email
from consult.comments import services as comment_services
from consult.comments.models import Comment, IndividualType, ParticipantKind
from consult.consultations.importing import parse_document
from consult.consultations.services import create_consultation, import_document
from consult.database import utcnow
from consult.extensions import db
from tests.browser.conftest import seed_user, sign_in_over_http, unique

pytestmark = pytest.mark.browser

DRAFT = """# Draft with a list

## 1 Recommendations

1.1 Offer the procedure only when:
- the person has tried **conservative** care
- the team includes a surgeon
"""
SELECTED = "only when: the person has tried conservative care"


def test_a_passage_selected_across_a_list_and_bold_words_is_quoted(page: Page, live_server):
    email = seed_user(live_server)
    with live_server.app_context():
        consultation = create_consultation(unique("BL"), "A draft with a list", "Summary.",
                                           utcnow() - timedelta(days=1), utcnow() + timedelta(days=20))
        document = import_document(consultation, parse_document(DRAFT))
        comment_services.choose_participation(
            find_user_by_email(email), consultation,
            comment_services.ParticipationChoice(kind=ParticipantKind.INDIVIDUAL,
                                                 individual_type=IndividualType.PATIENT_OR_CARER), utcnow())
        db.session.flush()
        path = f"/consultations/{consultation.reference}/documents/{document.id}"
    sign_in_over_http(page.context, email)
    page.goto(path)

    section = page.locator("#section-1-1 [data-section-text]")
    expect(section.get_by_role("listitem")).to_have_text(["the person has tried conservative care",
                                                          "the team includes a surgeon"])
    expect(section.locator("strong")).to_have_text("conservative")
    # From "only" in the paragraph to the end of the first item, across the bold word.
    section.evaluate("""(box) => {
      const lead = box.querySelector("p").firstChild, item = box.querySelector("li");
      window.getSelection().setBaseAndExtent(lead, lead.data.indexOf("only"), item.lastChild,
                                             item.lastChild.data.length);
    }""")
    assert page.evaluate("() => window.getSelection().toString()").split() == SELECTED.split()
    link = page.get_by_role("link", name="Comment on section 1.1", exact=True)
    quoted = re.escape(SELECTED.replace(" ", "+").replace(":", "%3A"))
    expect(link).to_have_attribute("href", re.compile(rf"/comment\?quote={quoted}$"))
    with page.expect_navigation():
        link.click()
    expect(page.get_by_label("Quoted passage (optional)")).to_have_value(SELECTED)
    page.get_by_label("Your comment").fill("Say which conservative care counts.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft comment").click()
    expect(page.get_by_role("alert")).to_contain_text("Your comment has been saved as a draft.")
    with live_server.app_context():
        saved = db.session.query(Comment).filter_by(body="Say which conservative care counts.").one()
        assert saved.quote == SELECTED  # the words as shown, without the list's bullet or the asterisks


def test_back_then_save_again_keeps_one_draft(page: Page, live_server):
    """The browser's Back shows the saved form again, words and all; saving it again is the same form sent
    twice, and the response holds the comment once."""
    email = seed_user(live_server)
    with live_server.app_context():
        consultation = create_consultation(unique("BK"), "A draft to comment on", "Summary.",
                                           utcnow() - timedelta(days=1), utcnow() + timedelta(days=20))
        document = import_document(consultation, parse_document(DRAFT))
        participation = comment_services.choose_participation(
            find_user_by_email(email), consultation,
            comment_services.ParticipationChoice(kind=ParticipantKind.INDIVIDUAL,
                                                 individual_type=IndividualType.PATIENT_OR_CARER), utcnow())
        db.session.flush()
        participation_id = participation.id
        path = f"/consultations/{consultation.reference}/documents/{document.id}/comment"
    sign_in_over_http(page.context, email)
    page.goto(path)
    page.get_by_label("Your comment").fill("Said once, in a browser.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft comment").click()
    expect(page.get_by_text("Your comment has been saved as a draft.", exact=False)).to_be_visible()

    page.go_back()
    expect(page.get_by_label("Your comment")).to_have_value("Said once, in a browser.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft comment").click()

    expect(page.get_by_text("You had already saved this comment as a draft. It is kept once.")).to_be_visible()
    with live_server.app_context():
        bodies = db.session.scalars(db.select(Comment.body).where(Comment.participation_id == participation_id))
        assert list(bodies) == ["Said once, in a browser."]
