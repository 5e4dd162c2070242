"""A stakeholder answers the consultation's questions in a real browser and finds the answers on Your response.

From the document, the Questions tab lists the questions; each is answered
on its own page, the next following on; a missing choice is explained; the
answers then show, and can be filtered to, on Your response, and the submit
page no longer warns about unanswered questions.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import seed_consultation, seed_response, seed_user, sign_in_over_http
from tests.browser.questions import EVIDENCE, IMPACT, seed_questions

pytestmark = pytest.mark.browser

FURTHER = "Two trials published after 2020 are missing from the review."
IMPACT_ANSWER = "Clinics would need an extra session each week."


def test_a_stakeholder_answers_questions_and_sees_them_on_your_response(page, live_server, screenshot):
    seeded = seed_consultation(live_server, "open")
    seed_questions(live_server, seeded)
    email = seed_user(live_server)
    seed_response(live_server, email, seeded, comments=1)
    sign_in_over_http(page.context, email)

    page.goto(seeded.document_path)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Parts of this consultation").get_by_role("link", name="Questions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Questions")
    screenshot(page, "questions")
    with page.expect_navigation():
        page.get_by_role("link", name="Answer to question 1").click()

    expect(page.get_by_text("Question 1 of 2")).to_be_visible()
    page.get_by_label("Further information (optional)").fill(FURTHER)
    with page.expect_navigation():
        page.get_by_role("button", name="Save answer").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    expect(page.get_by_label("Further information (optional)")).to_have_value(FURTHER)  # nothing typed is lost
    page.get_by_role("group", name=EVIDENCE).get_by_label("No", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save answer").click()

    expect(page.get_by_text("Question 2 of 2")).to_be_visible()
    page.get_by_label(IMPACT).fill(IMPACT_ANSWER)
    screenshot(page, "open-question")
    with page.expect_navigation():
        page.get_by_role("button", name="Save answer").click()
    expect(page.get_by_text("Your answer has been saved as a draft.")).to_be_visible()

    page.goto(f"{seeded.path}/response")
    answers = page.locator("#answers + .govuk-summary-list")
    expect(answers).to_contain_text(EVIDENCE)
    expect(answers).to_contain_text("No")
    expect(answers).to_contain_text(FURTHER)
    expect(answers).to_contain_text(IMPACT_ANSWER)
    screenshot(page, "your-response")
    with page.expect_navigation():
        page.get_by_role("link", name="Answers only").click()
    expect(page.get_by_text(IMPACT_ANSWER)).to_be_visible()
    expect(page.get_by_text("The probe description should say how long the freezing takes.")).to_have_count(0)

    page.goto(f"{seeded.path}/response/submit")
    expect(page.locator("#unanswered-questions")).to_have_count(0)
    expect(page.get_by_text(IMPACT_ANSWER)).to_be_visible()
