"""Forms of the publication check: the numbers staff saw travel with their confirmation."""

from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange
from wtforms.widgets import HiddenInput

from consult.exports.publication import PublicationCounts


def _seen(label: str) -> IntegerField:
    return IntegerField(label, widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=0)])


class PublicationCheckForm(FlaskForm):
    """Confirming a publication or withdrawal: the counts shown on the check page, as they were shown."""

    public = _seen("Comments that will be public")
    no_agreed_response = _seen("Without an agreed response")
    redacted = _seen("Redacted")
    named_individuals = _seen("Individuals named")

    def fill(self, counts: PublicationCounts) -> None:
        for name, value in counts.as_dict().items():
            self[name].data = value
            self[name].raw_data = [str(value)]

    def seen(self) -> PublicationCounts:
        return PublicationCounts(**{name: self[name].data for name in PublicationCounts.FIELDS})
