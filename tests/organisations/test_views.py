"""An organisation's response through the pages: admin marks a lead, code, colleagues, the lead submits."""

import csv
import html
import io
import re
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.comments import services as comment_services
from consult.comments.models import Comment, OrganisationType
from consult.database import utcnow
from consult.extensions import db
from consult.organisations import services
from tests.comments.helpers import confirm, shown_on
from tests.conftest import new_participation, new_user, sections_of
from tests.organisations.conftest import draft_on, new_colleague, new_lead, respond_leaving_a_draft
from tests.spreadsheets import rows_shown

INCORRECT = "Incorrect code. Check the code with your organisation’s commenting lead and try again."


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_an_admin_marks_a_lead_and_removes_them(client, login_as, post_form, make_user):
    login_as(Role.ADMIN)
    user = make_user(name="Lena Lead")
    page = f"/admin/users/{user.id}/organisation"
    assert "Organisation commenting lead" in _text(client.get(f"/admin/users/{user.id}"))
    response = post_form(page, {"name": "", "type": ""})
    assert "Enter the name of the organisation" in _text(response)
    response = post_form(page, {"name": "Foot Health UK", "type": "charity_or_patient_group"},
                         follow_redirects=True)
    assert "Lena Lead is now the commenting lead of Foot Health UK." in _text(response)
    assert services.lead_of(user.id).organisation.name == "Foot Health UK"
    response = post_form(f"{page}/remove", follow_redirects=True)
    assert "Lena Lead is no longer the commenting lead of Foot Health UK." in _text(response)
    assert services.lead_of(user.id) is None


def test_a_stakeholder_cannot_mark_leads(client, login_as, post_form, make_user):
    login_as()
    user = make_user()
    assert post_form(f"/admin/users/{user.id}/organisation",
                     {"name": "Foot Health UK", "type": "other"}).status_code == 403
    assert services.lead_of(user.id) is None


def test_the_lead_shares_one_code_and_sees_the_same_one_again(client, login, post_form, make_consultation,
                                                              app_context):
    consultation = make_consultation()
    lead = login(new_lead())
    hub = f"/consultations/{consultation.reference}/organisation"
    assert "Share with colleagues" in _text(client.get(hub))
    response = post_form(f"{hub}/lead/share", follow_redirects=True)
    code = services.find_code(services.lead_of(lead.id).organisation_id, consultation.id)
    assert code.shown in _text(response)
    assert "We do not send it to anyone" in _text(response)
    post_form(f"{hub}/lead/share")
    assert services.find_code(code.organisation_id, consultation.id).code == code.code


def test_someone_who_is_not_a_lead_cannot_share(client, login_as, post_form, make_consultation):
    consultation = make_consultation()
    login_as()
    assert post_form(f"/consultations/{consultation.reference}/organisation/lead/share").status_code == 403


def test_a_colleague_enters_the_code_confirms_the_organisation_and_comments(client, login, post_form, shared):
    consultation, _, code = shared
    colleague = login(new_user(name="Cal"))
    page = f"/consultations/{consultation.reference}/organisation/code"
    assert "Enter your organisation code" in _text(client.get(f"/consultations/{consultation.reference}"))
    response = post_form(page, {"code": code.shown})
    assert response.status_code == 302 and response.headers["Location"].endswith("/code/confirm")
    confirm_page = client.get(f"{page}/confirm")
    assert "Are you commenting for Foot Health UK?" in _text(confirm_page)
    assert colleague.email in _text(confirm_page)
    # Colleagues see what each other sent, with the sender's address (test_colleagues_see_what_others_already_sent).
    assert "and colleagues who comment with the same code, see your email address" in _text(confirm_page)
    response = confirm(client, post_form, f"{page}/confirm", follow_redirects=True)
    assert "You are taking part on behalf of Foot Health UK (charity or patient group)" in _text(response)
    section = sections_of(consultation)["2.1"]
    response = post_form(f"/consultations/{consultation.reference}/sections/{section.id}/comment",
                         {"body": "Colleague's view"})
    assert response.status_code == 302


def test_every_wrong_code_gets_the_same_message(client, login, post_form, shared, make_consultation):
    consultation, lead, _ = shared
    other_code = services.share_code(lead, make_consultation(), utcnow())
    db.session.commit()
    login(new_user())
    page = f"/consultations/{consultation.reference}/organisation/code"
    for typed in ["999999999999", other_code.code]:
        response = post_form(page, {"code": typed})
        assert response.status_code == 200
        assert INCORRECT in _text(response)
    assert "Enter your organisation’s code" in _text(post_form(page, {"code": ""}))
    assert comment_services.find_participation(lead.id, consultation.id).organisation_role is not None


def test_code_attempts_are_rate_limited(app, client, login, post_form, shared):
    consultation, _, _ = shared
    login(new_user())
    page = f"/consultations/{consultation.reference}/organisation/code"
    saved = app.config["ORGANISATION_CODE_ATTEMPTS_PER_USER"]
    app.config["ORGANISATION_CODE_ATTEMPTS_PER_USER"] = "3 per hour"
    try:
        statuses = [post_form(page, {"code": "999999999999"}).status_code for _ in range(4)]
    finally:
        app.config["ORGANISATION_CODE_ATTEMPTS_PER_USER"] = saved
    assert statuses == [200, 200, 200, 429]


