"""Forms of the suggestion and campaign pages."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError
from wtforms.widgets import HiddenInput

from consult.analysis.campaign_review import CAMPAIGN_NAME_MAX
from consult.forms import StoredIntegerField, strip_whitespace
from consult.widgets import GovSelect, GovTextArea, GovTextInput

DECISIONS = [SelectChoice("accept", "Accept"), SelectChoice("reject", "Reject")]


def options(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class BulkDecisionForm(FlaskForm):
    """Accept or reject every suggestion of one theme at or above a confidence."""

    theme = SelectField("Theme", widget=GovSelect(), validators=[InputRequired("Choose a theme")],
                        invalid_choice_message="Choose a theme from the list")
    confidence = StringField("Lowest confidence, as a percentage", widget=GovTextInput(), default="80",
                             validators=[InputRequired("Enter a confidence between 0 and 100")])
    decision = SelectField("Decision", choices=DECISIONS, widget=GovSelect(),
                           invalid_choice_message="Choose a decision from the list")
    submit = SubmitField("Decide these suggestions", widget=GovSubmitInput())


class BulkDecisionCheckForm(FlaskForm):
    """The check page's confirm: the choices made on the suggestions page, and how many suggestions the
    check page said they take (`seen`), so that a confirm acts on that many or on none."""

    theme = HiddenField()
    confidence = HiddenField()
    decision = HiddenField()
    seen = HiddenField()
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class TopicThemeForm(FlaskForm):
    """Turn a possible new topic into a theme."""

    name = StringField("Theme name", widget=GovTextInput(), validators=[InputRequired("Enter a name for the theme")])
    description = TextAreaField("Description", widget=GovTextArea())
    submit = SubmitField("Create this theme", widget=GovSubmitInput())


def _version():
    return StoredIntegerField(widget=HiddenInput(), validators=[InputRequired()])


class CampaignNameForm(FlaskForm):
    """Name a campaign, as of the version the person saw."""

    name = StringField("Campaign name", widget=GovTextInput(), filters=[strip_whitespace],
                       description="For example, the organisation that ran it or what it asks for. "
                                   "Leave blank to remove the name.",
                       validators=[Length(max=CAMPAIGN_NAME_MAX,
                                          message=f"The name must be {CAMPAIGN_NAME_MAX} characters or fewer")])
    version = _version()
    submit = SubmitField("Save the name", widget=GovSubmitInput())


class CampaignVersionForm(FlaskForm):
    """A button that changes the campaign (detach a member), as of the version the person saw."""

    version = _version()


class CampaignMergeForm(FlaskForm):
    """Merge another campaign into this one."""

    other = SelectField("Campaign to merge into this one", widget=GovSelect(), validate_choice=False,
                        validators=[InputRequired("Select the campaign to merge into this one")])
    version = _version()
    submit = SubmitField("Merge into this campaign", widget=GovSubmitInput())

    def validate_other(self, field):
        if not (field.data or "").isdigit() or int(field.data) > 2**31 - 1:
            raise ValidationError("Select the campaign to merge into this one")


class CampaignSplitForm(FlaskForm):
    """Move the selected members into a new campaign."""

    selected = SelectMultipleField("Comments to move", choices=[], validate_choice=False)
    name = StringField("Name of the new campaign (optional)", widget=GovTextInput(), filters=[strip_whitespace],
                       validators=[Length(max=CAMPAIGN_NAME_MAX,
                                          message=f"The name must be {CAMPAIGN_NAME_MAX} characters or fewer")])
    version = _version()
    submit = SubmitField("Move the selected comments to a new campaign", widget=GovSubmitInput())

    def validate_selected(self, field):
        if not field.data:
            raise ValidationError("Select the comments to move into a new campaign")
        if not all(value.isdigit() and int(value) <= 2**31 - 1 for value in field.data):
            raise ValidationError("Select the comments to move from the list")

    @property
    def comment_ids(self) -> list[int]:
        return [int(value) for value in self.selected.data]
