"""Answers are moderated before they are published: accept, redact, withhold, each audited and version-checked."""

import csv
import html
import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import openpyxl
import pytest
from sqlalchemy import func, select, update

from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.comments import services as comment_services
from consult.database import utcnow
from consult.exports import publication
from consult.extensions import db
from consult.moderation.states import RejectionReason
from consult.questions import moderation, services
from consult.questions.models import MAX_ANSWER_LENGTH, Answer, AnswerState
from tests.conftest import new_participation, new_user, sections_of
from tests.questions.conftest import EVIDENCE, IMPACT
from tests.questions.test_views import error_summary, main_of, public_path, staff_path, text_of

PRIVATE = "My neighbour Jo Bloggs at 12 High Street had the same problem"
REDACTED = "My neighbour [name and address removed] had the same problem"


def _submitted(consultation, question, yes_no, text, name="Someone", **participation):
    person = new_participation(new_user(name=name), consultation, **participation)
    answer = services.save_answer(person, question, yes_no, text, utcnow())
    comment_services.submit_response(person, utcnow())
    db.session.commit()
    return answer


def _decide(answer, actor, state, **kwargs):
    moderation.decide_answer(answer, moderation.AnswerDecision(state, **kwargs), actor, answer.version, utcnow())
    db.session.commit()


def _publish(consultation, actor):
    consultation.closes_at = utcnow() - timedelta(minutes=1)
    publication.publish_comments(consultation, actor, utcnow(), publication.publication_counts(consultation))
    db.session.commit()


# --- The rules ---------------------------------------------------------------------------


def test_each_decision_is_audited_with_before_and_after(asking, staff_user):
    consultation, _, open_question = asking
    answer = _submitted(consultation, open_question, None, PRIVATE)
    assert answer.moderation_state is AnswerState.NEW
    _decide(answer, staff_user, AnswerState.REDACTED, reason=RejectionReason.PERSONAL_DATA,
            redacted_text=REDACTED)
    _decide(answer, staff_user, AnswerState.WITHHELD, reason=RejectionReason.OUT_OF_SCOPE)
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "answers",
                                                              AuditEvent.object_id == str(answer.id))
                                     .order_by(AuditEvent.id)))
    assert [e.action for e in events] == ["answer.redact", "answer.withhold"]
    assert events[0].before["moderation_state"] == "new" and events[0].after["redacted_text"] == REDACTED
    assert events[1].after == {**events[1].after, "moderation_state": "withheld", "redacted_text": None,
                               "moderation_reason": "out_of_scope"}
    assert answer.text == PRIVATE  # the original is kept for the record


@pytest.mark.parametrize(("decision", "message"), [
    (dict(state=AnswerState.REDACTED, reason=RejectionReason.PERSONAL_DATA, redacted_text="  "),
     "Enter the redacted answer. To publish none of it, withhold the answer instead."),
    (dict(state=AnswerState.REDACTED, reason=RejectionReason.PERSONAL_DATA,
          redacted_text="x" * (MAX_ANSWER_LENGTH + 1)),
     f"The redacted answer must be {MAX_ANSWER_LENGTH:,} characters or fewer. It has {MAX_ANSWER_LENGTH + 1:,}."),
    (dict(state=AnswerState.REDACTED, reason=RejectionReason.PERSONAL_DATA, redacted_text="a\x00b"),
     "The redacted answer contains a NUL character, which cannot be stored. Remove it and try again."),
    (dict(state=AnswerState.REDACTED, reason=RejectionReason.PERSONAL_DATA, redacted_text=PRIVATE),
     "The redacted answer is the same as the original."),
    (dict(state=AnswerState.REDACTED, redacted_text=REDACTED), "Select why the answer is redacted"),
    (dict(state=AnswerState.WITHHELD), "Select why the answer is withheld"),
    (dict(state=AnswerState.WITHHELD, reason=RejectionReason.OTHER), "Explain why the answer is withheld"),
])
def test_bad_decisions_are_refused_with_a_clear_message(asking, staff_user, decision, message):
    consultation, _, open_question = asking
    answer = _submitted(consultation, open_question, None, PRIVATE)
    with pytest.raises(moderation.InvalidInput) as refused:
        moderation.decide_answer(answer, moderation.AnswerDecision(**decision), staff_user, answer.version,
                                 utcnow())
    assert str(refused.value).startswith(message)
    db.session.rollback()
    assert db.session.get(Answer, answer.id).moderation_state is AnswerState.NEW


