"""Confirming an address and resetting a password, with the links read from email that really arrived."""

import itertools
import re
import time as real_time

import pytest
from sqlalchemy import select

from consult.accounts import recovery_services
from consult.accounts.models import Role, User
from consult.accounts.services import authenticate, find_user_by_email
from consult.audit.models import AuditEvent
from consult.comments import services as comment_services
from consult.comments.models import CommentStatus
from consult.database import utcnow
from consult.extensions import db, limiter
from consult.mail.models import OutboxEmail
from tests.conftest import PASSWORD, csrf_token_from, sections_of
from tests.mail.helpers import run_worker

NEW_PASSWORD = "a brand new passphrase"
_numbers = itertools.count(1)


@pytest.fixture
def limits(app, monkeypatch):
    limiter.reset()

    def set_limit(name: str, value: str) -> None:
        monkeypatch.setitem(app.config, name, value)

    yield set_limit
    limiter.reset()


def _path(link: str) -> str:
    return link.removeprefix("http://localhost")


def _register(client, post_form, email: str):
    return post_form("/account/register", {"name": "Pat Example", "email": email, "password": PASSWORD,
                                           "confirm": PASSWORD})


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email).execution_options(populate_existing=True))


def _emails(to: str, kind: str) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.to == to, OutboxEmail.kind == kind)))


# --- confirming the address ------------------------------------------------------------


def test_registration_sends_a_link_that_confirms_the_address(app, app_context, client, post_form, inbox):
    response = _register(client, post_form, "confirm.me@example.org")
    assert response.status_code == 302
    assert _user("confirm.me@example.org").email_verified_at is None
    run_worker(app)
    message = inbox.only("confirm.me@example.org")
    assert "Until you confirm, you can read consultations and keep draft comments" in message.text
    link = inbox.link_in(message, "/account/verify-email?token=")
    confirmed = client.get(_path(link), follow_redirects=True)
    assert "Your email address confirm.me@example.org has been confirmed" in confirmed.get_data(as_text=True)
    assert _user("confirm.me@example.org").email_verified_at is not None
    again = client.get(_path(link), follow_redirects=True)  # following it again is harmless, and says so
    assert "Your email address confirm.me@example.org was already confirmed. You can submit a response." in (
        again.get_data(as_text=True))


def test_a_confirmation_link_opened_in_another_account_says_whose_address_it_confirmed(
        app_context, client, make_user, login):
    owner, signed_in = make_user(email="owner@example.org"), make_user(email="other@example.org")
    for user in (owner, signed_in):
        user.email_verified_at = None
    db.session.commit()
    login(signed_in)

    page = client.get(f"/account/verify-email?token={recovery_services.verification_token(owner)}",
                      follow_redirects=True).get_data(as_text=True)

    assert ("The email address owner@example.org has been confirmed. You are signed in as other@example.org, "
            "which this link does not change. To confirm other@example.org, open the link we sent to that "
            "address.") in page
    assert "Your email address" not in page
    assert _user("owner@example.org").email_verified_at is not None
    assert _user("other@example.org").email_verified_at is None


@pytest.mark.parametrize("token", ["", "not-a-token", "eyJ1IjoxfQ.tampered.signature"])
def test_a_broken_verification_link_is_refused_with_a_clear_page(client, token):
    response = client.get(f"/account/verify-email?token={token}")
    assert response.status_code == 400
    assert "This link is not valid" in response.get_data(as_text=True)


def test_an_expired_verification_link_is_refused(app, app_context, client, make_user, monkeypatch):
    user = make_user(email="slow@example.org")
    user.email_verified_at = None
    db.session.commit()
    token = recovery_services.verification_token(user)
    _later(monkeypatch, app.config["EMAIL_VERIFICATION_SECONDS"] + 5)
    response = client.get(f"/account/verify-email?token={token}")
    assert response.status_code == 400 and "This link has expired" in response.get_data(as_text=True)
    assert _user("slow@example.org").email_verified_at is None


def test_a_reset_link_does_not_confirm_an_address(app_context, client, make_user):
    user = make_user()
    token = recovery_services.reset_token(user)
    assert client.get(f"/account/verify-email?token={token}").status_code == 400


