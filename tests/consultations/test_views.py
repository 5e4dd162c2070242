"""The public pages: the list of consultations, one consultation, and its numbered document."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import docx
import pytest

from consult.accounts.models import Role
from consult.consultations.importing import parse_document, parse_docx
from consult.consultations.models import CommitteeAssignment
from consult.consultations.services import create_consultation, import_document
from consult.database import utcnow
from consult.extensions import db
from tests.conftest import GUIDANCE_SEED, SAMPLE_DRAFT, sections_of
from tests.consultations.importing.test_docx import docx_bytes

LONDON = ZoneInfo("Europe/London")


def text_of(response) -> str:
    return response.get_data(as_text=True)


def main_of(response) -> str:
    page = text_of(response)
    return page[page.index("<main"):page.index("</main>")]


def document_path(consultation, document=None) -> str:
    document = document or consultation.documents[0]
    return f"/consultations/{consultation.reference}/documents/{document.id}"


def groups_on_list_page(client) -> dict[str, str]:
    """Each heading of the list page with the markup under it, up to the next heading."""
    page = main_of(client.get("/consultations/"))
    parts = re.split(r'<h2 class="govuk-heading-l">(.*?)</h2>', page)
    return dict(zip(parts[1::2], parts[2::2]))


# --- The list ------------------------------------------------------------------

def test_list_groups_open_upcoming_and_closed_consultations(client, make_consultation):
    make_consultation(state="open", title="Insoles for foot pain")
    make_consultation(state="upcoming", title="Nerve stimulation for migraine")
    make_consultation(state="closed", title="Cryoablation of neuroma")
    groups = groups_on_list_page(client)
    assert list(groups) == ["Open for comments", "Opening soon", "Closed"]
    assert "Insoles for foot pain" in groups["Open for comments"]
    assert "Nerve stimulation for migraine" in groups["Opening soon"]
    assert "Cryoablation of neuroma" in groups["Closed"]
    assert "Insoles for foot pain" not in groups["Opening soon"] + groups["Closed"]
    assert "Nerve stimulation for migraine" not in groups["Open for comments"] + groups["Closed"]


def test_draft_consultation_is_not_listed_and_its_pages_are_not_found(client, login_as, make_consultation):
    consultation = make_consultation(title="Held back by staff")
    consultation.is_draft = True
    db.session.commit()
    login_as()
    assert "Held back by staff" not in text_of(client.get("/consultations/"))
    for url in (f"/consultations/{consultation.reference}", document_path(consultation),
                f"/consultations/{consultation.reference}/take-part",
                f"/consultations/{consultation.reference}/sections/{sections_of(consultation)['1.1'].id}/comment"):
        assert client.get(url).status_code == 404, url


# --- One consultation ----------------------------------------------------------

@pytest.mark.parametrize("month, expected_utc_hour", [(1, 17), (7, 16)])
def test_consultation_page_shows_summary_documents_and_uk_deadline(client, app_context, month, expected_utc_hour):
    year = utcnow().year + 1
    closes_at = datetime(year, month, 15, 17, 0, tzinfo=LONDON)
    consultation = create_consultation("UKT1", "Deadline in UK time", "First paragraph.\n\nSecond paragraph.",
                                       utcnow() - timedelta(days=2), closes_at)
    document = import_document(consultation, parse_document(SAMPLE_DRAFT))
    db.session.commit()
    assert consultation.closes_at.hour == expected_utc_hour  # stored as UTC, shown as UK time
    page = main_of(client.get("/consultations/UKT1"))
    month_name = closes_at.strftime("%B")
    assert f"5pm on 15 {month_name} {year}" in page
    assert "First paragraph." in page and "Second paragraph." in page
    assert f'href="{document_path(consultation, document)}"' in page
    assert "Sample draft guidance" in page
    days = (closes_at.date() - utcnow().astimezone(LONDON).date()).days
    expected = f"Closes in {days} days (5pm on 15 {month_name} {year})"
    assert expected in page
    assert expected in main_of(client.get("/consultations/"))
    assert expected in main_of(client.get(document_path(consultation, document)))


def test_signed_out_visitor_is_invited_to_sign_in_to_take_part(client, make_consultation):
    consultation = make_consultation()
    page = main_of(client.get(f"/consultations/{consultation.reference}"))
    assert "Sign in to take part" in page
    assert "next=/consultations/" in page.replace("%2F", "/")
    assert "You are taking part" not in page


def test_consultation_page_shows_how_the_signed_in_user_takes_part(client, login_as, make_consultation,
                                                                   make_participation):
    consultation = make_consultation()
    make_participation(login_as(), consultation, kind="organisation")
    page = main_of(client.get(f"/consultations/{consultation.reference}"))
    assert "You are taking part on behalf of Foot Health Charity (charity or patient group)" in page
    assert "Tell us how you are taking part" not in page
    assert page.count(f'href="/consultations/{consultation.reference}/response"') == 1  # the button, once


@pytest.mark.parametrize("kind,offered", [("individual", False), ("organisation", False), (None, True)])
def test_only_someone_not_yet_taking_part_is_offered_an_organisation_code(client, login_as, make_consultation,
                                                                          make_participation, kind, offered):
    consultation = make_consultation()
    user = login_as()
    if kind:
        make_participation(user, consultation, kind=kind)
    page = main_of(client.get(f"/consultations/{consultation.reference}"))
    assert ("Enter your organisation code" in page) is offered


def page_title(response) -> str:
    return re.search(r"<title>(.*?)</title>", text_of(response), re.S).group(1).strip()


def test_pages_that_differ_have_titles_that_differ(client, login_as, make_consultation):
    """A screen reader user tells pages apart by their titles (WCAG 2.4.2): no two of these share one."""
    consultation = make_consultation()
    login_as(Role.STAFF)
    paths = ["/consultations/", "/staff/consultations/", f"/consultations/{consultation.reference}",
             document_path(consultation)]
    titles = [page_title(client.get(path)) for path in paths]
    assert len(set(titles)) == len(titles), titles


def test_signed_in_user_not_yet_taking_part_is_asked_how(client, login_as, make_consultation):
    consultation = make_consultation()
    login_as()
    page = main_of(client.get(f"/consultations/{consultation.reference}"))
    assert f'href="/consultations/{consultation.reference}/take-part"' in page
    assert "You will not be able to change how you comment later" in page


# --- The document --------------------------------------------------------------

def section_block(page: str, anchor: str) -> str:
    """The markup of one numbered section, from its anchor to the next section or chapter."""
    start = page.index(f'id="{anchor}"')
    ends = [page.find(marker, start + 1) for marker in ('class="app-section"', "</section>")]
    return page[start:min(end for end in ends if end != -1)]


def test_document_page_numbers_sections_with_stable_anchors_and_comment_links(client, make_consultation):
    consultation = make_consultation()
    document = consultation.documents[0]
    ref = consultation.reference
    page = main_of(client.get(document_path(consultation)))
    start = page.index('id="contents-heading"')
    contents = page[start:page.index("</nav>", start)]
    assert '<a class="govuk-link" href="#chapter-1">1 Recommendations</a>' in contents
    assert '<a class="govuk-link" href="#chapter-2">2 The procedure</a>' in contents
    for chapter, anchor in zip(document.chapters, ("chapter-1", "chapter-2")):
        assert f'id="{anchor}"' in page
        assert f'href="/consultations/{ref}/chapters/{chapter.id}/comment">Comment on chapter {chapter.number}' in page
    sections = sections_of(consultation)
    for number, anchor in (("1.1", "section-1-1"), ("1.2", "section-1-2"), ("2.1", "section-2-1"),
                           ("2.2", "section-2-2")):
        block = section_block(page, anchor)
        assert f">{number}</p>" in block
        link = f'href="/consultations/{ref}/sections/{sections[number].id}/comment">Comment on section {number}</a>'
        assert link in block
    assert "A thin probe is passed through the skin and cooled with gas." in section_block(page, "section-2-1")
    assert f'href="/consultations/{ref}/documents/{document.id}/comment">Comment on the whole document</a>' in page


def test_imported_guidance_shows_every_section_without_link_markup_or_front_matter(client, make_consultation):
    consultation = make_consultation(text=GUIDANCE_SEED.read_text(encoding="utf-8"))
    page = main_of(client.get(document_path(consultation)))
    expected = [f"1.{n}" for n in (1, 2)] + [f"2.{n}" for n in range(1, 7)] + [f"3.{n}" for n in range(1, 6)]
    assert sorted(sections_of(consultation)) == expected
    positions = [page.index(f'id="section-{number.replace(".", "-")}"') for number in expected]
    assert positions == sorted(positions)
    for number in expected:
        assert f"Comment on section {number}</a>" in page
    assert "Percutaneous image-guided cryoablation of peripheral neuroma for chronic pain" in page
    assert "Find out only in research means on the NICE guidance page." in page
    assert "[" not in page and "](#)" not in page
    assert "Your responsibility" not in page


LISTED_DRAFT = """# Draft with lists

