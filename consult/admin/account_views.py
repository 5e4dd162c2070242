"""Admin buttons on a user's page: deactivate, reactivate, send a password reset link.

They register on the admin blueprint; each is a POST with a CSRF token, and
each change is recorded in the audit trail by the service.
"""

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from consult.access import admin
from consult.accounts.models import User
from consult.admin import account_services
from consult.admin.views import bp
from consult.errors import DomainError
from consult.extensions import db
from consult.forms import EmptyForm


def _act(user_id: int, action, done: str):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        action(user, current_user._get_current_object())
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "info")
    else:
        db.session.commit()
        flash(done.format(name=user.name, email=user.email), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/deactivate")
@admin
def deactivate_user(user_id: int):
    return _act(user_id, account_services.deactivate_user,
                "{name}’s account is deactivated. They have been signed out everywhere and cannot sign in.")


@bp.post("/users/<int:user_id>/reactivate")
@admin
def reactivate_user(user_id: int):
    return _act(user_id, account_services.reactivate_user, "{name}’s account is active again.")


@bp.post("/users/<int:user_id>/password-reset")
@admin
def send_password_reset(user_id: int):
    return _act(user_id, account_services.send_reset_link,
                "A password reset link has been sent to {email}. It works once, for 1 hour.")