def _unverified_stakeholder_with_a_draft(make_user, make_consultation, make_participation, login):
    consultation = make_consultation()
    user = make_user(email=f"drafter{next(_numbers)}@example.org")
    user.email_verified_at = None
    db.session.commit()
    participation = make_participation(user, consultation)
    section = sections_of(consultation)["2.1"]
    comment_services.save_draft(participation, comment_services.CommentTargetRef(
        section.document, section.chapter, section), "My draft comment", None, utcnow())
    db.session.commit()
    login(user)
    return user, consultation, participation


def test_an_unconfirmed_account_keeps_drafts_but_cannot_submit(
        app_context, client, post_form, make_user, make_consultation, make_participation, login):
    user, consultation, participation = _unverified_stakeholder_with_a_draft(
        make_user, make_consultation, make_participation, login)
    submit_path = f"/consultations/{consultation.reference}/response/submit"
    page = client.get(submit_path).get_data(as_text=True)
    assert "Confirm your email address before you submit" in page and "/account/verify-email/send-again" in page

    refused = post_form(submit_path)
    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    assert "Confirm your email address before you submit your response" in body
    assert "Send the link again" in body
    [summary] = re.findall(r'class="govuk-error-summary".*?</ul>', body, re.S)  # one summary, linking somewhere
    assert re.findall(r'<a href="([^"]*)"', summary) == ["#submit-response"] and 'id="submit-response"' in body
    [draft] = comment_services.list_comments(participation)
    assert draft.status is CommentStatus.DRAFT and draft.body == "My draft comment"


def test_the_service_refuses_an_unconfirmed_submission(
        app_context, make_user, make_consultation, make_participation, login):
    _, _, participation = _unverified_stakeholder_with_a_draft(make_user, make_consultation, make_participation,
                                                               login)
    with pytest.raises(comment_services.EmailNotVerified):
        comment_services.submit_response(participation, utcnow())


def test_once_confirmed_the_response_is_submitted_and_its_receipt_emailed(
        app, app_context, client, post_form, make_user, make_consultation, make_participation, login, inbox):
    user, consultation, participation = _unverified_stakeholder_with_a_draft(
        make_user, make_consultation, make_participation, login)
    client.get(f"/account/verify-email?token={recovery_services.verification_token(user)}")
    assert post_form(f"/consultations/{consultation.reference}/response/submit").status_code == 302
    run_worker(app)
    receipt = inbox.only(user.email)
    db.session.refresh(participation)
    assert receipt.subject == f"Your response to {consultation.reference} was submitted"
    assert participation.receipt_reference in receipt.text and "Comments submitted: 1" in receipt.text
    assert f"/consultations/{consultation.reference}/response/receipt" in receipt.text


def test_the_link_can_be_sent_again_and_that_is_rate_limited(
        app, app_context, client, post_form, make_user, login, limits, queue_ready):
    limits("VERIFICATION_EMAILS_PER_USER", "2 per hour")
    user = make_user(email="again@example.org")
    user.email_verified_at = None
    db.session.commit()
    login(user)
    assert "Send the link again" in client.get("/account/verify-email/send-again").get_data(as_text=True)
    for _ in range(2):
        assert post_form("/account/verify-email/send-again").status_code == 302
    refused = post_form("/account/verify-email/send-again")
    assert refused.status_code == 429 and "asked for the link a lot of times" in refused.get_data(as_text=True)
    assert len(_emails("again@example.org", "verify_email")) == 2


def test_a_confirmed_account_is_told_there_is_nothing_to_do(client, login_as):
    login_as()
    page = client.get("/account/verify-email/send-again").get_data(as_text=True)
    assert "is confirmed. There is nothing more to do." in page


# --- forgotten password -------------------------------------------------------------------


def test_the_sign_in_page_offers_a_password_reset(client):
    assert 'href="/account/forgot-password">Forgot your password?' in client.get("/account/sign-in").get_data(
        as_text=True)


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
        app_context, client, post_form, make_user, queue_ready):
    make_user(email="known@example.org")
    pages = []
    for email in ("known@example.org", "unknown@example.org"):
        response = post_form("/account/forgot-password", {"email": email})
        assert response.status_code == 302 and response.headers["Location"] == "/account/forgot-password/sent"
        pages.append(client.get("/account/forgot-password/sent").get_data(as_text=True).replace(email, "EMAIL"))
    assert _strip_tokens(pages[0]) == _strip_tokens(pages[1])
    assert "If <strong>EMAIL</strong> is the address of an account" in pages[0]
    assert len(_emails("known@example.org", "password_reset")) == 1
    assert _emails("unknown@example.org", "password_reset") == []


