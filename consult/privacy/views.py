"""People's own data: the privacy notice, "Your data" and its downloads, and deleting an account."""

from flask import Blueprint, Response, current_app, redirect, render_template, session, url_for
from flask_login import current_user, logout_user, user_logged_in

from consult.access import public, roles, signed_in
from consult.accounts import throttling
from consult.accounts.models import Role
from consult.accounts.password_checks import count_password_check
from consult.database import utcnow
from consult.errors import form_errors
from consult.downloads import XLSX, file_download
from consult.extensions import db
from consult.privacy import services
from consult.privacy.forms import DeleteAccountForm

bp = Blueprint("privacy", __name__)

_DELETED_KEY = "account_deleted"


@bp.route("/privacy")
@public
def notice():
    return render_template("privacy/notice.html", retention_years=current_app.config["ACCOUNT_RETENTION_YEARS"])


@bp.route("/account/your-data")
@signed_in
def your_data():
    participations, comments = services.count_your_data(current_user)
    return render_template("privacy/your_data.html", participations=participations, comments=comments,
                           can_delete=services.can_delete_own_account(current_user),
                           cannot_delete=services.AccountCannotBeDeleted.message)


def _filename(extension: str) -> str:
    return f"your-data-{utcnow():%Y-%m-%d}.{extension}"


@bp.route("/account/your-data.json")
@signed_in
def download_json():
    data = services.collect_your_data(current_user)
    return Response(services.your_data_json(data), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{_filename("json")}"',
                             "Cache-Control": "no-store"})


@bp.route("/account/your-data.xlsx")
@signed_in
def download_workbook():
    data = services.collect_your_data(current_user)
    return file_download(lambda handle: services.write_your_data_workbook(data, handle), _filename("xlsx"), XLSX)


# Staff, committee and admin accounts are part of the record of who did what; "Your data" tells them
# to ask an admin to change their role first (see services.can_delete_own_account).
@bp.route("/account/delete", methods=["GET", "POST"])
@roles(Role.STAKEHOLDER)
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            # Wrong passwords count with the account's failed sign-ins, on every worker (see count_password_check).
            attempt = count_password_check(current_user.email, "password")
            services.delete_own_account(current_user._get_current_object(), form.password.data, utcnow())
            throttling.give_back_sign_in_attempt(attempt)
        if outcome.ok:
            db.session.commit()
            logout_user()
            session.clear()
            session[_DELETED_KEY] = True
            return redirect(url_for("privacy.account_deleted"))
        return render_template("privacy/delete_account.html", form=form), outcome.status
    return render_template("privacy/delete_account.html", form=form)


@bp.route("/account/deleted")
@public
def account_deleted():
    # Shown once, to the browser that deleted the account; anyone else is sent home.
    if not session.pop(_DELETED_KEY, False):
        return redirect(url_for("consultations.index"))
    return render_template("privacy/deleted.html")


@user_logged_in.connect
def _note_sign_in(app, user, **_extra) -> None:
    """Every sign-in (the sign-in page, registration, a password change) records its time.

    The sign-in page has nothing else to commit, and registration and a
    password change have committed their own work before they sign the
    person in, so this one-row write commits on its own. A remember-me
    cookie is not counted: it lasts a year, well inside the retention period,
    so an account in use is always signed in to again in time.
    """
    services.record_sign_in(user, utcnow())
    db.session.commit()