def test_a_decision_on_a_stale_version_is_refused_naming_who_changed_it(asking, staff_user):
    consultation, _, open_question = asking
    answer = _submitted(consultation, open_question, None, PRIVATE)
    seen = answer.version
    colleague = new_user(name="Cleo Colleague", role=Role.STAFF)
    _decide(answer, colleague, AnswerState.WITHHELD, reason=RejectionReason.PERSONAL_DATA)
    with pytest.raises(moderation.StaleAnswer, match="This answer was changed by Cleo Colleague"):
        moderation.decide_answer(answer, moderation.AnswerDecision(AnswerState.ACCEPTED), staff_user, seen, utcnow())
    db.session.rollback()
    assert db.session.get(Answer, answer.id).moderation_state is AnswerState.WITHHELD


def test_two_saves_that_race_end_with_the_database_refusing_one(asking, staff_user):
    consultation, _, open_question = asking
    answer = _submitted(consultation, open_question, None, PRIVATE)
    seen = answer.version
    # A colleague's decision lands between this one's read and its write.
    db.session.execute(update(Answer).where(Answer.id == answer.id)
                       .values(moderation_state=AnswerState.ACCEPTED, version=seen + 1)
                       .execution_options(synchronize_session=False))
    with pytest.raises(moderation.StaleAnswer):
        moderation.decide_answer(answer, moderation.AnswerDecision(AnswerState.WITHHELD,
                                                                   reason=RejectionReason.SPAM),
                                 staff_user, seen, utcnow())
    assert db.session.get(Answer, answer.id).moderation_state is AnswerState.ACCEPTED


def test_only_an_admin_may_accept_a_redacted_answer(asking, staff_user):
    consultation, _, open_question = asking
    answer = _submitted(consultation, open_question, None, PRIVATE)
    _decide(answer, staff_user, AnswerState.REDACTED, reason=RejectionReason.PERSONAL_DATA, redacted_text=REDACTED)
    with pytest.raises(moderation.InvalidInput, match="Only an admin can accept a redacted answer"):
        _decide(answer, staff_user, AnswerState.ACCEPTED)
    db.session.rollback()
    _decide(db.session.get(Answer, answer.id), new_user(role=Role.ADMIN), AnswerState.ACCEPTED)
    assert db.session.get(Answer, answer.id).moderation_state is AnswerState.ACCEPTED


def test_a_bare_yes_or_no_has_nothing_to_moderate(asking, staff_user):
    consultation, yes_no, _ = asking
    answer = _submitted(consultation, yes_no, True, "")
    with pytest.raises(moderation.InvalidInput, match="no words to moderate"):
        _decide(answer, staff_user, AnswerState.ACCEPTED)


# --- What the public and the committee read ------------------------------------------------------


