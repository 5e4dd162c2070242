"""Form pieces shared by every domain."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField


class EmptyForm(FlaskForm):
    """A POST-only button (delete, confirm) that still carries a CSRF token."""

    submit = SubmitField("Continue", widget=GovSubmitInput())
