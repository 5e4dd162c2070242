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
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from consult.comments.models import IndividualType, OrganisationType, ParticipantKind
from consult.forms import NO, YES_NO, strip_whitespace


def _choices(enum_class) -> list[SelectChoice]:
    return [SelectChoice(member.value, member.label) for member in enum_class]


def _one_of(choices: list[SelectChoice], message: str) -> dict:
    """A radio question's rule: one of its options, or the question's own message (never "Not a valid choice")."""
    return {"validate_choice": False,
            "validators": [InputRequired(message=message), AnyOf([c.value for c in choices], message=message)]}


# "How are you taking part?" is asked one question a page; each form is one page.
# Every field's name is the key its answer is kept under until the person confirms.

class TakingPartForm(FlaskForm):
    kind = RadioField(
        "How are you taking part in this consultation?",
        choices=_choices(ParticipantKind),
        widget=GovRadioInput(),
        **_one_of(_choices(ParticipantKind), "Select how you are taking part in this consultation"),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class DescribeYouForm(FlaskForm):
    individual_type = RadioField(
        "Which best describes you?",
        choices=_choices(IndividualType),
        widget=GovRadioInput(),
        **_one_of(_choices(IndividualType), "Select which best describes you"),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class OrganisationForm(FlaskForm):
    organisation_name = StringField(
        "Organisation name",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[DataRequired(message="Enter the name of the organisation"),
                    Length(max=200, message="Organisation name must be 200 characters or fewer")],
    )
    organisation_type = RadioField(
        "Type of organisation",
        choices=_choices(OrganisationType),
        widget=GovRadioInput(),
        **_one_of(_choices(OrganisationType), "Select the type of organisation"),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class TobaccoLinksForm(FlaskForm):
    has_tobacco_links = RadioField(
        "Do you, or the organisation you represent, have any links with, or funding from, the tobacco industry?",
        choices=YES_NO,
        widget=GovRadioInput(),
        **_one_of(YES_NO, "Select yes if you have links with, or funding from, the tobacco industry"),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class TobaccoDetailsForm(FlaskForm):
    tobacco_details = TextAreaField(
        "Give details of the links or funding",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[DataRequired(message="Give details of the links with, or funding from, the tobacco industry"),
                    Length(max=2000, message="Details must be 2,000 characters or fewer")],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class OtherInterestsForm(FlaskForm):
    other_interests = TextAreaField(
        "Do you have any other interests to declare? (optional)",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[Length(max=2000, message="Other interests must be 2,000 characters or fewer")],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class PublishNameForm(FlaskForm):
    publish_name = RadioField(
        "Can we publish your name with your comments?",
        choices=YES_NO,
        default=NO,
        widget=GovRadioInput(),
        **_one_of(YES_NO, "Select yes if we can publish your name with your comments"),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


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

