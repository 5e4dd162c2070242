"""A member of staff works through a filtered queue of 200 comments at speed.

Two hundred comments are submitted (seeded through the services, as
stakeholders would leave them): 150 repeat a campaign's words, 50 do not. In
the browser, staff search the queue for the campaign's words, open the first
match and work with the keyboard: Next, Accept, a note typed without the
shortcuts firing, Reject with the reason chosen. Back on the queue they tick a
whole page at once, then choose all 150 matching comments across the pages and
add a theme to them after the page that states the count.

Screenshots of each step go to test-artifacts/screenshots/<test>/.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from consult.accounts.models import Role
from consult.accounts.services import register_user
from consult.comments import services as comment_services
from consult.comments.models import IndividualType, ParticipantKind
from consult.consultations.services import find_consultation
from consult.database import utcnow
from consult.extensions import db
from consult.moderation import services as moderation_services
from tests.browser.conftest import PASSWORD, seed_account, seed_consultation, sign_in, unique

pytestmark = pytest.mark.browser

CAMPAIGN = "Keep podiatry free at the point of use"
THEME = "Campaign: free podiatry"


def seed_queue(live_server, reference: str, campaign: int = 150, others: int = 50) -> None:
    """`campaign` comments with the campaign's words and `others` without, from ten stakeholders."""
    bodies = [f"{CAMPAIGN}. Sent by supporter {i}." for i in range(1, campaign + 1)]
    bodies += [f"The evidence summary in section 1.1 needs a clearer table ({i})." for i in range(1, others + 1)]
    bodies = bodies[::2] + bodies[1::2]  # the campaign's comments and the others interleaved
    with live_server.app_context():
        consultation = find_consultation(reference)
        document = consultation.documents[0]
        now = utcnow()
        share = len(bodies) // 10
        for person in range(10):
            user = register_user(f"{unique('supporter-').lower()}@example.org", f"Supporter {person}", PASSWORD)
            choice = comment_services.ParticipationChoice(kind=ParticipantKind.INDIVIDUAL,
                                                          individual_type=IndividualType.MEMBER_OF_PUBLIC)
            participation = comment_services.choose_participation(user, consultation, choice, now)
            for body in bodies[person * share:(person + 1) * share]:
                comment_services.save_draft(participation, comment_services.CommentTargetRef(document=document),
                                            body, None, now)
            comment_services.submit_response(participation, now)
        staff = register_user(f"{unique('owner-').lower()}@example.org", "Theme Owner", PASSWORD, Role.STAFF)
        moderation_services.create_theme(consultation.id, THEME, "Comments repeating the campaign's words.", staff)
        db.session.flush()


def current_number(tab: Page) -> int:
    return int(re.search(r"/comments/(\d+)", tab.url).group(1))


