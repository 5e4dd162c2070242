"""Pages for confirming an email address and resetting a forgotten password.

They register on the accounts blueprint. Links from emails carry their
token in the query string (``?token=``), which the shared route tests can
fill in like any other page.
"""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from consult.access import public, signed_in
from consult.accounts import recovery_services
from consult.accounts.recovery_forms import ForgotPasswordForm, ResetPasswordForm
from consult.accounts.services import normalise_email
from consult.accounts.views import bp, trust_this_device
from consult.errors import form_errors
from consult.extensions import db, limiter
from consult.forms import EmptyForm

_SENT_TO = "password_reset_sent_to"


def _setting(name: str):
    return lambda: current_app.config[name]


def _signed_in_user() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else f"address:{request.remote_addr}"


def _reset_address() -> str:
    return "reset:" + normalise_email(request.form.get("email", ""))


verification_emails_per_user = limiter.limit(
    _setting("VERIFICATION_EMAILS_PER_USER"), key_func=_signed_in_user, methods=["POST"], scope="verify-again",
    error_message="You have asked for the link a lot of times. Wait an hour, then check your email again "
                  "(including spam or junk) before asking for another.",
)
password_resets_per_address = limiter.limit(
    _setting("PASSWORD_RESETS_PER_ADDRESS"), methods=["POST"], scope="reset-address",
    error_message="Too many password reset requests from your network. Wait a while and try again.",
)
password_resets_per_account = limiter.limit(
    _setting("PASSWORD_RESETS_PER_ACCOUNT"), key_func=_reset_address, methods=["POST"], scope="reset-account",
    error_message="Too many password reset links have been asked for this email address. Wait an hour and "
                  "check your email (including spam or junk) for the links already sent.",
)


def _link_problem(error, title: str, again_endpoint: str):
    return render_template("accounts/link_problem.html", title=title, message=str(error),
                           again_url=url_for(again_endpoint)), error.status


# --- confirming an email address ---------------------------------------------------


@bp.get("/verify-email")
@public
def verify_email():
    try:
        user, already = recovery_services.verify_email(request.args.get("token", ""))
    except recovery_services.LinkNotValid as error:
        db.session.rollback()
        return _link_problem(error, "Your email address could not be confirmed", "accounts.send_verification")
    db.session.commit()
    flash(_confirmed_message(user, already), "success")
    return redirect(url_for("consultations.index"))


def _confirmed_message(user, already: bool) -> str:
    """What a confirmation link did, said to whoever opened it: the link confirms its own account's address,
    whoever is signed in, so someone signed in to another account is told theirs is unchanged."""
    done = "was already confirmed" if already else "has been confirmed"
    if current_user.is_authenticated and current_user.id != user.id:
        yours = ("" if current_user.email_verified_at else
                 f" To confirm {current_user.email}, open the link we sent to that address.")
        return (f"The email address {user.email} {done}. You are signed in as {current_user.email}, "
                f"which this link does not change.{yours}")
    return f"Your email address {user.email} {done}. You can {'' if already else 'now '}submit a response."


@bp.route("/verify-email/send-again", methods=["GET", "POST"])
@signed_in
@verification_emails_per_user
def send_verification():
    form = EmptyForm()
    form.submit.label.text = "Send the link again"
    if current_user.email_verified:
        return render_template("accounts/send_verification.html", form=form, verified=True)
    if form.validate_on_submit():
        recovery_services.send_verification_email(current_user._get_current_object())
        db.session.commit()
        flash(f"We have sent a new link to {current_user.email}. It can take a few minutes to arrive.", "success")
        return redirect(url_for("accounts.send_verification"))
    return render_template("accounts/send_verification.html", form=form, verified=False)


# --- forgotten password ------------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
@password_resets_per_address
@password_resets_per_account
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        recovery_services.request_password_reset(email)
        db.session.commit()
        session[_SENT_TO] = email
        return redirect(url_for("accounts.password_reset_sent"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.get("/forgot-password/sent")
@public
def password_reset_sent():
    email = session.get(_SENT_TO)
    if not email:
        return redirect(url_for("accounts.forgot_password"))
    return render_template("accounts/password_reset_sent.html", email=email)


@bp.route("/reset-password", methods=["GET", "POST"])
@public
def reset_password():
    token = request.args.get("token", "")
    try:
        recovery_services.user_for_reset(token)
    except recovery_services.LinkNotValid as error:
        return _link_problem(error, "You cannot reset your password with this link", "accounts.forgot_password")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            user = recovery_services.reset_password(token, form.new_password.data)
        if outcome.ok:
            db.session.commit()
            # Whoever was signed in on this browser, the next sign-in uses the new password.
            logout_user()
            session.clear()
            flash("Your password has been changed, and every device signed in to your account has been "
                  "signed out. Sign in with your new password.", "success")
            # The link reached the account's own mailbox, so this browser is the owner's: failed sign-ins
            # from elsewhere must not keep them out of it (see consult.accounts.throttling).
            return trust_this_device(redirect(url_for("accounts.sign_in")), user.email)
        return render_template("accounts/reset_password.html", form=form, token=token), outcome.status
    return render_template("accounts/reset_password.html", form=form, token=token)
