from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput
from wtforms import HiddenField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, ValidationError

from consult.comments.models import IndividualType, OrganisationType, ParticipantKind
from consult.comments.services import InvalidComment, clean_quote
from consult.forms import NO, YES_NO, NoDirectionControls, name_as_kept, strip_whitespace
from consult.web import LARGEST_ID
from consult.widgets import GovRadioInput, GovTextArea, GovTextInput


def _choices(enum_class) -> list[SelectChoice]:
    return [SelectChoice(member.value, member.label) for member in enum_class]


def _one_of(label: str, choices: list[SelectChoice], message: str, **kwargs) -> RadioField:
    """A radio question that takes one of its own options, or says the question's own message.

    Never WTForms' "Not a valid choice": a missing or unknown answer gets the
    message a person can act on.
    """
    return RadioField(label, choices=choices, widget=GovRadioInput(), validate_choice=False,
                      validators=[InputRequired(message=message), AnyOf([c.value for c in choices], message=message)],
                      **kwargs)


# "How are you taking part?" is asked one question a page; each form is one page.
# Every field's name is the key its answer is kept under until the person confirms.

class _QuestionPage(FlaskForm):
    """One page of "How are you taking part?": its question, then Continue."""

    submit = SubmitField("Continue", widget=GovSubmitInput())


class TakingPartForm(_QuestionPage):
    kind = _one_of("How are you taking part in this consultation?", _choices(ParticipantKind),
                   "Select how you are taking part in this consultation")


class DescribeYouForm(_QuestionPage):
    individual_type = _one_of("Which best describes you?", _choices(IndividualType),
                              "Select which best describes you")


class OrganisationForm(_QuestionPage):
    organisation_name = StringField(
        "Organisation name",
        widget=GovTextInput(),
        filters=[name_as_kept],
        validators=[DataRequired(message="Enter the name of the organisation"),
                    Length(max=200, message="Organisation name must be 200 characters or fewer"),
                    NoDirectionControls("Organisation name")],
    )
    organisation_type = _one_of("Type of organisation", _choices(OrganisationType), "Select the type of organisation")


class TobaccoLinksForm(_QuestionPage):
    has_tobacco_links = _one_of(
        "Do you, or the organisation you represent, have any links with, or funding from, the tobacco industry?",
        YES_NO, "Select yes if you have links with, or funding from, the tobacco industry")


class TobaccoDetailsForm(_QuestionPage):
    tobacco_details = TextAreaField(
        "Give details of the links or funding",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[DataRequired(message="Give details of the links with, or funding from, the tobacco industry"),
                    Length(max=2000, message="Details must be 2,000 characters or fewer")],
    )


class OtherInterestsForm(_QuestionPage):
    other_interests = TextAreaField(
        "Do you have any other interests to declare? (optional)",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[Length(max=2000, message="Other interests must be 2,000 characters or fewer")],
    )


class PublishNameForm(_QuestionPage):
    publish_name = _one_of("Can we publish your name with your comments?", YES_NO,
                           "Select yes if we can publish your name with your comments", default=NO)


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

    def __init__(self, *args, section=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.section = section

    def validate_quote(self, field) -> None:
        """Checked beside the comment itself, so that a missing comment and a quote not in the section are
        both shown at once; saving checks it again."""
        try:
            clean_quote(field.data, self.section)
        except InvalidComment as error:
            raise ValidationError(error.message) from None


class EditCommentForm(CommentForm):
    """A draft's new words, with the version of the draft the page showed, so that a save from a page
    opened before another tab's save is caught rather than silently undoing it (DraftChangedElsewhere)."""

    version = HiddenField()

    def seen_version(self) -> int | None:
        """The version the page showed; None if the page sent none (then nothing is compared).

        A version that is not one the page could have shown (text, a sign, a number beyond any version) is
        taken as out of date, -1, so the save is checked like a stale one and shown again with the words kept,
        never saved unchecked.
        """
        seen = str(self.version.data or "").strip()
        if not seen:
            return None
        return int(seen) if seen.isdigit() and int(seen) <= LARGEST_ID else -1
