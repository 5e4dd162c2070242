"""A stakeholder downloads their own response, and only their own."""

import csv
import io

import openpyxl

from consult.comments import services as comment_services
from consult.comments.services import OWN_COLUMNS
from consult.database import utcnow
from consult.extensions import db
from tests.conftest import sections_of
from tests.spreadsheets import rows_shown


def _draft(participation, consultation, number: str, body: str, quote=None):
    section = sections_of(consultation)[number]
    return comment_services.save_draft(
        participation, comment_services.CommentTargetRef(section.document, section.chapter, section),
        body, quote, utcnow())


def test_own_response_downloads_hold_only_your_comments(client, make_user, make_consultation, make_participation,
                                                         login):
    consultation = make_consultation()
    me, someone = make_user(), make_user()
    mine = make_participation(me, consultation)
    theirs = make_participation(someone, consultation)
    _draft(mine, consultation, "2.1", "=My formula-like comment", "A thin probe")
    _draft(mine, consultation, "1.1", "My first-section comment")
    _draft(theirs, consultation, "1.1", "Someone else's words")
    db.session.commit()
    login(me)

    workbook = client.get(f"/consultations/{consultation.reference}/response.xlsx")
    assert workbook.status_code == 200
    assert 'filename="' in workbook.headers["Content-Disposition"]
    rows = rows_shown(openpyxl.load_workbook(io.BytesIO(workbook.data)).active)
    assert list(rows[0]) == OWN_COLUMNS
    bodies = [row[OWN_COLUMNS.index("Comment")] for row in rows[1:]]
    assert bodies == ["My first-section comment", "'=My formula-like comment"]  # document order, neutralised

    download = client.get(f"/consultations/{consultation.reference}/response.csv")
    assert download.headers["Content-Type"].startswith("text/csv")
    text = download.get_data(as_text=True)
    assert text.startswith("\ufeff")
    assert "Someone else's words" not in text
    csv_rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [row[OWN_COLUMNS.index("Comment")] for row in csv_rows[1:]] == bodies


def test_download_without_taking_part_goes_to_the_question(client, make_consultation, login_as):
    consultation = make_consultation()
    login_as()
    response = client.get(f"/consultations/{consultation.reference}/response.csv")
    assert response.status_code == 302 and "/take-part" in response.headers["Location"]


def test_own_response_downloads_carry_the_whole_declaration_and_the_receipt_reference(client, make_user,
                                                                                     make_consultation,
                                                                                     make_participation, login):
    consultation = make_consultation()
    me = make_user()
    mine = make_participation(me, consultation, kind="organisation", organisation_name="=Foot Health",
                              has_tobacco_links=True, tobacco_details="+A grant in 2019")
    mine.other_interests, mine.publish_name = "We sell insoles", True
    _draft(mine, consultation, "1.1", "A comment")
    comment_services.submit_response(mine, utcnow())
    db.session.commit()
    login(me)

    expected = {
        "Receipt reference": mine.receipt_reference, "Taking part": "On behalf of an organisation",
        "Which best describes you": "", "Organisation name": "'=Foot Health",
        "Type of organisation": "Charity or patient group", "Links with the tobacco industry": "Yes",
        "Details of the links or funding": "'+A grant in 2019", "Other interests": "We sell insoles",
        "Publish your name with your comments": "Yes",
    }
    workbook = client.get(f"/consultations/{consultation.reference}/response.xlsx")
    [heading, row] = rows_shown(openpyxl.load_workbook(io.BytesIO(workbook.data)).active)
    shown = {name: value or "" for name, value in zip(heading, row)}
    assert {name: shown[name] for name in expected} == expected
    text = client.get(f"/consultations/{consultation.reference}/response.csv").get_data(as_text=True)
    [heading, row] = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert {name: value for name, value in zip(heading, row) if name in expected} == expected
