"""The one error path: a broken rule reaches a person as a clear page or a field message, never a 500."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField

from consult import create_app
from consult.access import public
from consult.errors import DomainError, attach_error, form_errors
from tests.conftest import make_test_config


class ClosedForBusiness(DomainError):
    message = "This consultation closed at 5pm on 9 December 2026."
    status = 409


def test_an_escaped_domain_error_is_a_page_with_its_own_status_and_sentence():
    app = create_app(make_test_config("sqlite://"))

    @app.get("/raises")
    @public
    def raises():
        raise ClosedForBusiness()

    response = app.test_client().get("/raises")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This consultation closed at 5pm on 9 December 2026." in page
    assert "Traceback" not in page


def test_a_one_off_domain_error_carries_its_message_field_and_status():
    error = DomainError("Choose a theme", field="theme", status=422)
    assert (str(error), error.field, error.status) == ("Choose a theme", "theme", 422)
    assert DomainError().status == 400 and str(DomainError()) == DomainError.message


class _Form(FlaskForm):
    class Meta:
        csrf = False

    version = HiddenField()
    name = StringField("Name")
    reason = StringField("Reason")


def test_an_error_lands_beside_its_field_or_the_first_answer_field(app):
    with app.test_request_context():
        form = _Form()
        attach_error(form, DomainError("Give a reason", field="why"), fields={"why": "reason"})
        attach_error(form, DomainError("Something else went wrong"))
        assert form.reason.errors == ["Give a reason"]
        assert form.name.errors == ["Something else went wrong"]
        assert not form.version.errors


def test_form_errors_rolls_back_and_reports_the_status(app):
    with app.test_request_context():
        form = _Form()
        with form_errors(form) as outcome:
            raise ClosedForBusiness(field="name")
        assert not outcome.ok and outcome.status == 409
        assert form.name.errors == [ClosedForBusiness.message]
        with form_errors(form) as fine:
            pass
        assert fine.ok and fine.status == 200
