from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField

from consult.accounts.forms import email_address_field, new_password_fields


class ForgotPasswordForm(FlaskForm):
    email = email_address_field("We will send a link to reset your password if this address has an account.")
    submit = SubmitField("Send the link", widget=GovSubmitInput())


class ResetPasswordForm(FlaskForm):
    new_password, confirm = new_password_fields("New password", "new_password")
    submit = SubmitField("Set new password", widget=GovSubmitInput())
