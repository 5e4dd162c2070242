from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput
from wtforms import HiddenField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired

from consult.forms import NO, YES, YES_NO, strip_whitespace
from consult.moderation.forms import ChosenReason, note_field, reason_field, version_field
from consult.moderation.services import REDACTION_REASONS
from consult.moderation.states import RejectionReason
from consult.questions.models import QuestionKind
from consult.widgets import GovRadioInput, GovTextInput

WHOLE_CONSULTATION = "all"


class QuestionForm(FlaskForm):
    """A question as staff write it: what kind, its words, and what it is about."""

    kind = RadioField(
        "What kind of question is it?",
        choices=[SelectChoice(kind.value, kind.label) for kind in QuestionKind],
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select what kind of question it is")],
        invalid_choice_message="Select what kind of question it is",
    )
    text = TextAreaField(
        "Question",
        widget=GovCharacterCount(),
        filters=[strip_whitespace],
        # The length limit is the service's rule; it reports the count itself.
        validators=[InputRequired(message="Enter the question")],
    )
    document = RadioField(
        "What is the question about?",
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select what the question is about")],
        invalid_choice_message="Select what the question is about",
    )
    submit = SubmitField("Save question", widget=GovSubmitInput())

    def offer_documents(self, documents) -> None:
        self.document.choices = [SelectChoice(WHOLE_CONSULTATION, "The whole consultation")] + [
            SelectChoice(str(document.id), document.title) for document in documents]

    def document_id(self) -> int | None:
        return None if self.document.data == WHOLE_CONSULTATION else int(self.document.data)


class MoveQuestionForm(FlaskForm):
    """A move-up or move-down button; the direction travels in a hidden field."""

    direction = HiddenField()
    submit = SubmitField("Move", widget=GovSubmitInput())


class ReuseQuestionForm(FlaskForm):
    """'Add this question' beside a question in the bank; which one travels in a hidden field."""

    source_id = HiddenField()
    submit = SubmitField("Add", widget=GovSubmitInput())


class DeclarationForm(FlaskForm):
    """Switch a declaration on or off; which way travels in a hidden field."""

    on = HiddenField()
    submit = SubmitField("Save", widget=GovSubmitInput())


class BankSearchForm(FlaskForm):
    """Search the bank by the words of a question; a GET form, so it carries no CSRF token."""

    class Meta:
        csrf = False

    q = StringField("Search questions asked in other consultations", widget=GovTextInput(),
                    filters=[strip_whitespace])


class AnswerForm(FlaskForm):
    """An answer to one question. A yes/no question keeps both fields; an open question only the text."""

    yes_no = RadioField(choices=YES_NO, widget=GovRadioInput(), validate_choice=False,
                        validators=[InputRequired(message="Select yes or no"),
                                    AnyOf([YES, NO], message="Select yes or no")])
    text = TextAreaField(
        "Your answer",
        widget=GovCharacterCount(),
        # Required or not, and how long, are the service's rules; it words the messages.
    )
    submit = SubmitField("Save answer", widget=GovSubmitInput())

    def shape_for(self, question) -> None:
        if question.is_yes_no:
            self.yes_no.label.text = question.text
            self.text.label.text = "Further information (optional)"
        else:
            del self.yes_no
            self.text.label.text = question.text
            self.text.validators = [InputRequired(message="Enter your answer")]


# --- Staff: moderating answers ---------------------------------------------------------------

class RedactAnswerForm(ChosenReason, FlaskForm):
    reason = reason_field("Why are you redacting this answer?", REDACTION_REASONS)
    redacted_text = TextAreaField(
        "Redacted answer",
        description="Edit the answer to remove what must not be published. This copy is published and shown in "
                    "every export instead of the original, which only admins can see.",
        widget=GovCharacterCount())
    note = note_field("Required if you choose ‘Other’.")
    version = version_field()
    submit = SubmitField("Save redaction", widget=GovSubmitInput())


class WithholdAnswerForm(ChosenReason, FlaskForm):
    reason = reason_field("Why are you withholding this answer from publication?", RejectionReason)
    note = note_field("Required if you choose ‘Other’. Staff and the committee can read it.")
    version = version_field()
    submit = SubmitField("Withhold answer", widget=GovSubmitInput())


