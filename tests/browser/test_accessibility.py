"""Every kind of page, in its normal and its error states, meets WCAG 2.2 AA as far as a machine can tell.

For each page in PAGES:
- axe-core (WCAG 2.0/2.1/2.2 A and AA rules) finds no serious or critical
  violation, and every radio sits in a fieldset whose legend asks the question;
- at 320 CSS pixels wide (WCAG 1.4.10 reflow) the page never scrolls sideways.
Error states also show GOV.UK's error summary: focused on load, every message a
link to something on the page, and the page title starting "Error:".

Each page state is loaded once and both checks run on that load (page_checks);
each check is still its own test.

To check another page, add one line to PAGES: a name and a function that
takes a Scene and leaves its page showing that page.
"""

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Page, expect

from consult.accounts.models import Role
from consult.accounts.services import find_user_by_email
from consult.admin.account_services import deactivate_user
from consult.consultations.services import ConsultationDetails, details_digest, edit_consultation, find_consultation
from consult.database import utcnow
from consult.moderation.states import ModerationState
from tests.browser.conftest import (
    DESKTOP,
    DOCUMENT_TITLE,
    KEEP_SCREENSHOTS,
    PASSWORD,
    QUOTE,
    QUOTE_SECTION,
    SCREENSHOTS,
    ReviewWorld,
    SeededConsultation,
    assert_reflows,
    capture,
    check_accessibility,
    delete_email,
    moderate,
    new_browser_context,
    new_watched_page,
    problems_message,
    reset_link,
    safe_name,
    save_failure_screenshot,
    seed_account,
    seed_consultation,
    seed_failed_email,
    seed_response,
    seed_review_world,
    seed_submission,
    seed_user,
    sign_in_over_http,
    unique,
    use_up_sign_in_attempts,
    verification_link,
)
from tests.browser.organisations import ORGANISATION_PAGES
from tests.browser.questions import answer_with_words, seed_questions, seed_submitted_answers
from tests.conftest import GUIDANCE_SEED
from tests.liveserver import LiveServer

pytestmark = pytest.mark.browser

TOO_LONG = ("This comment is far too long. " * 334).strip()  # 10,019 characters; the limit is 10,000


@dataclass(frozen=True)
class StaffWorld:
    """For the staff, committee and admin pages: a closed consultation whose comments are moderated,
    themed, answered and published, with its staff member and committee member; an admin; and a
    stakeholder whose role the admin could change."""

    review: ReviewWorld
    admin_email: str
    stakeholder_id: int


@dataclass
class Scene:
    """A fresh page, the module's consultations, and ways to become a signed-in stakeholder;
    `staff` holds the module's world for the staff, committee and admin pages."""

    page: Page
    live_server: LiveServer
    open: SeededConsultation
    closed: SeededConsultation
    staff: StaffWorld | None = None
    # Run after the checks, for a page state that needs something no other page should see.
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def signed_in(self, take_part: bool = True, comments: int = 0, submitted: bool = False,
                  email_verified: bool = True) -> str:
        email = seed_user(self.live_server, email_verified=email_verified)
        if take_part:
            seed_response(self.live_server, email, self.open, comments=comments, submitted=submitted)
        sign_in_over_http(self.page.context, email)
        return email

    def goto(self, path: str, status: int = 200) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == status, (path, response and response.status)

    def send_form(self, path: str, fields: dict) -> None:
        """Send the form on `path` with `fields` (and its CSRF token) through the browser's cookies."""
        from tests.conftest import csrf_token_from

        request = self.page.context.request
        form = request.get(path)
        assert form.ok, (path, form.status)
        sent = request.post(path, form={"csrf_token": csrf_token_from(form.text()), **fields})
        assert sent.ok and "There is a problem" not in sent.text(), (path, sent.status)

    def press(self, button: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button).click()

    def expect_errors(self, *messages: str) -> None:
        summary = self.page.get_by_role("alert").filter(has_text="There is a problem")
        expect(summary).to_be_visible()
        # GOV.UK's error summary takes focus on load, so that it is read out first.
        expect(self.page.locator(".govuk-error-summary")).to_be_focused()
        for message in messages:
            expect(summary.get_by_role("link", name=message)).to_be_visible()
        # Every link in the summary leads to something on the page.
        targets = summary.get_by_role("link").evaluate_all(
            "(links) => links.map((a) => [a.getAttribute('href'), !!document.getElementById(a.hash.slice(1))])")
        assert all(found for _, found in targets), f"error summary links to nothing: {targets}"
        assert self.page.title().startswith("Error: "), self.page.title()

    @property
    def section_comment_path(self) -> str:
        section_id = self.open.section_ids[QUOTE_SECTION]
        return f"{self.open.path}/sections/{section_id}/comment"


# --- The pages ------------------------------------------------------------------

def consultation_list(scene: Scene) -> None:
    scene.goto("/consultations/")


def consultation_signed_out(scene: Scene) -> None:
    scene.goto(scene.open.path)


def consultation_taking_part(scene: Scene) -> None:
    scene.signed_in(comments=2)
    scene.goto(scene.open.path)


def consultation_closed(scene: Scene) -> None:
    scene.goto(scene.closed.path)


def document_page(scene: Scene) -> None:
    scene.signed_in(comments=3)
    scene.goto(scene.open.document_path)


def document_with_selection(scene: Scene) -> None:
    """The document after text is selected: the quote hint appears beside the link."""
    document_page(scene)
    scene.page.get_by_text(QUOTE).evaluate("""(paragraph, phrase) => {
      const node = [...paragraph.childNodes].find((n) => n.nodeType === Node.TEXT_NODE && n.data.includes(phrase));
      const range = document.createRange();
      range.setStart(node, node.data.indexOf(phrase));
      range.setEnd(node, node.data.indexOf(phrase) + phrase.length);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    }""", QUOTE)
    expect(scene.page.get_by_text("Your selected text will be quoted in your comment.")).to_be_visible()


def take_part(scene: Scene) -> None:
    scene.signed_in(take_part=False)
    scene.goto(f"{scene.open.path}/take-part")


# The questions of "How are you taking part?" on behalf of an organisation, each with its answer.
AS_AN_ORGANISATION = [
    ("/take-part", {"kind": "organisation"}),
    ("/take-part/organisation", {"organisation_name": "Neuroma Support Network",
                                 "organisation_type": "charity_or_patient_group"}),
    ("/take-part/tobacco-links", {"has_tobacco_links": "yes"}),
    ("/take-part/tobacco-links/details", {"tobacco_details": "A grant in 2019"}),
    ("/take-part/other-interests", {"other_interests": ""}),
]
AS_AN_INDIVIDUAL = [
    ("/take-part", {"kind": "individual"}),
    ("/take-part/about-you", {"individual_type": "patient_or_carer"}),
    ("/take-part/tobacco-links", {"has_tobacco_links": "no"}),
    ("/take-part/other-interests", {"other_interests": ""}),
]


def take_part_from(scene: Scene, answers: list[tuple[str, dict]], page: str, heading: str) -> None:
    """Signed in, with earlier questions answered by sending their forms, then on `page` in the browser.

    Each answer is sent as the page's own form would send it, through the
    browser's cookies, so the next page is the one a person would reach; the
    journeys in test_stakeholder_journey click through the same pages.
    """
    scene.signed_in(take_part=False)
    for path, fields in answers:
        scene.send_form(f"{scene.open.path}{path}", fields)
    scene.goto(f"{scene.open.path}{page}")
    expect(scene.page.get_by_role("heading", level=1)).to_contain_text(heading)


def take_part_nothing_chosen(scene: Scene) -> None:
    take_part(scene)
    scene.press("Continue")
    scene.expect_errors("Select how you are taking part in this consultation")


def take_part_individual(scene: Scene) -> None:
    take_part_from(scene, [("/take-part", {"kind": "individual"})], "/take-part/about-you",
                   "Which best describes you?")


def take_part_individual_nothing_chosen(scene: Scene) -> None:
    take_part_individual(scene)
    scene.press("Continue")
    scene.expect_errors("Select which best describes you")


def take_part_organisation(scene: Scene) -> None:
    take_part_from(scene, AS_AN_ORGANISATION[:1], "/take-part/organisation", "The organisation you represent")


def take_part_organisation_incomplete(scene: Scene) -> None:
    take_part_organisation(scene)
    scene.press("Continue")
    scene.expect_errors("Enter the name of the organisation", "Select the type of organisation")


def take_part_tobacco(scene: Scene) -> None:
    take_part_from(scene, AS_AN_ORGANISATION[:2], "/take-part/tobacco-links", "the tobacco industry?")


