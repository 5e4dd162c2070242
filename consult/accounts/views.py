from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    has_request_context,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from consult.access import public, signed_in
from consult.accounts import password_checks, services, throttling
from consult.accounts.forms import ChangePasswordForm, RegisterForm, SignInForm
from consult.accounts.models import Role
from consult.accounts.password_slots import TooManyPasswordChecks, password_check_slot
from consult.database import utcnow
from consult.errors import form_errors
from consult.accounts.recovery_services import send_verification_email
from consult.extensions import db
from consult.forms import EmptyForm
from consult.limits import registrations_per_address, sign_in_attempts_per_address
from consult.web import current_path, kept_through_sign_in, safe_next_url

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _start_session(user, remember: bool) -> None:
    # A fresh session at sign-in: nothing from before (including the CSRF
    # token) survives into the signed-in session.
    session.clear()
    # Flask-WTF caches this request's token, made from the session just cleared: a page drawn after
    # sign-in in the same request (what was kept, to send again) needs one from the new session.
    g.pop("csrf_token", None)
    login_user(user, remember=remember)


# Where each role starts when sign-in was not on the way to somewhere else.
_LANDING = {
    Role.STAFF: "moderation.dashboard",  # the staff workspace
    Role.COMMITTEE: "moderation.dashboard",  # the consultations they are assigned to
    Role.ADMIN: "admin.users",
}


def _after_sign_in():
    landing = url_for(_LANDING.get(current_user.role, "consultations.index"))
    return redirect(safe_next_url(request.args.get("next")) or landing)


@bp.app_context_processor
def sign_in_links() -> dict:
    """`return_to` for the header's sign-in and register links: the page to come back to afterwards.

    On the account pages that is the page the person was already on the way
    to, so that "Create an account" from the sign-in page keeps it.
    """
    if not has_request_context():
        return {"return_to": None}
    if request.blueprint == bp.name:
        return {"return_to": safe_next_url(request.args.get("next"))}
    return {"return_to": safe_next_url(current_path()) if request.method == "GET" else None}


def trust_this_device(response, email: str):
    """Mark this browser as one the account has signed in from (see consult.accounts.throttling)."""
    if throttling.trusted_device(request.cookies.get(throttling.DEVICE_COOKIE), email) is None:
        response.set_cookie(
            throttling.DEVICE_COOKIE, throttling.new_device_cookie(email),
            max_age=throttling.DEVICE_COOKIE_MAX_AGE, path=bp.url_prefix,
            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax")
    return response


def _sign_in_refused(refused: throttling.TooManySignInAttempts):
    seconds = max(int((refused.retry_at - utcnow()).total_seconds()), 1)
    page = render_template("accounts/sign_in_throttled.html", retry_at=refused.retry_at)
    return page, 429, {"Retry-After": str(seconds)}


@bp.route("/register", methods=["GET", "POST"])
@public
@registrations_per_address
def register():
    if current_user.is_authenticated:
        return _after_sign_in()
    form = RegisterForm()
    status = 200
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            user = services.sign_up(form.email.data, form.name.data, form.password.data)
            send_verification_email(user)
        if outcome.ok:
            db.session.commit()
            _start_session(user, remember=False)
            flash(f"Your account has been created. We have sent a link to {user.email}: open it to confirm "
                  "your address before you submit a response.", "success")
            return trust_this_device(_after_sign_in(), user.email)
        status = outcome.status
    return render_template("accounts/register.html", form=form,
                           next=safe_next_url(request.args.get("next"))), status


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@sign_in_attempts_per_address
def sign_in():
    if current_user.is_authenticated:
        return _after_sign_in()
    form = SignInForm()
    if form.validate_on_submit():
        try:
            with password_check_slot():
                user = _check_sign_in(form)
        except throttling.TooManySignInAttempts as refused:
            db.session.rollback()
            return _sign_in_refused(refused)
        except TooManyPasswordChecks as busy:
            form.email.errors.append(busy.message)
            return _sign_in_page(form, busy.status)
        if user is None:
            form.email.errors.append("Enter a correct email address and password")
        else:
            _start_session(user, remember=form.remember.data)
            return trust_this_device(_after_sign_in_with_what_was_kept(), user.email)
    return _sign_in_page(form)


def _after_sign_in_with_what_was_kept():
    """Where a sign-in lands: what the person sent while signed out, offered to send again, if they were."""
    kept, action = kept_through_sign_in(request.form)
    if not (kept and action):
        return _after_sign_in()
    return make_response(render_template("accounts/send_again.html", kept=kept, kept_action=action,
                                          next=safe_next_url(request.args.get("next"))))


def _check_sign_in(form: SignInForm):
    """Count the attempt, then check the password: the user, or None for a wrong one."""
    email = form.email.data
    device = throttling.trusted_device(request.cookies.get(throttling.DEVICE_COOKIE), email)
    attempt = throttling.count_sign_in_attempt(email, device, utcnow())
    # Committed before the password is checked, so that the attempt
    # counts on every worker even if this request goes no further.
    db.session.commit()
    user = services.authenticate(email, form.password.data)
    if user is not None:
        throttling.give_back_sign_in_attempt(attempt)
        db.session.commit()
    return user


def _sign_in_page(form: SignInForm, status: int = 200):
    # A sign-in that failed keeps carrying what the person sent while signed out, for the next attempt.
    kept, action = kept_through_sign_in(request.form) if request.method == "POST" else ([], None)
    return render_template("accounts/sign_in.html", form=form, next=safe_next_url(request.args.get("next")),
                           kept=kept if action else [], kept_action=action), status


def _end_sessions() -> None:
    # Clearing this browser's cookies is not enough: a copy of the session or
    # remember-me cookie would still sign in, until the token it carries changes.
    if current_user.is_authenticated:
        services.end_all_sessions(current_user._get_current_object())
        db.session.commit()
    logout_user()
    session.clear()


@bp.route("/sign-out", methods=["POST"])
@public
def sign_out():
    form = EmptyForm()
    if form.validate_on_submit():
        _end_sessions()
        # One token per account, so signing out here ends the others too; say so.
        flash("You have signed out. Any other devices signed in to your account have been signed out too.",
              "success")
    return redirect(url_for("consultations.index"))


@bp.post("/sign-out-everywhere")
@signed_in
def sign_out_everywhere():
    form = EmptyForm()
    if form.validate_on_submit():
        _end_sessions()
        flash("You have been signed out on every device, including this one.", "success")
        return redirect(url_for("accounts.sign_in"))
    return redirect(url_for("accounts.change_password"))


@bp.route("/password", methods=["GET", "POST"])
@signed_in
def change_password():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            attempt = password_checks.count_password_check(current_user.email, "current_password")
            services.change_password(current_user, form.current_password.data, form.new_password.data)
            throttling.give_back_sign_in_attempt(attempt)
        status = outcome.status
        if outcome.ok:
            db.session.commit()
            # The session token changed, so renew this device's login with it.
            _start_session(current_user._get_current_object(), remember=False)
            flash("Your password has been changed. Other devices have been signed out.", "success")
            return redirect(url_for("consultations.index"))
    return render_template("accounts/change_password.html", form=form), status
