from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import HiddenField, SubmitField
from wtforms.validators import InputRequired, Regexp


class RetryEmailForm(FlaskForm):
    """The retry button beside one failed email; the id travels in the form, not the URL."""

    email_id = HiddenField(validators=[InputRequired(), Regexp(r"^\d{1,9}$")])
    submit = SubmitField("Retry", widget=GovSubmitInput())
