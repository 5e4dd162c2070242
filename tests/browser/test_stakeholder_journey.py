"""A stakeholder's whole journey in a real browser: once with a pointer, once with the keyboard alone.

Both runs register, take part on behalf of an organisation (declaring links
with the tobacco industry, one question a page, changing an answer from the
check page), comment on section 2.5 with a quoted passage and
on the whole document, edit one draft, delete another, submit, and read the
receipt. Every control is found by its label or role, as a person (or their
screen reader) finds it. Screenshots of each page go to
test-artifacts/screenshots/<test>/.
"""

import json
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import (
    DOCUMENT_TITLE,
    PASSWORD,
    QUOTE,
    QUOTE_SECTION,
    assert_focus_visible,
    receipt_reference_of,
    seed_consultation,
    tab_to,
    unique,
)
from tests.mail.helpers import latest_outbox_link

pytestmark = pytest.mark.browser

ORGANISATION = "Neuroma Support Network"
TOBACCO_DETAILS = "A 2019 grant from a company owned by a tobacco manufacturer."
SECTION_COMMENT = "Please say how long each freezing cycle lasts."
SECTION_COMMENT_EDITED = "Please say how long each freezing cycle lasts, and how many cycles are usual."
DOCUMENT_COMMENT = "The guidance would benefit from a plain English summary."


class Pointer:
    """A mouse (or touch) user: clicks, fills fields, and selects text by dragging."""

    def __init__(self, page: Page):
        self.page = page

    def activate(self, control: Locator) -> None:
        with self.page.expect_navigation():
            control.click()

    def fill(self, field: Locator, text: str) -> None:
        field.fill(text)

    def choose(self, option: Locator) -> None:
        option.check()

    def comment_on_section_with_quote(self, section: str, phrase: str) -> None:
        """Select words in the section, then follow its "Comment on section" link.

        The selection is made with the mouse: pressed before the phrase's first
        letter, dragged, released after its last. The app (static/js/app.mjs)
        hears `selectionchange` and adds the selected words to the link as
        ?quote=…, which is the only way the quote can reach the form here.
        """
        page = self.page
        link = page.get_by_role("link", name=f"Comment on section {section}", exact=True)
        assert "quote=" not in (link.get_attribute("href") or "")
        paragraph = page.get_by_text(phrase)
        paragraph.scroll_into_view_if_needed()
        ends = paragraph.evaluate("""(element, phrase) => {
          const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const at = node.data.indexOf(phrase);
            if (at < 0) continue;
            const box = (from) => { const r = document.createRange(); r.setStart(node, from);
                                    r.setEnd(node, from + 1); return r.getBoundingClientRect(); };
            const first = box(at), last = box(at + phrase.length - 1);
            return {start: {x: first.left + 1, y: first.top + first.height / 2},
                    end: {x: last.right - 1, y: last.top + last.height / 2}};
          }
          return null;
        }""", phrase)
        assert ends, f"'{phrase}' is not in section {section}"
        page.mouse.move(ends["start"]["x"], ends["start"]["y"])
        page.mouse.down()
        page.mouse.move(ends["end"]["x"], ends["end"]["y"], steps=15)
        page.mouse.up()
        assert page.evaluate("() => window.getSelection().toString()") == phrase
        quoted = re.escape(phrase.replace(" ", "+"))
        expect(link).to_have_attribute("href", re.compile(rf"[?&]quote={quoted}(&|$)"))
        expect(page.get_by_text("Your selected text will be quoted in your comment.")).to_be_visible()
        self.activate(link)
        assert "quote=" in page.url