def take_part_tobacco_nothing_chosen(scene: Scene) -> None:
    take_part_tobacco(scene)
    scene.press("Continue")
    scene.expect_errors("Select yes if you have links with, or funding from, the tobacco industry")


def take_part_tobacco_details(scene: Scene) -> None:
    take_part_from(scene, AS_AN_ORGANISATION[:3], "/take-part/tobacco-links/details",
                   "Give details of the links or funding")


def take_part_tobacco_details_empty(scene: Scene) -> None:
    take_part_tobacco_details(scene)
    scene.press("Continue")
    scene.expect_errors("Give details of the links with, or funding from, the tobacco industry")


def take_part_interests(scene: Scene) -> None:
    take_part_from(scene, AS_AN_ORGANISATION[:4], "/take-part/other-interests",
                   "Do you have any other interests to declare? (optional)")


def take_part_interests_too_long(scene: Scene) -> None:
    take_part_interests(scene)
    scene.page.get_by_role("textbox").fill("x" * 2001)
    scene.press("Continue")
    scene.expect_errors("Other interests must be 2,000 characters or fewer")


def take_part_publish_name(scene: Scene) -> None:
    take_part_from(scene, AS_AN_INDIVIDUAL, "/take-part/publish-name",
                   "Can we publish your name with your comments?")


def check_answers(scene: Scene) -> None:
    take_part_from(scene, AS_AN_ORGANISATION, "/take-part/check", "Check how you are taking part")


def consultation_submitted(scene: Scene) -> None:
    scene.signed_in(comments=2, submitted=True)
    scene.goto(scene.open.path)
    expect(scene.page.get_by_role("main")).to_contain_text("You submitted your response at")


def document_submitted(scene: Scene) -> None:
    scene.signed_in(comments=2, submitted=True)
    scene.goto(scene.open.document_path)
    expect(scene.page.get_by_role("main")).to_contain_text("You submitted your response at")


def not_open(scene: Scene) -> None:
    scene.signed_in(take_part=False)
    scene.goto(f"{scene.closed.path}/take-part", status=409)


def comment_form(scene: Scene) -> None:
    scene.signed_in()
    scene.goto(f"{scene.section_comment_path}?quote={QUOTE.replace(' ', '+')}")


def comment_form_empty(scene: Scene) -> None:
    comment_form(scene)
    scene.press("Save draft comment")
    scene.expect_errors("Enter your comment")


def comment_form_too_long(scene: Scene) -> None:
    comment_form(scene)
    scene.page.get_by_label("Your comment").fill(TOO_LONG)
    expect(scene.page.get_by_text("You have 19 characters too many").first).to_be_visible()
    expect(scene.page.locator("#body-word-count")).to_have_text("You have written 2,004 words")
    # and a screen reader hears it once typing pauses
    expect(scene.page.locator("[aria-live=polite]").filter(has_text="You have written 2,004 words")).to_have_count(1)
    scene.press("Save draft comment")
    scene.expect_errors("Your comment must be 10,000 characters or fewer. It has 10,019.")


def sign_in_keeping_a_comment(scene: Scene) -> str:
    """Signed out on another device while writing: the sign-in page shows what was kept; the account's email."""
    from consult.accounts.services import end_all_sessions
    from consult.extensions import db

    email = scene.signed_in()
    scene.goto(f"{scene.section_comment_path}?quote={QUOTE.replace(' ', '+')}")
    with scene.live_server.app_context():
        end_all_sessions(find_user_by_email(email))
        db.session.commit()
    scene.page.get_by_label("Your comment").fill("Written before being signed out elsewhere.")
    with scene.page.expect_navigation():
        scene.page.get_by_role("button", name="Save draft comment").click()
    expect(scene.page.get_by_text("Nothing was saved yet, but we have kept what you sent")).to_be_visible()
    return email


def send_again_after_sign_in(scene: Scene) -> None:
    """Signed in again from that page: what was kept is offered back, to send."""
    email = sign_in_keeping_a_comment(scene)
    scene.page.get_by_label("Email address").fill(email)
    scene.page.get_by_role("textbox", name="Password").fill(PASSWORD)
    scene.press("Sign in")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("Send what you wrote again")


def comment_form_emoji(scene: Scene) -> None:
    # 5,000 emoji are 5,000 characters to the server, as to the count below the box (not 10,000 UTF-16 units).
    comment_form(scene)
    scene.page.get_by_label("Your comment").fill("\U0001F600" * 5000)
    expect(scene.page.get_by_text("You have 5,000 characters remaining").first).to_be_visible()


def comment_form_quote_not_in_section(scene: Scene) -> None:
    comment_form(scene)
    scene.page.get_by_label("Quoted passage (optional)").fill("words that are not in the section")
    scene.page.get_by_label("Your comment").fill("A comment.")
    scene.press("Save draft comment")
    scene.expect_errors(f"The quoted passage does not appear in section {QUOTE_SECTION}. "
                        "Copy the words exactly from the section, or leave the quote empty.")


def edit_comment(scene: Scene) -> None:
    scene.signed_in(comments=1)
    scene.goto(f"{scene.open.path}/response")
    with scene.page.expect_navigation():
        scene.page.get_by_role("link", name=f"Edit comment on Section {QUOTE_SECTION}").click()


def draft_gone(scene: Scene) -> None:
    """The edit of a draft that another tab deleted: what was typed is shown, nothing saved."""
    edit_comment(scene)
    edit_path = scene.page.url
    scene.send_form(edit_path.replace("/edit", "/delete"), {})
    scene.page.get_by_label("Your comment").fill("Typed while the other tab deleted it.")
    with scene.page.expect_navigation():
        scene.page.get_by_role("button", name="Save changes").click()
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("This draft comment is no longer there")


