"""A committee member reviews the themes of a closed consultation; staff publish; the public reads the result.

The consultation is seeded through the services: five submitted comments,
accepted, redacted, rejected and not yet triaged, two themes and agreed
responses, and a committee member assigned to it. The committee member signs
in, finds the consultation (and only that one) on the committee dashboard,
opens the themed review, checks that each chart is an image with a title and a
description and that a table gives the same numbers, reads it at 320 px and at
desktop width with nothing scrolling the page sideways, drills into a
theme, and downloads the themed workbook, which is read back with openpyxl.
A member of staff then publishes the comments and responses from the same
page, and a signed-out member of the public reads them: accepted and redacted
comments only, organisations named, individuals named only where they agreed,
and no email addresses.

Screenshots of each page, the committee's themed review among them, go to
test-artifacts/screenshots/<test>/.
"""

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import (
    ANONYMOUS_PERSON,
    NAMED_PERSON,
    ORGANISATION_NAME,
    seed_review_world,
    sign_in,
    sign_out,
)

pytestmark = pytest.mark.browser

# What the review counts: submitted comments that were not rejected (four of the five).
THEME_COUNTS = [("Evidence", "2"), ("Procedure detail", "1"), ("No theme", "1")]
ANONYMOUS_LABEL = "Individual (health or social care professional)"


def follow(page: Page, control: Locator) -> None:
    with page.expect_navigation():
        control.click()


def table_rows(table: Locator) -> list[list[str]]:
    """A table's body as text: the row header, then each cell."""
    return table.locator("tbody tr").evaluate_all(
        "(rows) => rows.map((row) => [...row.cells].map((cell) => cell.innerText.trim()))")


def chart(page: Page, chart_id: str) -> dict:
    """What a chart says to assistive technology, and the label and number of each bar."""
    return page.locator(f"figure #{chart_id}").evaluate("""(image) => {
      const ids = (image.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
      const title = document.getElementById(ids[0]), desc = document.getElementById(ids[1]);
      const texts = [...image.querySelectorAll('.app-chart__row')].flatMap((row) => [
        row.querySelector('.app-chart__label').textContent.trim(),
        row.querySelector('.app-chart__value').textContent.trim()]);
      return {role: image.getAttribute('role'), labelledby: ids, title: title && title.textContent.trim(),
              titleId: title && title.id, desc: desc && desc.textContent.trim(), descId: desc && desc.id,
              texts};
    }""")


