"""Forms of the committee review: the publication check (its numbers travel with it) and theme summaries."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput
from wtforms import SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange
from wtforms.widgets import HiddenInput

from consult.exports.publication import PublicationCounts
from consult.exports.review import THEME_SUMMARY_MAX
from consult.forms import StoredIntegerField


def _seen(label: str) -> StoredIntegerField:
    return StoredIntegerField(label, widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=0)])


class PublicationCheckForm(FlaskForm):
    """Confirming a publication or withdrawal: the counts shown on the check page, as they were shown."""

    public = _seen("Comments that will be public")
    no_agreed_response = _seen("Without an agreed response")
    redacted = _seen("Redacted")
    named_individuals = _seen("Individuals named")
    answers_waiting = _seen("Answers waiting for moderation")
    comments_waiting = _seen("Comments waiting for a triage decision")

    def fill(self, counts: PublicationCounts) -> None:
        for name, value in counts.as_dict().items():
            self[name].data = value
            self[name].raw_data = [str(value)]

    def seen(self) -> PublicationCounts:
        return PublicationCounts(**{name: self[name].data for name in PublicationCounts.FIELDS})


class ThemeSummaryForm(FlaskForm):
    """The committee summary of one theme, as of the version the person opened."""

    summary = TextAreaField(
        "Summary for the committee",
        description="What the comments with this theme say, in a few sentences. It appears on the themed review, "
                    "in the comments by theme workbook and in the Word table grouped by theme. Leave it empty "
                    "for no summary.",
        widget=GovCharacterCount(),
        validators=[Length(max=THEME_SUMMARY_MAX,
                           message=f"The summary must be {THEME_SUMMARY_MAX:,} characters or fewer")])
    version = StoredIntegerField(widget=HiddenInput(), validators=[InputRequired()])
    submit = SubmitField("Save summary", widget=GovSubmitInput())
