from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from consult.comments.models import OrganisationType
from consult.forms import YES_NO, NoDirectionControls, ShowsWhatItActsOn, name_as_kept, strip_whitespace
from consult.widgets import GovRadioInput, GovSelect, GovTextArea, GovTextInput


class LeadForm(FlaskForm):
    """An admin names the organisation an account is the commenting lead of."""

    name = StringField(
        "Organisation name",
        description="If the organisation is already on record, use the same name: the account joins its leads.",
        widget=GovTextInput(),
        filters=[name_as_kept],
        validators=[InputRequired(message="Enter the name of the organisation"),
                    Length(max=200, message="The organisation’s name must be 200 characters or fewer"),
                    NoDirectionControls("Organisation name")],
    )
    type = RadioField(
        "Type of organisation",
        choices=[SelectChoice(t.value, t.label) for t in OrganisationType],
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select the type of organisation")],
        invalid_choice_message="Select the type of organisation",
    )
    submit = SubmitField("Make commenting lead", widget=GovSubmitInput())


class CodeForm(FlaskForm):
    code = StringField(
        "Organisation code",
        description="The 12-digit code your organisation’s commenting lead gave you, like 1234 5678 9012",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[InputRequired(message="Enter your organisation’s code"),
                    Length(max=40, message="Enter the 12-digit code your organisation’s commenting lead gave you, "
                                          "like 1234 5678 9012")],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class DeclarationForm(ShowsWhatItActsOn, FlaskForm):
    """The lead's declaration for the organisation, asked at submission; "on behalf of" is already fixed.
    The page carries what the response held when shown, so a colleague's later send is seen first."""

    has_tobacco_links = RadioField(
        "Does your organisation have any links with, or funding from, the tobacco industry?",
        description="Current or past, direct or indirect links, including funding",
        choices=YES_NO,
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select yes if your organisation has links with the tobacco industry")],
        invalid_choice_message="Select yes if your organisation has links with the tobacco industry",
    )
    tobacco_details = TextAreaField(
        "Give details of the links or funding",
        widget=GovTextArea(),
        validators=[Length(max=2000, message="Details must be 2,000 characters or fewer")],
    )
    submit = SubmitField("Submit your organisation’s response", widget=GovSubmitInput())


class ColleagueFilterForm(FlaskForm):
    class Meta:
        csrf = False

    colleague = SelectField("Show comments from", widget=GovSelect(), validate_choice=False)
    submit = SubmitField("Show", widget=GovSubmitInput())
