"""Failed sign-ins counted in the database, per account and per trusted device (OWASP device cookies)."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from consult.accounts import throttling
from consult.accounts.models import SignInFailureCount
from consult.extensions import db
from tests.conftest import PASSWORD, csrf_token_from

NOW = datetime(2026, 12, 4, 11, 20, tzinfo=timezone.utc)


@pytest.fixture
def limit(app, monkeypatch):
    def set_limit(value: str) -> None:
        monkeypatch.setitem(app.config, "FAILED_SIGN_INS_PER_ACCOUNT", value)

    return set_limit


def stored_attempts() -> int:
    return db.session.scalar(select(func.coalesce(func.sum(SignInFailureCount.attempts), 0)))


# --- The service ---------------------------------------------------------------

def refused(email: str, now: datetime) -> throttling.TooManySignInAttempts:
    """An attempt that must be refused, rolled back as the sign-in page rolls it back."""
    with pytest.raises(throttling.TooManySignInAttempts) as error:
        with db.session.begin_nested():
            throttling.count_sign_in_attempt(email, None, now)
    return error.value


def test_attempts_past_the_limit_are_refused_until_a_full_window_has_passed(app_context, limit):
    limit("3 per hour")
    for _ in range(3):
        throttling.count_sign_in_attempt("Owner@Example.org", None, NOW)
    refusal = refused("owner@example.org ", NOW)  # case and spaces do not dodge it
    assert refusal.status == 429
    # 11:20 is in the 11:00 window; it is full, so the 12:00 window, which counts it too, is closed as well.
    assert refusal.retry_at == datetime(2026, 12, 4, 13, 0, tzinfo=timezone.utc)
    refused("owner@example.org", NOW + timedelta(hours=1))
    throttling.count_sign_in_attempt("owner@example.org", None, refusal.retry_at)


def test_a_burst_either_side_of_a_windows_end_stays_within_the_limit(app_context, limit):
    limit("3 per hour")
    for _ in range(2):
        throttling.count_sign_in_attempt("owner@example.org", None, datetime(2026, 12, 4, 11, 59, tzinfo=timezone.utc))
    at_noon = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
    throttling.count_sign_in_attempt("owner@example.org", None, at_noon)
    # Three checks in a minute: a fourth would be one too many within the hour, whichever clock hour it is in.
    refusal = refused("owner@example.org", at_noon + timedelta(minutes=1))
    assert refusal.retry_at == datetime(2026, 12, 4, 13, 0, tzinfo=timezone.utc)
    assert stored_attempts() == 3
    for _ in range(2):
        throttling.count_sign_in_attempt("owner@example.org", None, refusal.retry_at)


def test_the_table_holds_no_email_address(app_context):
    throttling.count_sign_in_attempt("private@example.org", None, NOW)
    [row] = db.session.scalars(select(SignInFailureCount))
    assert "private" not in row.bucket and len(row.bucket) == 64


def test_a_trusted_device_counts_in_a_bucket_of_its_own(app_context, limit):
    limit("2 per hour")
    device = throttling.trusted_device(throttling.new_device_cookie("owner@example.org"), "owner@example.org")
    assert device
    for _ in range(2):
        throttling.count_sign_in_attempt("owner@example.org", None, NOW)
    with pytest.raises(throttling.TooManySignInAttempts):
        throttling.count_sign_in_attempt("owner@example.org", None, NOW)
    throttling.count_sign_in_attempt("owner@example.org", device, NOW)


def test_a_correct_password_gives_its_attempt_back(app_context, limit):
    limit("1 per hour")
    attempt = throttling.count_sign_in_attempt("owner@example.org", None, NOW)
    throttling.give_back_sign_in_attempt(attempt)
    throttling.count_sign_in_attempt("owner@example.org", None, NOW)
    assert stored_attempts() == 1


def test_windows_older_than_the_one_before_are_cleared_as_new_ones_start(app_context):
    throttling.count_sign_in_attempt("tried.once@example.org", None, NOW - timedelta(hours=5))
    for hours_ago in (3, 1, 0):
        throttling.count_sign_in_attempt("owner@example.org", None, NOW - timedelta(hours=hours_ago))
    windows = db.session.scalars(select(SignInFailureCount.window_start).order_by(SignInFailureCount.window_start))
    assert [start.hour for start in windows] == [10, 11]


@pytest.mark.parametrize("cookie", [
    None, "", "not-signed", "forged.value.here",
    "other-account",  # a valid cookie, for someone else
])
def test_only_a_valid_cookie_for_the_same_account_is_trusted(app_context, cookie):
    if cookie == "other-account":
        cookie = throttling.new_device_cookie("someone.else@example.org")
    assert throttling.trusted_device(cookie, "owner@example.org") is None


# --- The sign-in page ----------------------------------------------------------

def attempt(client, email: str, password: str):
    token = csrf_token_from(client.get("/account/sign-in").get_data(as_text=True))
    return client.post("/account/sign-in", data={"csrf_token": token, "email": email, "password": password})


def sign_out(client) -> None:
    token = csrf_token_from(client.get("/consultations/").get_data(as_text=True))
    client.post("/account/sign-out", data={"csrf_token": token})


def test_signing_in_marks_the_browser_as_a_trusted_device(client, make_user):
    user = make_user()
    response = attempt(client, user.email, PASSWORD)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("consult_device="))
    assert "HttpOnly" in header and "Path=/account" in header and "SameSite=Lax" in header
    assert throttling.trusted_device(client.get_cookie("consult_device", path="/account").value, user.email)


def test_the_device_cookie_does_not_carry_the_address(app, client, make_user):
    user = make_user(email="shared.computer@example.org")
    attempt(client, user.email, PASSWORD)
    with app.app_context():
        # What anyone at that computer could read: the cookie's signed (not encrypted) payload.
        data = throttling._serializer().loads(client.get_cookie("consult_device", path="/account").value)
    assert "shared.computer" not in str(data) and "example.org" not in str(data)


def test_failures_from_elsewhere_do_not_lock_the_owner_out_of_their_own_browser(app, client, make_user, limit):
    limit("5 per hour")
    owner = make_user()
    assert attempt(client, owner.email, PASSWORD).status_code == 302  # the owner's browser, once
    sign_out(client)

    attacker = app.test_client()
    statuses = [attempt(attacker, owner.email, "guess number %d" % i).status_code for i in range(8)]
    assert statuses == [200] * 5 + [429] * 3
    refused = attempt(attacker, owner.email, PASSWORD)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 2 * 3600  # the full window, and the one after it
    page = refused.get_data(as_text=True)
    assert "Too many failed sign-in attempts for this account" in page
    assert "cannot be signed in to from this browser until" in page

    assert attempt(client, owner.email, PASSWORD).status_code == 302


def test_a_new_browser_with_the_right_password_is_still_refused_while_locked(app, make_user, limit):
    limit("2 per hour")
    owner = make_user()
    attacker = app.test_client()
    for _ in range(2):
        attempt(attacker, owner.email, "a wrong guess")
    assert attempt(app.test_client(), owner.email, PASSWORD).status_code == 429


def test_a_trusted_device_is_itself_limited(app, client, make_user, limit):
    limit("2 per hour")
    owner = make_user()
    attempt(client, owner.email, PASSWORD)
    sign_out(client)
    statuses = [attempt(client, owner.email, "wrong").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_a_device_cookie_for_another_account_is_not_trusted(app, client, make_user, limit):
    limit("1 per hour")
    owner, other = make_user(), make_user()
    attempt(client, other.email, PASSWORD)
    sign_out(client)
    attempt(app.test_client(), owner.email, "wrong")
    assert attempt(client, owner.email, PASSWORD).status_code == 429


def test_registering_marks_the_browser_as_a_trusted_device(client, post_form):
    response = post_form("/account/register", {"name": "New Person", "email": "new@example.org",
                                               "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302
    assert throttling.trusted_device(client.get_cookie("consult_device", path="/account").value, "new@example.org")


def test_unknown_emails_are_limited_as_real_ones_are(client, limit):
    limit("2 per hour")
    statuses = [attempt(client, "nobody@example.org", "guess").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


# --- Password checks of a signed-in person -------------------------------------

def confirm_password(client, path: str, password: str):
    """Change the password (/account/password) or delete the account (/account/delete) with `password`."""
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    field = "current_password" if path == "/account/password" else "password"
    data = {"csrf_token": token, field: password, "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase"}
    return client.post(path, data=data)


@pytest.mark.parametrize("path", ["/account/password", "/account/delete"])
def test_a_stolen_session_cannot_guess_the_password_and_the_owner_still_can_act(app, client, make_user, limit,
                                                                                 path):
    limit("3 per hour")
    owner = make_user()
    assert attempt(client, owner.email, PASSWORD).status_code == 302  # the owner's browser
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)  # the session cookie, not the device cookie

    statuses = [confirm_password(thief, path, f"guess {number}").status_code for number in range(5)]
    assert statuses == [400, 400, 400, 429, 429]
    refused = confirm_password(thief, path, PASSWORD)
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "govuk-error-summary" in page and "Too many wrong passwords for this account. Try again after" in page
    assert stored_attempts() == 3  # counted in the database, where every worker sees them
    # Sign-in from another browser shares the account's count, so the thief cannot start again there.
    assert attempt(app.test_client(), owner.email, PASSWORD).status_code == 429

    # The owner's own browser has a bucket of its own.
    assert confirm_password(client, path, PASSWORD).status_code == 302


def test_a_correct_current_password_is_not_counted(client, make_user, limit):
    limit("1 per hour")
    owner = make_user()
    attempt(client, owner.email, PASSWORD)
    assert confirm_password(client, "/account/password", PASSWORD).status_code == 302
    assert stored_attempts() == 0


def test_an_owner_locked_out_of_a_new_browser_gets_back_in_by_a_reset_link(app, client, make_user, limit):
    from consult.accounts import recovery_services

    limit("3 per hour")
    owner = make_user()
    attacker = app.test_client()
    for number in range(3):
        attempt(attacker, owner.email, f"guess {number}")
    locked = attempt(client, owner.email, PASSWORD)  # the owner, on a browser never signed in before
    assert locked.status_code == 429
    assert 'href="/account/forgot-password"' in locked.get_data(as_text=True)

    link = f"/account/reset-password?token={recovery_services.reset_token(owner)}"
    token = csrf_token_from(client.get(link).get_data(as_text=True))
    reset = client.post(link, data={"csrf_token": token, "new_password": "a new passphrase for me",
                                    "confirm": "a new passphrase for me"})
    assert reset.status_code == 302
    assert attempt(client, owner.email, "a new passphrase for me").status_code == 302
    assert attempt(app.test_client(), owner.email, "a new passphrase for me").status_code == 429  # others still wait
