"""Someone signed out on another device, or whose session ended, while they were writing: what they sent is
kept through signing in again, and offered back to send, never silently dropped."""

import html
import re

from consult.accounts import services as account_services
from consult.comments import services as comment_services
from consult.extensions import db
from tests.comments.test_views import section_comment_url, text_of
from tests.conftest import PASSWORD, csrf_token_from

WORDS = "A long comment that took <twenty> minutes to write & must not be lost"


def _hidden(page: str) -> dict:
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        if 'type="hidden"' in tag:
            fields[html.unescape(re.search(r'name="([^"]+)"', tag).group(1))] = html.unescape(
                re.search(r'value="([^"]*)"', tag).group(1))
    return fields


def _writing_when_signed_out_elsewhere(client, login, make_user, make_consultation, make_participation):
    consultation = make_consultation()
    user = login(make_user())
    participation = make_participation(user, consultation)
    url = section_comment_url(consultation, "1.1")
    token = csrf_token_from(text_of(client.get(url)))
    account_services.end_all_sessions(user)  # "sign out everywhere" from another device
    db.session.commit()
    sent = client.post(url, data={"csrf_token": token, "quote": "", "body": WORDS})
    return user, participation, url, sent


def test_a_comment_sent_after_being_signed_out_elsewhere_is_kept_through_sign_in_and_sent_again(
        client, login, make_user, make_consultation, make_participation):
    user, participation, url, sent = _writing_when_signed_out_elsewhere(client, login, make_user, make_consultation,
                                                         make_participation)
    page = text_of(sent)
    assert sent.status_code == 401
    assert "Nothing was saved yet, but we have kept what you sent" in page
    assert html.escape(WORDS, quote=False) in page and WORDS not in page  # shown back, escaped
    carried = _hidden(page)
    assert carried["kept:body"] == WORDS and carried["kept_action"] == url

    wrong = client.post(re.search(r'<form method="post" novalidate action="([^"]+)"', page).group(1).replace(
        "&amp;", "&"), data={**carried, "email": user.email, "password": "not the password"})
    assert "Enter a correct email address and password" in text_of(wrong)
    assert _hidden(text_of(wrong))["kept:body"] == WORDS  # still carried for the next attempt

    signed_in = client.post("/account/sign-in", data={**_hidden(text_of(wrong)), "email": user.email,
                                                      "password": PASSWORD})
    offer = text_of(signed_in)
    assert signed_in.status_code == 200 and "Send what you wrote again" in offer
    assert html.escape(WORDS, quote=False) in offer
    resend = _hidden(offer)
    assert resend["body"] == WORDS and re.search(rf'<form method="post" action="{re.escape(url)}"', offer)

    saved = client.post(url, data=resend)
    assert saved.status_code == 302
    assert [c.body for c in comment_services.list_comments(participation)] == [WORDS]


def test_a_sign_in_carrying_an_address_elsewhere_lands_as_usual(client, make_user):
    user = make_user()
    token = csrf_token_from(text_of(client.get("/account/sign-in")))
    for action in ("//evil.example/steal", "https://evil.example/", ""):
        response = client.post("/account/sign-in", data={
            "csrf_token": token, "email": user.email, "password": PASSWORD, "kept:body": WORDS,
            "kept_action": action})
        assert response.status_code == 302 and "evil" not in response.headers["Location"]
        client.post("/account/sign-out", data={"csrf_token": csrf_token_from(text_of(client.get("/consultations/")))})
        token = csrf_token_from(text_of(client.get("/account/sign-in")))


def test_a_press_with_nothing_written_goes_to_sign_in_and_no_password_is_ever_carried(client, login, make_user):
    user = login(make_user())
    token = csrf_token_from(text_of(client.get("/account/password")))
    account_services.end_all_sessions(user)
    db.session.commit()
    sent = client.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                                   "new_password": "a new password here",
                                                   "confirm": "a new password here"})
    assert sent.status_code == 302 and sent.headers["Location"].startswith("/account/sign-in")
    assert PASSWORD not in text_of(client.get(sent.headers["Location"]))


def test_a_form_another_site_sent_is_never_offered_back_to_send_again(client, login, make_user):
    """Another site's auto-submitted form (no token) reached the timed-out page, which kept its fields and
    offered them back with a fresh token: one press, then sign-in and 'Send again', acted for that site."""
    login(make_user())
    target = make_user()
    for headers in ({"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        sent = client.post(f"/admin/users/{target.id}/role", data={"role": "admin", "confirmed": "yes"},
                           headers=headers)
        page = text_of(sent)
        assert sent.status_code == 400 and "Your session timed out" in page
        assert "Try again" not in page and 'name="role"' not in page and "we have kept" not in page
    own = client.post(f"/admin/users/{target.id}/role", data={"role": "admin", "confirmed": "yes"},
                      headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert "Try again" in text_of(own)  # from the service's own page, what was sent is kept, as before


def test_kept_fields_another_site_sends_through_the_sign_in_form_are_dropped(client, make_user):
    user = make_user()
    token = csrf_token_from(text_of(client.get("/account/sign-in")))
    landed = client.post("/account/sign-in", data={
        "csrf_token": token, "email": user.email, "password": PASSWORD, "kept:body": WORDS,
        "kept_action": "/consultations/X/sections/1/comment"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert landed.status_code == 302 and "Send what you wrote again" not in text_of(landed)


def test_a_press_that_carries_only_a_forms_own_checks_is_not_taken_for_writing(client, login, make_user,
                                                                              make_consultation):
    """Accepting a comment while signed out elsewhere showed 'What you sent: Version 2' on the sign-in page."""
    user = login(make_user())
    token = csrf_token_from(text_of(client.get("/account/password")))
    account_services.end_all_sessions(user)
    db.session.commit()
    consultation = make_consultation()
    sent = client.post(f"/staff/consultations/{consultation.reference}/comments/1/accept",
                       data={"csrf_token": token, "version": "2", "submit": "Accept"})
    assert sent.status_code == 302 and sent.headers["Location"].startswith("/account/sign-in")
