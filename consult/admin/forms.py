
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import HiddenField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, ValidationError

from consult.accounts.models import Role
from consult.admin.services import ROLE_DESCRIPTIONS, ROLE_LABELS
from consult.forms import YES, UKDateField, strip_whitespace
from consult.widgets import GovRadioInput, GovTextInput


class NoControlCharacters:
    """Refuses control characters (NUL among them), which PostgreSQL cannot compare with text."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if any(ord(character) < 32 or ord(character) == 127 for character in field.data or ""):
            raise ValidationError(self.message)


class ChangeRoleForm(FlaskForm):
    """Choose a user's new role; sent again with `confirmed` once the admin has read what changes."""

    role = RadioField(
        "New role",
        choices=[SelectChoice(role.value, ROLE_LABELS[role]) for role in Role],
        widget=GovRadioInput(),
        # Checked below with a message an admin can act on, rather than WTForms' "Not a valid choice".
        validate_choice=False,
        validators=[InputRequired(message="Select a new role"),
                    AnyOf([role.value for role in Role], message="Select one of the roles in the list")],
    )
    confirmed = HiddenField()
    # The role the check page showed as "Now": a change confirmed from an older page is checked again.
    from_role = HiddenField()
    submit = SubmitField("Continue", widget=GovSubmitInput())

    @property
    def new_role(self) -> Role:
        return Role(self.role.data)

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed.data == YES


class ConfirmRoleForm(FlaskForm):
    """The confirmation step: the chosen role travels back, hidden, with `confirmed`; ChangeRoleForm reads it."""

    role = HiddenField()
    confirmed = HiddenField()
    from_role = HiddenField()


def role_hints() -> list[dict]:
    """The hint under each radio: what that role may do."""
    return [{"hint": {"text": ROLE_DESCRIPTIONS[role]}} for role in Role]


def _text_rules(name: str, longest: int) -> list:
    return [Length(max=longest, message=f"{name} must be {longest} characters or fewer"),
            NoControlCharacters(f"{name} must only include letters, numbers and symbols")]


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("Search by email address or name", widget=GovTextInput(), filters=[strip_whitespace],
                    validators=_text_rules("Search", 254))
    submit = SubmitField("Search", widget=GovSubmitInput())


class AuditFilterForm(FlaskForm):
    """Filters for the audit trail page and its CSV export, read from the query string."""

    class Meta:
        csrf = False  # a GET filter changes nothing, and its URL can be shared

    actor = StringField("Done by (email address)", widget=GovTextInput(), filters=[strip_whitespace],
                        validators=_text_rules("Email address", 254))
    action = StringField("Action", description="For example, user.change_role", widget=GovTextInput(),
                         filters=[strip_whitespace], validators=_text_rules("Action", 80))
    object_type = StringField("Object type", description="For example, users or comments", widget=GovTextInput(),
                              filters=[strip_whitespace], validators=_text_rules("Object type", 40))
    object_id = StringField("Object id", widget=GovTextInput(), filters=[strip_whitespace],
                            validators=_text_rules("Object id", 40))
    since = UKDateField("Date from")
    until = UKDateField("Date to")
    submit = SubmitField("Apply filters", widget=GovSubmitInput())

    def validate_object_id(self, field):
        if (field.data or "").strip() and not (self.object_type.data or "").strip():
            raise ValidationError("Enter the object type as well as the object id")

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("Date to must be the same as or after date from")
