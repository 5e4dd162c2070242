from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput
from wtforms import PasswordField, SubmitField
from wtforms.validators import InputRequired, Length


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        "Enter your password to confirm",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your password to confirm that you want to delete your account"),
                    Length(max=200)],
    )
    submit = SubmitField("Delete your account", widget=GovSubmitInput())
