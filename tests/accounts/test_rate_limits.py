"""Sign-in throttling and comment-write limits: a clear 429, never a 500."""

import pytest

from consult.extensions import limiter
from tests.conftest import PASSWORD, sections_of


@pytest.fixture
def limits(app, monkeypatch):
    """Lower a limit for one test; the counters start empty and are cleared after."""
    limiter.reset()

    def set_limit(name: str, value: str) -> None:
        monkeypatch.setitem(app.config, name, value)

    yield set_limit
    limiter.reset()


def _sign_in(post_form, email: str, password: str):
    return post_form("/account/sign-in", {"email": email, "password": password})


def test_failed_sign_ins_for_one_account_are_limited(limits, make_user, post_form):
    limits("FAILED_SIGN_INS_PER_ACCOUNT", "3 per hour")
    user = make_user()
    for _ in range(3):
        assert _sign_in(post_form, user.email, "wrong password").status_code == 200
    refused = _sign_in(post_form, user.email.upper(), PASSWORD)  # case does not dodge the limit
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts for this account" in refused.get_data(as_text=True)


def test_successful_sign_ins_do_not_count_as_failures(limits, make_user, post_form, client):
    limits("FAILED_SIGN_INS_PER_ACCOUNT", "2 per hour")
    user = make_user()
    for _ in range(4):
        assert _sign_in(post_form, user.email, PASSWORD).status_code == 302
        client.post("/account/sign-out", data={"csrf_token": _token(client)})
    assert _sign_in(post_form, user.email, "wrong").status_code == 200


def _token(client) -> str:
    from tests.conftest import csrf_token_from

    return csrf_token_from(client.get("/consultations/").get_data(as_text=True))


def test_one_address_is_limited_across_accounts(limits, post_form):
    limits("SIGN_IN_ATTEMPTS_PER_ADDRESS", "5 per hour")
    statuses = [_sign_in(post_form, f"nobody{i}@example.org", "guess").status_code for i in range(6)]
    assert statuses == [200] * 5 + [429]


def test_comment_writes_are_limited_per_user_and_keep_what_was_saved(
        limits, login_as, make_consultation, make_participation, post_form, client):
    limits("COMMENT_WRITES_PER_USER", "2 per minute")
    consultation = make_consultation()
    user = login_as()
    make_participation(user, consultation)
    section = sections_of(consultation)["1.1"]
    url = f"/consultations/{consultation.reference}/sections/{section.id}/comment"
    statuses = [post_form(url, {"body": f"Comment {i}"}).status_code for i in range(3)]
    assert statuses == [302, 302, 429]
    review = client.get(f"/consultations/{consultation.reference}/response").get_data(as_text=True)
    assert "Comment 0" in review and "Comment 1" in review
