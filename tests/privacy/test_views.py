"""The privacy notice, "Your data" and its downloads, and deleting an account, through the pages."""

import io
import json
import re

import openpyxl
import pytest
from sqlalchemy import select

from consult.accounts.models import Role, User
from consult.audit.models import AuditEvent
from consult.comments.models import Comment
from consult.extensions import db
from consult.privacy import services
from tests.conftest import PASSWORD, csrf_token_from
from tests.privacy.conftest import DRAFT, SOMEONE_ELSES, SUBMITTED
from tests.spreadsheets import rows_shown


def text_of(response) -> str:
    return response.get_data(as_text=True)


def stored(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def delete_with(client, password: str):
    token = csrf_token_from(text_of(client.get("/account/delete")))
    return client.post("/account/delete", data={"csrf_token": token, "password": password})


# --- The privacy notice ---------------------------------------------------------

def test_the_privacy_notice_is_public_and_linked_from_every_page_and_registration(client):
    notice = client.get("/privacy")
    assert notice.status_code == 200
    page = text_of(notice)
    assert "What we keep" in page and "Why we keep it" in page and "How long we keep it" in page
    assert "for 3 years" in page
    assert 'href="/privacy"' in text_of(client.get("/consultations/"))
    assert 'href="/privacy"' in text_of(client.get("/account/register"))


def test_the_notice_states_the_configured_retention(app, client):
    app.config["ACCOUNT_RETENTION_YEARS"] = 6
    try:
        assert "for 6 years" in text_of(client.get("/privacy"))
    finally:
        app.config["ACCOUNT_RETENTION_YEARS"] = 3


# --- Your data ---------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/account/your-data", "/account/your-data.json", "/account/your-data.xlsx",
                                  "/account/delete"])
def test_your_data_needs_signing_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/sign-in")


def test_the_your_data_page_shows_what_is_held_and_links_the_downloads(client, login, person):
    login(person["user"])
    page = text_of(client.get("/account/your-data"))
    assert "pat.person@example.org" in page
    values = [" ".join(v.split()) for v in re.findall(r'govuk-summary-list__value">(.*?)</dd>', page, re.S)]
    assert values[-2:] == ["3", "3"]  # consultations taken part in; comments, the draft included
    assert "/account/your-data.xlsx" in page and "/account/your-data.json" in page
    assert 'href="/account/delete"' in page
    assert 'href="/account/your-data"' in text_of(client.get("/consultations/"))  # from the footer


def test_the_json_download_holds_only_your_own_data(client, login, person):
    login(person["user"])
    response = client.get("/account/your-data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="your-data-')
    data = json.loads(response.data)
    assert data["account"]["email"] == "pat.person@example.org"
    assert {c["comment"] for c in data["comments"]} >= {SUBMITTED, DRAFT}
    assert data["emails"] and {email["to"] for email in data["emails"]} == {"pat.person@example.org"}
    assert SOMEONE_ELSES not in text_of(response) and "other@example.org" not in text_of(response)


def test_the_spreadsheet_has_a_sheet_per_section_and_is_formula_safe(client, login, person):
    login(person["user"])
    response = client.get("/account/your-data.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Account", "Participations", "Comments", "Answers", "Organisation", "Emails"]
    account = list(book["Account"].iter_rows(values_only=True))
    assert account[0][:3] == ("Account number", "Email address", "Full name")
    assert account[1][1:3] == ("pat.person@example.org", "Pat Person")
    comments = rows_shown(book["Comments"])
    bodies = [row[comments[0].index("Comment")] for row in comments[1:]]
    assert "'" + SUBMITTED in bodies and DRAFT in bodies  # a leading "=" never runs as a formula
    assert all(SOMEONE_ELSES not in str(cell) for sheet in book for row in sheet.iter_rows(values_only=True)
               for cell in row)
    declared = list(book["Participations"].iter_rows(values_only=True))
    assert declared[1][declared[0].index("Links with the tobacco industry")] == "Yes"


# --- Deleting an account ---------------------------------------------------------------

def test_the_delete_page_says_what_will_happen_and_asks_for_the_password(client, login, person):
    login(person["user"])
    page = text_of(client.get("/account/delete"))
    assert "draft comments and answers you have not submitted are deleted" in page
    assert "you stop being its lead" in page
    assert "Individual (patient or carer)" in page
    assert 'type="password"' in page and 'autocomplete="current-password"' in page


def test_deleting_needs_the_password(client, login, person):
    login(person["user"])
    response = delete_with(client, "not my password")
    assert response.status_code == 400
    page = text_of(response)
    assert "govuk-error-summary" in page and "Your password is not correct" in page
    assert "<title>Error: Delete your account" in page
    assert stored(person["user"]).anonymised_at is None

    empty = delete_with(client, "")
    assert "Enter your password to confirm that you want to delete your account" in text_of(empty)
    assert stored(person["user"]).anonymised_at is None


def test_deleting_needs_a_csrf_token(client, login, person):
    login(person["user"])
    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 400
    assert stored(person["user"]).anonymised_at is None


def test_deleting_the_account_signs_out_everywhere_and_frees_the_email(app, client, login, person, post_form):
    user = person["user"]
    other_device = app.test_client()
    with other_device.session_transaction() as session:
        session["_user_id"] = user.get_id()
    login(user)

    response = delete_with(client, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/account/deleted"
    done = client.get("/account/deleted")
    assert "Your account has been deleted" in text_of(done)
    assert client.get("/account/deleted").status_code == 302  # shown once

    for device in (client, other_device):
        assert device.get("/account/your-data").headers["Location"].startswith("/account/sign-in")
    assert stored(user).email == f"deleted-{user.id}@invalid"
    db.session.expire_all()
    assert db.session.get(Comment, person["draft_id"]) is None
    assert db.session.get(Comment, person["submitted"].id).body == SUBMITTED

    again = post_form("/account/register", {"name": "Pat Again", "email": "pat.person@example.org",
                                            "password": PASSWORD, "confirm": PASSWORD})
    assert again.status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.anonymise"))
    assert event.object_id == str(user.id) and "pat.person" not in json.dumps(event.after)


def test_deleted_submissions_appear_anonymised_in_the_staff_download(client, login, login_as, person):
    login(person["user"])
    delete_with(client, PASSWORD)
    login_as(Role.STAFF)
    answered = person["consultations"][0]
    text = text_of(client.get(f"/staff/consultations/{answered.reference}/downloads/comments.csv"))
    assert "Individual (patient or carer)" in text and "'" + SUBMITTED in text
    assert "Pat Person" not in text and "pat.person@example.org" not in text
    assert "I advise Pat's Tobacco Ltd" not in text and services.ERASED_DETAILS in text


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN, Role.COMMITTEE])
def test_staff_are_told_to_ask_an_admin(client, login_as, role):
    user = login_as(role)
    page = text_of(client.get("/account/your-data"))
    assert "Ask an admin to change your role to stakeholder" in page and 'href="/account/delete"' not in page
    assert client.get("/account/delete").status_code == 403
    token = csrf_token_from(text_of(client.get("/account/your-data")))
    assert client.post("/account/delete", data={"csrf_token": token, "password": PASSWORD}).status_code == 403
    assert stored(user).anonymised_at is None


def test_signing_in_records_when(client, make_user):
    user = make_user(email="signer@example.org")
    assert user.last_signed_in_at is None
    token = csrf_token_from(text_of(client.get("/account/sign-in")))
    client.post("/account/sign-in", data={"csrf_token": token, "email": "signer@example.org",
                                          "password": PASSWORD})
    assert stored(user).last_signed_in_at is not None
