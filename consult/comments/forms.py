from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from consult.comments.models import IndividualType, OrganisationType, ParticipantKind
from consult.forms import NO, YES, YES_NO



def _choices(enum_class) -> list[SelectChoice]:
    return [SelectChoice(member.value, member.label) for member in enum_class]


class ParticipationForm(FlaskForm):
    """'How are you taking part in this consultation?' with its declarations."""

    kind = RadioField(
        "How are you taking part in this consultation?",
        choices=_choices(ParticipantKind),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select how you are taking part in this consultation")],
    )
    individual_type = RadioField(
        "Which best describes you?",
        choices=_choices(IndividualType),
        widget=GovRadioInput(),
        validators=[Optional()],
    )
    organisation_name = StringField(
        "Organisation name",
        widget=GovTextInput(),
        validators=[Length(max=200, message="Organisation name must be 200 characters or fewer")],
    )
    organisation_type = RadioField(
        "Type of organisation",
        choices=_choices(OrganisationType),
        widget=GovRadioInput(),
        validators=[Optional()],
    )
    has_tobacco_links = RadioField(
        "Do you, or the organisation you represent, have any links with, or funding from, the tobacco industry?",
        choices=YES_NO,
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select yes if you have links with, or funding from, the tobacco industry")],
    )
    tobacco_details = TextAreaField(
        "Give details of the links or funding",
        widget=GovTextArea(),
        validators=[Length(max=2000, message="Details must be 2,000 characters or fewer")],
    )
    other_interests = TextAreaField(
        "Do you have any other interests to declare? (optional)",
        description="For example, payments from companies that make or sell the technology",
        widget=GovTextArea(),
        validators=[Length(max=2000, message="Other interests must be 2,000 characters or fewer")],
    )
    publish_name = RadioField(
        "Can we publish your name with your comments?",
        description="If you answer no, your comments are published without your name",
        choices=YES_NO,
        default=NO,
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select yes if we can publish your name with your comments")],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.kind.data == ParticipantKind.INDIVIDUAL.value and not self.individual_type.data:
            self.individual_type.errors.append("Select which best describes you")
            valid = False
        if self.kind.data == ParticipantKind.ORGANISATION.value:
            if not (self.organisation_name.data or "").strip():
                self.organisation_name.errors.append("Enter the name of the organisation")
                valid = False
            if not self.organisation_type.data:
                self.organisation_type.errors.append("Select the type of organisation")
                valid = False
        if self.has_tobacco_links.data == YES and not (self.tobacco_details.data or "").strip():
            self.tobacco_details.errors.append("Give details of the links with, or funding from, the tobacco industry")
            valid = False
        return valid


class CommentForm(FlaskForm):
    body = TextAreaField(
        "Your comment",
        widget=GovCharacterCount(),
        # The length limit is the service's rule; it reports the count itself.
        validators=[InputRequired(message="Enter your comment")],
    )
    quote = TextAreaField(
        "Quoted passage (optional)",
        description="Copy the words you are commenting on from the section. "
                    "If you select text in the section first, it is filled in for you.",
        widget=GovTextArea(),
    )
    submit = SubmitField("Save draft comment", widget=GovSubmitInput())