class KeyboardOnly:
    """A keyboard user: Tab to reach things, Enter and Space to use them, arrows within radios.

    tab_to checks at every stop that focus can be seen.
    """

    def __init__(self, page: Page):
        self.page = page

    def activate(self, control: Locator) -> None:
        tab_to(self.page, control)
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")

    def fill(self, field: Locator, text: str) -> None:
        tab_to(self.page, field)
        self.page.keyboard.press("ControlOrMeta+A")  # replace anything already there
        self.page.keyboard.type(text)
        expect(field).to_have_value(text)

    def choose(self, option: Locator) -> None:
        """Tab into the radio group, then move with the arrow keys (or Space) to the option."""
        group = json.dumps(option.get_attribute("name"))
        tab_to(self.page, f"(el) => el.type === 'radio' && el.name === {group}")
        for _ in range(12):
            if option.evaluate("(el) => el === document.activeElement"):
                if not option.is_checked():
                    self.page.keyboard.press("Space")
                expect(option).to_be_checked()
                return
            self.page.keyboard.press("ArrowDown")
            assert_focus_visible(self.page)
        raise AssertionError(f"the arrow keys never reached {option}")

    def comment_on_section_with_quote(self, section: str, phrase: str) -> None:
        # Selecting text needs a pointer; a keyboard user types (or pastes) the words instead.
        self.activate(self.page.get_by_role("link", name=f"Comment on section {section}", exact=True))
        self.fill(self.page.get_by_label("Quoted passage (optional)"), phrase)


def success_banner(page: Page) -> Locator:
    return page.get_by_role("alert")