def delete_confirmation(scene: Scene) -> None:
    scene.signed_in(comments=2)
    scene.goto(f"{scene.open.path}/response")
    with scene.page.expect_navigation():
        scene.page.get_by_role("link", name="Delete comment on The whole document").click()
    expect(scene.page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to delete this draft comment?")


def response_review(scene: Scene) -> None:
    scene.signed_in(comments=3)
    scene.goto(f"{scene.open.path}/response")


def response_review_empty(scene: Scene) -> None:
    scene.signed_in(comments=0)
    scene.goto(f"{scene.open.path}/response")


def submit_confirmation(scene: Scene) -> None:
    scene.signed_in(comments=3)
    scene.goto(f"{scene.open.path}/response/submit")


def receipt(scene: Scene) -> None:
    scene.signed_in(comments=3, submitted=True)
    scene.goto(f"{scene.open.path}/response/receipt")


def page_not_found(scene: Scene) -> None:
    scene.goto("/consultations/NO-SUCH-CONSULTATION", status=404)


def session_timed_out(scene: Scene) -> None:
    """The CSRF failure page: a form sent with a security token that is no longer valid."""
    comment_form(scene)
    scene.page.get_by_label("Your comment").fill("Kept for me even though the token was refused.")
    scene.page.get_by_role("main").locator("input[name='csrf_token']").evaluate(
        "(input) => { input.value = 'expired-token'; }")
    scene.press("Save draft comment")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("Your session timed out")
    expect(scene.page.get_by_text("Kept for me even though the token was refused.")).to_be_visible()


def sign_in_page(scene: Scene) -> None:
    scene.goto("/account/sign-in")


def sign_in_empty(scene: Scene) -> None:
    sign_in_page(scene)
    scene.press("Sign in")
    scene.expect_errors("Enter your email address", "Enter your password")


def sign_in_wrong_password(scene: Scene) -> None:
    email = seed_user(scene.live_server)
    sign_in_page(scene)
    scene.page.get_by_label("Email address").fill(email)
    scene.page.get_by_label("Password", exact=True).fill("not the password at all")
    scene.press("Sign in")
    scene.expect_errors("Enter a correct email address and password")


def register(scene: Scene) -> None:
    scene.goto("/account/register")


def register_empty(scene: Scene) -> None:
    register(scene)
    scene.press("Create account")
    scene.expect_errors("Enter your full name", "Enter your email address", "Enter a password",
                        "Confirm your password")


def register_invalid(scene: Scene) -> None:
    register(scene)
    scene.page.get_by_label("Full name").fill("Sam Stakeholder")
    scene.page.get_by_label("Email address").fill("not-an-email-address")
    scene.page.get_by_label("Create a password").fill("short")
    scene.page.get_by_label("Confirm password").fill("different")
    scene.press("Create account")
    scene.expect_errors("Enter an email address in the correct format, like name@example.com",
                        "Password must be between 10 and 200 characters", "Passwords must match")


def change_password(scene: Scene) -> None:
    scene.signed_in(take_part=False)
    scene.goto("/account/password")


def change_password_errors(scene: Scene) -> None:
    change_password(scene)
    scene.page.get_by_label("Current password").fill("this is not my password")
    scene.page.get_by_label("New password", exact=True).fill(PASSWORD + " again")
    scene.page.get_by_label("Confirm new password").fill(PASSWORD + " again")
    scene.press("Change password")
    scene.expect_errors("Your current password is not correct")


def change_password_empty(scene: Scene) -> None:
    change_password(scene)
    scene.press("Change password")
    scene.expect_errors("Enter your current password", "Enter a password", "Confirm your new password")


def sign_in_too_many_attempts(scene: Scene) -> None:
    """The account has had as many failed sign-ins as it may; one more from a new browser is refused (429)."""
    email = seed_user(scene.live_server)
    use_up_sign_in_attempts(scene.live_server, email)
    sign_in_page(scene)
    scene.page.get_by_label("Email address").fill(email)
    scene.page.get_by_label("Password", exact=True).fill("not the password at all")
    with scene.page.expect_navigation() as navigation:
        scene.page.get_by_role("button", name="Sign in").click()
    assert navigation.value.status == 429
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("Too many sign-in attempts")


def forgot_password(scene: Scene) -> None:
    sign_in_page(scene)
    follow(scene, "Forgot your password?")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("Reset your password")


def forgot_password_empty(scene: Scene) -> None:
    forgot_password(scene)
    scene.press("Send the link")
    scene.expect_errors("Enter your email address")


def forgot_password_invalid(scene: Scene) -> None:
    forgot_password(scene)
    scene.page.get_by_label("Email address").fill("not-an-email-address")
    scene.press("Send the link")
    scene.expect_errors("Enter an email address in the correct format, like name@example.com")


def password_reset_sent(scene: Scene) -> None:
    email = seed_user(scene.live_server)
    forgot_password(scene)
    scene.page.get_by_label("Email address").fill(email)
    scene.press("Send the link")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("Check your email")


def reset_password(scene: Scene) -> None:
    scene.goto(reset_link(scene.live_server, seed_user(scene.live_server)))
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("Choose a new password")


def reset_password_not_matching(scene: Scene) -> None:
    reset_password(scene)
    scene.page.get_by_label("New password", exact=True).fill(PASSWORD + " anew")
    scene.page.get_by_label("Confirm new password").fill(PASSWORD + " but different")
    scene.press("Set new password")
    scene.expect_errors("Passwords must match")


def reset_password_too_short(scene: Scene) -> None:
    reset_password(scene)
    scene.page.get_by_label("New password", exact=True).fill("short")
    scene.page.get_by_label("Confirm new password").fill("short")
    scene.press("Set new password")
    scene.expect_errors("Password must be between 10 and 200 characters")


def reset_link_used(scene: Scene) -> None:
    scene.goto(reset_link(scene.live_server, seed_user(scene.live_server), used=True), status=400)
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("You cannot reset your password with this link")


def verify_email_link_not_valid(scene: Scene) -> None:
    scene.goto("/account/verify-email?token=not-a-real-token", status=400)
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("Your email address could not be confirmed")


def email_confirmed(scene: Scene) -> None:
    """Following the link in the email: the list of consultations, saying the address is confirmed."""
    email = seed_user(scene.live_server, email_verified=False)
    scene.goto(verification_link(scene.live_server, email))
    expect(scene.page.get_by_text(f"Your email address {email} has been confirmed.")).to_be_visible()


def send_verification(scene: Scene) -> None:
    scene.signed_in(take_part=False, email_verified=False)
    scene.goto("/account/verify-email/send-again")
    expect(scene.page.get_by_role("button", name="Send the link again")).to_be_visible()


def send_verification_sent(scene: Scene) -> None:
    send_verification(scene)
    scene.press("Send the link again")
    expect(scene.page.get_by_text("We have sent a new link to")).to_be_visible()


def send_verification_already_confirmed(scene: Scene) -> None:
    scene.signed_in(take_part=False)
    scene.goto("/account/verify-email/send-again")
    expect(scene.page.get_by_text("There is nothing more to do.")).to_be_visible()


# --- Your data, and deleting an account --------------------------------------------

def privacy_notice(scene: Scene) -> None:
    scene.goto("/privacy")


def your_data(scene: Scene) -> None:
    scene.signed_in(comments=2)
    scene.goto("/account/your-data")


def your_data_staff(scene: Scene) -> None:
    """Staff cannot delete their own account here; the page says why instead of linking to it."""
    as_staff(scene)
    scene.goto("/account/your-data")
    expect(scene.page.get_by_role("link", name="Delete your account")).to_have_count(0)


def delete_account(scene: Scene) -> None:
    scene.signed_in(comments=1)
    scene.goto("/account/your-data")
    follow(scene, "Delete your account")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("Delete your account")


def delete_account_empty(scene: Scene) -> None:
    delete_account(scene)
    scene.press("Delete your account")
    scene.expect_errors("Enter your password to confirm that you want to delete your account")


def delete_account_wrong_password(scene: Scene) -> None:
    delete_account(scene)
    scene.page.get_by_label("Enter your password to confirm").fill("this is not my password")
    scene.press("Delete your account")
    scene.expect_errors("Your password is not correct")


def account_deleted(scene: Scene) -> None:
    """Shown once, straight after the deletion."""
    delete_account(scene)
    scene.page.get_by_label("Enter your password to confirm").fill(PASSWORD)
    scene.press("Delete your account")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("Your account has been deleted")


# --- Staff, committee and admin pages ----------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # a picture, whatever its name says


def as_staff(scene: Scene) -> ReviewWorld:
    sign_in_over_http(scene.page.context, scene.staff.review.staff_email)
    return scene.staff.review


def as_committee(scene: Scene) -> ReviewWorld:
    sign_in_over_http(scene.page.context, scene.staff.review.committee_email)
    return scene.staff.review


def as_admin(scene: Scene) -> None:
    sign_in_over_http(scene.page.context, scene.staff.admin_email)


def follow(scene: Scene, name: str, role: str = "link") -> None:
    with scene.page.expect_navigation():
        scene.page.get_by_role("main").get_by_role(role, name=name).click()


def comment_path(world: ReviewWorld, number: int, page: str = "") -> str:
    return f"/staff/consultations/{world.reference}/comments/{number}{page}"


def staff_consultations(scene: Scene) -> None:
    as_staff(scene)
    scene.goto("/staff/consultations/")


def new_consultation(scene: Scene) -> None:
    as_staff(scene)
    scene.goto("/staff/consultations/new")


def new_consultation_empty(scene: Scene) -> None:
    new_consultation(scene)
    scene.press("Create consultation")
    scene.expect_errors("Enter a reference", "Enter a title", "Enter the opening date", "Enter the closing date")


def staff_consultation(scene: Scene) -> None:
    world = as_staff(scene)
    scene.goto(f"/staff/consultations/{world.reference}")


def draft_preview(scene: Scene) -> None:
    """A consultation held as a draft, as staff preview the page the public will see once it is made public."""
    seeded = seed_consultation(scene.live_server, "open")
    with scene.live_server.app_context():
        find_consultation(seeded.reference).is_draft = True
    as_staff(scene)
    scene.goto(f"/consultations/{seeded.reference}")
    expect(scene.page.get_by_role("main")).to_contain_text(
        "Preview: this consultation is held as a draft and is not visible to the public")


def draft_document_preview(scene: Scene) -> None:
    draft_preview(scene)
    follow(scene, DOCUMENT_TITLE)
    expect(scene.page.get_by_role("heading", level=1)).to_have_text(DOCUMENT_TITLE)


def edit_consultation_form(scene: Scene) -> None:
    world = as_staff(scene)
    scene.goto(f"/staff/consultations/{world.reference}/edit")


def edit_consultation_errors(scene: Scene) -> None:
    edit_consultation_form(scene)
    scene.page.get_by_label("Title", exact=True).fill("")
    closing = scene.page.get_by_role("group", name="Closing date", exact=True)
    closing.get_by_label("Day").fill("31")
    closing.get_by_label("Month").fill("2")
    scene.press("Save changes")
    scene.expect_errors("Enter a title", "The closing date must be a real date, for example 27 3 2027")


def edit_consultation_conflict(scene: Scene) -> None:
    """Someone else saves new details while this form is open; saving it shows both versions (409)."""
    seeded = seed_consultation(scene.live_server, "open")
    world = as_staff(scene)
    scene.goto(f"/staff/consultations/{seeded.reference}/edit")
    with scene.live_server.app_context():
        consultation = find_consultation(seeded.reference)
        theirs = ConsultationDetails(reference=consultation.reference, title=f"{consultation.title} (revised)",
                                     summary=consultation.summary, opens_at=consultation.opens_at,
                                     closes_at=consultation.closes_at, is_draft=consultation.is_draft)
        edit_consultation(find_user_by_email(world.staff_email), consultation, theirs, consultation.version,
                          details_digest(consultation), utcnow())
    scene.page.get_by_label("Summary (optional)").fill("My own summary of the consultation.")
    with scene.page.expect_navigation() as navigation:
        scene.page.get_by_role("button", name="Save changes").click()
    assert navigation.value.status == 409
    expect(scene.page.get_by_role("heading", name="Your changes were not saved")).to_be_visible()


def close_consultation_check(scene: Scene) -> None:
    """The check before staff close an open consultation now: what closing means, and whom it leaves out."""
    seeded = seed_consultation(scene.live_server, "open")
    seed_response(scene.live_server, seed_user(scene.live_server), seeded, comments=1, submitted=True)
    seed_response(scene.live_server, seed_user(scene.live_server), seeded, comments=2)
    as_staff(scene)
    scene.goto(f"/staff/consultations/{seeded.reference}/close")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to close this consultation now?")


def import_upload(scene: Scene) -> None:
    world = as_staff(scene)
    scene.goto(f"/staff/consultations/{world.reference}/import")


def import_upload_wrong_type(scene: Scene) -> None:
    import_upload(scene)
    scene.page.get_by_label("Upload a file").set_input_files(
        {"name": "draft.txt", "mimeType": "text/plain", "buffer": PNG})
    scene.press("Upload and preview")
    scene.expect_errors("The selected file is a PNG image, not a draft document. Upload a Word document (.docx), "
                        "a plain-text file (.txt) or a Markdown file (.md).")


def import_preview(scene: Scene) -> None:
    import_upload(scene)
    scene.page.get_by_label("Upload a file").set_input_files(str(GUIDANCE_SEED))
    scene.press("Upload and preview")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("Check the draft before importing it")


def queue(scene: Scene) -> None:
    world = as_staff(scene)
    scene.goto(f"/staff/consultations/{world.reference}/comments")


def queue_filtered(scene: Scene) -> None:
    queue(scene)
    scene.page.get_by_label("Moderation state").select_option(label="Accepted")
    scene.page.get_by_label("Theme", exact=True).select_option(label="Evidence")
    scene.press("Apply filters")
    expect(scene.page.get_by_role("main")).to_contain_text("Showing 1 to 1 of 1 comment matching these filters.")


def queue_bad_date(scene: Scene) -> None:
    queue(scene)
    scene.page.get_by_label("Submitted on or after").fill("31/2/2027")
    scene.press("Apply filters")
    scene.expect_errors("Submitted on or after must be a real date, like 27/3/2027")


def staff_comment(scene: Scene) -> None:
    world = as_staff(scene)
    scene.goto(comment_path(world, world.anonymous.number))


def reject_form(scene: Scene) -> None:
    world = as_staff(scene)
    scene.goto(comment_path(world, world.untriaged.number, "/reject"))


def reject_form_no_reason(scene: Scene) -> None:
    reject_form(scene)
    scene.press("Reject comment")
    scene.expect_errors("Select why the comment is rejected")


def redact_form(scene: Scene) -> None:
    world = as_staff(scene)
    scene.goto(comment_path(world, world.organisation.number, "/redact"))  # with its quoted passage


def redact_form_no_reason(scene: Scene) -> None:
    world = as_staff(scene)
    scene.goto(comment_path(world, world.untriaged.number, "/redact"))
    scene.press("Save redaction")
    scene.expect_errors("Select why the comment is redacted")


def response_form(scene: Scene) -> None:
    world = as_staff(scene)
    scene.goto(comment_path(world, world.named.number, "/response"))


def response_form_empty(scene: Scene) -> None:
    response_form(scene)
    scene.page.get_by_label("Response", exact=True).fill("")
    scene.press("Save response")
    scene.expect_errors("Enter the response")


def themes(scene: Scene) -> None:
    world = as_staff(scene)
    scene.goto(f"/staff/consultations/{world.reference}/themes")


def theme_form(scene: Scene) -> None:
    themes(scene)
    follow(scene, "Create a theme", role="button")


def theme_form_duplicate(scene: Scene) -> None:
    theme_form(scene)
    scene.page.get_by_label("Theme name").fill("evidence")
    scene.press("Save theme")
    scene.expect_errors("There is already a theme called ‘Evidence’ in this consultation. "
                        "Choose a different name, or merge the two themes.")


def bulk_confirmation(scene: Scene) -> None:
    world = scene.staff.review
    queue(scene)
    scene.page.get_by_label(f"Select comment {world.untriaged.reference}").check()
    scene.page.get_by_role("group", name="What do you want to do?").get_by_label("Accept").check()
    scene.press("Continue")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("Check before you change 1 comment")


def bulk_without_a_selection(scene: Scene) -> None:
    """Continue with nothing chosen: the summary's link lands on the message above the list, in sight."""
    queue(scene)
    scene.page.get_by_role("group", name="What do you want to do?").get_by_label("Accept").check()
    scene.press("Continue")
    message = "Select at least one comment, or choose all the comments matching the filters"
    scene.expect_errors(message)
    scene.page.locator(".govuk-error-summary").get_by_role("link", name=message).click()
    focused = scene.page.locator("#selected-error")
    expect(focused).to_be_focused()
    expect(focused).to_be_in_viewport()


def moderation_conflict(scene: Scene) -> None:
    """Someone else decides about a comment while this form is open; saving it shows both versions (409)."""
    world = scene.staff.review
    comment = seed_submission(scene.live_server, world.reference, "A comment two people triage at once.")
    as_staff(scene)
    scene.goto(comment_path(world, comment.number, "/reject"))
    moderate(scene.live_server, world.reference, comment.number, world.staff_email, ModerationState.ACCEPTED)
    scene.page.get_by_role("group", name="Why are you rejecting this comment?").get_by_label("Spam").check()
    with scene.page.expect_navigation() as navigation:
        scene.page.get_by_role("button", name="Reject comment").click()
    assert navigation.value.status == 409
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("This comment has changed since you opened it")


def _with_suggestions(scene: Scene) -> ReviewWorld:
    """Staff signed in, with a suggestion, a comment to tag next and a possible topic seeded (removed after)."""
    from consult.analysis.models import SuggestionRun, ThemeSuggestion
    from consult.comments.models import Comment
    from consult.extensions import db

    world = as_staff(scene)
    with scene.live_server.app_context():
        consultation = find_consultation(world.reference)
        comment = db.session.scalar(db.select(Comment).where(Comment.consultation_id == consultation.id,
                                                             Comment.number == world.untriaged.number))
        db.session.add_all([
            ThemeSuggestion(consultation_id=consultation.id, comment_id=comment.id,
                            theme_id=world.themes["Evidence"], confidence=0.82),
            SuggestionRun(consultation_id=consultation.id, next_to_tag=[comment.id], figures={"tagged": 3},
                          topics=[{"phrases": ["probe cost", "theatre"], "comment_ids": [comment.id],
                                   "typical": [comment.id]}])])
        db.session.commit()
        consultation_id = consultation.id

    def remove() -> None:
        with scene.live_server.app_context():
            db.session.execute(db.delete(ThemeSuggestion).where(ThemeSuggestion.consultation_id == consultation_id))
            db.session.execute(db.delete(SuggestionRun).where(SuggestionRun.consultation_id == consultation_id))
            db.session.commit()

    scene.cleanups.append(remove)
    return world


def suggested_themes(scene: Scene) -> None:
    world = _with_suggestions(scene)
    scene.goto(f"/staff/consultations/{world.reference}/suggestions")
    expect(scene.page.get_by_role("button", name=f"Accept the theme Evidence for comment {world.untriaged.reference}")
           ).to_be_visible()


def _decide_suggestions_at(scene: Scene, confidence: str) -> None:
    world = _with_suggestions(scene)
    scene.goto(f"/staff/consultations/{world.reference}/suggestions")
    scene.page.get_by_label("Lowest confidence, as a percentage").last.fill(confidence)
    with scene.page.expect_navigation():
        scene.page.get_by_role("button", name="Decide these suggestions").click()


def suggested_themes_bulk_error(scene: Scene) -> None:
    _decide_suggestions_at(scene, "150")
    scene.expect_errors("Enter a confidence between 0 and 100")


def suggested_themes_bulk_check(scene: Scene) -> None:
    _decide_suggestions_at(scene, "0")
    expect(scene.page.get_by_role("heading", level=1)).to_contain_text("Check before you accept")


def tag_these_next(scene: Scene) -> None:
    world = _with_suggestions(scene)
    scene.goto(f"/staff/consultations/{world.reference}/suggestions/tag-next")


def possible_new_topics(scene: Scene) -> None:
    world = _with_suggestions(scene)
    scene.goto(f"/staff/consultations/{world.reference}/suggestions/new-topics")
    expect(scene.page.get_by_role("heading", level=2, name="probe cost, theatre")).to_be_visible()


def _with_campaign(scene: Scene) -> tuple[ReviewWorld, int]:
    """Staff signed in, with three of the world's comments made one campaign (removed after); its id."""
    from consult.analysis.models import Campaign, CampaignMember, MembershipMethod
    from consult.comments.models import Comment
    from consult.extensions import db

    world = as_staff(scene)
    with scene.live_server.app_context():
        consultation = find_consultation(world.reference)
        numbers = [world.untriaged.number, world.named.number, world.organisation.number]
        comments = db.session.scalars(db.select(Comment).where(Comment.consultation_id == consultation.id,
                                                               Comment.number.in_(numbers))).all()
        campaign = Campaign(consultation_id=consultation.id)
        db.session.add(campaign)
        db.session.flush()
        db.session.add_all([CampaignMember(comment_id=c.id, campaign_id=campaign.id,
                                           method=MembershipMethod.PARAPHRASE if n else MembershipMethod.IDENTICAL,
                                           score={"cosine": 0.41, "overlap": 0.62} if n else {"jaccard": 1.0})
                            for n, c in enumerate(comments)])
        db.session.commit()
        campaign_id = campaign.id

    def remove() -> None:
        with scene.live_server.app_context():
            # One member at a time, through the session, so the consultation's running counts go down with them.
            members = db.select(CampaignMember).where(CampaignMember.campaign_id == campaign_id)
            for member in db.session.scalars(members):
                db.session.delete(member)
            db.session.flush()
            db.session.execute(db.delete(Campaign).where(Campaign.id == campaign_id))
            db.session.commit()

    scene.cleanups.append(remove)
    return world, campaign_id


def campaign_page(scene: Scene) -> None:
    world, campaign_id = _with_campaign(scene)
    scene.goto(f"/staff/consultations/{world.reference}/campaigns/{campaign_id}")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text(f"Campaign {campaign_id}")


def campaign_page_name_too_long(scene: Scene) -> None:
    world, campaign_id = _with_campaign(scene)
    scene.goto(f"/staff/consultations/{world.reference}/campaigns/{campaign_id}")
    scene.page.get_by_label("Campaign name").fill("x" * 201)
    with scene.page.expect_navigation():
        scene.page.get_by_role("button", name="Save the name").click()
    scene.expect_errors("The name must be 200 characters or fewer")


def campaign_list(scene: Scene) -> None:
    world, campaign_id = _with_campaign(scene)
    scene.goto(f"/staff/consultations/{world.reference}/campaigns")


def queue_with_campaign_row(scene: Scene) -> None:
    world, campaign_id = _with_campaign(scene)
    scene.goto(f"/staff/consultations/{world.reference}/comments")
    expect(scene.page.get_by_role("link", name="Campaign: 3 comments (1 identical)")).to_be_visible()


def staff_comment_with_suggestion(scene: Scene) -> None:
    world = _with_suggestions(scene)
    scene.goto(comment_path(world, world.untriaged.number))
    expect(scene.page.get_by_role("button", name="Accept the theme Evidence")).to_be_visible()


def staff_dashboard(scene: Scene) -> None:
    as_staff(scene)
    scene.goto("/staff/")


def queue_searched_and_flagged(scene: Scene) -> None:
    """Search matches marked in the queue, flagged comments only, and the bulk panel above the list."""
    world = as_staff(scene)
    scene.goto(comment_path(world, world.named.number))
    flag = scene.page.get_by_role("button", name="Flag for a second look")
    if flag.count():  # the reflow check runs this again on the same world
        with scene.page.expect_navigation():
            flag.click()
    scene.goto(f"/staff/consultations/{world.reference}/comments?q=quality&flag=yes")
    expect(scene.page.locator("#queue mark").first).to_have_text("quality")


def queue_view_name_missing(scene: Scene) -> None:
    queue(scene)
    scene.press("Save this view")
    scene.expect_errors("Enter a name for this view")


def dashboard_with_saved_view(scene: Scene) -> None:
    world = as_staff(scene)
    scene.goto(f"/staff/consultations/{world.reference}/comments?state=accepted")
    scene.page.get_by_label("Name this view").fill(unique("Accepted "))
    scene.press("Save this view")
    scene.goto("/staff/")
    expect(scene.page.get_by_role("heading", name="Your saved views").first).to_be_visible()


def staff_comment_triage(scene: Scene) -> None:
    """A comment with a note, read by someone else, between its neighbours in a filtered queue."""
    world = scene.staff.review
    comment = seed_submission(scene.live_server, world.reference, "A comment with a note on it.")
    colleague = seed_account(scene.live_server, "Riley Reader", Role.STAFF)
    sign_in_over_http(scene.page.context, colleague)
    scene.goto(comment_path(world, comment.number))
    as_staff(scene)
    scene.goto(comment_path(world, comment.number, "?state=new"))
    scene.page.get_by_label("Note for colleagues").fill("Check this against the 2019 evidence review.")
    scene.press("Save note")
    expect(scene.page.get_by_text("Being read by Riley Reader since")).to_be_visible()
    expect(scene.page.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()


def staff_comment_note_too_long(scene: Scene) -> None:
    staff_comment(scene)
    scene.page.get_by_label("Note for colleagues").fill("x" * 2001)
    scene.press("Save note")
    scene.expect_errors("The note must be 2,000 characters or fewer")


def bulk_confirmation_all_matching(scene: Scene) -> None:
    queue(scene)
    scene.page.get_by_label("Moderation state").select_option(label="Accepted")
    scene.press("Apply filters")
    scene.page.get_by_role("group", name="Which comments?").get_by_label("matching these filters").check()
    scene.page.get_by_role("group", name="What do you want to do?").get_by_label("Add a theme").check()
    scene.page.get_by_label("Theme to add").select_option(label="Evidence")
    scene.press("Continue")
    expect(scene.page.get_by_role("heading", level=1)).to_contain_text("Check before you change")


def committee_dashboard(scene: Scene) -> None:
    as_committee(scene)
    scene.goto("/staff/")


def staff_review(scene: Scene) -> None:
    """The themed review as staff see it: publication controls below the charts."""
    world = as_staff(scene)
    scene.goto(world.review_path)
    expect(scene.page.get_by_role("button", name="Withdraw publication")).to_be_visible()


def publication_withdraw_check(scene: Scene) -> None:
    world = as_staff(scene)
    scene.goto(f"/staff/consultations/{world.reference}/publication/withdraw")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text(
        "Check before you withdraw the published comments")


def committee_review(scene: Scene) -> None:
    """The themed review as the committee reads it: each theme's counts and examples, then the charts."""
    world = as_committee(scene)
    scene.goto(world.review_path)
    expect(scene.page.get_by_role("heading", level=3, name="Evidence", exact=True)).to_be_visible()


def theme_summary_form(scene: Scene) -> None:
    world = as_staff(scene)
    scene.goto(f"/staff/consultations/{world.reference}/review/themes/{world.themes['Evidence']}/summary")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("Summary of the theme ‘Evidence’")


def theme_summary_form_too_long(scene: Scene) -> None:
    theme_summary_form(scene)
    scene.page.get_by_label("Summary for the committee").fill("x" * 2001)
    scene.press("Save summary")
    scene.expect_errors("The summary must be 2,000 characters or fewer")


def committee_review_drill_down(scene: Scene) -> None:
    world = as_committee(scene)
    scene.goto(f"{world.review_path}?theme={world.themes['Evidence']}")
    expect(scene.page.get_by_role("heading", level=2, name="Theme: Evidence")).to_be_visible()


def published_comments(scene: Scene) -> None:
    scene.goto(f"/consultations/{scene.staff.review.reference}/published-comments")


def _prepared_download(scene: Scene, state: str, stalled: bool = False) -> int:
    """A download prepared (or being prepared) for the committee member, as the worker leaves it."""
    from datetime import timedelta
    from pathlib import Path

    from consult.background.models import BackgroundJob, JobState
    from consult.extensions import db

    world = scene.staff.review
    app = scene.live_server.app
    with scene.live_server.app_context():
        consultation = find_consultation(world.reference)
        created = utcnow() - timedelta(seconds=app.config["JOB_PICKUP_SECONDS"] + 5 if stalled else 0)
        job = BackgroundJob(kind="comments.xlsx", consultation_id=consultation.id, state=JobState(state),
                            requested_by_id=find_user_by_email(world.committee_email).id, total=37_000,
                            download_name=f"{world.reference}-comments.xlsx", created_at=created,
                            mimetype="application/octet-stream")
        db.session.add(job)
        db.session.flush()
        if state == "done":
            directory = Path(app.config["DOWNLOADS_DIRECTORY"])
            directory.mkdir(parents=True, exist_ok=True)
            job.file_name, job.done, job.size = f"{job.id}-page.xlsx", 37_000, 4
            (directory / job.file_name).write_bytes(b"PK\x03\x04")
            job.finished_at, job.expires_at = utcnow(), utcnow() + timedelta(hours=1)
        elif state == "failed":
            job.error, job.finished_at = "Something went wrong while preparing it.", utcnow()
        db.session.commit()
        return job.id


def _prepared_download_page(scene: Scene, state: str, stalled: bool = False) -> None:
    """A committee member on the page of a prepared download in `state`."""
    job_id = _prepared_download(scene, state, stalled=stalled)
    as_committee(scene)
    scene.goto(f"/prepared/{job_id}")


def prepared_download_waiting(scene: Scene) -> None:
    """The progress bar a large download waits behind, polled by its script."""
    _prepared_download_page(scene, "queued")
    expect(scene.page.get_by_text("0% (0 of 37,000 rows)")).to_be_visible()


def prepared_download_ready(scene: Scene) -> None:
    _prepared_download_page(scene, "done")
    expect(scene.page.get_by_role("link", name="Download")).to_be_visible()


def prepared_download_stalled(scene: Scene) -> None:
    _prepared_download_page(scene, "queued", stalled=True)
    expect(scene.page.get_by_text("Nothing has started preparing this download yet")).to_be_visible()


def prepared_download_failed(scene: Scene) -> None:
    _prepared_download_page(scene, "failed")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("Your download could not be prepared")


def admin_users(scene: Scene) -> None:
    as_admin(scene)
    scene.goto("/admin/users")


def admin_user(scene: Scene) -> None:
    as_admin(scene)
    scene.goto(f"/admin/users/{scene.staff.stakeholder_id}")


def role_confirmation_stale(scene: Scene) -> None:
    """Another admin changed the role while this check page was open: it comes back with the change as it stands."""
    from consult.admin.services import change_role
    from consult.extensions import db

    as_admin(scene)
    email = seed_account(scene.live_server, "Riley Roles", Role.STAFF)
    with scene.live_server.app_context():
        user_id = find_user_by_email(email).id
    scene.goto(f"/admin/users/{user_id}")
    scene.page.get_by_role("group", name="Change role").get_by_label("Committee member", exact=True).check()
    scene.press("Continue")
    with scene.live_server.app_context():
        change_role(find_user_by_email(email), Role.ADMIN, find_user_by_email(scene.staff.admin_email))
        db.session.commit()
    scene.press("Change role")
    scene.expect_errors("Riley Roles’s role was changed after that page was shown: it is now Admin. Nothing was "
                        "changed. Check what changes now, then confirm again.")


def role_confirmation(scene: Scene) -> None:
    admin_user(scene)
    scene.page.get_by_role("group", name="Change role").get_by_label("Staff", exact=True).check()
    scene.press("Continue")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text(
        "Change Sam Stakeholder’s role from Stakeholder to Staff?")


def admin_user_deactivated(scene: Scene) -> None:
    """A deactivated account: the page offers to reactivate it instead."""
    email = seed_user(scene.live_server, name="Dee Activated")
    with scene.live_server.app_context():
        user = find_user_by_email(email)
        deactivate_user(user, find_user_by_email(scene.staff.admin_email))
        user_id = user.id
    as_admin(scene)
    scene.goto(f"/admin/users/{user_id}")
    expect(scene.page.get_by_role("button", name="Reactivate account")).to_be_visible()


def failed_email_none(scene: Scene) -> None:
    as_admin(scene)
    scene.goto("/admin/mail/failed")
    expect(scene.page.get_by_text("No email has failed.")).to_be_visible()


def failed_email_one(scene: Scene) -> None:
    email_id = seed_failed_email(scene.live_server, seed_user(scene.live_server))
    scene.cleanups.append(lambda: delete_email(scene.live_server, email_id))  # so that the page can be empty
    as_admin(scene)
    scene.goto("/admin/mail/failed")
    expect(scene.page.get_by_role("button", name="Retry the email")).to_have_count(1)


def audit_trail(scene: Scene) -> None:
    as_admin(scene)
    scene.goto("/admin/audit")


def audit_trail_bad_date(scene: Scene) -> None:
    audit_trail(scene)
    since = scene.page.get_by_role("group", name="Date from", exact=True)
    since.get_by_label("Day").fill("31")
    since.get_by_label("Month").fill("2")
    since.get_by_label("Year").fill("2026")
    scene.press("Apply filters")
    scene.expect_errors("Date from must be a real date")



# --- Questions ---------------------------------------------------------------------

def questions_signed_out(scene: Scene) -> None:
    seed_questions(scene.live_server, scene.open)
    scene.goto(f"{scene.open.path}/questions/")
    expect(scene.page.get_by_text("You must be signed in to answer questions")).to_be_visible()


def questions_taking_part(scene: Scene) -> None:
    seed_questions(scene.live_server, scene.open)
    scene.signed_in(comments=1)
    scene.goto(f"{scene.open.path}/questions/")


def answer_yes_no(scene: Scene) -> None:
    first, _ = seed_questions(scene.live_server, scene.open)
    scene.signed_in(comments=1)
    scene.goto(f"{scene.open.path}/questions/{first}")


def answer_yes_no_nothing_chosen(scene: Scene) -> None:
    answer_yes_no(scene)
    scene.press("Save answer")
    scene.expect_errors("Select yes or no")


def answer_open_empty(scene: Scene) -> None:
    _, second = seed_questions(scene.live_server, scene.open)
    scene.signed_in(comments=1)
    scene.goto(f"{scene.open.path}/questions/{second}")
    scene.press("Save answer")
    scene.expect_errors("Enter your answer")


def remove_answer_check(scene: Scene) -> None:
    _, second = seed_questions(scene.live_server, scene.open)
    scene.signed_in(comments=1)
    scene.goto(f"{scene.open.path}/questions/{second}")
    scene.page.get_by_label("What difference would these recommendations make").fill("An answer to take back")
    scene.press("Save answer")
    scene.goto(f"{scene.open.path}/questions/{second}/remove")
    expect(scene.page.get_by_role("heading", name="Are you sure you want to remove your answer?")).to_be_visible()


def questions_printable(scene: Scene) -> None:
    seed_questions(scene.live_server, scene.open)
    scene.goto(f"{scene.open.path}/questions/print")


def response_review_with_answers(scene: Scene) -> None:
    seed_questions(scene.live_server, scene.open)
    scene.signed_in(comments=2)
    scene.goto(f"{scene.open.path}/response")
    expect(scene.page.get_by_role("heading", name="Your answers to questions")).to_be_visible()


def submit_with_unanswered_questions(scene: Scene) -> None:
    seed_questions(scene.live_server, scene.open)
    scene.signed_in(comments=1)
    scene.goto(f"{scene.open.path}/response/submit")
    expect(scene.page.locator("#unanswered-questions")).to_be_visible()


def _upcoming_with_questions(scene: Scene) -> str:
    seeded = seed_consultation(scene.live_server, "upcoming")
    seed_questions(scene.live_server, seeded)
    as_staff(scene)
    return f"/staff/consultations/{seeded.reference}/questions"


def staff_questions(scene: Scene) -> None:
    scene.goto(_upcoming_with_questions(scene) + "/")
    expect(scene.page.get_by_role("button", name="Move down question 1")).to_be_visible()


def staff_questions_opened(scene: Scene) -> None:
    seed_questions(scene.live_server, scene.open)
    as_staff(scene)
    scene.goto(f"/staff/consultations/{scene.open.reference}/questions/")


def staff_question_form(scene: Scene) -> None:
    scene.goto(_upcoming_with_questions(scene) + "/new")


def staff_question_form_empty(scene: Scene) -> None:
    staff_question_form(scene)
    scene.press("Save question")
    scene.expect_errors("Select what kind of question it is", "Enter the question")


def staff_question_remove(scene: Scene) -> None:
    base = _upcoming_with_questions(scene)
    scene.goto(base + "/")
    follow(scene, "Remove question 1")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to remove this question?")


def staff_question_bank(scene: Scene) -> None:
    seed_questions(scene.live_server, scene.open)
    base = _upcoming_with_questions(scene)
    scene.goto(base + "/bank?q=evidence")
    expect(scene.page.get_by_role("button", name="Add this question").first).to_be_visible()


def published_answers(scene: Scene) -> None:
    first, _ = seed_submitted_answers(scene.live_server, scene.staff.review.consultation)
    scene.goto(f"/consultations/{scene.staff.review.reference}/published-answers/{first}")
    expect(scene.page.get_by_text("Two trials published after 2020 are missing.").first).to_be_visible()


def committee_review_with_answers(scene: Scene) -> None:
    seed_submitted_answers(scene.live_server, scene.staff.review.consultation)
    world = as_committee(scene)
    scene.goto(world.review_path)
    expect(scene.page.get_by_role("heading", name="Answers to questions")).to_be_visible()


def _answers_path(scene: Scene) -> tuple[str, int]:
    """Staff's page of the first question's answers on the review consultation, and an answer with words."""
    first, _ = seed_submitted_answers(scene.live_server, scene.staff.review.consultation)
    world = as_staff(scene)
    return (f"/staff/consultations/{world.reference}/questions/{first}/answers",
            answer_with_words(scene.live_server, first))


def staff_answers(scene: Scene) -> None:
    path, _ = _answers_path(scene)
    scene.goto(path + "?show=all")
    expect(scene.page.get_by_text("Two trials published after 2020 are missing.").first).to_be_visible()


def staff_answer_redact(scene: Scene) -> None:
    path, answer_id = _answers_path(scene)
    scene.goto(f"{path}/{answer_id}/redact")
    expect(scene.page.get_by_role("heading", level=1)).to_have_text(f"Redact answer {answer_id}")


def staff_answer_redact_empty(scene: Scene) -> None:
    staff_answer_redact(scene)
    scene.page.get_by_label("Redacted answer").fill("")
    scene.press("Save redaction")
    scene.expect_errors("Select why the answer is redacted")


def staff_answer_withhold_empty(scene: Scene) -> None:
    path, answer_id = _answers_path(scene)
    scene.goto(f"{path}/{answer_id}/withhold")
    scene.press("Withhold answer")
    scene.expect_errors("Select why the answer is withheld")


PAGES: list[tuple[str, Callable[[Scene], None]]] = [
    ("consultation-list", consultation_list),
    ("consultation", consultation_signed_out),
    ("consultation-taking-part", consultation_taking_part),
    ("consultation-closed", consultation_closed),
    ("document", document_page),
    ("document-with-selection", document_with_selection),
    ("take-part", take_part),
    ("take-part-error-nothing-chosen", take_part_nothing_chosen),
    ("take-part-individual", take_part_individual),
    ("take-part-individual-error-nothing-chosen", take_part_individual_nothing_chosen),
    ("take-part-organisation", take_part_organisation),
    ("take-part-error-organisation", take_part_organisation_incomplete),
    ("take-part-tobacco", take_part_tobacco),
    ("take-part-tobacco-error-nothing-chosen", take_part_tobacco_nothing_chosen),
    ("take-part-tobacco-details", take_part_tobacco_details),
    ("take-part-tobacco-details-error-empty", take_part_tobacco_details_empty),
    ("take-part-interests", take_part_interests),
    ("take-part-interests-error-too-long", take_part_interests_too_long),
    ("take-part-publish-name", take_part_publish_name),
    ("check-answers", check_answers),
    ("consultation-submitted", consultation_submitted),
    ("document-submitted", document_submitted),
    ("not-open", not_open),
    ("comment-form", comment_form),
    ("comment-form-error-empty", comment_form_empty),
    ("comment-form-error-too-long", comment_form_too_long),
    ("sign-in-keeping-a-comment", sign_in_keeping_a_comment),
    ("send-again-after-sign-in", send_again_after_sign_in),
    ("comment-form-emoji", comment_form_emoji),
    ("comment-form-error-quote", comment_form_quote_not_in_section),
    ("edit-comment", edit_comment),
    ("delete-confirmation", delete_confirmation),
    ("draft-gone", draft_gone),
    ("response-review", response_review),
    ("response-review-empty", response_review_empty),
    ("submit-confirmation", submit_confirmation),
    ("receipt", receipt),
    ("error-404", page_not_found),
    ("error-session-timed-out", session_timed_out),
    ("sign-in", sign_in_page),
    ("sign-in-error-empty", sign_in_empty),
    ("sign-in-error-wrong-password", sign_in_wrong_password),
    ("register", register),
    ("register-error-empty", register_empty),
    ("register-error-invalid", register_invalid),
    ("change-password", change_password),
    ("change-password-error-empty", change_password_empty),
    ("change-password-error-wrong", change_password_errors),
    ("sign-in-too-many-attempts", sign_in_too_many_attempts),
    # Forgotten passwords and confirming an email address
    ("forgot-password", forgot_password),
    ("forgot-password-error-empty", forgot_password_empty),
    ("forgot-password-error-invalid", forgot_password_invalid),
    ("password-reset-sent", password_reset_sent),
    ("reset-password", reset_password),
    ("reset-password-error-not-matching", reset_password_not_matching),
    ("reset-password-error-too-short", reset_password_too_short),
    ("reset-link-used", reset_link_used),
    ("verify-email-link-not-valid", verify_email_link_not_valid),
    ("email-confirmed", email_confirmed),
    ("send-verification", send_verification),
    ("send-verification-sent", send_verification_sent),
    ("send-verification-already-confirmed", send_verification_already_confirmed),
    # Privacy: the notice, your data, deleting an account
    ("privacy-notice", privacy_notice),
    ("your-data", your_data),
    ("your-data-staff", your_data_staff),
    ("delete-account", delete_account),
    ("delete-account-error-empty", delete_account_empty),
    ("delete-account-error-wrong-password", delete_account_wrong_password),
    ("account-deleted", account_deleted),
    # Staff: building consultations
    ("staff-consultations", staff_consultations),
    ("staff-new-consultation", new_consultation),
    ("staff-new-consultation-error-empty", new_consultation_empty),
    ("staff-consultation", staff_consultation),
    ("staff-draft-preview", draft_preview),
    ("staff-draft-document-preview", draft_document_preview),
    ("staff-edit-consultation", edit_consultation_form),
    ("staff-edit-consultation-error", edit_consultation_errors),
    ("staff-edit-consultation-conflict", edit_consultation_conflict),
    ("staff-close-consultation-check", close_consultation_check),
    ("staff-import-upload", import_upload),
    ("staff-import-upload-error-file-type", import_upload_wrong_type),
    ("staff-import-preview", import_preview),
    # Staff: triage, themes and responses
    ("staff-dashboard", staff_dashboard),
    ("triage-queue-filtered", queue_filtered),
    ("triage-queue-error-date", queue_bad_date),
    ("staff-comment", staff_comment),
    ("reject-form", reject_form),
    ("reject-form-error-no-reason", reject_form_no_reason),
    ("redact-form", redact_form),
    ("redact-form-error-no-reason", redact_form_no_reason),
    ("response-form", response_form),
    ("response-form-error-empty", response_form_empty),
    ("themes", themes),
    ("theme-form", theme_form),
    ("theme-form-error-duplicate", theme_form_duplicate),
    ("suggested-themes", suggested_themes),
    ("suggested-themes-error-bulk", suggested_themes_bulk_error),
    ("suggested-themes-bulk-check", suggested_themes_bulk_check),
    ("tag-these-next", tag_these_next),
    ("possible-new-topics", possible_new_topics),
    ("staff-comment-with-suggestion", staff_comment_with_suggestion),
    ("campaign", campaign_page),
    ("campaign-error-name-too-long", campaign_page_name_too_long),
    ("campaigns", campaign_list),
    ("triage-queue-campaign-row", queue_with_campaign_row),
    ("bulk-confirmation", bulk_confirmation),
    ("bulk-error-no-selection", bulk_without_a_selection),
    ("bulk-confirmation-all-matching", bulk_confirmation_all_matching),
    ("triage-queue-searched-flagged", queue_searched_and_flagged),
    ("triage-queue-error-view-name", queue_view_name_missing),
    ("staff-dashboard-saved-view", dashboard_with_saved_view),
    ("staff-comment-triage", staff_comment_triage),
    ("staff-comment-error-note", staff_comment_note_too_long),
    ("moderation-conflict", moderation_conflict),
    # Committee, publication and the public
    ("committee-dashboard", committee_dashboard),
    ("committee-review", committee_review),
    ("committee-review-drill-down", committee_review_drill_down),
    ("theme-summary-form", theme_summary_form),
    ("theme-summary-form-error-too-long", theme_summary_form_too_long),
    ("staff-review-published", staff_review),
    ("publication-withdraw-check", publication_withdraw_check),
    ("published-comments", published_comments),
    ("prepared-download-waiting", prepared_download_waiting),
    ("prepared-download-ready", prepared_download_ready),
    ("prepared-download-stalled", prepared_download_stalled),
    ("prepared-download-failed", prepared_download_failed),
    # Admin
    ("admin-users", admin_users),
    ("admin-user", admin_user),
    ("admin-role-confirmation", role_confirmation),
    ("admin-role-confirmation-stale", role_confirmation_stale),
    ("admin-user-deactivated", admin_user_deactivated),
    ("admin-failed-email-none", failed_email_none),
    ("admin-failed-email-one", failed_email_one),
    ("audit-trail", audit_trail),
    ("audit-trail-error-date", audit_trail_bad_date),
    # Organisation responses: codes, colleagues and leads
    *ORGANISATION_PAGES,
    # Questions
    ("questions-signed-out", questions_signed_out),
    ("questions-taking-part", questions_taking_part),
    ("answer-yes-no", answer_yes_no),
    ("answer-error-yes-no", answer_yes_no_nothing_chosen),
    ("answer-error-empty", answer_open_empty),
    ("remove-answer-check", remove_answer_check),
    ("questions-printable", questions_printable),
    ("response-review-with-answers", response_review_with_answers),
    ("submit-with-unanswered-questions", submit_with_unanswered_questions),
    ("staff-questions", staff_questions),
    ("staff-questions-opened", staff_questions_opened),
    ("staff-question-form", staff_question_form),
    ("staff-question-form-error-empty", staff_question_form_empty),
    ("staff-question-remove", staff_question_remove),
    ("staff-question-bank", staff_question_bank),
    ("published-answers", published_answers),
    ("staff-answers", staff_answers),
    ("staff-answer-redact", staff_answer_redact),
    ("staff-answer-redact-error-empty", staff_answer_redact_empty),
    ("staff-answer-withhold-error-empty", staff_answer_withhold_empty),
    ("committee-review-with-answers", committee_review_with_answers),
]

# Both checks of a page state run on one worker, so that they can share one load of it (see page_checks).
every_page = pytest.mark.parametrize("name, setup", [
    pytest.param(name, setup, id=name, marks=pytest.mark.xdist_group(f"page-{name}")) for name, setup in PAGES])


@pytest.fixture(scope="module")
def consultations(live_server):
    return seed_consultation(live_server, "open"), seed_consultation(live_server, "closed")


@pytest.fixture(scope="module")
def staff_world(live_server, import_staging) -> StaffWorld:
    review = seed_review_world(live_server, publish=True)
    admin_email = seed_account(live_server, "Ada Admin", Role.ADMIN)
    stakeholder_email = seed_account(live_server, "Sam Stakeholder", Role.STAKEHOLDER)
    with live_server.app_context():
        stakeholder_id = find_user_by_email(stakeholder_email).id
    return StaffWorld(review, admin_email, stakeholder_id)


@dataclass
class PageCheck:
    """What one load of a page state showed: each check's failure (None if it passed) and the page's problems."""

    setup_failure: BaseException | None = None
    axe_failure: BaseException | None = None
    reflow_failure: BaseException | None = None
    problems: list[str] = field(default_factory=list)

    def verdict(self, failure: BaseException | None) -> None:
        """Fail as the check itself failed, or as the page fixture would for the page's problems."""
        if self.setup_failure is not None:
            raise self.setup_failure
        if failure is not None:
            raise failure
        if self.problems:
            pytest.fail(problems_message(self.problems), pytrace=False)


AXE_TEST = "test_page_has_no_serious_wcag_violations"
REFLOW_TEST = "test_page_reflows_at_320_css_pixels"


class ReusedTab:
    """One browser tab that page checks take turns in, wiped clean between them.

    A new browser profile per page state cost more than the checks themselves
    (most of a second under load). What a profile could carry from one page
    state to the next is cookies and storage, and both are cleared before each
    use, so every state still starts signed out with nothing remembered; only
    the HTTP cache of the versioned, immutable static files is kept. After a
    page state whose set-up or checks failed, the profile is thrown away and
    the next one starts in a new one, so a broken tab cannot spoil the rest.
    """

    def __init__(self, browser, live_server: LiveServer):
        self.browser, self.live_server = browser, live_server
        self.context = self.tab = None
        self.problems: list[str] = []

    def clean(self):
        """The tab, signed out, at desktop width, with no problems noted yet."""
        if self.context is None:
            self.context = new_browser_context(self.browser, self.live_server)
            self.tab, self.problems = new_watched_page(self.context)
        else:
            # Storage belongs to the page's origin; about:blank or an error page has none to clear.
            self.tab.evaluate("() => { try { localStorage.clear(); sessionStorage.clear(); } catch (e) {} }")
            self.context.clear_cookies()
            self.tab.set_viewport_size(DESKTOP)
            self.problems.clear()
        return self.tab

    def discard(self) -> None:
        if self.context is not None:
            self.context.close()
        self.context = self.tab = None


@pytest.fixture(scope="module")
def page_checks(browser, live_server, consultations, staff_world):
    """Load each page state once, in a clean browser tab, and run both checks on that one load.

    The page state is set up at desktop width; axe-core checks it there, then
    the window is narrowed to 320 CSS px and the reflow check measures the
    same page, laid out again at that width. Each test then reports its own
    check's result, so a failure names the check and the page as before. The
    screenshots go where each test's screenshot fixture put them.
    """
    results: dict[str, PageCheck] = {}
    reused = ReusedTab(browser, live_server)

    def check(name: str, setup: Callable[[Scene], None]) -> PageCheck:
        if name not in results:
            results[name] = load_and_check(name, setup)
        return results[name]

    def load_and_check(name: str, setup: Callable[[Scene], None]) -> PageCheck:
        axe_test, reflow_test = f"{AXE_TEST}[{name}]", f"{REFLOW_TEST}[{name}]"
        result = PageCheck()
        tab = reused.clean()
        scene = Scene(tab, live_server, *consultations, staff=staff_world)
        try:
            try:
                setup(scene)
            except Exception as failure:  # both tests report it
                result.setup_failure = failure
                for test in (axe_test, reflow_test):
                    save_failure_screenshot(tab, test)
                return result
            screenshot_to(tab, axe_test, name)
            try:
                check_accessibility(tab, name)
            except Exception as failure:  # the axe test reports it
                result.axe_failure = failure
                save_failure_screenshot(tab, axe_test)
            tab.set_viewport_size({"width": 320, "height": 720})
            screenshot_to(tab, reflow_test, f"{name}-320px")
            try:
                assert_reflows(tab, name)
            except Exception as failure:  # the reflow test reports it
                result.reflow_failure = failure
                save_failure_screenshot(tab, reflow_test)
        finally:
            result.problems = list(reused.problems)
            for cleanup in scene.cleanups:
                cleanup()
            if result.setup_failure or result.axe_failure or result.reflow_failure or result.problems:
                reused.discard()
        return result

    yield check
    reused.discard()


def screenshot_to(tab, test_name: str, name: str) -> None:
    """The page as the checks saw it, kept as evidence with KEEP_SCREENSHOTS=1: <test>/01-<name>.jpg."""
    directory = SCREENSHOTS / safe_name(test_name)
    shutil.rmtree(directory, ignore_errors=True)
    if not KEEP_SCREENSHOTS:
        return
    directory.mkdir(parents=True)
    capture(tab, directory / f"01-{safe_name(name)}.jpg")


@every_page
def test_page_has_no_serious_wcag_violations(name, setup, page_checks):
    result = page_checks(name, setup)
    result.verdict(result.axe_failure)


@every_page
def test_page_reflows_at_320_css_pixels(name, setup, page_checks):
    result = page_checks(name, setup)
    result.verdict(result.reflow_failure)
