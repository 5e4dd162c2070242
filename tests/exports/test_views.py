"""Committee review, downloads and publication through the HTTP client."""

import csv
import io
import re
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


def _seen_counts(client, consultation, tail: str = "publication") -> dict:
    """The counts the check page shows, as its confirm form carries them."""
    page = client.get(_url(consultation, tail)).get_data(as_text=True)
    return {name: re.search(rf'name="{name}" type="hidden" value="(\d+)"', page).group(1)
            for name in ("public", "no_agreed_response", "redacted", "named_individuals", "answers_waiting",
                         "comments_waiting")}


def _confirm(client, post_form, consultation, tail: str = "publication", **kwargs):
    return post_form(_url(consultation, tail), _seen_counts(client, consultation, tail), **kwargs)


def _close(consultation):
    consultation.opens_at = utcnow() - timedelta(days=40)
    consultation.closes_at = utcnow() - timedelta(days=1)
    db.session.commit()


def test_review_page_shows_counts_and_accessible_charts(client, login, committee_member, moderated_consultation):
    consultation, _ = moderated_consultation
    login(committee_member)
    page = client.get(_url(consultation, "review")).get_data(as_text=True)
    assert "5 comments submitted and not rejected" in page
    assert page.count('role="img" aria-labelledby="chart-') == 3
    assert re.search(r'id="chart-themes" role="img" aria-labelledby="chart-themes-title chart-themes-desc"', page)
    assert '<p class="govuk-heading-s app-chart__title" id="chart-themes-title">Comments per theme</p>' in page
    assert '<p class="govuk-visually-hidden" id="chart-sections-desc">' in page
    # Every label is whole page text, never cut to fit.
    assert '<span class="app-chart__label">Evidence gaps</span>' in page
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
    refused = client.get(_url(consultation, "publication/withdraw"), follow_redirects=True)
    assert refused.status_code == 200
    assert "The comments and responses are not published." in refused.get_data(as_text=True)
    seen = _seen_counts(client, consultation)
    assert post_form(_url(consultation, "publication"), seen).status_code == 302
    again = post_form(_url(consultation, "publication"), seen, follow_redirects=True)
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
    assert _confirm(client, post_form, consultation).status_code == 302
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
    assert _confirm(client, post_form, consultation, "publication/withdraw").status_code == 302
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
    assert _confirm(client, post_form, consultation).status_code == 302
    page = client.get(f"/consultations/{consultation.reference}/published-comments").get_data(as_text=True)
    assert "Half-written reply" not in page
    csv_text = client.get(f"/consultations/{consultation.reference}/published-comments.csv").get_data(as_text=True)
    assert "Half-written reply" not in csv_text
    assert "Read the comments received" in client.get(f"/consultations/{consultation.reference}").get_data(
        as_text=True)


def test_published_files_show_the_agreed_response_as_written_and_never_a_draft(client, login_as, post_form,
                                                                               moderated_consultation):
    """The committee's files mark a draft as one; the public's page, CSV and workbook leave it out altogether."""
    from consult.exports.publication import PUBLISHED_COLUMNS
    from consult.moderation.services.responses import apply_response
    from consult.moderation.states import ResponseState
    from tests.spreadsheets import rows_shown

    consultation, comments = moderated_consultation
    _ready_to_publish(consultation, comments)
    charity, named = comments["@SUM(A1) and more"], comments["=1+1 looks like a formula"]
    apply_response(consultation.id, [charity.id], "Half-written reply", ResponseState.DRAFT,
                   named.participation.user, utcnow())
    db.session.commit()
    login_as(Role.STAFF)
    assert _confirm(client, post_form, consultation).status_code == 302
    public = f"/consultations/{consultation.reference}/published-comments"
    page = client.get(public).get_data(as_text=True)
    csv_rows = list(csv.reader(io.StringIO(client.get(public + ".csv").get_data(as_text=True)[1:])))
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(public + ".xlsx").data)).active
    xlsx_rows = [["" if value is None else value for value in row] for row in rows_shown(sheet)]
    for rows in (csv_rows, xlsx_rows):
        assert rows[0] == PUBLISHED_COLUMNS
        responses = {row[0]: row[PUBLISHED_COLUMNS.index("Response")] for row in rows[1:]}
        assert responses[charity.reference] == ""
        assert responses[named.reference] == "Thank you. The committee agreed."
    assert "Thank you. The committee agreed." in page
    for text in (page, str(csv_rows), str(xlsx_rows)):
        assert "Half-written reply" not in text and "Draft response" not in text


