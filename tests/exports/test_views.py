"""Committee review, downloads and publication through the HTTP client."""

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from docx import Document as WordDocument
from sqlalchemy import select

from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.consultations.models import CommitteeAssignment
from consult.database import utcnow
from consult.extensions import db
from consult.moderation.models import Theme


def _url(consultation, tail: str) -> str:
    return f"/staff/consultations/{consultation.reference}/{tail}"


@pytest.fixture
def committee_member(make_user, moderated_consultation):
    consultation, _ = moderated_consultation
    member = make_user(role=Role.COMMITTEE, name="Committee Member")
    db.session.add(CommitteeAssignment(consultation_id=consultation.id, user_id=member.id))
    db.session.commit()
    return member


def _close(consultation):
    consultation.opens_at = utcnow() - timedelta(days=40)
    consultation.closes_at = utcnow() - timedelta(days=1)
    db.session.commit()


def test_review_page_shows_counts_and_accessible_charts(client, login, committee_member, moderated_consultation):
    consultation, _ = moderated_consultation
    login(committee_member)
    page = client.get(_url(consultation, "review")).get_data(as_text=True)
    assert "5 comments submitted and not rejected" in page
    assert page.count('<svg role="img"') == 3
    assert '<title id="chart-themes-title">Comments per theme</title>' in page
    assert '<desc id="chart-sections-desc">' in page
    assert "Individual (health or social care professional)" in page  # the participant-type table


def test_drill_down_into_a_theme_and_a_section(client, login, committee_member, moderated_consultation):
    consultation, comments = moderated_consultation
    login(committee_member)
    evidence = db.session.scalar(select(Theme).where(Theme.name == "Evidence gaps"))
    page = client.get(_url(consultation, f"review?theme={evidence.id}")).get_data(as_text=True)
    assert "Theme: Evidence gaps" in page
    assert comments["=1+1 looks like a formula"].reference in page
    assert "Please add [redacted] data" in page and "Please add follow-up data" not in page
    assert comments["@SUM(A1) and more"].reference not in page
    assert "Thank you. The committee agreed." in page
    section = comments["=1+1 looks like a formula"].section
    page = client.get(_url(consultation, f"review?section={section.id}")).get_data(as_text=True)
    assert f"Section {section.number}" in page and comments["@SUM(A1) and more"].reference in page
    assert client.get(_url(consultation, "review?theme=999999")).status_code == 404
    for drill in ("theme=abc", "theme=99999999999", "section=999999", "section=99999999999"):
        assert client.get(_url(consultation, f"review?{drill}")).status_code == 404, drill


def test_committee_sees_only_assigned_consultations(client, login, make_user, make_consultation,
                                                    moderated_consultation):
    other = make_consultation()
    member = login(make_user(role=Role.COMMITTEE))
    consultation, _ = moderated_consultation
    db.session.add(CommitteeAssignment(consultation_id=consultation.id, user_id=member.id))
    db.session.commit()
    assert client.get(_url(other, "review")).status_code == 404
    assert client.get(_url(other, "downloads/comments.xlsx")).status_code == 404
    assert client.get(_url(consultation, "review")).status_code == 200


def test_stakeholders_cannot_reach_committee_pages(client, login_as, moderated_consultation):
    consultation, _ = moderated_consultation
    login_as(Role.STAKEHOLDER)
    assert client.get(_url(consultation, "review")).status_code == 403
    assert client.get(_url(consultation, "downloads/comments.csv")).status_code == 403


def test_committee_download_has_no_email_staff_download_has(client, login, login_as, committee_member,
                                                            moderated_consultation):
    consultation, _ = moderated_consultation
    login(committee_member)
    data = client.get(_url(consultation, "downloads/comments.xlsx")).data
    header = [c.value for c in next(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(max_row=1))]
    assert "Email address" not in header
    text = client.get(_url(consultation, "downloads/comments.csv")).get_data(as_text=True)
    assert "@example.org" not in text
    login_as(Role.STAFF)
    text = client.get(_url(consultation, "downloads/comments.csv")).get_data(as_text=True)
    assert "pat@example.org" in text


def test_themed_workbook_and_word_table_download(client, login, committee_member, moderated_consultation):
    consultation, _ = moderated_consultation
    login(committee_member)
    response = client.get(_url(consultation, "downloads/themed.xlsx"))
    assert response.headers["Content-Disposition"].endswith('-comments-by-theme.xlsx"')
    assert openpyxl.load_workbook(io.BytesIO(response.data)).sheetnames[0] == "Summary"
    response = client.get(_url(consultation, "downloads/table.docx?group=theme"))
    document = WordDocument(io.BytesIO(response.data))
    assert [c.text for c in document.tables[0].rows[0].cells][0] == "Comment number"
    assert client.get(_url(consultation, "downloads/table.docx?group=colour")).status_code == 404


def test_publication_is_refused_before_the_close(client, login_as, post_form, moderated_consultation):
    consultation, _ = moderated_consultation
    login_as(Role.STAFF)
    response = post_form(_url(consultation, "publication"), follow_redirects=True)
    assert "can only be published after the consultation closes" in response.get_data(as_text=True)
    assert client.get(f"/consultations/{consultation.reference}/published-comments").status_code == 404