def run_journey(page: Page, person, live_server, screenshot) -> None:
    seeded = seed_consultation(live_server)
    email = f"{unique('journey-').lower()}@example.org"
    main = page.get_by_role("main")

    # The list of consultations, then the consultation itself.
    page.goto("/consultations/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultations on draft guidance")
    screenshot(page, "consultation-list")
    person.activate(page.get_by_role("link", name=seeded.title))
    expect(page.get_by_role("heading", level=1)).to_have_text(seeded.title)
    screenshot(page, "consultation")

    # Register; the service brings the new account straight back to the question.
    person.activate(main.get_by_role("link", name="Create an account"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    person.fill(page.get_by_label("Full name"), "Sam Stakeholder")
    person.fill(page.get_by_label("Email address"), email)
    person.fill(page.get_by_label("Create a password"), PASSWORD)
    person.fill(page.get_by_label("Confirm password"), PASSWORD)
    screenshot(page, "register")
    person.activate(page.get_by_role("button", name="Create account"))

    # How are you taking part? One question a page: on behalf of an organisation, with links to the
    # tobacco industry.
    expect(success_banner(page)).to_contain_text("Your account has been created.")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("How are you taking part in this consultation?")
    person.choose(page.get_by_label("On behalf of an organisation"))
    screenshot(page, "take-part")
    person.activate(page.get_by_role("button", name="Continue"))

    expect(heading).to_have_text("The organisation you represent")
    person.fill(page.get_by_label("Organisation name"), ORGANISATION)
    person.choose(page.get_by_role("group", name="Type of organisation").get_by_label("Charity or patient group"))
    screenshot(page, "take-part-organisation")
    person.activate(page.get_by_role("button", name="Continue"))

    expect(heading).to_contain_text("links with, or funding from, the tobacco industry?")
    person.choose(page.get_by_label("Yes", exact=True))
    person.activate(page.get_by_role("button", name="Continue"))
    expect(heading).to_have_text("Give details of the links or funding")
    person.fill(page.get_by_label("Give details of the links or funding"), TOBACCO_DETAILS)
    person.activate(page.get_by_role("button", name="Continue"))

    expect(heading).to_have_text("Do you have any other interests to declare? (optional)")
    person.activate(page.get_by_role("button", name="Continue"))

    # Check the answers (an organisation's comments carry its name: no question about the person's);
    # change one and come straight back; then confirm them.
    expect(heading).to_have_text("Check how you are taking part")
    for answer in ("On behalf of an organisation", ORGANISATION, "Charity or patient group", TOBACCO_DETAILS,
                   "None declared", "Your organisation’s name. Your own name is not published."):
        expect(main.get_by_role("definition").filter(has_text=answer)).to_have_count(1)
    screenshot(page, "check-answers")
    person.activate(main.get_by_role("link", name="Change organisation name"))
    expect(heading).to_have_text("The organisation you represent")
    expect(page.get_by_label("Organisation name")).to_have_value(ORGANISATION)
    person.fill(page.get_by_label("Organisation name"), f"{ORGANISATION} UK")
    person.activate(page.get_by_role("button", name="Continue"))
    expect(heading).to_have_text("Check how you are taking part")
    expect(main.get_by_role("definition").filter(has_text=f"{ORGANISATION} UK")).to_have_count(1)
    person.activate(main.get_by_role("link", name="Change organisation name"))
    person.fill(page.get_by_label("Organisation name"), ORGANISATION)
    person.activate(page.get_by_role("button", name="Continue"))
    person.activate(page.get_by_role("button", name="Confirm and continue"))
    expect(success_banner(page)).to_contain_text("Your answers have been saved.")
    expect(heading).to_have_text(seeded.title)
    expect(main.get_by_text(f"You are taking part on behalf of {ORGANISATION} (charity or patient group).")
           ).to_have_count(1)
    screenshot(page, "consultation-taking-part")

    # The document: select words in section 2.5 and comment on that section, quoting them.
    person.activate(main.get_by_role("link", name=DOCUMENT_TITLE, exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text(DOCUMENT_TITLE)
    screenshot(page, "document")
    person.comment_on_section_with_quote(QUOTE_SECTION, QUOTE)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Comment on section {QUOTE_SECTION}")
    expect(page.get_by_label("Quoted passage (optional)")).to_have_value(QUOTE)
    person.fill(page.get_by_label("Your comment"), SECTION_COMMENT)
    screenshot(page, "comment-on-section")
    person.activate(page.get_by_role("button", name="Save draft comment"))
    expect(success_banner(page)).to_contain_text("Your comment has been saved as a draft.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your response")
    expect(main.get_by_role("blockquote")).to_have_text(QUOTE)
    expect(main.get_by_text(SECTION_COMMENT, exact=True)).to_be_visible()
    screenshot(page, "response-one-draft")

    # A comment on the whole document.
    person.activate(main.get_by_role("link", name="Add a comment"))
    expect(page.get_by_role("heading", level=1)).to_have_text(DOCUMENT_TITLE)
    person.activate(page.get_by_role("link", name="Comment on the whole document"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Comment on the whole document")
    expect(page.get_by_label("Quoted passage (optional)")).to_have_count(0)
    person.fill(page.get_by_label("Your comment"), DOCUMENT_COMMENT)
    screenshot(page, "comment-on-document")
    person.activate(page.get_by_role("button", name="Save draft comment"))
    expect(main.get_by_text(DOCUMENT_COMMENT, exact=True)).to_be_visible()
    screenshot(page, "response-two-drafts")

    # Edit the draft on section 2.5; its quote is kept.
    person.activate(main.get_by_role("link", name=f"Edit comment on Section {QUOTE_SECTION}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit your comment")
    expect(page.get_by_label("Quoted passage (optional)")).to_have_value(QUOTE)
    expect(page.get_by_label("Your comment")).to_have_value(SECTION_COMMENT)
    person.fill(page.get_by_label("Your comment"), SECTION_COMMENT_EDITED)
    screenshot(page, "edit-comment")
    person.activate(page.get_by_role("button", name="Save changes"))
    expect(success_banner(page)).to_contain_text("Your draft comment has been updated.")
    expect(main.get_by_text(SECTION_COMMENT_EDITED, exact=True)).to_be_visible()
    expect(main.get_by_text(SECTION_COMMENT, exact=True)).to_have_count(0)

    # Delete the draft on the whole document, after confirming.
    person.activate(main.get_by_role("link", name="Delete comment on The whole document"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to delete this draft comment?")
    expect(main.get_by_text(DOCUMENT_COMMENT, exact=True)).to_be_visible()
    screenshot(page, "delete-confirmation")
    person.activate(page.get_by_role("button", name="Yes, delete this draft"))
    expect(success_banner(page)).to_contain_text("Your draft comment has been deleted.")
    expect(main.get_by_text(DOCUMENT_COMMENT, exact=True)).to_have_count(0)
    screenshot(page, "response-after-delete")

    # Confirm the email address with the link the service emailed (only a confirmed account can submit).
    response_page = page.url
    page.goto(latest_outbox_link(live_server, email, "verify_email", "/account/verify-email?token="))
    expect(success_banner(page)).to_contain_text(f"Your email address {email} has been confirmed.")
    page.goto(response_page)

    # Submit: a confirmation page, then the submission itself.
    person.activate(main.get_by_role("link", name="Submit your response"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit your response")
    expect(main).to_contain_text("You are about to submit 1 comment.")
    screenshot(page, "submit-confirmation")
    person.activate(page.get_by_role("button", name="Submit your response"))

    # The receipt shows the reference the service stored.
    reference = receipt_reference_of(live_server, email, seeded)
    assert reference and reference.startswith(f"{seeded.reference}-")
    expect(page.get_by_role("heading", level=1)).to_have_text("Response submitted")
    expect(main.get_by_text("Your reference number")).to_be_visible()
    expect(main.get_by_text(reference, exact=True)).to_be_visible()
    expect(main).to_contain_text(f"You took part on behalf of {ORGANISATION} (charity or patient group).")
    expect(main.get_by_role("blockquote")).to_have_text(QUOTE)
    expect(main.get_by_text(SECTION_COMMENT_EDITED, exact=True)).to_be_visible()
    expect(main).to_contain_text(f"Comment number {seeded.reference}-0001")
    expect(main.get_by_text(DOCUMENT_COMMENT, exact=True)).to_have_count(0)
    expect(main.get_by_role("heading", name="Your declaration")).to_be_visible()
    expect(main.get_by_role("definition").filter(has_text=TOBACCO_DETAILS)).to_have_count(1)
    screenshot(page, "receipt")

    # The consultation and its document now say the response is in, and offer nothing to comment with.
    page.goto(seeded.path)
    expect(main).to_contain_text("You submitted your response at")
    expect(main.get_by_role("link", name="View your receipt")).to_have_count(2)
    person.activate(main.get_by_role("link", name=DOCUMENT_TITLE, exact=True))
    expect(main).to_contain_text("You submitted your response at")
    expect(main.get_by_role("link", name=re.compile("^Comment on"))).to_have_count(0)
    expect(main.get_by_text("Open for comments")).to_have_count(0)
    screenshot(page, "document-after-submitting")

    # There is no way to change how you take part: no control offers it, and the address refuses.
    page.goto(seeded.path)
    hrefs = main.get_by_role("link").evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    assert not [href for href in hrefs if "/take-part" in href], hrefs
    expect(main.get_by_role("link", name=re.compile("how you are taking part", re.I))).to_have_count(0)
    expect(main.get_by_role("button")).to_have_count(0)
    for attempt in (f"{seeded.path}/take-part", f"{seeded.path}/take-part/check"):
        page.goto(attempt)
        assert page.url.endswith(seeded.path), f"{attempt} led to {page.url}"
        expect(page.get_by_role("region", name="Important")).to_contain_text(
            f"You are taking part on behalf of {ORGANISATION} (charity or patient group). This cannot be changed.")
    screenshot(page, "take-part-refused")


def test_stakeholder_journey_with_a_pointer(page, live_server, screenshot):
    run_journey(page, Pointer(page), live_server, screenshot)


def test_stakeholder_journey_with_the_keyboard_alone(page, live_server, screenshot):
    run_journey(page, KeyboardOnly(page), live_server, screenshot)