def _ready_to_publish(consultation, comments):
    from consult.moderation.states import ModerationState

    _close(consultation)
    for body in ("=1+1 looks like a formula", "@SUM(A1) and more"):
        comments[body].moderation_state = ModerationState.ACCEPTED
    db.session.commit()


def test_publishing_shows_what_will_be_public_before_it_is(client, login_as, moderated_consultation):
    consultation, comments = moderated_consultation
    _ready_to_publish(consultation, comments)
    login_as(Role.STAFF)
    review = client.get(_url(consultation, "review")).get_data(as_text=True)
    assert f'href="/staff/consultations/{consultation.reference}/publication"' in review
    page = client.get(_url(consultation, "publication"))
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'id="count-public">\s*3 comments', text)
    assert re.search(r'id="count-no-agreed-response">\s*2 comments', text)   # the charity's and the redacted one
    assert re.search(r'id="count-redacted">\s*1 comment<', text)
    assert re.search(r'id="count-named-individuals">\s*1 individual agreed', text)  # Pat; the hidden person did not
    assert f"/staff/consultations/{consultation.reference}/comments?state=redacted" in text
    assert f"/staff/consultations/{consultation.reference}/comments?state=public" in text
    assert "View them" in text and "View redacted" in text
    assert "Publish 3 comments" in text
    assert client.get(f"/consultations/{consultation.reference}/published-comments").status_code == 404


def test_the_respond_link_lists_exactly_the_comments_counted_without_an_agreed_response(client, login_as, make_user,
                                                                                      moderated_consultation):
    from consult.moderation.models import CommentResponse
    from consult.moderation.states import ModerationState, ResponseState

    consultation, comments = moderated_consultation
    _ready_to_publish(consultation, comments)
    # Public with a draft, with no response needed, and redacted with none: the public reads no response for each.
    comments["Section one comment"].moderation_state = ModerationState.ACCEPTED
    draft = CommentResponse(comment_id=comments["@SUM(A1) and more"].id, state=ResponseState.DRAFT,
                            text="Half-written reply", updated_by_id=make_user(name="Staff Writer").id)
    db.session.add(draft)
    db.session.commit()
    login_as(Role.STAFF)

    def respond() -> tuple[str, list[int], str]:
        check = client.get(_url(consultation, "publication")).get_data(as_text=True)
        row = check.split('id="count-no-agreed-response"')[1].split("</div>")[0]
        href = re.search(r'<a class="govuk-link" href="([^"]+)">Respond', row).group(1).replace("&amp;", "&")
        queue = client.get(href).get_data(as_text=True)
        return row, [int(n) for n in re.findall(r'data-comment="(\d+)"', queue)], queue

    row, listed, queue = respond()
    assert re.match(r'>\s*3 comments<br>', row)
    assert listed == sorted(comments[body].number for body in (
        "Section one comment", "Please add follow-up data", "@SUM(A1) and more"))
    assert "Showing 1 to 3 of 3 comments matching these filters" in queue

    draft.state = ResponseState.AGREED
    db.session.commit()
    row, listed, queue = respond()
    assert re.match(r'>\s*2 comments<br>', row)
    assert listed == sorted(comments[body].number for body in ("Section one comment", "Please add follow-up data"))
    assert "Showing 1 to 2 of 2 comments matching these filters" in queue


def test_the_publication_check_says_how_many_comments_still_wait_for_triage(client, login_as,
                                                                          moderated_consultation):
    consultation, comments = moderated_consultation
    _ready_to_publish(consultation, comments)
    login_as(Role.STAFF)
    text = client.get(_url(consultation, "publication")).get_data(as_text=True)
    assert re.search(r'id="count-comments-waiting">\s*2 comments<br>', text)
    assert ("They are not published until you accept or redact them." in
            text.split('id="count-comments-waiting"')[1].split("</dd>")[0])
    assert f"/staff/consultations/{consultation.reference}/comments?state=new" in text