def test_committee_reviews_themes_then_the_public_reads_the_published_comments(page, live_server, screenshot,
                                                                               tmp_path):
    world = seed_review_world(live_server)
    title = world.consultation.title
    main = page.get_by_role("main")

    # --- The committee member finds the consultation they are assigned to, and no other. ---
    sign_in(page, world.committee_email)
    header = page.get_by_role("navigation", name="Account")
    expect(header.get_by_role("link", name="Staff workspace")).to_have_count(0)
    follow(page, header.get_by_role("link", name="Committee"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Committee")
    expect(main.get_by_role("heading", level=2)).to_have_text([re.compile(re.escape(title))])
    screenshot(page, "committee-dashboard")

    # The dashboard offers the comments and themes; nothing links to the themed review (see the report).
    page.goto(world.review_path)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Themed review: {title}")
    expect(main).to_contain_text("4 comments submitted and not rejected.")
    expect(main.get_by_role("button", name="Check and publish comments and responses")).to_have_count(0)
    screenshot(page, "committee-themed-review")

    # --- Each chart is an image named by its title and description, with its numbers in a table. ---
    charts = main.locator("figure [role=img]")
    expect(charts).to_have_count(3)
    for chart_id, name in [("chart-themes", "Comments per theme"), ("chart-sections", "Comments per section"),
                           ("chart-types", "Comments per theme by participant type")]:
        svg = chart(page, chart_id)
        assert svg["role"] == "img", svg
        assert svg["title"] == name and svg["desc"], svg
        assert svg["labelledby"] == [svg["titleId"], svg["descId"]], svg
        expect(main.get_by_role("img", name=f"{name} {svg['desc']}", exact=True)).to_have_count(1)

    themes_table = main.get_by_role("table", name="Comments per theme", exact=True)
    assert table_rows(themes_table) == [list(row) for row in THEME_COUNTS]
    bars = chart(page, "chart-themes")["texts"]
    assert list(zip(bars[::2], bars[1::2])) == THEME_COUNTS  # the same labels and numbers as the table
    # The table scrolls inside its own labelled region, which a keyboard user can reach.
    region = main.get_by_role("region", name="Comments per theme, table")
    expect(region).to_have_attribute("tabindex", "0")

    sections_table = main.get_by_role("table", name="Comments per part of the document, in document order")
    sections = table_rows(sections_table)
    assert sections == [["Whole document", "1"], ["Section 1.1", "1"], ["Section 2.1", "1"], ["Section 2.5", "1"]]
    section_bars = chart(page, "chart-sections")["texts"]
    assert [list(pair) for pair in zip(section_bars[::2], section_bars[1::2])] == sections

    by_type = table_rows(main.get_by_role("table", name="Comments per theme by participant type", exact=True))
    headings = main.get_by_role("table", name="Comments per theme by participant type", exact=True).locator(
        "thead th").all_inner_texts()
    totals = {row[0]: sum(int(n) for n in row[1:]) for row in by_type}
    assert totals == {name: int(count) for name, count in THEME_COUNTS}, (headings, by_type)
    evidence = dict(zip(headings[1:], by_type[[row[0] for row in by_type].index("Evidence")][1:]))
    assert evidence["Individual (patient or carer)"] == "1"
    assert evidence["Individual (health or social care professional)"] == "1"

    # --- Drill into a theme. ---
    follow(page, themes_table.get_by_role("link", name="Evidence", exact=True))
    assert re.search(rf"[?&]theme={world.themes['Evidence']}(&|#|$)", page.url), page.url
    drill = page.get_by_role("heading", level=2, name="Theme: Evidence")
    expect(drill).to_be_visible()
    comments = main.get_by_role("heading", level=3)
    expect(comments).to_have_text([f"{world.named.reference} – Section 1.1",
                                   f"{world.anonymous.reference} – Section 2.1"])
    expect(main).to_contain_text(NAMED_PERSON)  # they agreed to be named
    expect(main).to_contain_text(ANONYMOUS_LABEL)
    expect(main).not_to_contain_text(ANONYMOUS_PERSON)
    expect(main).to_contain_text(world.redacted_body)
    expect(main).not_to_contain_text("Jane Doe")
    expect(main).to_contain_text(world.responses[world.named.reference])
    expect(main).not_to_contain_text("@")  # the committee never sees email addresses
    screenshot(page, "committee-themed-review-drill-down")

    # --- The themed workbook: a summary, a sheet per theme, and one for comments with no theme. ---
    with page.expect_download() as download_info:
        main.get_by_role("link", name="Comments by theme workbook (.xlsx)").click()
    download = download_info.value
    assert download.suggested_filename == f"{world.reference}-comments-by-theme.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    book = load_workbook(path, read_only=True)
    try:
        assert book.sheetnames == ["Summary", "Evidence", "Procedure detail", "No theme"]
        sheets = {name: [list(row) for row in book[name].iter_rows(values_only=True)] for name in book.sheetnames}
    finally:
        book.close()
    for name, expected in [("Evidence", [world.named, world.anonymous]), ("Procedure detail", [world.organisation]),
                           ("No theme", [world.untriaged])]:
        first_row, header, *rows = sheets[name]
        assert first_row[0] == ("Comments with no theme" if name == "No theme" else name), first_row
        assert header[:2] == ["Comment number", "Stakeholder"] and header[-1] == "Response", header
        assert [row[0] for row in rows] == [comment.reference for comment in expected], (name, rows)
    evidence_rows = {row[0]: row for row in sheets["Evidence"][2:]}
    anonymous_row = evidence_rows[world.anonymous.reference]
    assert anonymous_row[1] == ANONYMOUS_LABEL
    assert world.redacted_body in anonymous_row
    assert evidence_rows[world.named.reference][1] == NAMED_PERSON
    assert evidence_rows[world.named.reference][-1] == world.responses[world.named.reference]
    total = sheets["Summary"][1].index("Total")
    summary = {row[0]: row[total] for row in sheets["Summary"] if row and row[0] in dict(THEME_COUNTS)}
    assert summary == {name: int(count) for name, count in THEME_COUNTS}, sheets["Summary"]
    cells = [str(cell) for rows in sheets.values() for row in rows for cell in row if cell is not None]
    assert not [cell for cell in cells if "@" in cell or "Jane Doe" in cell or world.rejected.body in cell]

    # --- Staff publish the comments and responses from the review page. ---
    sign_out(page)
    sign_in(page, world.staff_email)
    page.goto(world.review_path)
    expect(main).to_contain_text("Publishing makes accepted and redacted comments and their responses public")
    screenshot(page, "staff-review-before-publishing")
    follow(page, main.get_by_role("button", name="Check and publish comments and responses"))
    # A check page first: what will be public, with links into the queue for each group.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check before you publish the comments and responses")
    expect(page.locator("#count-public")).to_have_text("3 comments")
    expect(page.locator("#count-redacted")).to_have_text("1 comment")
    expect(page.locator("#count-no-agreed-response")).to_contain_text("0 comments")
    expect(page.locator("#count-named-individuals")).to_contain_text("1 individual agreed to be named")
    expect(main.get_by_role("link", name="View redacted comments in the queue", exact=True)).to_have_attribute(
        "href", f"/staff/consultations/{world.reference}/comments?state=redacted")
    screenshot(page, "staff-publication-check")
    follow(page, main.get_by_role("button", name="Publish 3 comments"))
    expect(page.get_by_role("alert")).to_contain_text("The comments and responses are now published.")
    public_link = main.get_by_role("link", name="View the public page")
    public_path = public_link.get_attribute("href")
    assert public_path == f"/consultations/{world.reference}/published-comments", public_path
    expect(main.get_by_role("button", name="Withdraw publication")).to_be_visible()
    screenshot(page, "staff-review-published")

    # --- The public, signed out, reads what was published. ---
    sign_out(page)
    page.goto(public_path)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Comments and responses: {title}")
    # In document order: section 1.1, section 2.1, section 2.5; the rejected and the untriaged comments,
    # both on the whole document, are not published.
    expect(main.get_by_role("heading", level=3)).to_have_text([
        f"{world.named.reference}: {NAMED_PERSON}",
        f"{world.anonymous.reference}: {ANONYMOUS_LABEL}",
        f"{world.organisation.reference}: {ORGANISATION_NAME}",
    ])
    expect(main.get_by_role("heading", level=2)).to_have_text([
        re.compile(r"^Section 1\.1"), re.compile(r"^Section 2\.1"), re.compile(r"^Section 2\.5")])
    for comment in (world.rejected, world.untriaged):
        expect(main).not_to_contain_text(comment.reference)
        expect(main).not_to_contain_text(comment.body)
    expect(main).to_contain_text(world.redacted_body)
    expect(main).to_contain_text(world.organisation.body)
    expect(main).to_contain_text(world.named.body)
    for text in world.responses.values():
        expect(main).to_contain_text(text)
    for hidden in (ANONYMOUS_PERSON, "Jane Doe", "Olu Organiser", world.untriaged.author, world.rejected.author):
        expect(main).not_to_contain_text(hidden)
    html = page.content()
    for email in (world.organisation.email, world.named.email, world.anonymous.email, world.staff_email,
                  world.committee_email):
        assert email not in html
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", page.locator("body").inner_text())
    screenshot(page, "public-published-comments")


LONG_THEME = "Fitting and review by a podiatrist or orthotist before and after the procedure"
UNBROKEN_THEME = "Evidence:see-https://example.org/trials/cryoablation-follow-up-after-2020"
SUMMARY = "Most ask how long the benefit lasts; several want the fitting done by a specialist."


def page_width(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def test_the_committee_reads_the_review_at_320_px_and_at_desktop_width(page, live_server, screenshot):
    from consult.extensions import db
    from consult.moderation.models import Theme
    from consult.moderation.services import update_theme

    world = seed_review_world(live_server)
    with live_server.app_context():
        theme = db.session.get(Theme, world.themes["Procedure detail"])
        update_theme(theme, LONG_THEME, theme.description, None, theme.version)
        unbroken = db.session.get(Theme, world.themes["Evidence"])  # one long word: nowhere to break it
        update_theme(unbroken, UNBROKEN_THEME, unbroken.description, None, unbroken.version)
        db.session.commit()
    main = page.get_by_role("main")

    # --- Staff write the theme's summary from the review page. ---
    sign_in(page, world.staff_email)
    page.goto(world.review_path)
    follow(page, main.get_by_role("link", name=f"Write a summary of the theme {LONG_THEME}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Summary of the theme ‘{LONG_THEME}’")
    page.get_by_label("Summary for the committee").fill(SUMMARY)
    follow(page, main.get_by_role("button", name="Save summary"))
    expect(page.get_by_role("alert")).to_contain_text(f"The summary of ‘{LONG_THEME}’ has been saved.")
    sign_out(page)

    # --- The committee reads it on a phone: nothing scrolls the page sideways, nothing is cut. ---
    sign_in(page, world.committee_email)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(world.review_path)
    theme_block = main.locator(f"#theme-{world.themes['Procedure detail']}")
    expect(theme_block.get_by_role("heading", level=3)).to_have_text(LONG_THEME)
    expect(theme_block).to_contain_text(SUMMARY)
    expect(theme_block).to_contain_text("1 from an organisation (100%)")
    expect(theme_block.get_by_role("link", name=f"Read comment {world.organisation.reference} in full")).to_be_visible()
    expect(main.locator(".app-chart__label", has_text=LONG_THEME)).to_have_count(2)  # whole, in both charts
    assert page_width(page) <= 320, page_width(page)
    sizes = main.locator(".app-chart__label, .app-chart__value").evaluate_all(
        "(nodes) => nodes.map((node) => parseFloat(getComputedStyle(node).fontSize))")
    assert sizes and min(sizes) >= 16, sizes  # page text, not a drawing scaled down to 5 px
    label_box = main.locator(".app-chart__label", has_text=LONG_THEME).first.bounding_box()
    assert label_box["x"] + label_box["width"] <= 320, label_box  # wrapped inside the screen
    for region in main.get_by_role("region").all():
        expect(region).to_have_attribute("tabindex", "0")
    theme_cells = main.locator(".app-table-scroll tbody th").evaluate_all(
        "(cells) => cells.map((cell) => cell.getBoundingClientRect().width)")
    assert min(theme_cells) >= 100, theme_cells  # a word per line at worst, never a letter per line
    screenshot(page, "committee-review-320px")

    # --- And at desktop width: every table fits its column, the last one included. ---
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(world.review_path)
    assert page_width(page) <= 1280, page_width(page)
    overflowing = main.locator(".app-table-scroll").evaluate_all(
        "(regions) => regions.filter((region) => region.scrollWidth > region.clientWidth + 1).length")
    assert overflowing == 0
    screenshot(page, "committee-review-desktop")