def test_a_colleague_sends_to_the_lead_and_the_originals_become_read_only(client, login, post_form, shared):
    consultation, lead, code = shared
    colleague, participation = new_colleague(consultation, code.code)
    original = draft_on(participation, body="Sent as written")
    login(colleague)
    send = f"/consultations/{consultation.reference}/organisation/send"
    page = _text(client.get(send))
    assert "Sent as written" in page and colleague.email in page
    assert client.get(f"/consultations/{consultation.reference}/response/submit").headers["Location"].endswith(
        "/organisation/send")
    response = post_form(send, follow_redirects=True)
    assert "You sent 1 comment to your organisation’s commenting lead. It can no longer be changed." in _text(
        response)
    response = post_form(f"/consultations/{consultation.reference}/comments/{original.id}/edit",
                         {"body": "Changed afterwards"})
    assert "You have sent this comment to your organisation’s commenting lead" in _text(response)
    db.session.expire_all()
    assert db.session.get(Comment, original.id).body == "Sent as written"


def test_colleagues_see_what_others_already_sent(client, login, shared):
    consultation, _, code = shared
    first, first_participation = new_colleague(consultation, code.code, name="First")
    draft_on(first_participation, body="First colleague's comment")
    services.send_to_lead(first_participation, utcnow())
    db.session.commit()
    second, _ = new_colleague(consultation, code.code, name="Second")
    login(second)
    page = _text(client.get(f"/consultations/{consultation.reference}/organisation"))
    assert "First colleague&#39;s comment" in page and first.email in page