def test_staff_triage_a_filtered_queue_with_next_shortcuts_and_all_matching(page, live_server, screenshot):
    tab = page
    seeded = seed_consultation(live_server, "open")
    seed_queue(live_server, seeded.reference)
    staff_email = seed_account(live_server, "Pat Triager", Role.STAFF)
    sign_in(tab, staff_email)

    tab.goto(f"/staff/consultations/{seeded.reference}/comments")
    expect(tab.locator("#queue-count")).to_contain_text("of 200 comments")
    tab.get_by_label("Words in the comment or quoted passage").fill("\"podiatry free\"")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Apply filters").click()
    expect(tab.locator("#queue-count")).to_contain_text("Showing 1 to 25 of 150 comments matching these filters.")
    expect(tab.locator("#queue mark").first).to_have_text("podiatry free")
    screenshot(tab, "queue-searched")

    # The first match, then Next with the keyboard: the queue's filter goes along.
    with tab.expect_navigation():
        tab.locator("#queue tbody a").first.click()
    first = current_number(tab)
    expect(tab.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
    expect(tab.locator("#comment-body mark")).to_have_text("podiatry free")
    with tab.expect_navigation():
        tab.keyboard.press("n")
    second = current_number(tab)
    assert second > first and "q=%22podiatry+free%22" in tab.url
    expect(tab.locator("#comment-body")).to_contain_text(CAMPAIGN)
    screenshot(tab, "comment-via-next")

    # Accept with "a": the page's own form is sent, with its CSRF token.
    with tab.expect_navigation():
        tab.keyboard.press("a")
    expect(tab.get_by_text(re.compile(r"Comment \S+ is now accepted\."))).to_be_visible()
    expect(tab.locator("#moderation-state")).to_contain_text("Accepted")

    # Typing a note that contains n, a and r moves nowhere and decides nothing.
    tab.get_by_label("Note for colleagues").fill("")
    tab.get_by_label("Note for colleagues").type("narrow campaign wording")
    assert current_number(tab) == second
    with tab.expect_navigation():
        tab.get_by_role("button", name="Save note").click()
    expect(tab.locator("#triage-note")).to_contain_text("narrow campaign wording")
    expect(tab.locator("#triage-note")).to_contain_text("By Pat Triager")
    expect(tab.locator("#moderation-state")).to_contain_text("Accepted")

    # Next again, then Reject with "r" once a reason is chosen (choosing it does not fire the shortcut).
    with tab.expect_navigation():
        tab.keyboard.press("n")
    third = current_number(tab)
    assert third > second
    tab.get_by_label("Reason for rejecting").select_option(label="Duplicate")
    expect(tab.locator("#moderation-state")).to_contain_text("New")
    tab.locator("h1").click()  # leave the field, as a person would before using a shortcut
    with tab.expect_navigation():
        tab.keyboard.press("r")
    expect(tab.get_by_text(re.compile(r"Comment \S+ is now rejected\."))).to_be_visible()
    screenshot(tab, "comment-rejected-by-shortcut")

    # Previous goes back along the same queue.
    with tab.expect_navigation():
        tab.keyboard.press("p")
    assert current_number(tab) == second

    # Back to the queue: a page ticked at once, then all 150 matching across the pages.
    with tab.expect_navigation():
        tab.get_by_role("link", name="Back to comments").click()
    expect(tab.locator("#queue-count")).to_contain_text("of 150 comments matching these filters")
    tab.get_by_label("Select all 25 comments on this page").check()
    expect(tab.locator('#queue input[name="selected"]:checked')).to_have_count(25)
    tab.get_by_label("Select all 25 comments on this page").uncheck()
    expect(tab.locator('#queue input[name="selected"]:checked')).to_have_count(0)
    panel = tab.locator("#bulk-panel")
    panel.get_by_role("group", name="Which comments?").get_by_label(
        "All 150 comments matching these filters, on all 6 pages").check()
    panel.get_by_role("group", name="What do you want to do?").get_by_label("Add a theme").check()
    panel.get_by_label("Theme to add").select_option(label=THEME)
    screenshot(tab, "queue-all-matching-chosen")
    with tab.expect_navigation():
        panel.get_by_role("button", name="Continue").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Check before you change 150 comments")
    expect(tab.locator("#bulk-sentence")).to_have_text(f"You are about to add the theme ‘{THEME}’ to 150 comments.")
    screenshot(tab, "bulk-confirmation")
    with tab.expect_navigation():
        tab.get_by_role("button", name=f"Yes, add the theme ‘{THEME}’ to 150 comments").click()
    expect(tab.get_by_text(f"Added the theme ‘{THEME}’ to 150 comments.")).to_be_visible()
    screenshot(tab, "bulk-tagged")

    # The theme is on exactly the campaign's comments.
    tab.goto(f"/staff/consultations/{seeded.reference}/comments")
    tab.get_by_label("Theme", exact=True).select_option(label=THEME)
    with tab.expect_navigation():
        tab.get_by_role("button", name="Apply filters").click()
    expect(tab.locator("#queue-count")).to_contain_text("of 150 comments matching these filters")
    tab.get_by_label("Theme", exact=True).select_option(label="No theme yet")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Apply filters").click()
    expect(tab.locator("#queue-count")).to_contain_text("of 50 comments matching these filters")
    expect(tab.locator("#queue")).not_to_contain_text(CAMPAIGN)
