"""Questions through the pages: staff write and order them; stakeholders answer, review, submit, download."""

import csv
import html
import io
import re
from datetime import timedelta

from sqlalchemy import select

from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.comments import services as comment_services
from consult.database import utcnow
from consult.extensions import db
from consult.questions import services
from consult.questions.models import AnswerState, QuestionKind
from tests.conftest import new_consultation, new_participation, new_user
from tests.questions.conftest import EVIDENCE, IMPACT


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def main_of(response) -> str:
    page = text_of(response)
    return page[page.index("<main"):page.index("</main>")]


def error_summary(page: str) -> list[str]:
    match = re.search(r'class="govuk-error-summary".*?</ul>', page, re.S)
    assert match, "page has no error summary"
    return re.findall(r'<a href="#[^"]*">(.*?)</a>', match.group(0))


def staff_path(consultation, rest: str = "/") -> str:
    return f"/staff/consultations/{consultation.reference}/questions{rest}"


def public_path(consultation, rest: str = "") -> str:
    return f"/consultations/{consultation.reference}{rest}"


# --- Staff ---------------------------------------------------------------------------

def test_staff_add_a_question_and_see_it_listed(app_context, client, login_as, post_form):
    login_as(Role.STAFF)
    consultation = new_consultation(state="upcoming")
    response = post_form(staff_path(consultation, "/new"), {"kind": "yes_no", "text": "Is it clear?",
                                                            "document": str(consultation.documents[0].id)})
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "Question 1 added." in page
    assert "Is it clear?" in page and f"About: {consultation.documents[0].title}" in page


def test_the_question_form_explains_each_mistake(app_context, client, login_as, post_form):
    login_as(Role.STAFF)
    consultation = new_consultation(state="upcoming")
    response = post_form(staff_path(consultation, "/new"), {"text": ""})
    assert response.status_code == 200
    assert error_summary(text_of(response)) == ["Select what kind of question it is", "Enter the question",
                                                "Select what the question is about"]
    response = post_form(staff_path(consultation, "/new"), {"kind": "open", "text": "x" * 1001, "document": "all"})
    assert error_summary(text_of(response)) == ["The question must be 1,000 characters or fewer. It has 1,001."]
    assert "x" * 1001 in text_of(response)  # nothing typed is lost


def test_staff_pages_refuse_changes_once_the_consultation_has_opened(app_context, client, login_as, post_form,
                                                                     asking):
    login_as(Role.STAFF)
    consultation, yes_no, _ = asking
    page = main_of(client.get(staff_path(consultation)))
    assert "The consultation has opened, so its questions can no longer be changed." in page
    assert "Add a question" not in page and EVIDENCE in page
    for url in (staff_path(consultation, "/new"), staff_path(consultation, f"/{yes_no.id}/edit")):
        response = client.get(url, follow_redirects=True)
        assert "its questions can no longer be changed" in text_of(response)
    post_form(staff_path(consultation, f"/{yes_no.id}/move"), {"direction": "down"})
    assert [q.text for q in services.list_questions(consultation.id)] == [EVIDENCE, IMPACT]


def test_a_draft_past_its_opening_time_says_its_questions_are_fixed_once_public(app_context, client, login_as,
                                                                                 asking):
    login_as(Role.STAFF)
    consultation, _, _ = asking
    consultation.is_draft = True
    db.session.commit()
    page = main_of(client.get(staff_path(consultation)))
    assert "Its opening time has passed, so once it is made public they can no longer be changed." in page
    assert "until the consultation opens at" not in page


def test_staff_move_remove_and_add_the_standard_questions(app_context, client, login_as, post_form):
    login_as(Role.STAFF)
    consultation = new_consultation(state="upcoming")
    response = post_form(staff_path(consultation, "/standard"))
    assert response.status_code == 302
    questions = services.list_questions(consultation.id)
    assert [q.text for q in questions] == [text for _, text in services.STANDARD_QUESTIONS]
    post_form(staff_path(consultation, f"/{questions[2].id}/move"), {"direction": "up"})
    assert [q.id for q in services.list_questions(consultation.id)][:3] == [questions[0].id, questions[2].id,
                                                                            questions[1].id]
    page = text_of(client.get(staff_path(consultation, f"/{questions[0].id}/remove")))
    assert "Are you sure you want to remove this question?" in page
    post_form(staff_path(consultation, f"/{questions[0].id}/remove"))
    assert questions[0].id not in [q.id for q in services.list_questions(consultation.id)]
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_id == str(questions[0].id),
                                                             AuditEvent.action == "question.remove"))