def test_the_lead_filters_edits_and_submits_and_the_code_then_stops_working(client, login, post_form, shared):
    consultation, lead, code = shared
    first, first_participation = new_colleague(consultation, code.code, name="First")
    second, second_participation = new_colleague(consultation, code.code, name="Second")
    draft_on(first_participation, body="From the first colleague")
    draft_on(second_participation, "1.1", body="From the second colleague")
    services.send_to_lead(first_participation, utcnow())
    services.send_to_lead(second_participation, utcnow())
    db.session.commit()
    login(lead)
    base = f"/consultations/{consultation.reference}/organisation/lead"
    page = _text(client.get(f"{base}/response"))
    assert "From the first colleague" in page and "From the second colleague" in page
    filtered = _text(client.get(f"{base}/response?colleague={second.id}"))
    assert "From the second colleague" in filtered and "From the first colleague" not in filtered
    response_row = comment_services.find_participation(lead.id, consultation.id)
    copy = next(c for c in comment_services.list_comments(response_row) if c.original_comment_id)
    assert post_form(f"/consultations/{consultation.reference}/comments/{copy.id}/edit",
                     {"body": "Edited by the lead"}).status_code == 302
    assert "Select yes if your organisation has links" in _text(post_form(f"{base}/submit", {}))
    response = post_form(f"{base}/submit", {"has_tobacco_links": "no"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/response/receipt")
    db.session.expire_all()
    assert response_row.is_submitted
    assert "Edited by the lead" in [c.body for c in comment_services.list_comments(response_row)]
    hub = _text(client.get(f"/consultations/{consultation.reference}/organisation"))
    assert "already responded" in hub and "Share with colleagues" not in hub  # no heading over nothing

    login(new_user())
    refused = post_form(f"/consultations/{consultation.reference}/organisation/code", {"code": code.code})
    assert "Your organisation has already responded to this consultation." in _text(refused)


def test_a_lead_submitting_from_a_page_shown_before_a_colleague_sent_more_is_asked_to_check_again(
        client, login, post_form, shared):
    """The page said what the response held; a colleague's later send would have gone in unseen."""
    consultation, lead, code = shared
    first, first_participation = new_colleague(consultation, code.code, name="First")
    draft_on(first_participation, body="Seen by the lead")
    services.send_to_lead(first_participation, utcnow())
    db.session.commit()
    login(lead)
    submit = f"/consultations/{consultation.reference}/organisation/lead/submit"
    services.start_lead_response(lead, consultation, utcnow())
    db.session.commit()
    seen = shown_on(_text(client.get(submit)))
    late, late_participation = new_colleague(consultation, code.code, name="Late")
    draft_on(late_participation, body="Sent after the lead looked")
    services.send_to_lead(late_participation, utcnow())
    db.session.commit()

    refused = post_form(submit, {"has_tobacco_links": "no", "shown": seen})

    assert refused.status_code == 409
    assert "a colleague sent you comments or answers" in _text(refused)
    # The summary's link says it, and no question of the declaration is marked as the cause.
    assert re.search(r'govuk-error-summary.*?<a href="#about-to-submit">[^<]*a colleague sent you comments',
                     _text(refused), re.S)
    assert 'id="about-to-submit"' in _text(refused) and "govuk-error-message" not in _text(refused)
    response_row = comment_services.find_participation(lead.id, consultation.id)
    assert not response_row.is_submitted
    again = shown_on(_text(refused))
    assert again != seen
    assert post_form(submit, {"has_tobacco_links": "no", "shown": again}).status_code == 302
    db.session.expire_all()
    assert "Sent after the lead looked" in [c.body for c in comment_services.list_comments(response_row)]


def _signed_in_colleague_with_a_draft(login, shared, body: str):
    """A colleague of the shared organisation, signed in, with one draft to send; and the send page."""
    consultation, _, code = shared
    colleague, participation = new_colleague(consultation, code.code)
    draft_on(participation, body=body)
    db.session.commit()
    login(colleague)
    return participation, f"/consultations/{consultation.reference}/organisation/send"


def test_a_colleague_editing_a_comment_sent_to_the_lead_in_another_tab_sees_what_they_typed(
        client, login, post_form, shared):
    participation, send = _signed_in_colleague_with_a_draft(login, shared, "As first written")
    comment = services.unsent(participation).comments[0]
    edit = f"/consultations/{participation.consultation.reference}/comments/{comment.id}/edit"
    assert client.get(edit).status_code == 200
    assert post_form(send, {"shown": shown_on(_text(client.get(send)))}).status_code == 302  # the other tab

    refused = post_form(edit, {"body": "Rewritten in the first tab"})

    assert refused.status_code == 409
    page = _text(refused)
    assert "Your comment has not been saved" in page and "sent this comment to your organisation" in page
    assert "Rewritten in the first tab" in page
    db.session.expire_all()
    assert db.session.get(type(comment), comment.id).body == "As first written"


def test_a_colleague_sending_from_a_page_shown_before_another_tab_added_a_comment_is_asked_to_check_again(
        client, login, post_form, shared):
    participation, send = _signed_in_colleague_with_a_draft(login, shared, "On the page")
    seen = shown_on(_text(client.get(send)))
    draft_on(participation, "1.1", body="Added in another tab")
    db.session.commit()

    refused = post_form(send, {"shown": seen})

    assert refused.status_code == 409 and "changed after this page was shown" in _text(refused)
    assert not services.unsent(participation).comments[0].is_sent_to_lead
    assert post_form(send, {"shown": shown_on(_text(refused))}).status_code == 302


def test_the_lead_downloads_what_colleagues_sent_formula_safe(client, login, shared):
    consultation, lead, code = shared
    colleague, participation = new_colleague(consultation, code.code)
    draft_on(participation, body="=HYPERLINK(\"http://evil\")")
    services.send_to_lead(participation, utcnow())
    db.session.commit()
    login(lead)
    base = f"/consultations/{consultation.reference}/organisation/lead"
    rows = list(csv.reader(io.StringIO(_text(client.get(f"{base}/colleagues.csv")).lstrip("\ufeff"))))
    assert rows[0][:2] == ["Sent by", "Email address"]
    assert rows[1][1] == colleague.email and rows[1][-1].startswith("'=")
    book = load_workbook(io.BytesIO(client.get(f"{base}/colleagues.xlsx").data))
    [values] = rows_shown(book.active, min_row=2, max_row=2)
    assert values[1] == colleague.email and values[-1] == "'=HYPERLINK(\"http://evil\")"


def test_only_the_lead_downloads(client, login, shared):
    consultation, _, code = shared
    colleague, _ = new_colleague(consultation, code.code)
    login(colleague)
    assert client.get(f"/consultations/{consultation.reference}/organisation/lead/colleagues.csv").status_code == 403


def test_staff_see_the_colleagues_original_on_the_comment_page(client, login, login_as, shared):
    consultation, lead, code = shared
    colleague, participation = new_colleague(consultation, code.code)
    draft_on(participation, body="The colleague's words")
    services.send_to_lead(participation, utcnow())
    response_row = comment_services.find_participation(lead.id, consultation.id)
    (copy,) = comment_services.list_comments(response_row)
    comment_services.update_draft(copy, "The lead's words", None, utcnow())
    services.submit_organisation_response(response_row, False, "", utcnow())
    db.session.commit()
    login_as(Role.STAFF)
    number = db.session.scalar(select(Comment.number).where(Comment.id == copy.id))
    page = _text(client.get(f"/staff/consultations/{consultation.reference}/comments/{number}"))
    assert "The lead&#39;s words" in page
    assert "The colleague&#39;s words" in page and colleague.email in page


def test_a_lead_taking_part_as_an_individual_is_told_plainly(client, login, post_form, make_consultation,
                                                            app_context):
    consultation = make_consultation()
    lead = login(new_lead())
    new_participation(lead, consultation)
    page = _text(client.get(f"/consultations/{consultation.reference}/organisation"))
    assert "so you cannot lead your organisation’s response to it" in page


def test_after_editing_a_copy_the_lead_is_back_on_the_organisations_response(client, login, post_form, shared):
    consultation, lead, code = shared
    _, participation = new_colleague(consultation, code.code)
    draft_on(participation, body="Original words")
    services.send_to_lead(participation, utcnow())
    db.session.commit()
    login(lead)
    (copy,) = comment_services.list_comments(comment_services.find_participation(lead.id, consultation.id))
    response = post_form(f"/consultations/{consultation.reference}/comments/{copy.id}/edit", {"body": "New words"},
                         follow_redirects=True)
    page = _text(response)
    assert "Foot Health UK: response" in page and "New words" in page and f"From {participation.user.email}" in page


def test_neither_side_can_touch_the_others_comments(client, login, post_form, shared):
    consultation, lead, code = shared
    colleague, participation = new_colleague(consultation, code.code)
    original = draft_on(participation, body="Original words")
    services.send_to_lead(participation, utcnow())
    db.session.commit()
    (copy,) = comment_services.list_comments(comment_services.find_participation(lead.id, consultation.id))
    login(colleague)
    assert post_form(f"/consultations/{consultation.reference}/comments/{copy.id}/edit",
                     {"body": "Hijacked"}).status_code == 404
    assert post_form(f"/consultations/{consultation.reference}/organisation/lead/submit",
                     {"has_tobacco_links": "no"}).status_code == 403
    login(lead)
    assert post_form(f"/consultations/{consultation.reference}/comments/{original.id}/edit",
                     {"body": "Hijacked"}).status_code == 404
    db.session.expire_all()
    assert {db.session.get(Comment, copy.id).body, db.session.get(Comment, original.id).body} == {"Original words"}


def test_a_colleague_sees_their_sent_comments_as_sent_without_edit_links(client, login, shared):
    consultation, _, code = shared
    colleague, participation = new_colleague(consultation, code.code)
    original = draft_on(participation, body="Original words")
    services.send_to_lead(participation, utcnow())
    db.session.commit()
    login(colleague)
    page = _text(client.get(f"/consultations/{consultation.reference}/response"))
    assert "Sent to your organisation’s commenting lead at " in page
    assert f"/comments/{original.id}/edit" not in page


def test_the_lead_deletes_a_copy_and_the_original_is_kept(client, login, post_form, shared):
    consultation, lead, code = shared
    _, participation = new_colleague(consultation, code.code)
    original = draft_on(participation, body="Original words")
    services.send_to_lead(participation, utcnow())
    db.session.commit()
    login(lead)
    (copy,) = comment_services.list_comments(comment_services.find_participation(lead.id, consultation.id))
    copy_id = copy.id
    response = post_form(f"/consultations/{consultation.reference}/comments/{copy_id}/delete", follow_redirects=True)
    assert "There are no comments in your organisation’s response yet." in _text(response)
    db.session.expire_all()
    assert db.session.get(Comment, copy_id) is None
    assert db.session.get(Comment, original.id).body == "Original words"
    hub = _text(client.get(f"/consultations/{consultation.reference}/organisation"))
    assert "Original words" in hub  # what the colleague sent is still there for the record


def test_the_lead_sees_colleagues_answers_and_chooses_one(client, post_form, login, make_consultation, make_lead):
    from consult.questions.models import Question, QuestionKind
    from consult.questions.services import answers_by_question, save_answer
    from tests.organisations.conftest import new_colleague

    consultation = make_consultation()
    lead = make_lead()
    code = services.share_code(lead, consultation, utcnow())
    question = Question(consultation_id=consultation.id, kind=QuestionKind.YES_NO, position=1,
                        text="Are the recommendations sound?")
    db.session.add(question)
    db.session.flush()
    for yes_no, words in ((True, "Sound"), (False, "<b>Not</b> sound")):
        colleague, participation = new_colleague(consultation, code.code)
        save_answer(participation, question, yes_no, words, utcnow())
        services.send_to_lead(participation, utcnow())
    response = services.start_lead_response(lead, consultation, utcnow())
    db.session.commit()

    login(lead)
    page = client.get(f"/consultations/{consultation.reference}/organisation/lead/response").get_data(as_text=True)
    assert "Question 1: Are the recommendations sound?" in page and "&lt;b&gt;Not&lt;/b&gt; sound" in page
    use = re.findall(r'action="([^"]+/lead/answers/\d+/use)"', page)
    assert len(use) == 2
    assert '<span class="govuk-visually-hidden"> from' in page  # the button names whose answer it takes
    chosen = post_form(use[1])
    assert chosen.status_code == 302
    answer = answers_by_question(response)[question.id]
    assert (answer.yes_no, answer.text) == (False, "<b>Not</b> sound")
    gone = post_form(f"/consultations/{consultation.reference}/organisation/lead/answers/999999/use",
                     follow_redirects=True)
    assert "That answer is no longer there" in gone.get_data(as_text=True)


def test_a_lead_is_pointed_to_their_organisations_response_before_taking_part_alone(client, login, make_consultation,
                                                                                  make_lead, make_user):
    consultation = make_consultation()
    lead = make_lead()
    db.session.commit()
    login(lead)
    page = client.get(f"/consultations/{consultation.reference}/take-part").get_data(as_text=True)
    assert 'id="organisation-lead"' in page
    assert f'href="/consultations/{consultation.reference}/organisation"' in page
    login(make_user())
    other = client.get(f"/consultations/{consultation.reference}/take-part").get_data(as_text=True)
    assert 'id="organisation-lead"' not in other


def _ask(consultation, position: int, text: str):
    from consult.questions.models import Question, QuestionKind

    question = Question(consultation_id=consultation.id, kind=QuestionKind.YES_NO, position=position, text=text)
    db.session.add(question)
    db.session.commit()
    return question


def _main(response) -> str:
    page = _text(response)
    return page[page.index("<main"):page.index("</main>")]


def test_a_colleague_sends_answers_alone_and_the_pages_count_comments_and_answers(client, login, post_form, shared):
    from consult.questions.services import answers_by_question, save_answer

    consultation, _, code = shared
    first, second = (_ask(consultation, n, f"Question number {n}?") for n in (1, 2))
    colleague, participation = new_colleague(consultation, code.code)
    login(colleague)
    send = f"/consultations/{consultation.reference}/organisation/send"
    nothing = _text(client.get(send))
    assert "You have no comments or answers to send" in nothing and 'id="send-to-lead"' not in nothing

    save_answer(participation, first, True, "", utcnow())
    db.session.commit()
    hub = _text(client.get(f"/consultations/{consultation.reference}/organisation"))
    assert "You have 1 answer not yet sent." in hub and f'href="{send}"' in hub
    page = _text(client.get(send))
    assert "You are about to send 1 answer to the commenting lead" in page and 'id="send-to-lead"' in page
    assert "Question number 1?" in page
    response = post_form(send, follow_redirects=True)
    assert "You sent 1 answer to your organisation’s commenting lead." in _text(response)
    db.session.expire_all()
    assert answers_by_question(participation)[first.id].sent_to_lead_at is not None

    draft_on(participation, body="One comment")
    save_answer(participation, second, False, "", utcnow())
    third = _ask(consultation, 3, "Question number 3?")
    save_answer(participation, third, True, "", utcnow())
    db.session.commit()
    assert "You are about to send 1 comment and 2 answers to the commenting lead" in _text(client.get(send))
    response = post_form(send, follow_redirects=True)
    assert ("You sent 1 comment and 2 answers to your organisation’s commenting lead. They can no longer be "
            "changed.") in _text(response)


def test_once_the_organisation_has_responded_a_colleague_is_told_once_and_offered_no_form(client, login, post_form,
                                                                                          shared):
    consultation, lead, code = shared
    colleague, participation, unsent = respond_leaving_a_draft(consultation, lead, code)
    question = _ask(consultation, 1, "Are the recommendations sound?")
    login(colleague)
    base = f"/consultations/{consultation.reference}"
    section = sections_of(consultation)["2.1"]
    message = services.ResponseClosedToColleague.message
    for method, path, data in [
        ("get", f"/sections/{section.id}/comment", None),
        ("post", f"/sections/{section.id}/comment", {"body": "Too late"}),
        ("get", f"/comments/{unsent.id}/edit", None),
        ("post", f"/comments/{unsent.id}/edit", {"body": "Changed"}),
        ("get", f"/comments/{unsent.id}/delete", None),
        ("post", f"/comments/{unsent.id}/delete", {}),
        ("get", f"/questions/{question.id}", None),
        ("post", f"/questions/{question.id}", {"yes_no": "yes", "text": ""}),
        ("get", "/organisation/send", None),
        ("post", "/organisation/send", {}),
    ]:
        response = client.get(base + path) if method == "get" else post_form(base + path, data)
        main = _main(response)
        assert response.status_code == 409, (method, path)
        assert main.count(message) == 1, (method, path)
        assert "<form" not in main and "govuk-error-summary" not in main, (method, path)
    db.session.expire_all()
    assert [c.body for c in comment_services.list_comments(participation)] == ["Kept back"]

    review = _main(client.get(f"{base}/response"))
    assert review.count(message) == 1
    assert "Submit your response" not in review and f"/comments/{unsent.id}/edit" not in review
    assert "Add a comment" not in review
    questions = _main(client.get(f"{base}/questions/"))
    assert f"/questions/{question.id}\"" not in questions and "until you submit" not in questions
    document = _main(client.get(f"{base}/documents/{section.document_id}"))
    assert f"/sections/{section.id}/comment" not in document and "Comment on section" not in document
    hub = _main(client.get(f"{base}/organisation"))
    assert "submitted the organisation’s response" in hub and "send your comments and answers to them" not in hub


def test_after_sending_a_colleague_sees_what_was_sent_and_when_without_change_links(client, login, post_form,
                                                                                    shared):
    from consult.questions.services import save_answer

    consultation, _, code = shared
    question = _ask(consultation, 1, "Are the recommendations sound?")
    colleague, participation = new_colleague(consultation, code.code)
    comment = draft_on(participation, body="Sent words")
    save_answer(participation, question, True, "Sent answer", utcnow())
    services.send_to_lead(participation, utcnow())
    db.session.commit()
    login(colleague)
    base = f"/consultations/{consultation.reference}"

    review = _main(client.get(f"{base}/response"))
    assert "not sent until you submit" not in review and "Submit your response" not in review
    assert review.count("Sent to your organisation’s commenting lead at ") == 2  # the comment and the answer
    assert f"/comments/{comment.id}/edit" not in review and f"/questions/{question.id}\"" not in review
    assert "send them to your organisation’s commenting lead" in review

    questions = _main(client.get(f"{base}/questions/"))
    assert "Change your answer" not in questions and "until you submit" not in questions
    assert "Sent to your organisation’s commenting lead at " in questions

    page = client.get(f"{base}/questions/{question.id}")
    main = _main(page)
    assert page.status_code == 200 and "<form" not in main and "Sent answer" in main
    assert "Sent to your organisation’s commenting lead at " in main and "until you submit" not in main
    refused = post_form(f"{base}/questions/{question.id}", {"yes_no": "no", "text": "Changed"})
    main = _main(refused)
    assert refused.status_code == 409 and "<form" not in main
    assert main.count("You have sent this answer to your organisation’s lead") == 1
    for path in (f"/comments/{comment.id}/edit", f"/comments/{comment.id}/delete"):
        main = _main(client.get(base + path))
        assert "<form" not in main and main.count("You have sent this comment") == 1


def test_a_colleagues_answer_page_talks_about_sending_to_the_lead(client, login, shared):
    consultation, _, code = shared
    question = _ask(consultation, 1, "Are the recommendations sound?")
    colleague, _ = new_colleague(consultation, code.code)
    login(colleague)
    base = f"/consultations/{consultation.reference}"
    for path in (f"/questions/{question.id}", "/questions/", "/response"):
        main = _main(client.get(base + path))
        assert "submit your response" not in main.lower(), path
        assert "commenting lead" in main, path


def test_a_lead_using_someone_elses_answer_is_told_it_is_no_longer_there(client, login, post_form, shared):
    from consult.questions.services import answers_by_question, save_answer

    consultation, lead, code = shared
    question = _ask(consultation, 1, "Are the recommendations sound?")
    individual = new_participation(new_user(name="Ivy Individual"), consultation)
    theirs = save_answer(individual, question, True, "An individual's view", utcnow())
    _, colleague = new_colleague(consultation, code.code)
    unsent = save_answer(colleague, question, False, "Not sent yet", utcnow())
    db.session.commit()
    login(lead)
    for answer in (theirs, unsent, None):
        answer_id = answer.id if answer else 999999
        response = post_form(f"/consultations/{consultation.reference}/organisation/lead/answers/{answer_id}/use",
                             follow_redirects=True)
        page = _text(response)
        assert "That answer is no longer there. Choose from the answers shown now." in page
        assert "Enter your organisation’s code" not in page and "An individual&#39;s view" not in page
    response_row = comment_services.find_participation(lead.id, consultation.id)
    assert answers_by_question(response_row) == {}


def test_sent_items_say_at_what_time_on_what_day(client, login, shared):
    consultation, lead, code = shared
    _, participation = new_colleague(consultation, code.code)
    draft_on(participation, body="Timed words")
    services.send_to_lead(participation, utcnow())
    db.session.commit()
    login(lead)
    hub = _text(client.get(f"/consultations/{consultation.reference}/organisation"))
    time = r"(\d{1,2}(:\d\d)?(am|pm)|midday|midnight)"
    assert re.search(rf"Sent by \S+ at {time} on \d+ \w+ \d{{4}}", hub), hub
    assert not re.search(rf" on {time} on ", hub)


def test_answers_sent_alone_are_listed_on_both_organisation_pages(client, login, shared):
    from consult.questions.services import save_answer

    consultation, lead, code = shared
    question = _ask(consultation, 1, "Are the recommendations sound?")
    colleague, participation = new_colleague(consultation, code.code)
    save_answer(participation, question, False, "Not sound at all", utcnow())
    services.send_to_lead(participation, utcnow())
    db.session.commit()
    hub_path = f"/consultations/{consultation.reference}/organisation"
    for person in (colleague, lead):
        login(person)
        hub = _main(client.get(hub_path))
        assert "No one has sent" not in hub
        assert re.search(rf"Sent by {re.escape(colleague.email)} at [^<]+: answer to “Are the recommendations "
                         r"sound\?”", hub), hub
        assert "<strong>No</strong> Not sound at all" in hub
        assert "/lead/colleagues.csv" not in hub  # the download holds comments, and none were sent


def test_the_organisation_page_reads_sent_answers_in_one_query(client, login, shared):
    from consult.questions.services import save_answer
    from tests.query_counting import counted_queries

    consultation, lead, code = shared
    questions = [_ask(consultation, n, f"Question number {n}?") for n in (1, 2, 3)]
    hub_path = f"/consultations/{consultation.reference}/organisation"
    login(lead)

    def answer_queries(senders: int) -> int:
        for _ in range(senders):
            _, participation = new_colleague(consultation, code.code)
            for question in questions:
                save_answer(participation, question, True, "", utcnow())
            services.send_to_lead(participation, utcnow())
        db.session.commit()
        db.session.expire_all()
        with counted_queries() as statements:
            assert client.get(hub_path).status_code == 200
        return sum(1 for statement in statements if "FROM answers" in statement)

    assert answer_queries(1) == answer_queries(2) == 1


def test_the_lead_submit_page_counts_comments_and_answers(client, login, shared):
    from consult.questions.services import save_answer

    consultation, lead, code = shared
    first, second, _ = (_ask(consultation, n, f"Question number {n}?") for n in (1, 2, 3))
    submit = f"/consultations/{consultation.reference}/organisation/lead/submit"
    response_row = comment_services.find_participation(lead.id, consultation.id)
    login(lead)
    nothing = client.get(submit)  # a Submit button here would only be refused
    assert nothing.status_code == 302 and nothing.headers["Location"].endswith("/organisation/lead/response")
    assert "has no comments or answers yet, so there is nothing to submit" in _text(
        client.get(nothing.headers["Location"]))

    _, participation = new_colleague(consultation, code.code)
    save_answer(participation, first, True, "", utcnow())
    services.send_to_lead(participation, utcnow())
    db.session.commit()
    assert "You are about to submit 1 answer." in _text(client.get(submit))

    draft_on(response_row, body="The organisation's comment")
    save_answer(response_row, first, False, "Our own answer", utcnow())
    save_answer(response_row, second, True, "", utcnow())
    db.session.commit()
    assert "You are about to submit 1 comment and 2 answers." in _text(client.get(submit))


def test_the_lead_s_receipt_email_counts_comments_and_answers(client, login, post_form, shared):
    from consult.mail.models import OutboxEmail
    from consult.questions.services import save_answer

    consultation, lead, code = shared
    first, second = (_ask(consultation, n, f"Question number {n}?") for n in (1, 2))
    _, participation = new_colleague(consultation, code.code)
    save_answer(participation, first, True, "", utcnow())
    save_answer(participation, second, False, "", utcnow())
    services.send_to_lead(participation, utcnow())
    db.session.commit()
    login(lead)
    response = post_form(f"/consultations/{consultation.reference}/organisation/lead/submit",
                         {"has_tobacco_links": "no"})
    assert response.status_code == 302
    receipt = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == lead.email,
                                                          OutboxEmail.kind == "submission_receipt"))
    for body in (receipt.text, receipt.html):
        assert "Comments submitted: 0" in body and "Answers submitted: 2" in body


