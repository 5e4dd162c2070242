"""Markup typed into any field is shown as text on every page that renders it."""

from html.parser import HTMLParser

import pytest

from consult.comments import services as comment_services
from consult.comments.models import OrganisationType, ParticipantKind
from consult.database import utcnow
from consult.extensions import db
from tests.conftest import sections_of

CORPUS = [
    "<script>alert('x1')</script>",
    '"><img src=x onerror=alert(2)>',
    "</textarea><svg onload=alert(3)>",
    "<a href=\"javascript:alert(4)\">click</a>",
    "<b onmouseover=alert(5)>broken <i>markup",
]
PAYLOAD = " ".join(CORPUS)


def _draft_with_payload() -> str:
    return f"""# Title {PAYLOAD}

## 1 Chapter {PAYLOAD}

### Heading {PAYLOAD}

1.1 Section text with {PAYLOAD} inside it.
"""


class _ElementCollector(HTMLParser):
    """Reads the page as a browser would and keeps every element it would build."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def assert_escaped(html: str, where: str) -> None:
    for payload in CORPUS:
        assert payload not in html, f"raw markup on {where}: {payload}"
    assert "&lt;script&gt;" in html, f"payload not shown as text on {where}"
    parser = _ElementCollector()
    parser.feed(html)
    for tag, attrs in parser.elements:
        assert tag not in {"img", "svg"}, f"injected <{tag}> on {where}"
        assert not [name for name in attrs if name.startswith("on")], f"event handler on <{tag}> on {where}"
        assert not (attrs.get("href") or "").lower().startswith("javascript:"), f"javascript: link on {where}"
        if tag == "script":
            assert attrs.get("nonce") or attrs.get("src", "").startswith("/static/"), f"injected script on {where}"


@pytest.fixture
def hostile_response(make_user, make_consultation, login, app_context):
    consultation = make_consultation(text=_draft_with_payload(), title=f"Consultation {PAYLOAD}")
    consultation.summary = f"Summary {PAYLOAD}"
    user = login(make_user(name=f"Name {CORPUS[0]} {CORPUS[1]}"))  # names are at most 120 characters
    participation = comment_services.choose_participation(user, consultation, comment_services.ParticipationChoice(
        kind=ParticipantKind.ORGANISATION, organisation_name=f"Org {PAYLOAD}"[:200],
        organisation_type=OrganisationType.OTHER, has_tobacco_links=True,
        tobacco_details=f"Details {PAYLOAD}", other_interests=f"Interests {PAYLOAD}"), utcnow())
    section = sections_of(consultation)["1.1"]
    target = comment_services.CommentTargetRef(section.document, section.chapter, section)
    comment = comment_services.save_draft(participation, target, f"Body {PAYLOAD}", PAYLOAD, utcnow())
    db.session.commit()
    return consultation, section, comment


def test_markup_is_escaped_on_every_page_that_shows_it(client, hostile_response, csrf):
    consultation, section, comment = hostile_response
    ref = consultation.reference
    pages = [
        "/consultations/",
        f"/consultations/{ref}",
        f"/consultations/{ref}/documents/{section.document_id}",
        f"/consultations/{ref}/sections/{section.id}/comment",
        f"/consultations/{ref}/comments/{comment.id}/edit",
        f"/consultations/{ref}/comments/{comment.id}/delete",
        f"/consultations/{ref}/response",
        f"/consultations/{ref}/response/submit",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_escaped(response.get_data(as_text=True), path)

    client.post(f"/consultations/{ref}/response/submit", data={"csrf_token": csrf()})
    receipt = client.get(f"/consultations/{ref}/response/receipt")
    assert_escaped(receipt.get_data(as_text=True), "receipt")


def test_markup_sent_without_a_token_is_escaped_on_the_retry_page(client, hostile_response):
    consultation, section, _comment = hostile_response
    response = client.post(f"/consultations/{consultation.reference}/sections/{section.id}/comment",
                           data={"body": PAYLOAD, "quote": PAYLOAD})
    assert response.status_code == 400
    assert_escaped(response.get_data(as_text=True), "CSRF retry page")


def test_markup_in_a_refused_form_is_escaped_when_shown_back(client, hostile_response, post_form):
    consultation, section, _comment = hostile_response
    response = post_form(f"/consultations/{consultation.reference}/sections/{section.id}/comment",
                         {"body": PAYLOAD, "quote": "<script>not in the section</script>"})
    html = response.get_data(as_text=True)
    assert "does not appear in section 1.1" in html
    assert_escaped(html, "refused comment form")