def test_staff_search_the_bank_and_reuse_a_question(app_context, client, login_as, post_form, staff_user):
    login_as(Role.STAFF)
    other, here = new_consultation(state="upcoming"), new_consultation(state="upcoming")
    source = services.add_question(staff_user, other, services.QuestionDraft(QuestionKind.OPEN, "<b>Costs</b>?"),
                                   utcnow())
    db.session.commit()
    response = client.get(staff_path(here, "/bank?q=costs"))
    assert "&lt;b&gt;Costs&lt;/b&gt;?" in response.get_data(as_text=True)  # escaped
    assert "<b>Costs</b>" not in response.get_data(as_text=True)
    assert "No questions found" in text_of(client.get(staff_path(here, "/bank?q=nothing-like-it")))
    response = post_form(staff_path(here, "/bank"), {"source_id": str(source.id)})
    assert response.status_code == 302
    assert [q.text for q in services.list_questions(here.id)] == ["<b>Costs</b>?"]


def test_staff_switch_on_the_formal_support_declaration(app_context, client, login_as, post_form):
    login_as(Role.STAFF)
    consultation = new_consultation(state="upcoming")
    post_form(staff_path(consultation, "/declarations/formal-support"), {"on": "yes"})
    page = main_of(client.get(staff_path(consultation)))
    assert "Stop asking about formal support" in page and "formally supporting" in page


def test_questions_pages_are_for_staff_only(app_context, client, login_as, asking):
    consultation, _, _ = asking
    login_as(Role.STAKEHOLDER)
    assert client.get(staff_path(consultation)).status_code == 403
    login_as(Role.COMMITTEE)
    assert client.get(staff_path(consultation, "/new")).status_code == 403


# --- Stakeholders --------------------------------------------------------------------

def test_anyone_can_read_the_questions_but_must_sign_in_to_answer(app_context, client, asking):
    consultation, yes_no, _ = asking
    page = main_of(client.get(public_path(consultation, "/questions/")))
    assert "You must be signed in to answer questions" in page and EVIDENCE in page and IMPACT in page
    response = client.get(public_path(consultation, f"/questions/{yes_no.id}"))
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/sign-in")
    printable = main_of(client.get(public_path(consultation, "/questions/print")))
    assert "Question 1" in printable and EVIDENCE in printable and "Yes / No" in printable