def test_a_reset_asked_for_with_a_space_around_the_address_is_sent(app_context, post_form, make_user, queue_ready):
    make_user(email="spaced@example.org")
    response = post_form("/account/forgot-password", {"email": " spaced@example.org  "})
    assert response.status_code == 302
    assert len(_emails("spaced@example.org", "password_reset")) == 1


def _strip_tokens(page: str) -> str:
    """The page without what differs on every response anyway (script nonce, CSRF token)."""
    return re.sub(r'(nonce|value)="[^"]*"', "", page)


def test_password_reset_requests_are_rate_limited_per_address(app_context, post_form, make_user, limits):
    limits("PASSWORD_RESETS_PER_ACCOUNT", "2 per hour")
    make_user(email="target@example.org")
    statuses = [post_form("/account/forgot-password", {"email": "Target@Example.org"}).status_code
                for _ in range(3)]
    assert statuses == [302, 302, 429]
    assert len(_emails("target@example.org", "password_reset")) == 2


def test_reset_by_the_emailed_link_ends_every_other_session_and_works_once(
        app, app_context, client, post_form, make_user, inbox):
    user = make_user(email="forgetful@example.org")
    other_device = app.test_client()
    with other_device.session_transaction() as session:
        session["_user_id"] = user.get_id()
    assert other_device.get("/account/password").status_code == 200  # signed in over there

    post_form("/account/forgot-password", {"email": "forgetful@example.org"})
    run_worker(app)
    message = inbox.only("forgetful@example.org")
    assert "The link works once, for 1 hour." in message.text
    path = _path(inbox.link_in(message, "/account/reset-password?token="))
    assert "Choose a new password" in client.get(path).get_data(as_text=True)
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    done = client.post(path, data={"csrf_token": token, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/account/sign-in"

    db.session.expire_all()  # the reset was committed by the request
    assert authenticate("forgetful@example.org", NEW_PASSWORD) is not None
    assert authenticate("forgetful@example.org", PASSWORD) is None
    assert other_device.get("/account/password").status_code == 302  # that session has ended
    again = client.get(path)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.reset_password",
                                                      AuditEvent.object_id == str(user.id)))


def test_a_reset_link_expires_after_an_hour(app, app_context, client, make_user, monkeypatch):
    user = make_user()
    token = recovery_services.reset_token(user)
    _later(monkeypatch, 3599)
    assert client.get(f"/account/reset-password?token={token}").status_code == 200
    _later(monkeypatch, 3601)
    response = client.get(f"/account/reset-password?token={token}")
    assert response.status_code == 400 and "This link has expired" in response.get_data(as_text=True)


def test_a_verification_link_cannot_reset_a_password(app_context, client, make_user):
    user = make_user()
    token = recovery_services.verification_token(user)
    assert client.get(f"/account/reset-password?token={token}").status_code == 400


def test_a_new_password_spends_every_earlier_reset_link(app_context, make_user):
    user = make_user()
    first, second = recovery_services.reset_token(user), recovery_services.reset_token(user)
    recovery_services.reset_password(second, NEW_PASSWORD)
    db.session.commit()
    with pytest.raises(recovery_services.ResetLinkUsed):
        recovery_services.reset_password(first, "yet another passphrase")


def test_a_deactivated_account_gets_no_reset_link(app_context, post_form, make_user, queue_ready):
    user = make_user(email="gone@example.org")
    user.deactivated_at = utcnow()
    db.session.commit()
    assert post_form("/account/forgot-password", {"email": "gone@example.org"}).status_code == 302
    assert _emails("gone@example.org", "password_reset") == []


def _later(monkeypatch, seconds: int) -> None:
    """Move the clock that itsdangerous reads `seconds` into the future."""
    import itsdangerous.timed

    start = real_time.time()

    class Clock:
        @staticmethod
        def time():
            return start + seconds

    monkeypatch.setattr(itsdangerous.timed, "time", Clock)


# --- admins ---------------------------------------------------------------------------------


def _audit(action: str, user: User) -> AuditEvent | None:
    return db.session.scalar(select(AuditEvent).where(AuditEvent.action == action,
                                                      AuditEvent.object_id == str(user.id)))