def test_a_closed_consultation_with_only_new_comments_shows_them_all_waiting(client, login_as, make_consultation,
                                                                             make_participation, make_user):
    from consult.comments import services as comment_services
    from tests.conftest import sections_of

    consultation = make_consultation()
    section = sections_of(consultation)["1.1"]
    participation = make_participation(make_user(), consultation)
    for n in range(10):
        comment_services.save_draft(participation, comment_services.CommentTargetRef(
            section.document, section.chapter, section), f"Comment {n}", None, utcnow())
    comment_services.submit_response(participation, utcnow())
    _close(consultation)
    login_as(Role.STAFF)
    text = client.get(_url(consultation, "publication")).get_data(as_text=True)
    assert "Publish 0 comments" not in text and "Publish that no comments were published" in text
    assert "No comment would be public." in text and "triage the comments waiting first if some should be" in text
    assert re.search(r'id="count-comments-waiting">\s*10 comments<br>', text)
    assert "Comments waiting for a triage decision" in text


def test_a_consultation_published_with_no_comments_says_so_plainly(client, login_as, post_form, make_consultation):
    consultation = make_consultation()
    _close(consultation)
    login_as(Role.STAFF)
    assert "No comment would be public." in client.get(_url(consultation, "publication")).get_data(as_text=True)
    _confirm(client, post_form, consultation)

    page = client.get(f"/consultations/{consultation.reference}/published-comments").get_data(as_text=True)

    assert "No comments were published for this consultation" in page
    for claim in ("Download this table", "These are the comments received", "content has been removed"):
        assert claim not in page


def test_confirming_publishes_and_the_audit_keeps_the_counts_seen(client, login_as, post_form,
                                                                  moderated_consultation):
    consultation, comments = moderated_consultation
    _ready_to_publish(consultation, comments)
    staff = login_as(Role.STAFF)
    done = _confirm(client, post_form, consultation, follow_redirects=True)
    assert "The comments and responses are now published." in done.get_data(as_text=True)
    assert client.get(f"/consultations/{consultation.reference}/published-comments").status_code == 200
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == staff.id,
                                                        AuditEvent.action == "consultation.publish_comments")).one()
    assert event.after["public"] == 3 and event.after["no_agreed_response"] == 2
    assert event.after["redacted"] == 1 and event.after["named_individuals"] == 1
    assert event.after["comments_waiting"] == 2


def test_a_confirmation_whose_counts_changed_is_refused_and_shows_the_new_counts(client, login_as, post_form,
                                                                                 moderated_consultation):
    from consult.moderation.states import ModerationState

    consultation, comments = moderated_consultation
    _ready_to_publish(consultation, comments)
    login_as(Role.STAFF)
    seen = _seen_counts(client, consultation)
    comments["Section one comment"].moderation_state = ModerationState.ACCEPTED  # someone accepts one more
    db.session.commit()
    refused = post_form(_url(consultation, "publication"), seen)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "The numbers changed since you checked them, so nothing was done." in text
    assert "4 comments would now be public" in text
    assert 'class="govuk-error-summary' in text
    assert re.search(r'id="count-public">\s*4 comments', text)
    assert client.get(f"/consultations/{consultation.reference}/published-comments").status_code == 404
    db.session.expire_all()
    assert consultation.published_at is None
    # The page now carries the new counts, so confirming it again publishes.
    assert post_form(_url(consultation, "publication"), _seen_counts(client, consultation)).status_code == 302
    assert client.get(f"/consultations/{consultation.reference}/published-comments").status_code == 200


@pytest.mark.parametrize("data", [{}, {"public": "3"}, {"public": "x", "no_agreed_response": "2", "redacted": "1",
                                                        "named_individuals": "1"},
                                  {"public": "-3", "no_agreed_response": "2", "redacted": "1",
                                   "named_individuals": "1"}])
