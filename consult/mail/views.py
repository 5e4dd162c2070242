"""Admin pages for email that could not be sent, and (in development only) the local catcher's mailbox.

An email that failed every attempt stays in the outbox as failed; admins
see it here with the last error and can put it back in the queue, which
the audit trail records.
"""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from consult.access import admin, public
from consult.errors import DomainError
from consult.extensions import db
from consult.mail import catcher, services
from consult.mail.forms import RetryEmailForm
from consult.web import query_page

bp = Blueprint("mail", __name__, url_prefix="/admin/mail")


@bp.get("/failed")
@admin
def failed():
    pagination = db.paginate(services.failed_emails_query(), page=query_page(), per_page=services.FAILED_PER_PAGE,
                             error_out=False, count=True)
    return render_template("mail/failed.html", pagination=pagination, form=RetryEmailForm(formdata=None))


@bp.post("/retry")
@admin
def retry():
    form = RetryEmailForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        email = services.retry_email(int(form.email_id.data), current_user._get_current_object())
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "info")
    else:
        db.session.commit()
        flash(f"The email “{email.subject}” to {email.to} is back in the queue.", "success")
    return redirect(url_for("mail.failed"))


# Registered by create_app only when the app runs in development.
dev_bp = Blueprint("dev_mail", __name__, url_prefix="/dev/mail")


@dev_bp.get("/")
@public
def inbox():
    if current_app.config["ENV_NAME"] != "development":
        abort(404)
    messages = catcher.read_mailbox(current_app.config["MAIL_CATCHER_DIRECTORY"])
    chosen = request.args.get("message", "")
    shown = next((message for message in messages if message.name == chosen), messages[0] if messages else None)
    return render_template("mail/dev_inbox.html", messages=messages, shown=shown,
                           directory=current_app.config["MAIL_CATCHER_DIRECTORY"])