def test_the_lead_is_emailed_what_a_colleague_sent_and_where_to_find_it(client, login, post_form, shared):
    from consult.mail.models import OutboxEmail

    consultation, lead, code = shared
    colleague, participation = new_colleague(consultation, code.code, name="Sam Colleague")
    draft_on(participation, body="For the lead")
    draft_on(participation, "1.1", body="Also for the lead")
    login(colleague)
    send = f"/consultations/{consultation.reference}/organisation/send"
    assert post_form(send).status_code == 302

    emails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "sent_to_lead")).all()
    assert [email.to for email in emails] == [lead.email]  # the lead, and no one else
    email = emails[0]
    assert email.subject == f"A colleague sent 2 comments for your organisation’s response to {consultation.reference}"
    for body in (email.text, html.unescape(email.html)):
        assert f"Sam Colleague ({colleague.email}) sent you 2 comments" in body
        assert f"/consultations/{consultation.reference}/organisation" in body
    assert post_form(send).status_code == 302  # nothing left to send: told so, and no second email
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)
                             .where(OutboxEmail.kind == "sent_to_lead")) == 1


def test_a_confirm_for_one_organisation_is_refused_after_another_tab_entered_another_code(client, login, post_form,
                                                                                         shared):
    consultation, _, code = shared
    other_lead = new_lead(name="Otto Other", organisation="Other Org")
    other_code = services.share_code(other_lead, consultation, utcnow())
    db.session.commit()
    person = login(new_user())
    page = f"/consultations/{consultation.reference}/organisation/code"
    post_form(page, {"code": code.shown})
    first_tab = shown_on(client.get(f"{page}/confirm").get_data(as_text=True))  # "commenting for Foot Health UK?"
    post_form(page, {"code": other_code.shown})  # a second tab enters another organisation's code

    response = post_form(f"{page}/confirm", {"shown": first_tab})

    assert response.status_code == 409
    assert "entered in another tab or window after this page was shown" in _text(response)
    assert 'href="#organisation-shown"' in response.get_data(as_text=True)
    assert response.get_data(as_text=True).count('data-module="govuk-error-summary"') == 1
    assert "Other Org" in _text(response)
    assert comment_services.find_participation(person.id, consultation.id) is None
    assert post_form(f"{page}/confirm").status_code == 409  # no page's organisation at all
    assert confirm(client, post_form, f"{page}/confirm").status_code == 302
    assert comment_services.find_participation(person.id, consultation.id).organisation_name == "Other Org"