def test_answering_needs_a_participation_first(app_context, client, login_as, asking):
    consultation, yes_no, _ = asking
    login_as()
    response = client.get(public_path(consultation, f"/questions/{yes_no.id}"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(public_path(consultation, "/take-part"))
    assert "next=" in response.headers["Location"]


def test_a_stakeholder_answers_one_question_per_page_and_sees_it_on_your_response(app_context, client, login,
                                                                                   post_form, asking):
    consultation, yes_no, open_question = asking
    user = login(new_user())
    new_participation(user, consultation)
    page = text_of(client.get(public_path(consultation, f"/questions/{yes_no.id}")))
    assert "Question 1 of 2" in page and EVIDENCE in page
    response = post_form(public_path(consultation, f"/questions/{yes_no.id}"),
                         {"yes_no": "no", "text": "Trials after 2020 are missing."})
    assert response.headers["Location"].endswith(f"/questions/{open_question.id}")  # on to the next
    response = post_form(public_path(consultation, f"/questions/{open_question.id}"), {"text": "  "})
    assert error_summary(text_of(response)) == ["Enter your answer"]
    review = main_of(client.get(public_path(consultation, "/response")))
    assert "Your answers to questions" in review and "Trials after 2020 are missing." in review
    assert "Not answered" in review
    # Coming back shows the answer to change.
    page = text_of(client.get(public_path(consultation, f"/questions/{yes_no.id}")))
    assert re.search(r'value="no"\s+checked', page) and "Trials after 2020 are missing." in page


def test_a_saved_answer_can_be_removed_after_a_check_and_the_question_is_unanswered_again(
        app_context, client, login, post_form, asking):
    """Answering is optional, but a saved answer could only be replaced: an empty one was refused."""
    consultation, yes_no, open_question = asking
    participation = new_participation(login(new_user()), consultation)
    post_form(public_path(consultation, f"/questions/{open_question.id}"), {"text": "Answered by mistake"})
    assert "Remove your answer" in text_of(client.get(public_path(consultation, f"/questions/{open_question.id}")))
    review = main_of(client.get(public_path(consultation, "/response")))
    remove = public_path(consultation, f"/questions/{open_question.id}/remove")
    assert f'href="{remove}">Remove<span class="govuk-visually-hidden"> your answer to question 2' in review

    check = text_of(client.get(remove))
    assert "Are you sure you want to remove your answer?" in check and "Answered by mistake" in check
    assert services.answers_by_question(participation)  # asking changed nothing

    removed = post_form(remove)
    assert removed.status_code == 302 and removed.headers["Location"] == public_path(consultation, "/questions/")
    assert "Your answer has been removed." in text_of(client.get(removed.headers["Location"]))
    assert services.answers_by_question(participation) == {}
    review = main_of(client.get(public_path(consultation, "/response")))
    assert "Answered by mistake" not in review and review.count("Not answered") == 2
    assert "Remove your answer" not in text_of(client.get(public_path(consultation,
                                                                          f"/questions/{open_question.id}")))
    again = post_form(remove)  # a second press, or another tab
    assert again.status_code == 302
    assert "You have not answered this question." in text_of(client.get(again.headers["Location"]))
    assert [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "answer.remove"))] == ["answer.remove"]


def test_removing_an_answer_after_the_close_says_it_has_closed_and_offers_nothing(
        app_context, client, login, post_form, asking):
    consultation, yes_no, _ = asking
    participation = new_participation(login(new_user()), consultation)
    services.save_answer(participation, yes_no, True, "Mine", utcnow())
    db.session.commit()
    remove = public_path(consultation, f"/questions/{yes_no.id}/remove")
    assert "Are you sure you want to remove your answer?" in text_of(client.get(remove))
    consultation.closes_at = utcnow() - timedelta(minutes=1)  # closed while the check page was open
    db.session.commit()

    refused = post_form(remove)

    page = text_of(refused)
    assert refused.status_code == 409 and "no longer accepting comments" in page
    assert "Yes, remove this answer" not in page and "you can answer it again" not in page
    assert services.answers_by_question(participation)[yes_no.id].text == "Mine"


def test_an_answer_cannot_be_removed_once_the_response_is_submitted_or_by_anyone_else(
        app_context, client, login, post_form, asking):
    consultation, yes_no, _ = asking
    owner = new_user()
    participation = new_participation(owner, consultation)
    services.save_answer(participation, yes_no, True, "Mine", utcnow())
    db.session.commit()
    remove = public_path(consultation, f"/questions/{yes_no.id}/remove")

    new_participation(login(new_user()), consultation)  # someone else, taking part too
    assert "You have not answered this question." in text_of(client.get(client.get(remove).headers["Location"]))
    post_form(remove)
    assert services.answers_by_question(participation)[yes_no.id].text == "Mine"

    login(owner)
    comment_services.submit_response(participation, utcnow())
    db.session.commit()
    refused = post_form(remove)
    assert refused.status_code == 302 and "show=answers" in refused.headers["Location"]
    assert services.answers_by_question(participation)[yes_no.id].text == "Mine"


def test_a_yes_no_question_needs_yes_or_no(app_context, client, login, post_form, asking):
    consultation, yes_no, _ = asking
    new_participation(login(new_user()), consultation)
    response = post_form(public_path(consultation, f"/questions/{yes_no.id}"), {"text": "Only words"})
    assert response.status_code == 200
    assert error_summary(text_of(response)) == ["Select yes or no"]
    assert "Only words" in text_of(response)


