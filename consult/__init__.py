"""Public consultation comment service."""

import secrets
import uuid

from flask import Flask, abort, flash, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix

from consult import operations
from consult.config import PROJECT_ROOT, config_from_environment
from consult.extensions import csrf, db, limiter, login_manager, migrate
from consult.web import IdConverter, fields_to_keep


def create_app(config=None) -> Flask:
    """Build the app: settings, extensions, blueprints, CLI, error pages, headers."""
    app = Flask(
        __name__,
        static_folder=str(PROJECT_ROOT / "static"),
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.from_object(config or config_from_environment())
    if app.config["TRUSTED_PROXY_COUNT"]:
        count = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    app.url_map.converters["int"] = IdConverter  # before any route is added
    _configure_templates(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    _register_request_hooks(app)
    _register_error_pages(app)
    operations.init_app(app)
    return app


def _configure_templates(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(str(PROJECT_ROOT / "templates")),
        PrefixLoader({
            "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
            "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
        }),
    ])
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    WTFormsHelpers(app)
    from consult.forms import wtforms_errors

    app.add_template_global(wtforms_errors)  # in place of WTFormsHelpers': links a date to its input
    from consult.web import CARRIED_NOT_TYPED, KEPT_LABELS

    app.add_template_global(CARRIED_NOT_TYPED, "carried_not_typed")
    app.add_template_global(KEPT_LABELS, "kept_labels")
    from consult.text import file_size, quantity
    from consult.uk_time import uk_clock, uk_date, uk_datetime

    app.add_template_filter(uk_datetime, "uk_datetime")
    app.add_template_filter(uk_date, "uk_date")
    app.add_template_filter(uk_clock, "uk_clock")
    app.add_template_filter(quantity, "quantity")
    app.add_template_filter(file_size, "file_size")

    @app.context_processor
    def service_globals() -> dict:
        return {"service_name": app.config["SERVICE_NAME"], "csp_nonce": csp_nonce()}


def _init_extensions(app: Flask) -> None:
    import consult.models  # noqa: F401  every model is mapped before the first query
    from consult.accounts.services import load_user_from_session
    from consult.database import configure_sqlite

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user_from_session)

    @login_manager.unauthorized_handler
    def send_to_sign_in():
        from consult.accounts.forms import SignInForm
        from consult.web import current_path, safe_next_url, wrote_anything

        if request.method == "GET":
            target = current_path()
        else:  # a POST cannot be replayed after sign-in; return to the page it came from
            target = safe_next_url(request.headers.get("Referer", "").partition(request.host)[2] or None)
            kept = fields_to_keep(request.form)
            if wrote_anything(kept):
                # Signed out elsewhere (or the session ended) while writing: what they wrote goes through
                # the sign-in form, and is offered back to send again once they are signed in.
                return render_template("accounts/sign_in.html", form=SignInForm(), next=target, kept=kept,
                                       kept_action=request.path,
                                       action=url_for("accounts.sign_in", next=target)), 401
        flash("Sign in to continue. If you do not have an account, you can create one.", "info")
        return redirect(url_for("accounts.sign_in", next=target))

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)


def _register_blueprints(app: Flask) -> None:
    from consult.accounts.views import bp as accounts_bp
    from consult.analysis.campaign_views import bp as campaigns_bp
    from consult.analysis.views import bp as analysis_bp
    from consult.background.views import bp as background_bp
    from consult.admin.views import bp as admin_bp
    from consult.comments.views import bp as comments_bp
    from consult.consultations.staff.views import bp as staff_consultations_bp
    from consult.consultations.views import bp as consultations_bp
    from consult.exports.views import bp as exports_bp
    from consult.mail.views import bp as mail_bp
    from consult.mail.views import dev_bp as dev_mail_bp
    from consult.moderation.views import bp as moderation_bp
    from consult.organisations.views import bp as organisations_bp
    from consult.privacy.views import bp as privacy_bp
    from consult.questions.staff_views import bp as staff_questions_bp
    from consult.questions.views import bp as questions_bp

    # Routes that live in modules of their own but belong to the accounts and admin blueprints.
    import consult.accounts.recovery  # noqa: F401
    import consult.admin.account_views  # noqa: F401
    import consult.comments.take_part_views  # noqa: F401

    for blueprint in (accounts_bp, consultations_bp, comments_bp, staff_consultations_bp, moderation_bp, admin_bp,
                      exports_bp, mail_bp, privacy_bp, organisations_bp, questions_bp, staff_questions_bp,
                      analysis_bp, campaigns_bp, background_bp):
        app.register_blueprint(blueprint)
    if app.config["ENV_NAME"] == "development":
        app.register_blueprint(dev_mail_bp)


def _register_cli(app: Flask) -> None:
    from consult.accounts.cli import users_cli
    from consult.analysis.cli import analysis_cli
    from consult.comments.cli import comments_cli
    from consult.consultations.cli import consultations_cli
    from consult.demo.cli import demo_cli
    from consult.jobs import worker_command
    from consult.mail.jobs import mail_cli
    from consult.moderation.cli import counters_cli, themes_cli
    from consult.privacy.cli import privacy_cli

    app.cli.add_command(consultations_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(mail_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(privacy_cli)
    app.cli.add_command(comments_cli)
    app.cli.add_command(themes_cli)
    app.cli.add_command(counters_cli)
    app.cli.add_command(analysis_cli)


def csp_nonce() -> str:
    """This request's script nonce, made on first use.

    Lazily, because an error raised by an earlier before-request hook (a
    CSRF failure) still renders a page whose inline script needs it.
    """
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _content_security_policy(nonce: str) -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ])