def test_a_removed_lead_reads_nothing_more_of_the_organisation_and_cannot_submit_for_it(client, login, post_form,
                                                                                        shared):
    consultation, lead, code = shared
    services.start_lead_response(lead, consultation, utcnow())
    _, participation = new_colleague(consultation, code.code)
    draft_on(participation, body="Sent while they led")
    services.send_to_lead(participation, utcnow())
    db.session.commit()
    admin = new_user(name="Ada Admin", role=Role.ADMIN)
    services.remove_lead(lead, admin)
    db.session.commit()
    draft_on(participation, "1.1", body="Sent after they were removed")
    services.send_to_lead(participation, utcnow())
    db.session.commit()

    login(lead)
    base = f"/consultations/{consultation.reference}"
    hub = _text(client.get(f"{base}/organisation"))
    assert "You are no longer the commenting lead of Foot Health UK" in hub
    assert "Sent while they led" not in hub and "Sent after they were removed" not in hub
    assert "Enter your organisation code" not in hub  # it could only fail for them
    own = client.get(f"{base}/response.csv").get_data(as_text=True)
    assert "Sent while they led" not in own and "Sent after they were removed" not in own
    assert client.get(f"{base}/organisation/lead/response").headers["Location"].endswith("/organisation")
    submit = f"{base}/organisation/lead/submit"
    assert post_form(submit, {"has_tobacco_links": "no"}).status_code == 403

    services.mark_lead(lead, "Another Org", OrganisationType.PROFESSIONAL_BODY, admin)  # leads elsewhere now
    db.session.commit()
    assert post_form(submit, {"has_tobacco_links": "no"}).status_code == 403
    assert services.organisation_response(code.organisation_id, consultation.id) is None


