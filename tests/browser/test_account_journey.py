"""A new account's journey in a real browser, with its email read from a real SMTP server.

Register → read the verification email → confirm the address → forget the
password → read the reset email → choose a new one → sign in with it. The
live server's worker is the real RQ worker, run in the test after each
email is queued, sending to an aiosmtpd server the test started.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, check_accessibility, sign_out, unique
from tests.mail.helpers import redis_or_skip, run_worker, smtp_server

pytestmark = pytest.mark.browser

NEW_PASSWORD = "an entirely new passphrase"


@pytest.fixture
def live_mail(live_server):
    """The live server's email goes to a real SMTP server, through a queue of this test's own."""
    app = live_server.app
    redis_or_skip(app)
    saved_queue = app.config["QUEUE_NAME"]
    app.config["QUEUE_NAME"] = f"{saved_queue}-{unique('journey-')}"
    try:
        with smtp_server(app) as inbox:
            yield inbox
    finally:
        app.config["QUEUE_NAME"] = saved_queue


def test_register_confirm_forget_reset_and_sign_in(page, live_server, live_mail, screenshot):
    email = f"{unique('account-').lower()}@example.org"
    main = page.get_by_role("main")

    # Register.
    page.goto("/account/register")
    page.get_by_label("Full name").fill("Robin Newcomer")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text(f"We have sent a link to {email}")
    screenshot(page, "registered")

    # Read the verification email and follow its link.
    run_worker(live_server.app)
    message = live_mail.only(email)
    assert message.subject == "Confirm your email address"
    page.goto(live_mail.link_in(message, "/account/verify-email?token="))
    expect(page.get_by_role("alert")).to_contain_text(f"Your email address {email} has been confirmed")
    screenshot(page, "confirmed")
    sign_out(page)

    # Forget the password: the link is on the sign-in page.
    page.goto("/account/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    check_accessibility(page, "forgot-password")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(main).to_contain_text(f"If {email} is the address of an account")
    screenshot(page, "check-your-email")

    # Read the reset email and choose a new password.
    run_worker(live_server.app)
    reset = [m for m in live_mail.to(email) if m.subject == "Reset your password"]
    assert len(reset) == 1
    reset_link = live_mail.link_in(reset[0], "/account/reset-password?token=")
    page.goto(reset_link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    check_accessibility(page, "reset-password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    screenshot(page, "choose-new-password")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_role("alert")).to_contain_text("Your password has been changed")

    # The old password no longer works; the new one does.
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(main).to_contain_text("Enter a correct email address and password")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").wait_for()
    screenshot(page, "signed-in")

    # The reset link worked once.
    page.goto(reset_link)
    expect(main).to_contain_text("This link has already been used")
