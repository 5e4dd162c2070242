"""Register, sign in and out, remember me, change password, safe redirects and session cookies."""

import html
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import select

from consult.accounts.models import Role, User
from consult.extensions import db
from tests.conftest import PASSWORD, csrf_token_from, sections_of

NEW_PASSWORD = "a much better passphrase"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def cookie_header(response, name: str) -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    return None


def cookie_attributes(header: str) -> dict[str, str]:
    attributes = {}
    for part in header.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        attributes[key.lower()] = value
    return attributes


def location_of(response) -> str:
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_in(client, email: str, password: str = PASSWORD, next_url: str | None = None, remember: bool = False):
    """Fill in and send the sign-in form, as a person would."""
    url = "/account/sign-in" + (f"?next={quote(next_url, safe='')}" if next_url is not None else "")
    data = {"csrf_token": csrf_token_from(text_of(client.get(url))), "email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post(url, data=data)


def is_signed_in(client) -> bool:
    return client.get("/account/password").status_code == 200


def register(post_form, email: str, name: str = "Robin Registrant", password: str = PASSWORD):
    return post_form("/account/register", {"name": name, "email": email, "password": password,
                                           "confirm": password})


def stored_user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


# --- Register ------------------------------------------------------------------

@pytest.mark.real_password_hash
def test_registering_creates_a_signed_in_account_with_a_scrypt_hash(client, post_form):
    response = register(post_form, "New.Person@Example.org", name="New Person")
    assert response.status_code == 302
    assert location_of(response) == "/consultations/"
    user = stored_user("new.person@example.org")
    assert user is not None and user.name == "New Person"
    assert user.password_hash.startswith("scrypt:")
    page = text_of(client.get("/consultations/"))
    assert "Your account has been created." in page
    assert "Signed in as New Person" in page


def test_registering_an_email_already_used_in_another_case_gives_a_clear_message(app, post_form):
    register(post_form, "a@example.org")
    other_browser = app.test_client()
    token = csrf_token_from(text_of(other_browser.get("/account/register")))
    response = other_browser.post("/account/register", data={
        "csrf_token": token, "name": "Someone Else", "email": "A@Example.org",
        "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 409
    assert "An account with this email address already exists. Sign in instead." in text_of(response)
    assert stored_user("a@example.org").name == "Robin Registrant"


def test_an_email_address_with_spaces_around_it_registers_as_the_address(client, post_form):
    """Sign-in forgives a space copied in with the address; registering refused it as badly formed."""
    response = register(post_form, "  Spaced.Out@Example.org \t")
    assert response.status_code == 302
    assert stored_user("spaced.out@example.org") is not None


def test_a_password_with_spaces_inside_it_is_a_password(post_form):
    passphrase = "  correct horse battery staple  "
    assert post_form("/account/register", {"name": "Pat Phrase", "email": "phrase@example.org",
                                           "password": passphrase, "confirm": passphrase}).status_code == 302


@pytest.mark.parametrize("changes, message", [
    ({"email": "not-an-email"}, "Enter an email address in the correct format"),
    ({"password": "short", "confirm": "short"}, "Password must be between 10 and 200 characters"),
    ({"confirm": "something different"}, "Passwords must match"),
    ({"password": " " * 12, "confirm": " " * 12}, "Password must have characters other than spaces"),
    ({"password": "\t \n" * 4, "confirm": "\t \n" * 4}, "Password must have characters other than spaces"),
    ({"name": ""}, "Enter your full name"),
    ({"name": "Val \u202edI"}, "Full name must not include hidden characters that change the direction of text"),
])
def test_registration_form_errors_are_shown_and_nothing_is_stored(post_form, changes, message):
    data = {"name": "Val Id", "email": "valid@example.org", "password": PASSWORD, "confirm": PASSWORD, **changes}
    response = post_form("/account/register", data)
    assert response.status_code == 200
    assert message in text_of(response)
    assert stored_user(data["email"].lower()) is None


@pytest.mark.parametrize("name", ["   ", "\u200b", " \u200b\u2060\ufeff ", "\u00a0\u3000"])
def test_a_name_of_only_spaces_or_invisible_characters_is_refused(post_form, name):
    response = register(post_form, "blank@example.org", name=name)
    assert response.status_code == 200
    page = text_of(response)
    assert "<title>Error: " in page
    assert 'href="#name">Enter your full name</a>' in page  # the error summary, linked to the field
    assert 'id="name-error"' in page and "Enter your full name" in page.split('id="name-error"')[1][:200]
    assert stored_user("blank@example.org") is None


# --- Sign in and out -----------------------------------------------------------

def test_signing_in_with_the_email_in_any_case_lands_on_the_consultations(client, make_user):
    make_user(name="Sam Signer", email="sam@example.org")
    response = sign_in(client, "SAM@Example.org")
    assert response.status_code == 302
    assert location_of(response) == "/consultations/"
    assert "Signed in as Sam Signer" in text_of(client.get("/consultations/"))


@pytest.mark.parametrize("email, password", [("sam@example.org", "not the password"),
                                             ("nobody@example.org", PASSWORD)])
def test_wrong_credentials_are_refused_with_a_message(client, make_user, email, password):
    make_user(email="sam@example.org")
    response = sign_in(client, email, password)
    assert response.status_code == 200
    assert "Enter a correct email address and password" in text_of(response)
    assert not is_signed_in(client)


def test_signing_out_needs_a_post_with_a_token(client, make_user):
    make_user(email="out@example.org")
    sign_in(client, "out@example.org")
    assert client.get("/account/sign-out").status_code == 405
    refused = client.post("/account/sign-out")
    assert refused.status_code == 400
    assert "Your session timed out" in text_of(refused)
    assert is_signed_in(client)

    token = csrf_token_from(text_of(client.get("/consultations/")))
    response = client.post("/account/sign-out", data={"csrf_token": token})
    assert response.status_code == 302
    page = text_of(client.get("/consultations/"))
    assert "You have signed out. Any other devices signed in to your account have been signed out too." in page
    assert "Signed in as" not in page
    assert not is_signed_in(client)


@pytest.mark.parametrize("ticked", [True, False])
def test_remember_cookie_is_set_only_when_ticked(client, make_user, ticked):
    make_user(email="remember@example.org")
    response = sign_in(client, "remember@example.org", remember=ticked)
    assert response.status_code == 302
    remember = cookie_header(response, "remember_token")
    if ticked:
        assert remember is not None
        assert "httponly" in cookie_attributes(remember)
    else:
        assert remember is None


def test_remember_cookie_alone_keeps_the_user_signed_in(client, make_user):
    make_user(email="remember@example.org")
    sign_in(client, "remember@example.org", remember=True)
    client.delete_cookie("session")
    assert is_signed_in(client)


def test_session_cookie_is_http_only_and_same_site_lax(client, make_user):
    make_user(email="cookie@example.org")
    response = sign_in(client, "cookie@example.org")
    header = cookie_header(response, "session")
    assert header is not None
    attributes = cookie_attributes(header)
    assert "httponly" in attributes
    assert attributes.get("samesite", "").lower() == "lax"


def test_session_is_renewed_at_sign_in(client, make_user):
    make_user(email="fixation@example.org")
    client.get("/account/sign-in")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    sign_in(client, "fixation@example.org")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id")


@pytest.mark.parametrize("next_url", [
    "//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)",
    "http://evil.example/consultations/", "///evil.example", " //evil.example",
])
def test_unsafe_next_is_ignored(client, make_user, next_url):
    make_user(email="next@example.org")
    response = sign_in(client, "next@example.org", next_url=next_url)
    assert response.status_code == 302
    assert response.headers["Location"] == "/consultations/"


def test_local_next_is_followed(client, make_user, make_consultation):
    consultation = make_consultation()
    make_user(email="next@example.org")
    target = f"/consultations/{consultation.reference}/documents/{consultation.documents[0].id}"
    response = sign_in(client, "next@example.org", next_url=target)
    assert location_of(response) == target


@pytest.mark.parametrize("where", ["take part", "comment form"])
def test_signed_out_visitor_is_sent_to_sign_in_and_brought_back(client, make_user, make_consultation, where):
    consultation = make_consultation()
    make_user(email="returning@example.org")
    db.session.commit()
    ref = consultation.reference
    target = {"take part": f"/consultations/{ref}/take-part",
              "comment form": f"/consultations/{ref}/sections/{sections_of(consultation)['2.1'].id}/comment"}[where]
    asked = client.get(target)
    assert asked.status_code == 302
    sign_in_page = urlsplit(asked.headers["Location"])
    assert sign_in_page.path == "/account/sign-in"
    assert parse_qs(sign_in_page.query)["next"] == [target]
    response = sign_in(client, "returning@example.org", next_url=target)
    assert location_of(response) == target


# --- Change password -----------------------------------------------------------

def change_password(client, current: str, new: str = NEW_PASSWORD):
    token = csrf_token_from(text_of(client.get("/account/password")))
    return client.post("/account/password", data={"csrf_token": token, "current_password": current,
                                                  "new_password": new, "confirm": new})


def test_wrong_current_password_is_refused_with_a_message(client, make_user):
    user = make_user(email="change@example.org")
    old_hash = user.password_hash
    sign_in(client, "change@example.org")
    response = change_password(client, "not my password")
    assert response.status_code == 400
    assert "Your current password is not correct" in text_of(response)
    assert stored_user("change@example.org").password_hash == old_hash


def test_changing_password_signs_out_other_sessions_but_not_this_one(app, client, make_user):
    make_user(email="change@example.org")
    db.session.commit()
    other_device = app.test_client()
    sign_in(other_device, "change@example.org", remember=True)
    sign_in(client, "change@example.org")
    copied_cookie = client.get_cookie("session").value
    assert is_signed_in(other_device)

    response = change_password(client, PASSWORD)
    assert response.status_code == 302
    assert "Other devices have been signed out" in text_of(client.get("/consultations/"))
    assert is_signed_in(client)
    assert not is_signed_in(other_device)

    replayed = app.test_client()
    replayed.set_cookie("session", copied_cookie)
    assert not is_signed_in(replayed)

    assert sign_in(app.test_client(), "change@example.org", PASSWORD).status_code == 200
    assert sign_in(app.test_client(), "change@example.org", NEW_PASSWORD).status_code == 302


# --- Sessions that end ---------------------------------------------------------

def sign_out(client, path: str = "/account/sign-out"):
    token = csrf_token_from(text_of(client.get("/account/password")))
    return client.post(path, data={"csrf_token": token})


def test_a_copied_session_cookie_stops_working_at_sign_out(app, client, make_user):
    make_user(email="copied@example.org")
    sign_in(client, "copied@example.org")
    copied = client.get_cookie("session").value
    assert sign_out(client).status_code == 302

    replayed = app.test_client()
    replayed.set_cookie("session", copied)
    assert not is_signed_in(replayed)
    assert replayed.get("/account/password").status_code == 302


def test_a_copied_remember_cookie_stops_working_at_sign_out(app, client, make_user):
    make_user(email="remembered@example.org")
    sign_in(client, "remembered@example.org", remember=True)
    copied = client.get_cookie("remember_token").value
    sign_out(client)

    replayed = app.test_client()
    replayed.set_cookie("remember_token", copied)
    assert not is_signed_in(replayed)


def test_signing_out_everywhere_ends_every_session_of_the_account(app, client, make_user):
    make_user(email="everywhere@example.org")
    other_device = app.test_client()
    sign_in(other_device, "everywhere@example.org", remember=True)
    sign_in(client, "everywhere@example.org")
    assert "Sign out everywhere" in text_of(client.get("/account/password"))

    response = sign_out(client, "/account/sign-out-everywhere")
    assert response.status_code == 302
    assert location_of(response) == "/account/sign-in"
    assert "You have been signed out on every device" in text_of(client.get("/account/sign-in"))
    assert not is_signed_in(client)
    assert not is_signed_in(other_device)
    assert sign_in(app.test_client(), "everywhere@example.org").status_code == 302


def test_signing_out_everywhere_needs_a_post_with_a_token(client, make_user):
    make_user(email="everywhere@example.org")
    sign_in(client, "everywhere@example.org")
    assert client.get("/account/sign-out-everywhere").status_code == 405
    assert client.post("/account/sign-out-everywhere").status_code == 400
    assert is_signed_in(client)


# --- Where people land ---------------------------------------------------------

@pytest.mark.parametrize("role, landing", [
    (Role.STAKEHOLDER, "/consultations/"),
    (Role.STAFF, "/staff/"),
    (Role.COMMITTEE, "/staff/"),
    (Role.ADMIN, "/admin/users"),
])
def test_each_role_lands_on_its_own_start_page(client, make_user, role, landing):
    make_user(email="lands@example.org", role=role)
    response = sign_in(client, "lands@example.org")
    assert location_of(response) == landing
    assert client.get(landing).status_code == 200


def test_a_page_to_return_to_wins_over_the_role_start_page(client, make_user, make_consultation):
    consultation = make_consultation()
    make_user(email="staff@example.org", role=Role.STAFF)
    target = f"/consultations/{consultation.reference}"
    assert location_of(sign_in(client, "staff@example.org", next_url=target)) == target


def test_create_an_account_from_sign_in_keeps_the_page_the_person_was_going_to(client, make_consultation):
    consultation = make_consultation()
    target = f"/consultations/{consultation.reference}/take-part"
    sign_in_page = client.get(client.get(target).headers["Location"])
    links = re.findall(r'href="(/account/register[^"]*)"', text_of(sign_in_page))
    assert links and all(parse_qs(urlsplit(html.unescape(link)).query).get("next") == [target] for link in links)

    register_url = html.unescape(links[0])
    token = csrf_token_from(text_of(client.get(register_url)))
    response = client.post(register_url, data={"csrf_token": token, "name": "Nia New", "email": "nia@example.org",
                                               "password": PASSWORD, "confirm": PASSWORD})
    assert location_of(response) == target


def test_the_header_sign_in_link_comes_back_to_the_page_it_was_on(client, make_user, make_consultation):
    consultation = make_consultation()
    make_user(email="header@example.org")
    page = f"/consultations/{consultation.reference}"
    link = html.unescape(re.search(r'href="(/account/sign-in[^"]*)"', text_of(client.get(page))).group(1))
    assert parse_qs(urlsplit(link).query)["next"] == [page]