def _one_sent_everything_one_kept_back(consultation, code, *kept_back: str):
    """Two colleagues: one who sent their comment to the lead, and 'Kept Back', with these comments unsent."""
    _, sent_all = new_colleague(consultation, code.code, name="Sent Everything")
    draft_on(sent_all, body="Sent in time")
    services.send_to_lead(sent_all, utcnow())
    keeper, keeping = new_colleague(consultation, code.code, name="Kept Back")
    for body, section in zip(kept_back, ("2.1", "1.1")):
        draft_on(keeping, section, body=body)
    db.session.commit()
    return keeper


def test_the_lead_is_told_who_has_not_sent_everything_and_they_are_emailed_when_left_out(client, login, post_form,
                                                                                        shared):
    from consult.mail.models import OutboxEmail

    consultation, lead, code = shared
    keeper = _one_sent_everything_one_kept_back(consultation, code, "Not sent", "Not sent either")
    login(lead)
    submit = f"/consultations/{consultation.reference}/organisation/lead/submit"
    page = _text(client.get(submit))
    assert "1 colleague has not sent you everything yet" in page
    assert f"Kept Back ({keeper.email}): 2 comments not sent" in page and "Sent Everything" not in page

    assert post_form(submit, {"has_tobacco_links": "no"}).status_code == 302

    emails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "left_out_of_response")).all()
    assert [email.to for email in emails] == [keeper.email]  # not the colleague who sent everything
    assert emails[0].subject == (f"Your organisation’s response to {consultation.reference} was submitted "
                                 "without 2 comments")
    assert "You had 2 comments that you had not sent to the lead, so they are not part" in emails[0].text
    assert "They stay in your account" in emails[0].text


