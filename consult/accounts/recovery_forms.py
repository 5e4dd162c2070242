from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import Email, EqualTo, InputRequired, Length

from consult.accounts.forms import _new_password_rules
from consult.accounts.services import MIN_PASSWORD_LENGTH


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email address",
        description="We will send a link to reset your password if this address has an account.",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter your email address"),
                    Length(max=254, message="Email address must be 254 characters or fewer"),
                    Email(message="Enter an email address in the correct format, like name@example.com",
                          check_deliverability=False)],
    )
    submit = SubmitField("Send the link", widget=GovSubmitInput())


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(
        "New password",
        description=f"Use at least {MIN_PASSWORD_LENGTH} characters",
        widget=GovPasswordInput(),
        validators=_new_password_rules,
    )
    confirm = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Confirm your new password"),
                    EqualTo("new_password", message="Passwords must match")],
    )
    submit = SubmitField("Set new password", widget=GovSubmitInput())
