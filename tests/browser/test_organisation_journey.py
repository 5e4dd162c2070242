"""An organisation's response in a real browser, from the admin marking a lead to the code refused afterwards.

An admin marks a lead; the lead shares the code; two colleagues comment
and answer a question with it, differently, and send to the lead; the lead
is stopped from submitting until they choose one answer, edits a copy and
submits; a third colleague then finds the code refused. Each new page is
checked with axe.
"""

import re

import pytest
from playwright.sync_api import expect

from consult.accounts.models import Role
from consult.accounts.services import find_user_by_email
from tests.browser.conftest import (
    QUOTE_SECTION,
    assert_reflows,
    check_accessibility,
    seed_account,
    seed_consultation,
    seed_user,
    sign_in,
    sign_in_over_http,
    sign_out,
)
from tests.browser.organisations import seed_long_named_organisation
from tests.browser.questions import EVIDENCE, seed_questions

pytestmark = pytest.mark.browser


def _press(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name=name).click()


def _follow(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("link", name=name).click()


def _colleague_comments_and_sends(page, seeded, email: str, code: str, comment: str, question_id: int,
                                  answer: str) -> None:
    sign_in(page, email)
    page.goto(seeded.path)
    _follow(page, "Enter your organisation code")
    page.get_by_label("Enter your organisation code").fill(code)
    _press(page, "Continue")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Are you commenting for Neuroma Aid"))
    check_accessibility(page, "organisation-confirm-code")
    _press(page, "Yes, comment for this organisation")
    page.goto(f"{seeded.path}/sections/{seeded.section_ids[QUOTE_SECTION]}/comment")
    page.get_by_label("Your comment").fill(comment)
    _press(page, "Save draft comment")
    page.goto(f"{seeded.path}/questions/{question_id}")
    page.get_by_role("group", name=EVIDENCE).get_by_label(answer, exact=True).check()
    _press(page, "Save answer")
    page.goto(f"{seeded.path}/organisation")
    _follow(page, "Send your comments and answers to your lead")
    check_accessibility(page, "organisation-send")
    _press(page, "Send to your commenting lead")
    expect(page.get_by_role("main")).to_contain_text(comment)
    sign_out(page)


def test_admin_lead_colleagues_and_one_submission(page, live_server, screenshot):
    seeded = seed_consultation(live_server, "open")
    evidence_question = seed_questions(live_server, seeded)[0]
    admin_email = seed_account(live_server, "Ada Admin", Role.ADMIN)
    lead_email = seed_user(live_server, name="Lena Lead")
    first, second, late = (seed_user(live_server, name=name) for name in ("Cal First", "Dee Second", "Eve Late"))
    with live_server.app_context():
        lead_id = find_user_by_email(lead_email).id

    # The admin marks the lead.
    sign_in(page, admin_email)
    page.goto(f"/admin/users/{lead_id}")
    _follow(page, "Organisation commenting lead")
    page.get_by_label("Organisation name").fill("Neuroma Aid")
    page.get_by_role("group", name="Type of organisation").get_by_label("Charity or patient group").check()
    check_accessibility(page, "organisation-admin-lead")
    _press(page, "Make commenting lead")
    expect(page.get_by_role("alert")).to_contain_text("Lena Lead is now the commenting lead of Neuroma Aid.")
    sign_out(page)

    # The lead shares the code.
    sign_in(page, lead_email)
    page.goto(seeded.path)
    _follow(page, "Your organisation’s response")
    _press(page, "Share with colleagues")
    code = page.locator("#organisation-code").inner_text()
    assert re.fullmatch(r"[1-9]\d{3} \d{4} \d{4}", code), code
    check_accessibility(page, "organisation-hub-lead")
    screenshot(page, "lead-shared-code")
    sign_out(page)

    # Two colleagues comment with it and send to the lead.
    _colleague_comments_and_sends(page, seeded, first, code, "The freezing time should be stated.",
                                  evidence_question, "Yes")
    _colleague_comments_and_sends(page, seeded, second, code, "Mention the risk of nerve damage.",
                                  evidence_question, "No")

    # The lead edits a copy and submits.
    sign_in(page, lead_email)
    page.goto(f"{seeded.path}/organisation")
    _follow(page, "Review your organisation’s response")
    main = page.get_by_role("main")
    expect(main).to_contain_text("The freezing time should be stated.")
    expect(main).to_contain_text(f"From {second}")
    page.get_by_label("Show comments from").select_option(label=second)
    _press(page, "Show")
    expect(main).not_to_contain_text("The freezing time should be stated.")
    check_accessibility(page, "organisation-lead-response")
    page.goto(f"{seeded.path}/organisation/lead/response")
    main.locator(".app-comment").filter(has_text="The freezing time should be stated.").get_by_role(
        "link", name=re.compile("^Edit")).click()
    page.get_by_label("Your comment").fill("The freezing time, in minutes, should be stated.")
    _press(page, "Save changes")
    page.goto(f"{seeded.path}/organisation/lead/response")
    expect(main).to_contain_text("The freezing time, in minutes, should be stated.")
    _follow(page, "Submit your organisation’s response")
    check_accessibility(page, "organisation-lead-submit")
    page.get_by_role("group", name=re.compile("links with, or funding from, the tobacco")).get_by_label(
        "No").check()
    _press(page, "Submit your organisation’s response")
    # The colleagues answered the question differently: the lead chooses before anything is submitted.
    expect(page.get_by_role("main")).to_contain_text("Colleagues gave different answers to question 1")
    page.goto(f"{seeded.path}/organisation/lead/response#answers")
    check_accessibility(page, "organisation-lead-answers")
    _press(page, f"Use this answer from {second} for question 1")
    expect(page.get_by_role("main")).to_contain_text("Your organisation’s answer: No")
    _follow(page, "Submit your organisation’s response")
    page.get_by_role("group", name=re.compile("links with, or funding from, the tobacco")).get_by_label(
        "No").check()
    _press(page, "Submit your organisation’s response")
    expect(page.get_by_role("main")).to_contain_text("The freezing time, in minutes, should be stated.")
    expect(page.get_by_role("main")).to_contain_text("Mention the risk of nerve damage.")
    screenshot(page, "lead-submitted")
    sign_out(page)

    # A colleague who comes later finds the code refused.
    sign_in(page, late)
    page.goto(f"{seeded.path}/organisation/code")
    page.get_by_label("Enter your organisation code").fill(code)
    _press(page, "Continue")
    expect(page.get_by_role("main")).to_contain_text("Your organisation has already responded to this consultation.")
    check_accessibility(page, "organisation-code-refused")


def test_long_names_and_email_addresses_wrap_at_320_css_pixels(page, live_server):
    """WCAG 1.4.10: a 73-character address or a 48-character name with no spaces never widens the page.

    They are shown where nothing else on the page is as long: "Sent by" on the
    organisation page, "From" on the lead's response, the colleagues still to
    send on the lead's submit page, and "Signed in as" in the header.
    """
    seeded = seed_consultation(live_server, "open")
    lead_email, colleague_email = seed_long_named_organisation(live_server, seeded)
    page.set_viewport_size({"width": 320, "height": 720})
    sign_in_over_http(page.context, lead_email)
    for name, path in [("organisation-lead", "/organisation"),
                       ("organisation-lead-response", "/organisation/lead/response"),
                       ("organisation-lead-submit", "/organisation/lead/submit")]:
        page.goto(f"{seeded.path}{path}")
        expect(page.get_by_role("main")).to_contain_text(colleague_email)
        assert_reflows(page, name)
    page.context.clear_cookies()
    sign_in_over_http(page.context, colleague_email)
    page.goto(f"{seeded.path}/organisation")
    expect(page.get_by_role("main")).to_contain_text(f"Sent by {colleague_email}")
    assert_reflows(page, "organisation-colleague")