def test_a_colleague_left_out_with_one_comment_is_told_of_it_not_them(client, login, post_form, shared):
    from consult.mail.models import OutboxEmail

    consultation, lead, code = shared
    _one_sent_everything_one_kept_back(consultation, code, "Not sent")
    login(lead)
    post_form(f"/consultations/{consultation.reference}/organisation/lead/submit", {"has_tobacco_links": "no"})
    [email] = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "left_out_of_response")).all()
    for text in (email.text, email.html):
        assert "You had 1 comment that you had not sent to the lead, so it is not part of the response" in text
        assert "so it can no longer be sent. It stays in your account" in text


def _close(consultation) -> None:
    consultation.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()


def test_after_the_close_the_lead_is_told_so_instead_of_offered_a_submission(client, login, post_form, shared):
    consultation, lead, _ = shared
    draft_on(comment_services.find_participation(lead.id, consultation.id), body="The organisation's comment")
    _close(consultation)
    login(lead)
    page = f"/consultations/{consultation.reference}/organisation/lead/submit"
    for response in (client.get(page), post_form(page, {"has_tobacco_links": "no"})):
        assert response.status_code == 409
        shown = _main(response)
        assert "This consultation closed and is no longer accepting comments." in shown
        assert "Your organisation’s response has not been submitted, and cannot be submitted now." in shown
        assert "<form" not in shown
    assert comment_services.find_participation(lead.id, consultation.id).submitted_at is None

    response_page = _main(client.get(f"/consultations/{consultation.reference}/organisation/lead/response"))
    assert "Nothing goes to us until you submit" not in response_page
    assert "it cannot be changed or submitted" in response_page
    assert "/lead/submit" not in response_page