def test_a_confirmation_without_the_counts_seen_is_refused_clearly(client, login_as, post_form,
                                                                    moderated_consultation, data):
    consultation, comments = moderated_consultation
    _ready_to_publish(consultation, comments)
    login_as(Role.STAFF)
    refused = post_form(_url(consultation, "publication"), data)
    assert refused.status_code == 409
    assert "The numbers you checked did not come with your confirmation" in refused.get_data(as_text=True)
    assert client.get(f"/consultations/{consultation.reference}/published-comments").status_code == 404


def test_withdrawal_has_its_own_check_and_is_audited(client, login_as, post_form, moderated_consultation):
    from consult.moderation.states import ModerationState, RejectionReason

    consultation, comments = moderated_consultation
    _ready_to_publish(consultation, comments)
    staff = login_as(Role.STAFF)
    assert _confirm(client, post_form, consultation).status_code == 302
    review = client.get(_url(consultation, "review")).get_data(as_text=True)
    assert f'href="/staff/consultations/{consultation.reference}/publication/withdraw"' in review
    page = client.get(_url(consultation, "publication/withdraw")).get_data(as_text=True)
    assert "Check before you withdraw the published comments" in page
    assert re.search(r'id="count-public">\s*3 comments', page)
    seen = _seen_counts(client, consultation, "publication/withdraw")
    charity = comments["@SUM(A1) and more"]
    charity.moderation_state, charity.rejection_reason = ModerationState.REJECTED, RejectionReason.SPAM
    db.session.commit()
    refused = post_form(_url(consultation, "publication/withdraw"), seen)
    assert refused.status_code == 409 and "2 comments would now be public" in refused.get_data(as_text=True)
    assert client.get(f"/consultations/{consultation.reference}/published-comments").status_code == 200
    done = _confirm(client, post_form, consultation, "publication/withdraw", follow_redirects=True)
    assert "The published comments and responses have been withdrawn." in done.get_data(as_text=True)
    assert client.get(f"/consultations/{consultation.reference}/published-comments").status_code == 404
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == staff.id)
                                      .order_by(AuditEvent.id)))
    assert actions[-2:] == ["consultation.publish_comments", "consultation.withdraw_comments"]


def test_the_committee_cannot_open_the_publication_check(client, login, committee_member, moderated_consultation):
    consultation, comments = moderated_consultation
    _ready_to_publish(consultation, comments)
    login(committee_member)
    assert client.get(_url(consultation, "publication")).status_code == 403
    assert "Check and publish" not in client.get(_url(consultation, "review")).get_data(as_text=True)


def test_each_theme_shows_its_share_summary_and_representative_comments(client, login, login_as, post_form,
                                                                        committee_member, moderated_consultation):
    consultation, comments = moderated_consultation
    evidence = db.session.scalar(select(Theme).where(Theme.name == "Evidence gaps"))
    staff = login_as(Role.STAFF)
    form_url = _url(consultation, f"review/themes/{evidence.id}/summary")
    form = client.get(form_url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    saved = post_form(form_url, {"summary": "  Most ask for longer follow-up.\r\nSome want more trials.  ",
                                 "version": version}, follow_redirects=True)
    assert "The summary of ‘Evidence gaps’ has been saved." in saved.get_data(as_text=True)
    db.session.expire_all()
    assert evidence.summary == "Most ask for longer follow-up.\nSome want more trials."
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "theme.summarise")).one()
    assert event.actor_id == staff.id and event.after["summary"] == evidence.summary

    login(committee_member)
    page = client.get(_url(consultation, "review")).get_data(as_text=True)
    section = page[page.index(f'id="theme-{evidence.id}"'):]
    section = section[:section.index('class="app-theme"', 1)]
    # Two comments: one from an individual who agreed to be named, one redacted from an anonymous professional.
    assert "2 comments</strong>" in section
    assert "0 from organisations (0%)" in section and "2 from individuals (100%)" in section
    assert "Most ask for longer follow-up." in section
    assert "Please add [redacted] data" in section and "Please add follow-up data" not in section
    assert (f'href="/staff/consultations/{consultation.reference}/comments/'
            f'{comments["=1+1 looks like a formula"].number}">Read comment') in section
    assert "Write a summary" not in page and "Change the summary" not in page  # the committee only reads


