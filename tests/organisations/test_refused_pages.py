"""A refused send or submit says what to do, and its error summary links to something on the page."""

import html
import re
from html.parser import HTMLParser

from consult.accounts.services import register_user
from consult.database import utcnow
from consult.extensions import db
from consult.organisations import services
from consult.questions.models import Question, QuestionKind
from consult.questions.services import save_answer
from tests.conftest import PASSWORD
from tests.organisations.conftest import draft_on, new_colleague

# A question whose 80th character falls inside the word "interpretations".
LONG_QUESTION = ("Are there any parts of the recommendations that are open to different interpretations of what "
                 "the committee meant, or that need further clarification?")


def _text(response) -> str:
    return response.get_data(as_text=True)


def summary_links(page: str) -> list[tuple[str, str]]:
    """The (href, text) of each link in the page's error summaries."""
    links = []
    for summary in re.findall(r'class="govuk-error-summary".*?</ul>', page, re.S):
        links += [(href, html.unescape(" ".join(text.split())))
                  for href, text in re.findall(r'<a href="([^"]*)"[^>]*>(.*?)</a>', summary, re.S)]
    return links


class _Element(HTMLParser):
    """Collects the markup of the element with one id, from its start tag to its own end tag."""

    VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, wanted: str):
        super().__init__(convert_charrefs=False)
        self.wanted, self.depth, self.parts = wanted, 0, []

    def handle_starttag(self, tag, attrs):
        if self.depth == 0 and dict(attrs).get("id") != self.wanted:
            return
        self.parts.append(self.get_starttag_text())
        if tag not in self.VOID:
            self.depth += 1

    def handle_endtag(self, tag):
        if self.depth:
            self.parts.append(f"</{tag}>")
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)

    def handle_entityref(self, name):
        self.handle_data(f"&{name};")

    def handle_charref(self, name):
        self.handle_data(f"&#{name};")


def element(page: str, href: str) -> str:
    """The markup of the element a "#id" link goes to; fails when there is no such element on the page."""
    assert href.startswith("#") and len(href) > 1, href
    parser = _Element(href[1:])
    parser.feed(page)
    assert parser.parts, f"nothing on the page has the id {href}"
    return "".join(parser.parts)


def test_an_unconfirmed_colleague_is_offered_the_link_again_before_and_after_sending(client, login, post_form,
                                                                                     shared):
    consultation, _, code = shared
    user = register_user("unconfirmed@example.org", "Una Confirmed", PASSWORD, email_verified=False)
    db.session.commit()
    participation = services.join_with_code(user, consultation, code.code, utcnow())
    db.session.commit()
    draft_on(participation, body="Waiting to be sent")
    login(user)
    send = f"/consultations/{consultation.reference}/organisation/send"
    resend = "/account/verify-email/send-again"

    for before in (send, f"/consultations/{consultation.reference}/organisation"):  # the send page and the hub
        page = _text(client.get(before))
        assert "Confirm your email address before you send" in page and user.email in page
        assert f'href="{resend}"' in page and "Send the link again" in page

    refused = post_form(send)
    page = _text(refused)
    assert refused.status_code == 409
    [(href, text)] = summary_links(page)
    assert text == services.EmailNotConfirmed.message
    assert f'href="{resend}"' in element(page, href)  # the summary goes to the link to send it again


def test_a_confirmed_colleague_is_not_asked_to_confirm(client, login, shared):
    consultation, _, code = shared
    user, participation = new_colleague(consultation, code.code)
    draft_on(participation)
    login(user)
    page = _text(client.get(f"/consultations/{consultation.reference}/organisation/send"))
    assert "Confirm your email address" not in page and "Send the link again" not in page


def _question(consultation, position: int, text: str) -> Question:
    question = Question(consultation_id=consultation.id, kind=QuestionKind.YES_NO, text=text, position=position)
    db.session.add(question)
    db.session.flush()
    return question


def _split_answers(consultation, code, question) -> None:
    """Two colleagues send different answers to the question."""
    for yes_no, words in ((True, "Yes"), (False, "No, it is unclear")):
        _, participation = new_colleague(consultation, code.code)
        save_answer(participation, question, yes_no, words, utcnow())
        services.send_to_lead(participation, utcnow())
    db.session.commit()


def test_a_lead_told_to_choose_an_answer_is_taken_to_where_they_choose_it(client, login, post_form, shared):
    consultation, lead, code = shared
    _question(consultation, 1, "Are the recommendations sound?")
    split = _question(consultation, 2, LONG_QUESTION)
    _split_answers(consultation, code, split)
    services.start_lead_response(lead, consultation, utcnow())
    db.session.commit()
    login(lead)

    refused = post_form(f"/consultations/{consultation.reference}/organisation/lead/submit",
                        {"has_tobacco_links": "no"})
    page = _text(refused)
    assert refused.status_code == 409
    [(href, text)] = summary_links(page)
    target = element(page, href)
    assert "has_tobacco_links-error" not in page  # the declaration was answered: nothing is wrong with it
    assert text.startswith("Colleagues gave different answers to question 2, “Are there any parts")
    quoted = text[text.index("“") + 1:text.index("”")]
    assert quoted.endswith("…") and LONG_QUESTION.startswith(quoted[:-1].rstrip())
    assert LONG_QUESTION[len(quoted[:-1].rstrip())] == " "  # cut between words, not inside one

    choose = re.search(r'href="([^"]*/organisation/lead/response)(#[^"]+)"', target)
    assert choose and "Question 2: " + html.escape(LONG_QUESTION, quote=False) in target
    response_page = _text(client.get(choose.group(1)))
    question = element(response_page, choose.group(2))
    assert LONG_QUESTION in question and "Use this answer" in question
    assert "Are the recommendations sound?" not in question