def test_after_the_close_a_colleague_is_told_so_instead_of_offered_a_send(client, login, post_form, shared):
    consultation, _, code = shared
    user, participation = new_colleague(consultation, code.code)
    draft = draft_on(participation, body="Kept back")
    _close(consultation)
    login(user)
    page = f"/consultations/{consultation.reference}/organisation/send"
    for response in (client.get(page), post_form(page)):
        assert response.status_code == 409
        shown = _main(response)
        assert "This consultation closed and is no longer accepting comments." in shown
        assert "cannot be sent now" in shown
        assert "<form" not in shown
    assert db.session.get(Comment, draft.id).sent_to_lead_at is None


def test_a_colleague_opening_the_receipt_is_told_only_what_is_true(client, login, shared):
    consultation, lead, code = shared
    receipt = f"/consultations/{consultation.reference}/response/receipt"
    user, _ = new_colleague(consultation, code.code)
    login(user)
    before = _text(client.get(receipt, follow_redirects=True))
    assert "There is no receipt for you: your organisation’s commenting lead submits its response." in before
    assert "You have not submitted your response yet" not in before

    colleague, _, _ = respond_leaving_a_draft(consultation, lead, code)
    login(colleague)
    after = _text(client.get(receipt, follow_redirects=True))
    assert after.count(services.ResponseClosedToColleague.message) == 1
    assert "You have not submitted your response yet" not in after and "There is no receipt" not in after
    assert "before the consultation closes" not in after


def test_a_colleague_who_sends_again_is_told_they_already_sent_everything(client, login, post_form, shared):
    """A double click or a second visit said 'You have no comments or answers to send … Add a comment first'."""
    _, send = _signed_in_colleague_with_a_draft(login, shared, "Sent once")
    pressed = {"shown": shown_on(_text(client.get(send)))}
    assert post_form(send, pressed).status_code == 302
    client.get(send)  # the first send's message is read

    for data in (pressed, {}):  # the same press again, and a fresh one
        again = post_form(send, data)
        assert again.status_code == 302
        landed = client.get(again.headers["Location"])
        told = _text(landed)
        assert "You have already sent all your comments and answers" in told
        assert "changed after this page was shown" not in told
    page = _text(client.get(send))
    assert "You have sent all your comments and answers to your organisation’s commenting lead" in page
    assert "You have no comments or answers to send" not in page
    assert "&lt;a" not in page and "add a comment</a>" in page


def test_someone_already_taking_part_is_told_so_before_typing_a_code(client, login, post_form, shared):
    """The form used to be offered, only to refuse the code, each try counting towards the code limit."""
    consultation, _, code = shared
    user = login(new_user())
    new_participation(user, consultation)
    page = _text(client.get(f"/consultations/{consultation.reference}/organisation/code"))
    assert "You cannot use an organisation code" in page
    assert "You are already taking part in this consultation as" in page and "This cannot be changed." in page
    assert 'name="code"' not in page

    refused = post_form(f"/consultations/{consultation.reference}/organisation/code", {"code": code.code})
    assert "You are already taking part in this consultation" in _text(refused)  # a stale form, as before