# Pages whose search forms tell the person which field holds a control character.
_EXPLAIN_NUL_IN_QUERY = frozenset({"admin.users", "admin.audit", "admin.audit_csv"})


def _register_request_hooks(app: Flask) -> None:
    from consult.access import enforce_route_access

    @app.before_request
    def start_request():
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex

    @app.before_request
    def refuse_nul_characters():
        # No URL, query or form field has a use for NUL, and PostgreSQL can
        # neither store nor compare one: refuse it here with a clear 400,
        # for every visitor, rather than fail deep in a query with a 500.
        # Before the access check, so an address with NUL is never sent on
        # to the sign-in page. The admin search pages explain a NUL in their
        # own query strings beside the field it was typed in.
        # Every value of a repeated field, and the field names too: form.values() gives only the first.
        if "\x00" in request.path:
            abort(400)
        if fields := _fields_holding_nul(request.form):
            raise ControlCharacterSent(fields)
        if request.endpoint not in _EXPLAIN_NUL_IN_QUERY and (fields := _fields_holding_nul(request.args)):
            raise ControlCharacterSent(fields, in_address=True)

    app.before_request(enforce_route_access)

    @app.after_request
    def security_headers(response):
        response.headers["Content-Security-Policy"] = _content_security_policy(csp_nonce())
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


# The HTTP errors whose page always says the same: the title, and what the person can do next.
_FIXED_ERROR_PAGES = {
    400: ("Sorry, there is a problem with the request",
          "The page could not understand what was sent. Go back and try again."),
    403: ("You do not have permission to see this page",
          "If you think you should have access, contact the consultation team."),
    404: ("Page not found",
          "If you typed the web address, check it is correct. If you pasted it, check you copied the entire address."),
    405: ("Sorry, that action is not available here",
          "Go back to the page you were on and use the buttons on the page."),
}

_DOMAIN_ERROR_TITLES = {
    403: "You cannot do that",
    404: "Page not found",
    409: "That could not be done",
    429: "Too many attempts",
}


def _fields_holding_nul(values) -> list[str]:
    """The names of the fields whose name or any value holds NUL (a repeated field's later values too)."""
    return list(dict.fromkeys(key.replace("\x00", "") for key, value in values.items(multi=True)
                              if "\x00" in key or "\x00" in value))


class ControlCharacterSent(BadRequest):
    """A form sent with a NUL character, which nothing can store: usually pasted in with text from elsewhere.

    The character cannot be seen, so the page says what it is, which of the form's boxes holds it (where the
    box has a name a person would know), and how to get rid of it; going back keeps what was typed. NUL in a
    search (the query string) gets the same page, worded for a search.
    """

    title = "What you sent contains a character we cannot accept"

    def __init__(self, fields: list[str], in_address: bool = False):
        from consult.web import NAMED_FIELDS

        named = [NAMED_FIELDS[field] for field in fields if field in NAMED_FIELDS]
        where = f" It is in: {', '.join(named)}." if named else ""
        if in_address:
            description = ("What you searched for or filtered by holds an invisible control character (NUL), "
                           f"usually pasted in with text from elsewhere.{where} Nothing was looked up. Go back, "
                           "retype the part you pasted, then search again.")
        else:
            description = ("Something pasted into the form brought an invisible control character (NUL) with "
                           f"it.{where} Nothing has been saved. Go back: what you typed is still in the form. "
                           "Retype the part you pasted, or paste it again as plain text, then send it again.")
        super().__init__(description)


def _register_error_pages(app: Flask) -> None:
    from consult.errors import DomainError
    from consult.forms import EmptyForm

    def page(status: int, title: str, message: str):
        return render_template("errors/error.html", status=status, title=title, message=message), status

    @app.errorhandler(ControlCharacterSent)
    def control_character_sent(error):
        return page(400, error.title, error.description)

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        # Keep what the person typed: offer it back in a fresh form with a new token.
        kept = fields_to_keep(request.form)
        return render_template("errors/csrf.html", kept=kept, action=request.path,
                               form=EmptyForm(), reason=error.description), 400

    def fixed_page(status: int):
        title, message = _FIXED_ERROR_PAGES[status]
        return lambda error: page(status, title, message)

    for status in _FIXED_ERROR_PAGES:
        app.register_error_handler(status, fixed_page(status))

    @app.errorhandler(413)
    def too_large(error):
        from consult.consultations.importing import MAX_UPLOAD_LABEL

        most = f"{app.config['MAX_CONTENT_LENGTH'] // (1024 * 1024)}MB"
        return page(413, "The file or text you sent is too large",
                    f"The service takes at most {most} at once, and a draft to import at most "
                    f"{MAX_UPLOAD_LABEL}. Nothing has been saved. Go back and send something smaller.")

    @app.errorhandler(429)
    def rate_limited(error):
        return page(429, "Too many attempts", error.description)

    @app.errorhandler(DomainError)
    def broken_rule(error: DomainError):
        # A rule a view did not catch: nothing it half-did is kept, and the person reads why.
        db.session.rollback()
        title = _DOMAIN_ERROR_TITLES.get(error.status, "Sorry, that could not be done")
        return page(error.status, title, str(error))

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return page(500, "Sorry, there is a problem with the service",
                    "Try again later. Anything you had already saved is safe.")