## 1 Recommendations

1.1 Offer the procedure only when:
- the person has tried **conservative** care
- the team includes <b>a surgeon</b>

1.2 See [the evidence](https://example.org/evidence) first.
"""

# Section 1.1 of LISTED_DRAFT as every page shows it.
LISTED = ('<p class="govuk-body">Offer the procedure only when:</p>'
          '<ul class="govuk-list govuk-list--bullet"><li>the person has tried <strong>conservative</strong> care</li>'
          '<li>the team includes &lt;b&gt;a surgeon&lt;/b&gt;</li></ul>')


def listed_word_draft():
    """A Word draft whose numbered paragraph is followed by paragraphs in the List Bullet style."""
    document = docx.Document()
    document.add_heading("1 Recommendations", 1)
    document.add_paragraph("Offer the procedure only when:", style="List Number")
    document.add_paragraph("the person has tried conservative care", style="List Bullet")
    document.add_paragraph("the team includes a surgeon", style="List Bullet")
    document.add_paragraph("See the evidence first.", style="List Number")
    return parse_docx(docx_bytes(document))


def test_lists_and_bold_in_an_imported_markdown_draft_read_as_lists_and_bold(client, make_consultation):
    consultation = make_consultation(text=LISTED_DRAFT)
    sections = sections_of(consultation)
    assert sections["1.1"].text == ("Offer the procedure only when:\n- the person has tried **conservative** care\n"
                                    "- the team includes <b>a surgeon</b>")
    page = main_of(client.get(document_path(consultation)))
    block = section_block(page, "section-1-1")
    assert f'<div class="app-section__text" data-section-text>\n        {LISTED}\n      </div>' in block
    assert "**" not in page and "- the" not in page and "<b>" not in page
    assert ('<p class="govuk-body">See the evidence (https://example.org/evidence) first.</p>'
            in section_block(page, "section-1-2"))


def test_a_word_draft_s_bulleted_paragraphs_read_as_a_list_in_their_section(client, make_consultation):
    consultation = create_consultation("TSTWORD", "Word draft", "A summary.", utcnow() - timedelta(days=1),
                                       utcnow() + timedelta(days=20))
    import_document(consultation, listed_word_draft())
    db.session.commit()
    block = section_block(main_of(client.get(document_path(consultation))), "section-1-1")
    assert ('<p class="govuk-body">Offer the procedure only when:</p><ul class="govuk-list govuk-list--bullet">'
            "<li>the person has tried conservative care</li><li>the team includes a surgeon</li></ul>") in block


def test_the_comment_form_shows_the_section_as_the_document_does(client, login_as, make_consultation,
                                                                  make_participation):
    consultation = make_consultation(text=LISTED_DRAFT)
    make_participation(login_as(), consultation)
    section = sections_of(consultation)["1.1"]
    page = main_of(client.get(f"/consultations/{consultation.reference}/sections/{section.id}/comment"))
    assert LISTED in page and "**" not in page and "<b>" not in page


def test_staff_read_lists_and_bold_in_the_preview_of_a_draft_and_beside_a_comment(
        client, login_as, make_consultation, make_participation, make_user):
    from consult.comments import services as comment_services

    consultation = held_as_draft(make_consultation, text=LISTED_DRAFT)
    login_as(Role.STAFF)
    assert LISTED in section_block(main_of(client.get(document_path(consultation))), "section-1-1")

    consultation = make_consultation(text=LISTED_DRAFT)
    participation = make_participation(make_user(), consultation)
    section = sections_of(consultation)["1.1"]
    comment = comment_services.save_draft(participation, comment_services.CommentTargetRef(
        section.document, section.chapter, section), "A comment.", None, utcnow())
    comment_services.submit_response(participation, utcnow())
    db.session.commit()
    page = main_of(client.get(f"/staff/consultations/{consultation.reference}/comments/{comment.number}"))
    shown = page.split('id="section-text"')[1].split("</details>")[0]
    assert LISTED in shown and "**" not in shown


def test_unknown_consultation_and_document_are_not_found(client, make_consultation):
    consultation = make_consultation()
    other = make_consultation()
    assert client.get("/consultations/NOSUCHREF").status_code == 404
    assert client.get(f"/consultations/{consultation.reference}/documents/999999").status_code == 404
    assert client.get(document_path(other)).status_code == 200
    assert client.get(f"/consultations/{consultation.reference}/documents/{other.documents[0].id}").status_code == 404


def test_each_chapter_link_names_its_chapter_once(client, make_consultation):
    consultation = make_consultation(text=GUIDANCE_SEED.read_text(encoding="utf-8"))
    page = main_of(client.get(document_path(consultation)))
    names = [re.sub(r"<[^>]+>", "", name) for name in re.findall(r'/chapters/\d+/comment">(.*?)</a>', page, re.S)]
    assert names == ["Comment on chapter 1: Recommendations",
                     "Comment on chapter 2: The condition, current treatments and procedure",
                     "Comment on chapter 3: Committee considerations",
                     "Comment on the chapter ‘Update information’"]


# --- After the response is submitted ------------------------------------------------

@pytest.fixture
def submitted(client, login_as, make_consultation, make_participation):
    from consult.comments import services as comment_services

    consultation = make_consultation()
    participation = make_participation(login_as(), consultation)
    section = sections_of(consultation)["1.1"]
    comment_services.save_draft(participation, comment_services.CommentTargetRef(
        section.document, section.chapter, section), "A comment.", None, utcnow())
    comment_services.submit_response(participation, utcnow())
    db.session.commit()
    return participation


def test_after_submitting_the_pages_say_so_and_offer_no_comment_actions(client, submitted):
    consultation = submitted.consultation
    local = submitted.submitted_at.astimezone(LONDON)
    receipt = f'href="/consultations/{consultation.reference}/response/receipt"'
    for url in (f"/consultations/{consultation.reference}", document_path(consultation)):
        page = main_of(client.get(url))
        assert re.search(r"You submitted your response at (\d{1,2}(:\d\d)?[ap]m|midday|midnight) on "
                         rf"{local.day} {local.strftime('%B %Y')}\.", page), url
        assert receipt in page and submitted.receipt_reference in page, url
        assert "Open for comments" not in page and "Closes in" not in page, url
        assert "/comment" not in page and "Comment on" not in page, url
        assert "Review your response" not in page, url
    # Everyone else still reads that it is open, and can comment.
    client.post("/account/sign-out", data={})
    with client.session_transaction() as session:
        session.clear()
    page = main_of(client.get(document_path(consultation)))
    assert "Open for comments" in page and "Comment on section 1.1" in page


def test_while_responding_the_pages_link_to_your_response_except_your_response_itself(client, login_as,
                                                                                      make_consultation,
                                                                                      make_participation):
    consultation = make_consultation()
    make_participation(login_as(), consultation)
    review = f'href="/consultations/{consultation.reference}/response"'
    assert review in main_of(client.get(document_path(consultation)))
    assert review not in main_of(client.get(f"/consultations/{consultation.reference}/response"))


# --- Staff preview of a draft --------------------------------------------------

PREVIEW_BANNER = "Preview: this consultation is held as a draft and is not visible to the public"


def held_as_draft(make_consultation, **kwargs):
    consultation = make_consultation(**kwargs)
    consultation.is_draft = True
    db.session.commit()
    return consultation


def assert_no_way_to_take_part(page: str, consultation) -> None:
    """Nothing on a preview lets anyone take part, comment, answer questions or use an organisation code."""
    reference = consultation.reference
    assert "Tell us how you are taking part" not in page
    assert "How are you taking part" not in page and "Sign in to take part" not in page
    assert "organisation code" not in page and f"/consultations/{reference}/organisation" not in page
    assert "Comment on" not in page and "/comment" not in page
    assert f"/consultations/{reference}/take-part" not in page
    assert not re.search(rf"/consultations/{reference}/questions/\d", page)  # its questions are read, not answered
    assert f"/consultations/{reference}/response" not in page


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_staff_preview_a_draft_consultation_page_with_a_banner_and_no_way_to_take_part(client, login_as,
                                                                                       make_consultation, role):
    consultation = held_as_draft(make_consultation, title="Held back by staff")
    login_as(role)
    response = client.get(f"/consultations/{consultation.reference}")
    assert response.status_code == 200
    page = main_of(response)
    assert PREVIEW_BANNER in page
    assert page.index(PREVIEW_BANNER) < page.index("<h1")
    assert "Held back by staff" in page
    assert f'href="{document_path(consultation)}">Sample draft guidance</a>' in page
    assert f'href="/staff/consultations/{consultation.reference}"' in page  # back to where staff build it
    assert_no_way_to_take_part(page, consultation)


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_staff_preview_a_draft_document_with_every_section_and_no_comment_links(client, login_as,
                                                                                make_consultation, role):
    consultation = held_as_draft(make_consultation, text=GUIDANCE_SEED.read_text(encoding="utf-8"))
    login_as(role)
    response = client.get(document_path(consultation))
    assert response.status_code == 200
    page = main_of(response)
    assert PREVIEW_BANNER in page
    assert page.index(PREVIEW_BANNER) < page.index("<h1")
    for number in sections_of(consultation):
        assert f'id="section-{number.replace(".", "-")}"' in page
    assert "Find out only in research means on the NICE guidance page." in page
    assert f'href="/consultations/{consultation.reference}"' in text_of(response)  # back to the consultation
    assert_no_way_to_take_part(page, consultation)


def test_staff_preview_does_not_show_how_they_once_took_part(client, login_as, make_consultation,
                                                             make_participation):
    """A consultation held back after it opened: the staff member's own response is not what they preview."""
    consultation = make_consultation()
    make_participation(login_as(Role.STAFF), consultation)
    consultation.is_draft = True
    db.session.commit()
    for url in (f"/consultations/{consultation.reference}", document_path(consultation)):
        page = main_of(client.get(url))
        assert PREVIEW_BANNER in page, url
        assert "You are taking part" not in page and "Your response" not in page, url
        assert_no_way_to_take_part(page, consultation)


@pytest.mark.parametrize("who", ["signed out", "stakeholder", "committee member", "assigned committee member"])
def test_a_draft_consultation_and_its_document_are_not_found_for_anyone_but_staff(client, login_as,
                                                                                 make_consultation, who):
    consultation = held_as_draft(make_consultation)
    if who == "stakeholder":
        login_as(Role.STAKEHOLDER)
    elif who.endswith("committee member"):
        member = login_as(Role.COMMITTEE)
        if who.startswith("assigned"):  # may review its comments, but the preview is for those who build it
            db.session.add(CommitteeAssignment(consultation_id=consultation.id, user_id=member.id))
            db.session.commit()
    for url in (f"/consultations/{consultation.reference}", document_path(consultation)):
        response = client.get(url)
        assert response.status_code == 404, url
        assert PREVIEW_BANNER not in text_of(response), url


def test_staff_previewing_a_draft_still_cannot_take_part_comment_or_answer(client, login_as, make_consultation):
    consultation = held_as_draft(make_consultation)
    login_as(Role.STAFF)
    reference = consultation.reference
    section = sections_of(consultation)["1.1"]
    for url in (f"/consultations/{reference}/take-part", f"/consultations/{reference}/sections/{section.id}/comment",
                f"/consultations/{reference}/chapters/{section.chapter_id}/comment",
                f"/consultations/{reference}/documents/{section.document_id}/comment",
                f"/consultations/{reference}/questions/1", f"/consultations/{reference}/organisation/code",
                f"/consultations/{reference}/response"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("who", [None, Role.STAKEHOLDER, Role.STAFF, Role.ADMIN])
def test_the_pages_of_an_open_consultation_show_no_preview_and_still_invite_comments(client, login_as,
                                                                                    make_consultation, who):
    consultation = make_consultation()
    if who is not None:
        login_as(who)
    page = main_of(client.get(f"/consultations/{consultation.reference}"))
    assert "Preview" not in page
    assert "Open for comments" in page
    assert ("Tell us how you are taking part" if who else "Sign in to take part") in page
    assert "Commenting for an organisation" in page
    page = main_of(client.get(document_path(consultation)))
    assert "Preview" not in page
    assert "Comment on section 1.1</a>" in page and "Comment on the whole document</a>" in page
    assert f'href="/consultations/{consultation.reference}/questions/"' in page


@pytest.mark.parametrize("state,offered", [("upcoming", False), ("open", True), ("closed", False)])
def test_the_document_offers_comment_links_only_while_comments_can_be_made(client, login_as, make_consultation,
                                                                          state, offered):
    consultation = make_consultation(state=state)
    login_as()
    page = main_of(client.get(document_path(consultation)))
    assert ("Comment on section" in page) is offered