def test_the_public_reads_only_what_staff_accepted_or_redacted(app_context, client, asking, staff_user):
    consultation, yes_no, open_question = asking
    waiting = _submitted(consultation, open_question, None, "Still waiting to be read", name="W")
    accepted = _submitted(consultation, open_question, None, "Accepted words", name="A")
    redacted = _submitted(consultation, open_question, None, PRIVATE, name="R")
    withheld_open = _submitted(consultation, open_question, None, "Spam spam spam", name="S")
    withheld_yes = _submitted(consultation, yes_no, False, "Call me on 07700 900123", name="Y")
    bare = _submitted(consultation, yes_no, True, "", name="B")
    _decide(accepted, staff_user, AnswerState.ACCEPTED)
    _decide(redacted, staff_user, AnswerState.REDACTED, reason=RejectionReason.PERSONAL_DATA,
            redacted_text=REDACTED)
    _decide(withheld_open, staff_user, AnswerState.WITHHELD, reason=RejectionReason.SPAM)
    _decide(withheld_yes, staff_user, AnswerState.WITHHELD, reason=RejectionReason.PERSONAL_DATA)
    assert waiting.moderation_state is AnswerState.NEW and bare.text == ""
    _publish(consultation, staff_user)

    open_page = main_of(client.get(public_path(consultation, f"/published-answers/{open_question.id}")))
    assert "Accepted words" in open_page and REDACTED in open_page
    for hidden in ("Still waiting to be read", PRIVATE, "Spam spam spam"):
        assert hidden not in open_page
    yes_no_page = main_of(client.get(public_path(consultation, f"/published-answers/{yes_no.id}")))
    assert "07700 900123" not in yes_no_page
    # The withheld answer's "No" is still published (a choice carries nothing to withhold), as is the bare "Yes".
    assert re.findall(r"font-weight-bold[^>]*>(Yes|No)<", yes_no_page) == ["No", "Yes"]

    # The public downloads carry the same answers, after the comments, in the answer columns.
    text = client.get(public_path(consultation, "/published-comments.csv")).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    answered = [(r["Question text"], r["Yes/No answer"], r["Answer text"]) for r in rows if r["Question text"]]
    assert sorted(answered) == sorted([
        (open_question.text, "", "Accepted words"), (open_question.text, "", REDACTED),
        (yes_no.text, "No", ""), (yes_no.text, "Yes", "")])
    for hidden in ("Still waiting to be read", PRIVATE, "Spam spam spam", "07700 900123"):
        assert hidden not in text
    book = openpyxl.load_workbook(io.BytesIO(client.get(public_path(consultation, "/published-comments.xlsx")).data))
    sheet = book.worksheets[0]
    headings = [cell.value for cell in sheet[1]]
    words = [row[headings.index("Answer text")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "Accepted words" in words and REDACTED in words and PRIVATE not in words


def test_committee_outputs_show_the_redaction_and_the_own_download_the_original(app_context, client, login,
                                                                               login_as, asking, staff_user):
    consultation, yes_no, open_question = asking
    author = new_user(name="Rita Redacted")
    person = new_participation(author, consultation)
    answer = services.save_answer(person, open_question, None, PRIVATE, utcnow())
    withheld = services.save_answer(person, yes_no, True, "Withheld words", utcnow())
    comment_services.submit_response(person, utcnow())
    db.session.commit()
    _decide(answer, staff_user, AnswerState.REDACTED, reason=RejectionReason.PERSONAL_DATA, redacted_text=REDACTED)
    _decide(withheld, staff_user, AnswerState.WITHHELD, reason=RejectionReason.PERSONAL_DATA)

    login_as(Role.STAFF)
    staff_csv = client.get(f"/staff/consultations/{consultation.reference}/downloads/comments.csv")
    rows = list(csv.DictReader(io.StringIO(staff_csv.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["Question text"], r["Yes/No answer"], r["Answer text"], r["Moderation state"]) for r in rows] == [
        (EVIDENCE, "Yes", "", "Withheld from publication"), (IMPACT, "", REDACTED, "Redacted")]
    themed = client.get(f"/staff/consultations/{consultation.reference}/downloads/themed.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(themed.data))
    cells = {cell for name in book.sheetnames for row in book[name].iter_rows(values_only=True) for cell in row}
    assert REDACTED in cells and PRIVATE not in cells and "Withheld words" not in cells
    review = text_of(client.get(f"/staff/consultations/{consultation.reference}/review"))
    assert REDACTED in review and PRIVATE not in review and "Withheld words" not in review

    login(author)
    own = client.get(public_path(consultation, "/response.csv")).get_data(as_text=True)
    assert PRIVATE in own and "Withheld words" in own and REDACTED not in own


def test_the_publication_check_counts_answers_waiting_for_moderation(app_context, client, login_as, asking,
                                                                    staff_user):
    consultation, yes_no, open_question = asking
    _submitted(consultation, open_question, None, "Waiting one")
    _submitted(consultation, yes_no, True, "Waiting two")
    _submitted(consultation, yes_no, False, "")  # nothing to moderate
    drafter = new_participation(new_user(), consultation)
    services.save_answer(drafter, open_question, None, "A draft is not counted", utcnow())
    consultation.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert publication.publication_counts(consultation).answers_waiting == 2
    login_as(Role.STAFF)
    page = main_of(client.get(f"/staff/consultations/{consultation.reference}/publication"))
    assert re.search(r'id="count-answers-waiting">\s*2 answers', page)
    assert "not published until you accept or redact them" in page


def test_the_publication_check_counts_everyone_named_beside_a_public_answer(app_context, client, login_as,
                                                                           post_form, asking, staff_user):
    consultation, yes_no, open_question = asking

    def answered(name, question, yes_no_value, text, publish_name=True, submit=True):
        person = new_participation(new_user(name=name), consultation)
        person.publish_name = publish_name
        answer = services.save_answer(person, question, yes_no_value, text, utcnow())
        if submit:
            comment_services.submit_response(person, utcnow())
        db.session.commit()
        return answer

    _decide(answered("Ada Accepted", open_question, None, "Accepted words"), staff_user, AnswerState.ACCEPTED)
    _decide(answered("Rex Redacted", open_question, None, PRIVATE), staff_user, AnswerState.REDACTED,
            reason=RejectionReason.PERSONAL_DATA, redacted_text=REDACTED)
    answered("Bea Bare", yes_no, True, "")  # a bare yes is published at once
    # Withheld words leave the yes or no published, and the name beside it; an open answer withheld leaves nothing.
    _decide(answered("Wes Withheld", yes_no, False, "Call me on 07700 900123"), staff_user, AnswerState.WITHHELD,
            reason=RejectionReason.PERSONAL_DATA)
    _decide(answered("Sid Spam", open_question, None, "Spam spam spam"), staff_user, AnswerState.WITHHELD,
            reason=RejectionReason.SPAM)
    answered("Nat New", open_question, None, "Still waiting to be read")
    _decide(answered("Una Unnamed", open_question, None, "Words without a name", publish_name=False), staff_user,
            AnswerState.ACCEPTED)
    answered("Dan Draft", yes_no, True, "", submit=False)
    consultation.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    named = {"Ada Accepted", "Rex Redacted", "Bea Bare", "Wes Withheld"}
    assert publication.publication_counts(consultation).named_individuals == len(named)

    login_as(Role.STAFF)
    url = f"/staff/consultations/{consultation.reference}/publication"
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'id="count-named-individuals">\s*4 individuals agreed', page)
    seen = dict(re.findall(r'name="(\w+)" type="hidden" value="(\d+)"', page))
    assert seen["named_individuals"] == "4"
    assert post_form(url, seen).status_code == 302  # the counts shown are the counts confirmed

    everyone = named | {"Sid Spam", "Nat New", "Una Unnamed", "Dan Draft"}
    shown = set()
    for question in (yes_no, open_question):
        page = main_of(client.get(public_path(consultation, f"/published-answers/{question.id}")))
        shown |= {name for name in everyone if name in page}
    text = client.get(public_path(consultation, "/published-comments.csv")).get_data(as_text=True)
    stakeholders = {row["Stakeholder"] for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}
    assert shown == stakeholders & everyone == named


# --- The staff pages -------------------------------------------------------------------------------


def test_staff_moderate_answers_a_page_at_a_time(app_context, client, login_as, post_form, asking, monkeypatch):
    consultation, _, open_question = asking
    answers = [_submitted(consultation, open_question, None, f"Answer words {n}", name=f"P{n}") for n in range(3)]
    login_as(Role.STAFF)
    monkeypatch.setattr(moderation, "PAGE_SIZE", 2)
    url = staff_path(consultation, f"/{open_question.id}/answers")
    first = main_of(client.get(url))
    assert "Answer words 0" in first and "Answer words 1" in first and "Answer words 2" not in first
    next_href = re.search(r'govuk-pagination__next">\s*<a[^>]+href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "Answer words 2" in main_of(client.get(next_href))
    assert client.get(url + "?after=x").status_code == 400

    done = post_form(f"{url}/{answers[0].id}/accept", {"version": answers[0].version})
    assert done.status_code == 302
    assert f"Answer {answers[0].id} is now accepted." in text_of(client.get(done.headers["Location"]))
    waiting = main_of(client.get(url))
    assert "Answer words 0" not in waiting and "Answer words 2" in waiting  # the waiting list moved on
    assert "Answer words 0" in main_of(client.get(url + "?show=all"))


def test_the_redact_form_explains_each_mistake_and_saves_a_good_redaction(app_context, client, login_as, post_form,
                                                                         asking):
    consultation, _, open_question = asking
    answer = _submitted(consultation, open_question, None, PRIVATE)
    seen = answer.version
    login_as(Role.STAFF)
    url = staff_path(consultation, f"/{open_question.id}/answers/{answer.id}/redact")
    form = main_of(client.get(url))
    assert PRIVATE in form  # the box starts with the words to edit
    refused = post_form(url, {"version": answer.version, "reason": "personal_data", "redacted_text": ""})
    assert refused.status_code == 200
    assert error_summary(text_of(refused)) == [
        "Enter the redacted answer. To publish none of it, withhold the answer instead."]
    no_reason = post_form(url, {"version": answer.version, "redacted_text": REDACTED})
    assert error_summary(text_of(no_reason)) == ["Select why the answer is redacted"]
    saved = post_form(url, {"version": answer.version, "reason": "personal_data", "redacted_text": REDACTED})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Answer, answer.id).redacted_text == REDACTED
    # A page opened before that decision is now stale: refused, both versions shown, nothing overwritten.
    stale = post_form(staff_path(consultation, f"/{open_question.id}/answers/{answer.id}/withhold"),
                      {"version": seen, "reason": "spam"})
    assert stale.status_code == 409
    page = text_of(stale)
    assert "This answer has changed since you opened it" in page and REDACTED in page
    db.session.expire_all()
    assert db.session.get(Answer, answer.id).moderation_state is AnswerState.REDACTED


def test_the_withhold_form_opens_with_the_decision_as_it_stands_and_refuses_a_garbled_version(
        app_context, client, login_as, post_form, asking):
    consultation, _, open_question = asking
    answer = _submitted(consultation, open_question, None, PRIVATE)
    login_as(Role.STAFF)
    url = staff_path(consultation, f"/{open_question.id}/answers/{answer.id}")
    for action in ("withhold", "redact"):
        refused = post_form(f"{url}/{action}", {"version": "x", "reason": "personal_data", "redacted_text": REDACTED})
        assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(Answer, answer.id).moderation_state is AnswerState.NEW
    withheld = post_form(f"{url}/withhold", {"version": answer.version, "reason": "spam", "note": "Advertising"})
    assert withheld.status_code == 302
    again = client.get(f"{url}/withhold").get_data(as_text=True)
    assert re.search(r'value="spam"[^>]*checked', again) and "Advertising" in again
    redact = main_of(client.get(f"{url}/redact"))
    assert PRIVATE in redact and "Advertising" not in redact  # a redaction starts from the words, not the withholding


def test_answer_moderation_is_for_staff_only(app_context, client, login_as, post_form, asking):
    consultation, _, open_question = asking
    answer = _submitted(consultation, open_question, None, PRIVATE)
    url = staff_path(consultation, f"/{open_question.id}/answers")
    for role in (Role.STAKEHOLDER, Role.COMMITTEE):
        login_as(role)
        assert client.get(url).status_code == 403
        assert post_form(f"{url}/{answer.id}/accept", {"version": answer.version}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Answer, answer.id).moderation_state is AnswerState.NEW


def test_a_draft_answer_cannot_be_moderated(app_context, client, login_as, asking):
    consultation, _, open_question = asking
    drafter = new_participation(new_user(), consultation)
    draft = services.save_answer(drafter, open_question, None, "Not sent yet", utcnow())
    db.session.commit()
    login_as(Role.STAFF)
    assert client.get(staff_path(consultation, f"/{open_question.id}/answers/{draft.id}/redact")).status_code == 404
    assert "Not sent yet" not in main_of(client.get(staff_path(consultation, f"/{open_question.id}/answers?show=all")))


def test_nice_order_interleaves_each_respondents_comments_and_answers(app_context, client, login_as, asking):
    consultation, yes_no, open_question = asking
    section = sections_of(consultation)["2.1"]
    target = comment_services.CommentTargetRef(section.document, section.chapter, section)
    people = []
    for name in ("First", "Second"):
        person = new_participation(new_user(name=name), consultation, kind="organisation",
                                   organisation_name=f"{name} Org")
        comment_services.save_draft(person, target, f"{name} comment A", None, utcnow())
        comment_services.save_draft(person, target, f"{name} comment B", None, utcnow())
        services.save_answer(person, open_question, None, f"{name} answer", utcnow())
        people.append(person)
    for person in reversed(people):  # submitted in the other order: the order of taking part still holds
        comment_services.submit_response(person, utcnow())
    db.session.commit()
    login_as(Role.STAFF)
    data = client.get(f"/staff/consultations/{consultation.reference}/downloads/comments.xlsx").data
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    table = [(r[header.index("Organisation")], r[header.index("Comment")] or r[header.index("Question text")])
             for r in rows]
    assert table == [
        ("First Org", "First comment A"), ("First Org", "First comment B"),
        ("First Org", EVIDENCE), ("First Org", IMPACT),
        ("Second Org", "Second comment A"), ("Second Org", "Second comment B"),
        ("Second Org", EVIDENCE), ("Second Org", IMPACT),
    ]


# --- A decision sent twice: a double press, Back and resend, a second tab, or two at once ----------------------


def _hidden_fields(page: str, action_path: str = "") -> dict[str, str]:
    """The hidden fields (CSRF token, version) of the page's form posting to `action_path` ("" for the page itself),
    as the browser holds them after loading the page."""
    for attributes, body in re.findall(r"<form\b([^>]*)>(.*?)</form>", page, re.S):
        action = dict(re.findall(r'([\w-]+)="([^"]*)"', attributes)).get("action", "")
        if urlsplit(html.unescape(action)).path == action_path:
            inputs = [dict(re.findall(r'([\w-]+)="([^"]*)"', tag)) for tag in re.findall(r"<input\b([^>]*)>", body)]
            return {i["name"]: html.unescape(i.get("value", "")) for i in inputs if i.get("type") == "hidden"}
    raise AssertionError(f"no form posts to {action_path or 'the page itself'}")


def _words(response, part: str | None = None) -> str:
    """A page's text as a person reads it, tags gone and spaces folded; of a conflict page's `part` ("yours" or
    "current") alone if given."""
    page = response.get_data(as_text=True)
    if part is not None:
        page = page.split(f'id="{part}"')[1].split('id="current"')[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _told(client, response) -> str:
    """Where a redirect lands, read as text, with the message it flashed."""
    assert response.status_code == 302
    return _words(client.get(response.headers["Location"]))


def _events(answer, action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "answers", AuditEvent.object_id == str(answer.id), AuditEvent.action == action))


def _fresh(answer) -> Answer:
    db.session.expire_all()
    return db.session.get(Answer, answer.id)


def _accept_form(client, login, asking, staff_user) -> tuple[Answer, str, dict]:
    """A submitted answer, and the accept form's address and hidden fields as staff's answers page holds them."""
    consultation, _, open_question = asking
    answer = _submitted(consultation, open_question, None, PRIVATE)
    login(staff_user)
    url = staff_path(consultation, f"/{open_question.id}/answers/{answer.id}/accept")
    page = client.get(staff_path(consultation, f"/{open_question.id}/answers")).get_data(as_text=True)
    return answer, url, _hidden_fields(page, url)


def test_an_accept_sent_twice_says_the_answer_is_already_accepted(app_context, client, login, asking,
                                                                  staff_user):
    answer, url, data = _accept_form(client, login, asking, staff_user)
    assert set(data) == {"csrf_token", "version"}
    first = client.post(url, data=data)
    assert f"Answer {answer.id} is now accepted." in _told(client, first)

    again = client.post(url, data=data)
    assert again.headers["Location"] == first.headers["Location"]
    page = _told(client, again)
    assert f"Answer {answer.id} is already accepted. Nothing more was changed." in page
    assert "has changed since you opened it" not in page
    assert _fresh(answer).moderation_state is AnswerState.ACCEPTED
    assert _events(answer, "answer.accept") == 1

    # A colleague withholds it since: the same accept, sent again from that page, is a real conflict.
    _decide(_fresh(answer), new_user(name="Cleo Colleague", role=Role.STAFF), AnswerState.WITHHELD,
            reason=RejectionReason.SPAM)
    conflict = client.post(url, data=data)
    page = _words(conflict)
    assert conflict.status_code == 409
    assert "This answer was changed by Cleo Colleague" in page and "not been saved" in page
    assert "Decision Accepted" in _words(conflict, "yours") and "Withheld" not in _words(conflict, "yours")
    assert "Decision Withheld from publication Reason Spam" in _words(conflict, "current")
    assert _fresh(answer).moderation_state is AnswerState.WITHHELD


@pytest.fixture
def accepted_meanwhile(monkeypatch):
    """The same accept, sent a moment earlier (a double click), is saved after this request checked the version
    and before it writes: the window only the database's version check can close."""

    def arm(answer, by) -> None:
        check = moderation.would_reveal_original
        answer_id, by_id = answer.id, by.id

        def check_then_lose_the_race(*args):
            db.session.connection().execute(
                update(Answer).where(Answer.id == answer_id)
                .values(version=Answer.version + 1, moderation_state=AnswerState.ACCEPTED, moderation_note="",
                        moderated_by_id=by_id, moderated_at=utcnow())
                .execution_options(synchronize_session=False))
            return check(*args)

        monkeypatch.setattr(moderation, "would_reveal_original", check_then_lose_the_race)

    return arm


def test_an_accept_sent_twice_at_once_says_the_answer_is_already_accepted(app_context, client, login, asking,
                                                                          staff_user, accepted_meanwhile):
    answer, url, data = _accept_form(client, login, asking, staff_user)
    accepted_meanwhile(answer, staff_user)
    response = client.post(url, data=data)
    assert response.status_code == 302
    assert f"Answer {answer.id} is already accepted. Nothing more was changed." in _told(client, response)
    assert _events(answer, "answer.accept") == 0


def test_a_redaction_sent_twice_is_already_so_unless_its_reason_or_note_differs(app_context, client, login,
                                                                               asking, staff_user):
    consultation, _, open_question = asking
    answer = _submitted(consultation, open_question, None, PRIVATE)
    login(staff_user)
    url = staff_path(consultation, f"/{open_question.id}/answers/{answer.id}/redact")
    data = {**_hidden_fields(client.get(url).get_data(as_text=True)), "reason": "personal_data",
            "redacted_text": REDACTED, "note": "Named a neighbour"}
    first = client.post(url, data=data)
    assert f"Answer {answer.id} is now redacted." in _told(client, first)
    again = client.post(url, data=data)
    assert again.headers["Location"] == first.headers["Location"]
    assert (f"Answer {answer.id} is already redacted with that text. Nothing more was changed."
            in _told(client, again))
    assert _events(answer, "answer.redact") == 1

    # The same words for another reason, or with another note, sent from the page opened before: refused.
    for changed, typed in (({"reason": "offensive"}, "Reason Offensive Note Named a neighbour"),
                           ({"note": "Typed in the other tab"}, "Note Typed in the other tab")):
        conflict = client.post(url, data={**data, **changed})
        page = _words(conflict)
        assert conflict.status_code == 409
        assert "This answer was changed by you" in page and "not been saved" in page
        assert f"{typed} Redacted answer {REDACTED}" in _words(conflict, "yours")
    answer = _fresh(answer)
    assert (answer.moderation_reason, answer.moderation_note) == (RejectionReason.PERSONAL_DATA, "Named a neighbour")
    assert _events(answer, "answer.redact") == 1


def test_a_withholding_sent_twice_is_already_so(app_context, client, login, asking, staff_user):
    consultation, _, open_question = asking
    answer = _submitted(consultation, open_question, None, PRIVATE)
    login(staff_user)
    url = staff_path(consultation, f"/{open_question.id}/answers/{answer.id}/withhold")
    data = {**_hidden_fields(client.get(url).get_data(as_text=True)), "reason": "spam", "note": "Advertising"}
    assert client.post(url, data=data).status_code == 302
    assert (f"Answer {answer.id} is already withheld from publication. Nothing more was changed."
            in _told(client, client.post(url, data=data)))
    assert client.post(url, data={**data, "reason": "out_of_scope"}).status_code == 409
    assert _events(answer, "answer.withhold") == 1
