from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Regexp

from consult.accounts.services import MIN_PASSWORD_LENGTH
from consult.forms import NoDirectionControls, name_as_kept, strip_whitespace
from consult.widgets import GovCheckboxInput, GovTextInput

_new_password_rules = [
    InputRequired(message="Enter a password"),
    Length(min=MIN_PASSWORD_LENGTH, max=200,
           message=f"Password must be between {MIN_PASSWORD_LENGTH} and 200 characters"),
    # Spaces are allowed in a password (a passphrase has them), but ten spaces are no secret.
    Regexp(r"(?s).*\S", message="Password must have characters other than spaces"),
]


def email_address_field(description: str | None = None) -> EmailField:
    """An email address a message will be sent to: required, at most 254 characters, well formed."""
    return EmailField(
        "Email address",
        description=description,
        widget=GovTextInput(),
        # Sign-in forgives a space copied in with the address; so must every form that takes one.
        filters=[strip_whitespace],
        validators=[InputRequired(message="Enter your email address"),
                    Length(max=254, message="Email address must be 254 characters or fewer"),
                    Email(message="Enter an email address in the correct format, like name@example.com",
                          check_deliverability=False)],
    )


def new_password_fields(label: str, field: str) -> tuple[PasswordField, PasswordField]:
    """A new password and its confirmation, with the same rules wherever a password is chosen.

    `field` is the new password's own field name, which the confirmation must equal.
    """
    password = PasswordField(label, description=f"Use at least {MIN_PASSWORD_LENGTH} characters",
                             widget=GovPasswordInput(), validators=_new_password_rules)
    noun = label[0].lower() + label[1:]
    confirm = PasswordField(f"Confirm {noun.removeprefix('create a ')}", widget=GovPasswordInput(),
                            validators=[InputRequired(message=f"Confirm your {noun.removeprefix('create a ')}"),
                                        EqualTo(field, message="Passwords must match")])
    return password, confirm


class RegisterForm(FlaskForm):
    name = StringField(
        "Full name",
        widget=GovTextInput(),
        filters=[name_as_kept],
        # Checked after the filter: a name of spaces or invisible characters is no name.
        validators=[DataRequired(message="Enter your full name"),
                    Length(max=120, message="Full name must be 120 characters or fewer"),
                    NoDirectionControls("Full name")],
    )
    email = email_address_field()
    password, confirm = new_password_fields("Create a password", "password")
    submit = SubmitField("Create account", widget=GovSubmitInput())


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter your email address"),
                    Length(max=254, message="Email address must be 254 characters or fewer")],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your password"), Length(max=200)],
    )
    remember = BooleanField("Keep me signed in on this device", widget=GovCheckboxInput())
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your current password"), Length(max=200)],
    )
    new_password, confirm = new_password_fields("New password", "new_password")
    submit = SubmitField("Change password", widget=GovSubmitInput())
