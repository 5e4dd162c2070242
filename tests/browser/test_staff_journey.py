"""A member of staff builds two consultations and triages the comments on one; an admin then audits it all.

Staff sign in, create a consultation through the form and import a Word draft
into it (upload, preview, confirm), then create a second consultation and
import the published guidance text the same way. Three stakeholders submit
comments (seeded through the services, as a stakeholder journey would leave
them). In the browser staff accept one, reject one with a reason, redact one,
create two themes, tag comments with a theme in bulk after the page that
states the count, and apply one response to every comment with that theme.
An admin then reads each of those acts in the audit trail, filters it to the
member of staff and downloads it as CSV.

Every control is found by its label or role. Screenshots of each page go to
test-artifacts/screenshots/<test>/.
"""

import csv
import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from docx import Document as WordDocument
from playwright.sync_api import Locator, Page, expect

from consult.accounts.models import Role
from tests.browser.conftest import seed_account, seed_submission, sign_in, sign_out, unique
from tests.conftest import GUIDANCE_SEED

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("import_staging")]

UK = ZoneInfo("Europe/London")
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

WORD_TITLE = "Insoles for plantar heel pain"
WORD_CHAPTERS = [
    ("1 Recommendations", [
        "1.1 Insoles should be offered to people whose plantar heel pain has lasted more than 6 weeks.",
        "1.2 Clinicians should check how the insoles fit after 4 weeks.",
    ]),
    ("2 The procedure", [
        "2.1 Custom insoles are made from a mould or scan of the foot.",
        "2.2 Ready-made insoles come in standard sizes and can be trimmed to fit.",
    ]),
]
GUIDANCE_TITLE = "Percutaneous image-guided cryoablation of peripheral neuroma for chronic pain"
GUIDANCE_SECTIONS = ["1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "3.2", "3.3", "3.4", "3.5"]

SUPPORTIVE = "Insoles helped our members more than any other treatment before surgery."
OFF_TOPIC = "You can buy cheap insoles at my market stall every Saturday."
PERSONAL = "My neighbour Jane Doe of 12 High Street wore custom insoles for a year and her pain went."
REDACTED = "My neighbour [name and address removed] wore custom insoles for a year and her pain went."
EVIDENCE_THEME = "Evidence of benefit"
COST_THEME = "Cost to the NHS"
RESPONSE = "Thank you. The committee will consider this evidence on insoles at its next meeting."


def word_draft() -> bytes:
    """A .docx as Word writes it: a Title, Heading 1 chapters and '1.1 …' numbered paragraphs."""
    document = WordDocument()
    document.add_paragraph(WORD_TITLE, style="Title")
    for heading, paragraphs in WORD_CHAPTERS:
        document.add_heading(heading, level=1)
        for text in paragraphs:
            document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def follow(page: Page, control: Locator) -> None:
    with page.expect_navigation():
        control.click()


def banner(page: Page) -> Locator:
    return page.get_by_role("alert")


def fill_date(page: Page, legend: str, day: date) -> None:
    group = page.get_by_role("group", name=legend, exact=True)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def create_consultation(page: Page, screenshot, reference: str, title: str, summary: str) -> None:
    """From the staff list of consultations, through the form, open since yesterday for a month."""
    page.goto("/staff/consultations/")  # nothing in the staff workspace links here (see the report)
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultations")
    follow(page, page.get_by_role("button", name="Create a consultation"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a consultation")
    today = datetime.now(UK).date()
    page.get_by_label("Reference").fill(reference)
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Summary (optional)").fill(summary)
    fill_date(page, "Opening date", today - timedelta(days=1))
    expect(page.get_by_label("Opening time")).to_have_value("9am")
    fill_date(page, "Closing date", today + timedelta(days=30))
    expect(page.get_by_label("Closing time")).to_have_value("5pm")
    held = page.get_by_label("Hold as draft: not visible to the public")
    expect(held).to_be_checked()  # a new consultation is held back unless staff choose otherwise
    held.uncheck()
    screenshot(page, f"new-consultation-{reference}")
    follow(page, page.get_by_role("button", name="Create consultation"))
    expect(banner(page)).to_contain_text(f"Consultation {reference} created. Next, import its draft document.")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("main")).to_contain_text("Open for comments")
    expect(page.get_by_role("main")).to_contain_text("No draft has been imported yet.")


def import_draft(page: Page, screenshot, name: str, files, title: str, sections: list[str],
                 chapters: int) -> None:
    """Upload a draft, read the preview of its numbered sections, then confirm the import."""
    follow(page, page.get_by_role("button", name="Import a draft"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Import a draft")
    page.get_by_label("Upload a file").set_input_files(files)
    screenshot(page, f"upload-{name}")
    follow(page, page.get_by_role("button", name="Upload and preview"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the draft before importing it")
    main = page.get_by_role("main")
    expect(main.get_by_role("definition").filter(has_text=title)).to_have_count(1)
    expect(main.get_by_role("definition").filter(
        has_text=f"{chapters} chapters, {len(sections)} sections")).to_have_count(1)
    expect(main.get_by_role("rowheader")).to_have_text(sections)
    screenshot(page, f"preview-{name}")
    follow(page, page.get_by_role("button", name="Import this draft"))
    expect(banner(page)).to_contain_text(f"Imported “{title}”: {chapters} chapters and {len(sections)} sections.")
    row = main.get_by_role("row").filter(has=page.get_by_role("rowheader", name=title, exact=True))
    expect(row.get_by_role("cell")).to_have_text([str(chapters), str(len(sections))])
    screenshot(page, f"imported-{name}")


def queue_row(page: Page, reference: str) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=reference, exact=True))


def open_comment(page: Page, reference: str) -> None:
    follow(page, page.get_by_role("link", name=reference, exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Comment {reference}")


def back_to_queue(page: Page) -> None:
    follow(page, page.get_by_role("link", name="Back to comments"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Comments")


def consultation_nav(page: Page, name: str) -> None:
    follow(page, page.get_by_role("navigation", name="This consultation").get_by_role("link", name=name,
                                                                                       exact=True))


def test_staff_build_triage_theme_and_respond_then_an_admin_audits(page, live_server, screenshot):
    staff_email = seed_account(live_server, "Morgan Moderator", Role.STAFF)
    admin_email = seed_account(live_server, "Ada Admin", Role.ADMIN)
    word_reference, guidance_reference = unique("SJ"), unique("SJ")
    word_consultation = f"Insoles for plantar heel pain ({word_reference})"
    main = page.get_by_role("main")

    # --- Build: a consultation from a Word draft, another from the guidance text. ---
    sign_in(page, staff_email)
    follow(page, page.get_by_role("link", name="Staff workspace"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff workspace")
    create_consultation(page, screenshot, word_reference, word_consultation,
                        "Draft recommendations on insoles for plantar heel pain.")
    import_draft(page, screenshot, "word",
                 {"name": "insoles-draft.docx", "mimeType": DOCX_MIME, "buffer": word_draft()},
                 WORD_TITLE, ["1.1", "1.2", "2.1", "2.2"], chapters=2)

    create_consultation(page, screenshot, guidance_reference, f"Cryoablation for neuroma ({guidance_reference})",
                        "Draft guidance on cryoablation of a peripheral neuroma.")
    import_draft(page, screenshot, "guidance", str(GUIDANCE_SEED), GUIDANCE_TITLE, GUIDANCE_SECTIONS, chapters=4)

    page.goto("/staff/consultations/")
    for reference in (word_reference, guidance_reference):
        row = main.get_by_role("row").filter(has=page.get_by_role("link", name=reference, exact=True))
        expect(row).to_contain_text("Open for comments")
        expect(row.get_by_role("cell").nth(3)).to_have_text("1")  # one document each
    screenshot(page, "staff-consultations")

    # --- Three stakeholders submit comments on the Word consultation. ---
    supportive = seed_submission(live_server, word_reference, SUPPORTIVE, section="1.1",
                                 organisation="Heel Pain Alliance", author="Priya Patel")
    off_topic = seed_submission(live_server, word_reference, OFF_TOPIC, section="2.2", author="Stall Holder")
    personal = seed_submission(live_server, word_reference, PERSONAL, section="2.1", author="Nina Neighbour")

    # --- Triage: the queue, then one comment at a time. ---
    follow(page, page.get_by_role("link", name="Staff workspace"))
    follow(page, main.get_by_role("link", name=f"Comments on {word_consultation}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Comments")
    expect(main).to_contain_text("Showing 1 to 3 of 3 comments.")
    for comment in (supportive, off_topic, personal):
        expect(queue_row(page, comment.reference)).to_contain_text("New")
    screenshot(page, "queue-untriaged")

    open_comment(page, supportive.reference)
    expect(page.locator("#comment-body")).to_have_text(SUPPORTIVE)
    screenshot(page, "comment-new")
    follow(page, page.get_by_role("button", name="Accept"))
    expect(banner(page)).to_contain_text(f"Comment {supportive.reference} is now accepted.")
    expect(main.get_by_role("definition").filter(has_text="Accepted by Morgan Moderator")).to_have_count(1)
    back_to_queue(page)

    open_comment(page, off_topic.reference)
    follow(page, page.get_by_role("link", name=f"Reject comment {off_topic.reference}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Reject comment {off_topic.reference}")
    page.get_by_role("group", name="Why are you rejecting this comment?").get_by_label("Out of scope").check()
    page.get_by_label("Note").fill("Advertising, not a comment on the draft.")
    screenshot(page, "reject")
    follow(page, page.get_by_role("button", name="Reject comment"))
    expect(banner(page)).to_contain_text(f"Comment {off_topic.reference} is now rejected.")
    expect(page.locator("#history")).to_contain_text(
        "Morgan Moderator changed it from new to rejected. Why: Out of scope: Advertising, not a comment on the draft.")
    back_to_queue(page)

    open_comment(page, personal.reference)
    follow(page, page.get_by_role("link", name=f"Redact comment {personal.reference}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Redact comment {personal.reference}")
    page.get_by_role("group", name="Why are you redacting this comment?").get_by_label(
        "Contains personal data").check()
    expect(page.get_by_label("Redacted comment")).to_have_value(PERSONAL)
    page.get_by_label("Redacted comment").fill(REDACTED)
    screenshot(page, "redact")
    follow(page, page.get_by_role("button", name="Save redaction"))
    expect(banner(page)).to_contain_text(f"Comment {personal.reference} is now redacted.")
    expect(page.get_by_role("heading", name="Comment (redacted)")).to_be_visible()
    expect(page.locator("#comment-body")).to_have_text(REDACTED)
    expect(main).not_to_contain_text("Jane Doe")  # the original is for admins only
    screenshot(page, "comment-redacted")
    back_to_queue(page)
    expect(queue_row(page, supportive.reference)).to_contain_text("Accepted")
    expect(queue_row(page, off_topic.reference)).to_contain_text("Rejected")
    expect(queue_row(page, personal.reference)).to_contain_text("Redacted")
    expect(main).to_contain_text(re.compile(r"3 \(100%\)\W*triaged|Triaged\W*3 \(100%\)"))

    # --- Themes: create two, then tag two comments at once. ---
    consultation_nav(page, "Themes")
    expect(page.get_by_role("heading", level=1)).to_have_text("Themes")
    for name, description in [(EVIDENCE_THEME, "Comments that report whether insoles work."),
                              (COST_THEME, "Comments about what insoles cost.")]:
        follow(page, page.get_by_role("button", name="Create a theme"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Create a theme")
        page.get_by_label("Theme name").fill(name)
        page.get_by_label("Description (optional)").fill(description)
        screenshot(page, f"theme-form-{name}")
        follow(page, page.get_by_role("button", name="Save theme"))
        expect(banner(page)).to_contain_text(f"Theme ‘{name}’ created.")
    screenshot(page, "themes-created")

    consultation_nav(page, "Comments")
    for comment in (supportive, personal):
        page.get_by_label(f"Select comment {comment.reference}").check()
    page.get_by_role("group", name="What do you want to do?").get_by_label("Add a theme").check()
    page.get_by_label("Theme to add").select_option(label=EVIDENCE_THEME)
    screenshot(page, "queue-bulk-tag")
    follow(page, main.get_by_role("button", name="Continue"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check before you change 2 comments")
    expect(page.locator("#bulk-sentence")).to_have_text(
        f"You are about to add the theme ‘{EVIDENCE_THEME}’ to 2 comments.")
    page.get_by_text("Show the 2 comments").click()
    expect(main.get_by_role("listitem")).to_have_text([supportive.reference, personal.reference])
    screenshot(page, "bulk-confirmation")
    follow(page, page.get_by_role("button", name=f"Yes, add the theme ‘{EVIDENCE_THEME}’ to 2 comments"))
    expect(banner(page)).to_contain_text(f"Added the theme ‘{EVIDENCE_THEME}’ to 2 comments.")
    expect(queue_row(page, supportive.reference)).to_contain_text(f"Themes: {EVIDENCE_THEME}")
    expect(queue_row(page, personal.reference)).to_contain_text(f"Themes: {EVIDENCE_THEME}")
    expect(queue_row(page, off_topic.reference)).to_contain_text("Themes: none")
    screenshot(page, "queue-tagged")

    # --- One response for every comment with the theme. ---
    consultation_nav(page, "Themes")
    theme_row = main.get_by_role("row").filter(has_text=EVIDENCE_THEME).first
    expect(theme_row.get_by_role("link", name=f"2 comments with the theme {EVIDENCE_THEME}")).to_be_visible()
    follow(page, page.get_by_role("link", name=f"Apply a response to comments with the theme {EVIDENCE_THEME}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Apply a response to ‘{EVIDENCE_THEME}’")
    expect(page.locator("#theme-response-count")).to_contain_text(
        "The response is applied to the 2 comments with this theme that have no response yet.")
    page.get_by_label("Response", exact=True).fill(RESPONSE)
    page.get_by_role("group", name="Is the response ready?").get_by_label("Agreed: ready to publish").check()
    screenshot(page, "theme-response")
    follow(page, page.get_by_role("button", name="Apply response"))
    expect(banner(page)).to_contain_text(f"Applied the response to 2 comments with the theme ‘{EVIDENCE_THEME}’.")

    consultation_nav(page, "Comments")
    for comment in (supportive, personal):
        expect(queue_row(page, comment.reference)).to_contain_text("Response: Agreed")
        open_comment(page, comment.reference)
        expect(page.locator("#response-state")).to_contain_text("Agreed Last changed by Morgan Moderator")
        expect(page.locator("#response-text")).to_have_text(RESPONSE)
        expect(page.locator("#tags")).to_contain_text(f"{EVIDENCE_THEME} Tagged by Morgan Moderator")
        screenshot(page, f"comment-with-response-{comment.number}")
        back_to_queue(page)
    expect(queue_row(page, off_topic.reference)).to_contain_text("Response: None yet")

    # --- An admin reads the audit trail of all of it. ---
    sign_out(page)
    sign_in(page, admin_email)
    follow(page, page.get_by_role("link", name="Admin", exact=True))
    follow(page, page.get_by_role("navigation", name="Admin").get_by_role("link", name="Audit trail"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    expected = {
        "consultation.create": 2, "consultation.import_document": 2, "comment.accept": 1, "comment.reject": 1,
        "comment.redact": 1, "theme.create": 2, "comment.tag": 2, "response.agree": 2,
    }
    by_staff = main.get_by_role("row").filter(
        has=page.get_by_role("link", name=f"Only events by {staff_email}", exact=True))
    for action, count in expected.items():
        expect(by_staff.and_(main.locator(f'tr[data-action="{action}"]'))).to_have_count(count)
    # Each event reads as a sentence whose object is a link to it.
    expect(by_staff.get_by_role("link", name=off_topic.reference, exact=True).first).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    layout = page.evaluate("""() => ({width: document.documentElement.scrollWidth,
      rows: [...document.querySelectorAll('tr[data-event-id]')].map((row) => row.getBoundingClientRect().height)})""")
    assert layout["width"] <= 1280, layout  # nothing scrolls sideways at desktop width
    assert max(layout["rows"]) < 200, layout  # an event is a few lines, its details folded away
    screenshot(page, "audit-trail")

    page.get_by_label("Done by (email address)").fill(staff_email)
    follow(page, page.get_by_role("button", name="Apply filters"))
    total = sum(expected.values())
    expect(by_staff).to_have_count(total)
    expect(main.get_by_role("row").filter(has_text="@")).to_have_count(total)  # nobody else's events
    expect(by_staff.filter(has_text="filename: set to insoles-draft.docx")).to_have_count(1)
    expect(by_staff.filter(has_text=f"filename: set to {GUIDANCE_SEED.name}")).to_have_count(1)
    rejection = main.locator('tr[data-action="comment.reject"]')
    expect(rejection).to_contain_text(f"Rejected comment {off_topic.reference}")
    rejection.get_by_text("Details", exact=False).first.click()  # the recorded changes are folded away
    expect(rejection.get_by_role("listitem").filter(has_text="rejection_reason")).to_contain_text("out_of_scope")
    expect(by_staff.filter(has_text=f"theme: set to {EVIDENCE_THEME}")).to_have_count(2)
    screenshot(page, "audit-trail-filtered")

    with page.expect_download() as download_info:
        main.get_by_role("link", name="Download the events that match these filters as a spreadsheet (CSV)").click()
    download = download_info.value
    assert re.fullmatch(r"audit-trail-\d{8}-\d{6}\.csv", download.suggested_filename), download.suggested_filename
    text = download.path().read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == ("Time (UTC),Actor,Action,Object type,Object id,Before,After,Request id,"
                                    "Actor name,What happened")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert len(rows) == total, rows
    assert {row[1] for row in rows} == {staff_email}
    assert {action: sum(row[2] == action for row in rows) for action in expected} == expected