def test_a_summary_you_changed_in_another_tab_says_it_was_you(client, login_as, post_form, moderated_consultation):
    consultation, _ = moderated_consultation
    evidence = db.session.scalar(select(Theme).where(Theme.name == "Evidence gaps"))
    login_as(Role.STAFF, name="Tabby Twotabs")
    form_url = _url(consultation, f"review/themes/{evidence.id}/summary")
    version = re.search(r'name="version" type="hidden" value="(\d+)"',
                        client.get(form_url).get_data(as_text=True)).group(1)
    assert post_form(form_url, {"summary": "Written in the first tab", "version": version}).status_code == 302
    response = post_form(form_url, {"summary": "Written in the second tab", "version": version})
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "You changed this theme in another tab or window, or sent the form twice" in text
    assert "Tabby Twotabs" not in text.split("<main", 1)[1].split("</main>")[0]
    db.session.expire_all()
    assert evidence.summary == "Written in the first tab"


def test_a_summary_changed_meanwhile_is_shown_not_overwritten(client, login_as, post_form, make_user,
                                                             moderated_consultation):
    from consult.exports.review import write_theme_summary

    consultation, _ = moderated_consultation
    evidence = db.session.scalar(select(Theme).where(Theme.name == "Evidence gaps"))
    login_as(Role.STAFF)
    form_url = _url(consultation, f"review/themes/{evidence.id}/summary")
    version = re.search(r'name="version" type="hidden" value="(\d+)"',
                        client.get(form_url).get_data(as_text=True)).group(1)
    write_theme_summary(evidence, "Written by a colleague first", make_user(name="Colleague Name"), evidence.version)
    db.session.commit()
    response = post_form(form_url, {"summary": "My own words", "version": version})
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "This theme was changed by Colleague Name since you opened it." in text
    assert "Written by a colleague first" in text and "My own words" in text  # both kept in view
    db.session.expire_all()
    assert evidence.summary == "Written by a colleague first"
    new_version = re.search(r'name="version" type="hidden" value="(\d+)"', text).group(1)
    assert post_form(form_url, {"summary": "My own words", "version": new_version}).status_code == 302
    db.session.expire_all()
    assert evidence.summary == "My own words"


def test_a_summary_too_long_or_for_another_consultation_is_refused(client, login_as, post_form, make_consultation,
                                                                   moderated_consultation):
    consultation, _ = moderated_consultation
    evidence = db.session.scalar(select(Theme).where(Theme.name == "Evidence gaps"))
    login_as(Role.STAFF)
    form_url = _url(consultation, f"review/themes/{evidence.id}/summary")
    response = post_form(form_url, {"summary": "x" * 2001, "version": str(evidence.version)})
    assert response.status_code == 400
    assert "The summary must be 2,000 characters or fewer" in response.get_data(as_text=True)
    assert "x" * 2001 in response.get_data(as_text=True)  # nothing typed is lost
    other = make_consultation()
    assert client.get(_url(other, f"review/themes/{evidence.id}/summary")).status_code == 404
    assert client.get(_url(consultation, "review/themes/999999/summary")).status_code == 404
    assert post_form(form_url, {"summary": "no version"}).status_code == 400


def test_an_erased_account_leaves_the_published_page_it_was_named_on_at_once(client, login_as, post_form,
                                                                              moderated_consultation):
    """The published page is kept per process; erasing an account must not leave the person's name on it."""
    from consult.privacy.services import anonymise_account

    consultation, comments = moderated_consultation
    _ready_to_publish(consultation, comments)
    named = comments["=1+1 looks like a formula"]
    person = named.participation.user
    login_as(Role.STAFF)
    assert _confirm(client, post_form, consultation).status_code == 302
    public = f"/consultations/{consultation.reference}/published-comments"
    assert person.name in client.get(public).get_data(as_text=True)  # read once, so the page is kept

    name = person.name
    anonymise_account(person, person, utcnow(), "Deleted by its owner")
    db.session.commit()

    page = client.get(public).get_data(as_text=True)
    assert named.reference in page and name not in page