def test_an_admin_deactivates_and_reactivates_an_account_audited(app, app_context, client, post_form, make_user,
                                                                 login_as):
    person = make_user(email="leaving@example.org")
    their_device = app.test_client()
    with their_device.session_transaction() as session:
        session["_user_id"] = person.get_id()
    admin = login_as(Role.ADMIN)
    page = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "Deactivate account" in page and "Send a password reset link" in page

    done = post_form(f"/admin/users/{person.id}/deactivate", follow_redirects=True)
    assert "account is deactivated" in done.get_data(as_text=True)
    assert _user("leaving@example.org").deactivated_at is not None
    assert their_device.get("/account/password").status_code == 302  # signed out
    assert authenticate("leaving@example.org", PASSWORD) is None
    sign_in_page = their_device.get("/account/sign-in").get_data(as_text=True)
    refused = their_device.post("/account/sign-in", data={"csrf_token": csrf_token_from(sign_in_page),
                                                          "email": "leaving@example.org", "password": PASSWORD})
    assert refused.status_code == 200  # the form again, not signed in
    event = _audit("user.deactivate", person)
    assert event.actor_id == admin.id and event.before == {"deactivated_at": None} and event.after["deactivated_at"]

    post_form(f"/admin/users/{person.id}/reactivate")
    assert _user("leaving@example.org").deactivated_at is None
    assert authenticate("leaving@example.org", PASSWORD) is not None
    assert _audit("user.reactivate", person).actor_id == admin.id


def test_an_admin_cannot_deactivate_their_own_account(app_context, client, post_form, login_as):
    admin = login_as(Role.ADMIN)
    done = post_form(f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert "You cannot deactivate your own account" in done.get_data(as_text=True)
    assert _user(admin.email).deactivated_at is None


def test_an_admin_sends_a_reset_link_audited_without_seeing_it(app, app_context, client, post_form, make_user,
                                                              login_as, inbox):
    person = make_user(email="locked.out@example.org")
    admin = login_as(Role.ADMIN)
    done = post_form(f"/admin/users/{person.id}/password-reset", follow_redirects=True)
    body = done.get_data(as_text=True)
    assert "A password reset link has been sent to locked.out@example.org" in body and "token=" not in body
    assert _audit("user.send_password_reset", person).actor_id == admin.id
    run_worker(app)
    message = inbox.only("locked.out@example.org")
    assert "An administrator of" in message.text
    assert "If you did not ask for this" not in message.text  # they did not: an administrator did
    assert recovery_services.user_for_reset(
        inbox.link_in(message, "reset-password?token=").partition("token=")[2]).id == person.id


def test_an_erased_account_gets_no_reset_link_and_cannot_be_brought_back(app_context, client, post_form, make_user,
                                                                         login_as):
    from consult.privacy.services import delete_own_account

    person = make_user(email="gone@example.org")
    link_before = recovery_services.reset_token(person)
    delete_own_account(person, PASSWORD, utcnow())
    db.session.commit()
    erased = db.session.get(User, person.id)
    with pytest.raises(recovery_services.LinkNotValid):
        recovery_services.user_for_reset(recovery_services.reset_token(erased))
    with pytest.raises(recovery_services.LinkNotValid):
        recovery_services.user_for_reset(link_before)
    recovery_services.request_password_reset(erased.email)
    assert db.session.scalars(select(OutboxEmail).where(OutboxEmail.to == erased.email)).all() == []

    login_as(Role.ADMIN)
    page = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert re.search(r"This account was deleted at (\d{1,2}(:\d\d)?[ap]m|midday|midnight) on \d{1,2} \w+ \d{4}", page)
    assert "Send a password reset link" not in page and "Reactivate account" not in page
    for action in ("password-reset", "reactivate"):
        done = post_form(f"/admin/users/{person.id}/{action}", follow_redirects=True)
        assert "there is no one to send a link to" in done.get_data(as_text=True)
    assert db.session.scalars(select(OutboxEmail).where(OutboxEmail.to == erased.email)).all() == []
    assert _audit("user.send_password_reset", person) is None and _audit("user.reactivate", person) is None


def test_only_admins_manage_accounts(client, post_form, make_user, login_as):
    person = make_user()
    login_as(Role.STAFF)
    assert post_form(f"/admin/users/{person.id}/deactivate").status_code == 403
    assert find_user_by_email(person.email).deactivated_at is None