def test_publishing_twice_or_withdrawing_what_is_not_published_is_told_not_done(client, login_as, post_form,
                                                                                moderated_consultation):
    consultation, _ = moderated_consultation
    _close(consultation)
    login_as(Role.STAFF)
    refused = post_form(_url(consultation, "publication/withdraw"), follow_redirects=True)
    assert refused.status_code == 200
    assert "The comments and responses are not published." in refused.get_data(as_text=True)
    assert post_form(_url(consultation, "publication")).status_code == 302
    again = post_form(_url(consultation, "publication"), follow_redirects=True)
    assert "The comments and responses are already published." in again.get_data(as_text=True)
    assert client.get(f"/consultations/{consultation.reference}/published-comments").status_code == 200


def test_published_page_names_as_consent_allows_and_can_be_withdrawn(client, login_as, post_form,
                                                                      moderated_consultation):
    consultation, comments = moderated_consultation
    _close(consultation)
    comments["=1+1 looks like a formula"].moderation_state = comments["@SUM(A1) and more"].moderation_state = \
        type(comments["@SUM(A1) and more"].moderation_state).ACCEPTED
    db.session.commit()
    staff = login_as(Role.STAFF)
    assert post_form(_url(consultation, "publication")).status_code == 302
    client.post("/account/sign-out", data={"csrf_token": _token(client)})

    public = client.get(f"/consultations/{consultation.reference}/published-comments")
    page = public.get_data(as_text=True)
    assert public.status_code == 200
    assert "Pat Named" in page                                   # consented
    assert "Hidden Person" not in page                           # did not consent
    assert "Individual (health or social care professional)" in page
    assert "Neuroma Support" in page                             # organisations are named
    assert "@example.org" not in page                            # emails never
    assert "Declared links with, or funding from, the tobacco industry" in page
    assert "Please add [redacted] data" in page and "Please add follow-up data" not in page
    assert "Spam spam spam" not in page                          # rejected
    assert "Section one comment" not in page                     # never triaged, so not accepted
    rows = list(csv.reader(io.StringIO(client.get(
        f"/consultations/{consultation.reference}/published-comments.csv").get_data(as_text=True)[1:])))
    assert len(rows) == 1 + 3
    assert client.get(f"/consultations/{consultation.reference}/published-comments.xlsx").status_code == 200

    db.session.expire_all()
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == staff.id)))
    assert "consultation.publish_comments" in actions
    from tests.conftest import PASSWORD
    client.post("/account/sign-in", data={"csrf_token": _token(client, "/account/sign-in"),
                                          "email": staff.email, "password": PASSWORD})
    assert post_form(_url(consultation, "publication/withdraw")).status_code == 302
    assert client.get(f"/consultations/{consultation.reference}/published-comments").status_code == 404


def _token(client, path: str = "/consultations/") -> str:
    from tests.conftest import csrf_token_from

    return csrf_token_from(client.get(path).get_data(as_text=True))


def test_downloads_apply_the_triage_queue_filters(client, login_as, moderated_consultation):
    consultation, comments = moderated_consultation
    login_as(Role.STAFF)
    evidence = db.session.scalar(select(Theme).where(Theme.name == "Evidence gaps"))
    text = client.get(_url(consultation, f"downloads/comments.csv?theme={evidence.id}")).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))[1:]
    assert sorted(row[0] for row in rows) == sorted([comments["=1+1 looks like a formula"].reference,
                                                      comments["Please add follow-up data"].reference])
    text = client.get(_url(consultation, "downloads/comments.csv?q=follow-up")).get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))) == 1  # redacted words are not searched
    queue = client.get(_url(consultation, f"comments?theme={evidence.id}")).get_data(as_text=True)
    assert f"downloads/comments.csv?theme={evidence.id}" in queue


def test_only_agreed_responses_are_published(client, login_as, post_form, moderated_consultation):
    from consult.moderation.models import CommentResponse
    from consult.moderation.states import ModerationState, ResponseState

    consultation, comments = moderated_consultation
    _close(consultation)
    charity = comments["@SUM(A1) and more"]
    charity.moderation_state = ModerationState.ACCEPTED
    db.session.add(CommentResponse(comment_id=charity.id, state=ResponseState.DRAFT, text="Half-written reply",
                                   updated_by_id=comments["=1+1 looks like a formula"].participation.user_id))
    db.session.commit()
    login_as(Role.STAFF)
    post_form(_url(consultation, "publication"))
    page = client.get(f"/consultations/{consultation.reference}/published-comments").get_data(as_text=True)
    assert "Half-written reply" not in page
    csv_text = client.get(f"/consultations/{consultation.reference}/published-comments.csv").get_data(as_text=True)
    assert "Half-written reply" not in csv_text
    assert "Read the comments received" in client.get(f"/consultations/{consultation.reference}").get_data(
        as_text=True)