def test_your_response_filters_comments_answers_and_documents(app_context, client, login, post_form, asking):
    consultation, yes_no, _ = asking
    participation = new_participation(login(new_user()), consultation)
    comment_services.save_draft(participation, comment_services.CommentTargetRef(consultation.documents[0]),
                                "My comment on the document", None, utcnow())
    services.save_answer(participation, yes_no, True, "My yes answer", utcnow())
    db.session.commit()
    everything = main_of(client.get(public_path(consultation, "/response")))
    assert "My comment on the document" in everything and "My yes answer" in everything
    answers_only = main_of(client.get(public_path(consultation, "/response?show=answers")))
    assert "My comment on the document" not in answers_only and "My yes answer" in answers_only
    comments_only = main_of(client.get(public_path(consultation, "/response?show=comments")))
    assert "My comment on the document" in comments_only and "My yes answer" not in comments_only
    assert "My yes answer" in main_of(client.get(public_path(consultation, "/response?show=nonsense")))


def test_submit_warns_about_unanswered_questions_but_does_not_require_them(app_context, client, login, post_form,
                                                                          asking):
    consultation, yes_no, open_question = asking
    participation = new_participation(login(new_user()), consultation)
    services.save_answer(participation, open_question, None, "Longer waits", utcnow())
    db.session.commit()
    page = main_of(client.get(public_path(consultation, "/response/submit")))
    assert "You have not answered 1 of the 2 questions" in page
    assert "You are about to submit 1 answer." in page  # answers alone are a response, and counted as one
    response = post_form(public_path(consultation, "/response/submit"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/response/receipt")
    receipt = main_of(client.get(response.headers["Location"]))
    assert "Your answers to questions" in receipt and "Longer waits" in receipt and "Not answered" in receipt
    response = client.get(public_path(consultation, f"/questions/{yes_no.id}"), follow_redirects=True)
    assert "so answers can no longer be added or changed" in text_of(response)
    response = post_form(public_path(consultation, f"/questions/{yes_no.id}"), {"yes_no": "yes"})
    assert response.status_code == 302
    assert yes_no.id not in services.answers_by_question(participation)
    assert "Change" not in main_of(client.get(public_path(consultation, "/response?show=answers")))


def test_own_download_has_the_answer_columns_and_a_row_per_question(app_context, client, login, asking):
    consultation, yes_no, open_question = asking
    participation = new_participation(login(new_user()), consultation)
    services.save_answer(participation, yes_no, True, "@risk", utcnow())
    db.session.commit()
    response = client.get(public_path(consultation, "/response.csv"))
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header = rows[0]
    assert header[header.index("Comment") + 1:header.index("Comment") + 4] == [
        "Question text", "Yes/No answer", "Answer text"]
    table = [dict(zip(header, row)) for row in rows[1:]]
    assert [(r["Question text"], r["Yes/No answer"], r["Answer text"], r["Status"]) for r in table] == [
        (EVIDENCE, "Yes", "'@risk", "Draft"), (IMPACT, "", "", "Not answered")]


def test_the_questions_tab_sits_beside_the_document(app_context, client, asking):
    consultation, _, _ = asking
    page = main_of(client.get(public_path(consultation, f"/documents/{consultation.documents[0].id}")))
    assert f'href="/consultations/{consultation.reference}/questions/"' in page


def test_the_committee_review_shows_each_questions_answers_by_participant_type(app_context, client, login_as,
                                                                             asking):
    consultation, yes_no, _ = asking
    person = new_participation(new_user(name="Pat Hidden"), consultation)
    services.save_answer(person, yes_no, False, "<i>Missing</i> trials", utcnow())
    comment_services.submit_response(person, utcnow())
    db.session.commit()
    login_as(Role.STAFF)
    response = client.get(f"/staff/consultations/{consultation.reference}/review")
    page = main_of(response)
    assert "Answers to questions" in page and f"Question 1: {EVIDENCE}" in page
    assert "Answers by participant type (1 in all)" in page and "Individual (patient or carer)" in page
    assert "<i>Missing</i> trials" in page and "Pat Hidden" not in page  # words shown, name only with consent
    assert "&lt;i&gt;Missing&lt;/i&gt;" in response.get_data(as_text=True)


def test_published_answers_name_people_only_as_they_allowed_a_page_at_a_time(app_context, client, asking,
                                                                            staff_user, monkeypatch):
    from consult.exports import publication
    from consult.questions import exports, moderation

    consultation, yes_no, _ = asking
    for index in range(3):
        person = new_participation(new_user(name=f"Named {index}"), consultation)
        person.publish_name = index == 0
        answer = services.save_answer(person, yes_no, index % 2 == 0, f"Reason {index}", utcnow())
        comment_services.submit_response(person, utcnow())
        moderation.decide_answer(answer, moderation.AnswerDecision(AnswerState.ACCEPTED), staff_user,
                                 answer.version, utcnow())
    url = public_path(consultation, f"/published-answers/{yes_no.id}")
    assert client.get(url).status_code == 404  # nothing is public before publication
    consultation.closes_at = utcnow() - timedelta(minutes=1)
    publication.publish_comments(consultation, staff_user, utcnow(), publication.publication_counts(consultation))
    db.session.commit()
    published = main_of(client.get(public_path(consultation, "/published-comments")))
    assert "read the answers to the questions" in published
    monkeypatch.setattr(exports, "PUBLISHED_PAGE_SIZE", 2)
    first = client.get(url)
    page = main_of(first)
    assert "Named 0" in page and "Reason 0" in page and "Reason 1" in page and "Named 1" not in page
    next_href = html.unescape(re.search(r'govuk-pagination__next">\s*<a[^>]+href="([^"]+)"', page).group(1))
    second = main_of(client.get(next_href))
    assert "Reason 2" in second and "Reason 0" not in second and "Named 2" not in second
    assert client.get(url + "?after=x").status_code == 400


def test_another_consultations_question_is_not_found_on_either_side(app_context, client, login, login_as, post_form,
                                                                   asking, staff_user):
    consultation, yes_no, _ = asking
    other = new_consultation(state="upcoming")
    foreign = services.add_question(staff_user, other, services.QuestionDraft(QuestionKind.OPEN, "Elsewhere?"),
                                    utcnow())
    db.session.commit()
    new_participation(login(new_user()), consultation)
    assert client.get(public_path(consultation, f"/questions/{foreign.id}")).status_code == 404
    assert post_form(public_path(consultation, f"/questions/{foreign.id}"), {"text": "x"}).status_code == 404
    assert client.get(public_path(consultation, "/questions/99999999999")).status_code == 404
    login_as(Role.STAFF)
    assert post_form(staff_path(consultation, f"/{foreign.id}/move"), {"direction": "up"}).status_code == 404
    assert client.get(staff_path(consultation, f"/{foreign.id}/edit")).status_code == 404


def test_a_nul_byte_or_a_bad_choice_is_refused_without_saving(app_context, client, login, post_form, asking):
    consultation, yes_no, open_question = asking
    participation = new_participation(login(new_user()), consultation)
    assert post_form(public_path(consultation, f"/questions/{open_question.id}"),
                     {"text": "Bad\x00byte"}).status_code == 400
    response = post_form(public_path(consultation, f"/questions/{yes_no.id}"), {"yes_no": "maybe"})
    assert response.status_code == 200
    assert error_summary(text_of(response)) == ["Select yes or no"]
    assert services.answers_by_question(participation) == {}


def test_reusing_a_declaration_or_a_missing_question_is_refused(app_context, client, login_as, post_form, staff_user):
    here, other = new_consultation(state="upcoming"), new_consultation(state="upcoming")
    from consult.questions.models import Declaration

    services.switch_declaration(staff_user, other, Declaration.FORMAL_SUPPORT, True, utcnow())
    declaration = services.find_declaration(other.id, Declaration.FORMAL_SUPPORT)
    db.session.commit()
    login_as(Role.STAFF)
    response = post_form(staff_path(here, "/bank"), {"source_id": str(declaration.id)}, follow_redirects=True)
    assert "That question cannot be reused here." in text_of(response)
    assert post_form(staff_path(here, "/bank"), {"source_id": "99999"}).status_code == 404
    response = post_form(staff_path(here, "/bank"), {"source_id": "abc"}, follow_redirects=True)
    assert "Choose a question to add." in text_of(response)
    assert services.list_questions(here.id) == []


def test_only_organisations_are_asked_about_formal_support(app_context, client, login, post_form, staff_user):
    from consult.questions.models import Declaration

    consultation = new_consultation(state="upcoming")
    services.add_question(staff_user, consultation, services.QuestionDraft(QuestionKind.OPEN, IMPACT), utcnow())
    services.switch_declaration(staff_user, consultation, Declaration.FORMAL_SUPPORT, True, utcnow())
    declaration = services.find_declaration(consultation.id, Declaration.FORMAL_SUPPORT)
    consultation.opens_at = utcnow() - timedelta(days=1)
    db.session.commit()

    individual = new_participation(login(new_user()), consultation)
    assert "formally supporting" not in main_of(client.get(public_path(consultation, "/questions/")))
    assert client.get(public_path(consultation, f"/questions/{declaration.id}")).status_code == 404
    assert [q.text for q in services.unanswered_questions(individual)] == [IMPACT]

    organisation = new_participation(login(new_user()), consultation, kind="organisation")
    assert "formally supporting" in main_of(client.get(public_path(consultation, "/questions/")))
    response = post_form(public_path(consultation, f"/questions/{declaration.id}"), {"yes_no": "yes"})
    assert response.status_code == 302
    comment_services.submit_response(organisation, utcnow())
    services.save_answer(individual, services.list_questions(consultation.id)[0], None, "Mine", utcnow())
    comment_services.submit_response(individual, utcnow())
    db.session.commit()

    from consult.questions.exports import export_answers

    rows = [(row.participant_type.split(" ")[0], row.question_text[:20], row.yes_no_label)
            for row in export_answers(consultation.id)]
    assert sorted(rows) == sorted([("Organisation", IMPACT[:20], ""), ("Organisation", declaration.text[:20], "Yes"),
                                   ("Individual", IMPACT[:20], "")])


def test_questions_are_numbered_by_their_place_after_a_removal(app_context, client, login_as, post_form, staff_user):
    consultation = new_consultation(state="upcoming")
    first = services.add_question(staff_user, consultation, services.QuestionDraft(QuestionKind.OPEN, "A?"), utcnow())
    services.add_question(staff_user, consultation, services.QuestionDraft(QuestionKind.OPEN, "B?"), utcnow())
    services.remove_question(staff_user, first, utcnow())
    db.session.commit()
    login_as(Role.STAFF)
    response = post_form(staff_path(consultation, "/new"), {"kind": "open", "text": "C?", "document": "all"},
                         follow_redirects=True)
    assert "Question 2 added." in text_of(response)


def test_staff_preview_a_drafts_questions_and_their_printable_version_and_nobody_else_sees_them(
        app_context, client, login_as, staff_user):
    consultation = new_consultation(state="upcoming")
    consultation.is_draft = True
    services.add_question(staff_user, consultation, services.QuestionDraft(QuestionKind.OPEN, IMPACT), utcnow())
    db.session.commit()
    questions = public_path(consultation, "/questions/")
    printable = public_path(consultation, "/questions/print")
    document = public_path(consultation, f"/documents/{consultation.documents[0].id}")

    login_as()  # a stakeholder: a draft does not exist for them
    assert client.get(questions).status_code == 404 and client.get(printable).status_code == 404

    login_as(Role.STAFF)
    page = main_of(client.get(questions))
    assert "Preview: this consultation is held as a draft" in page and IMPACT in page
    assert not re.search(rf"/consultations/{consultation.reference}/questions/\d", page)  # nobody answers a draft
    assert IMPACT in main_of(client.get(printable))
    assert f'href="{questions}"' in main_of(client.get(document))  # the preview's Questions tab
