"""Forms of the suggestion pages."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

DECISIONS = [SelectChoice("accept", "Accept"), SelectChoice("reject", "Reject")]


def options(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class BulkDecisionForm(FlaskForm):
    """Accept or reject every suggestion of one theme at or above a confidence."""

    theme = SelectField("Theme", widget=GovSelect(), validators=[InputRequired("Choose a theme")])
    confidence = StringField("Lowest confidence, as a percentage", widget=GovTextInput(), default="80",
                             validators=[InputRequired("Enter a confidence between 0 and 100")])
    decision = SelectField("Decision", choices=DECISIONS, widget=GovSelect())
    submit = SubmitField("Decide these suggestions", widget=GovSubmitInput())


class TopicThemeForm(FlaskForm):
    """Turn a possible new topic into a theme."""

    name = StringField("Theme name", widget=GovTextInput(), validators=[InputRequired("Enter a name for the theme")])
    description = TextAreaField("Description", widget=GovTextArea())
    submit = SubmitField("Create this theme", widget=GovSubmitInput())
