"""The development mailbox: the local catcher keeps what arrives, and /dev/mail shows it, in development only."""

import smtplib
from email.message import EmailMessage

from consult import create_app
from consult.extensions import db
from consult.mail import catcher
from tests.conftest import make_test_config
from tests.mail.helpers import free_port, wait_for


def _send(port: int, subject: str, body: str) -> None:
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, "service@example.org", "new.user@example.org"
    message.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.send_message(message)


def test_the_catcher_keeps_mail_that_dev_mail_shows_with_its_links(tmp_path):
    port = free_port()
    controller = catcher.start(tmp_path, port=port)
    try:
        _send(port, "Confirm your email address", "Open http://127.0.0.1:5000/account/verify-email?token=abc\n")
        wait_for(lambda: catcher.read_mailbox(tmp_path))
    finally:
        controller.stop()
    [kept] = catcher.read_mailbox(tmp_path)
    assert kept.subject == "Confirm your email address" and kept.to == "new.user@example.org"

    app = create_app(make_test_config("sqlite://", ENV_NAME="development", MAIL_CATCHER_DIRECTORY=str(tmp_path)))
    page = app.test_client().get("/dev/mail/").get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()
    assert "Confirm your email address" in page
    assert 'href="http://127.0.0.1:5000/account/verify-email?token=abc"' in page


def test_there_is_no_dev_mail_page_outside_development(client):
    assert client.get("/dev/mail/").status_code == 404
