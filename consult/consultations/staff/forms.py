"""Forms for the staff pages that build consultations.

Dates are entered as GOV.UK date inputs plus a time, in UK time; the form turns them into aware
datetimes, and the service decides whether they make sense together.
"""

import re
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSubmitInput
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp, ValidationError
from wtforms.widgets import HiddenInput

from consult.consultations.importing import INTRODUCTION_TITLE, MAX_UPLOAD_LABEL, ParsedDocument
from consult.consultations.models import DEFAULT_LATE_GRACE_SECONDS, MAX_LATE_GRACE_SECONDS, Consultation
from consult.forms import StoredIntegerField, UKDateField, strip_whitespace
from consult.text import quantity
from consult.widgets import GovCheckboxesInput, GovCheckboxInput, GovRadioInput, GovTextArea, GovTextInput

NEW_DOCUMENT = "new"
DEFAULT_OPENING_TIME = "9am"
DEFAULT_CLOSING_TIME = "5pm"

_TIME = re.compile(r"(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<suffix>am|pm|a\.m\.|p\.m\.)?")
_WORD_TIMES = {"midday": time(12, 0), "noon": time(12, 0), "midnight": time(0, 0)}


def parse_time(text: str) -> time | None:
    """'5pm', '5:30pm', '17:30', '9.15am', 'midday' as a time; None if it is not one."""
    cleaned = " ".join((text or "").lower().split())
    if cleaned in _WORD_TIMES:
        return _WORD_TIMES[cleaned]
    match = _TIME.fullmatch(cleaned)
    if match is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    suffix = (match["suffix"] or "").replace(".", "")
    if minute > 59:
        return None
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    elif hour > 23 or match["minute"] is None:
        return None  # "17" alone is ambiguous; ask for 17:00 or 5pm
    return time(hour, minute)


def format_time(value: time) -> str:
    """A time as people write it: 9am, 5:30pm, midday."""
    if value == time(12, 0):
        return "midday"
    if value == time(0, 0):
        return "midnight"
    hour = value.hour % 12 or 12
    minutes = f":{value.minute:02d}" if value.minute else ""
    return f"{hour}{minutes}{'am' if value.hour < 12 else 'pm'}"


class WholeNumberField(StoredIntegerField):
    """An IntegerField whose message for text that is not a number is the one its InputRequired gives."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            required = next((v for v in self.validators if isinstance(v, InputRequired)), None)
            raise ValueError(required.message if required else "Enter a whole number") from None


class TimeField(StringField):
    def __init__(self, label: str, noun: str, **kwargs):
        kwargs.setdefault("widget", GovTextInput())
        super().__init__(label, **kwargs)
        self.noun = noun

    def pre_validate(self, form):
        if not (self.data or "").strip():
            raise ValidationError(f"Enter the {self.noun}")
        if parse_time(self.data) is None:
            raise ValidationError(f"Enter the {self.noun} as a real time, for example 5pm or 17:00")


class ConsultationForm(FlaskForm):
    reference = StringField(
        "Reference",
        description="Letters and numbers, for example HTE1001. It appears in web addresses and comment numbers.",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            DataRequired(message="Enter a reference"),
            Length(max=20, message="Reference must be 20 characters or fewer"),
            Regexp(r"^[A-Za-z0-9][A-Za-z0-9-]*$",
                   message="Reference must contain only letters, numbers and hyphens"),
        ],
    )
    title = StringField(
        "Title",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[DataRequired(message="Enter a title"),
                    Length(max=300, message="Title must be 300 characters or fewer")],
    )
    summary = TextAreaField(
        "Summary (optional)",
        description="Shown on the consultation page under the title.",
        widget=GovTextArea(),
        validators=[Length(max=5000, message="Summary must be 5,000 characters or fewer")],
    )
    opens_on = UKDateField("Opening date", subject="The opening date", required="Enter the opening date",
                           example="27 3 2027", description="For example, 27 3 2027")
    opens_time = TimeField("Opening time", "opening time", description="UK time, for example 9am or 09:00",
                           default=DEFAULT_OPENING_TIME)
    closes_on = UKDateField("Closing date", subject="The closing date", required="Enter the closing date",
                           example="27 3 2027", description="For example, 24 4 2027")
    closes_time = TimeField("Closing time", "closing time", description="UK time, for example 5pm or 17:00",
                            default=DEFAULT_CLOSING_TIME)
    late_grace_seconds = WholeNumberField(
        "Late arrivals taken for (seconds after closing)",
        description=("A response sent before the closing time can reach the service a little after it when many "
                     "people submit at once. Responses that arrive within this many seconds are accepted; pages "
                     f"still say the consultation has closed. From 0 to {MAX_LATE_GRACE_SECONDS}."),
        default=DEFAULT_LATE_GRACE_SECONDS,
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter how many seconds late arrivals are taken for, for example 15"),
                    NumberRange(min=0, max=MAX_LATE_GRACE_SECONDS,
                                message=f"Late arrivals must be taken for between 0 and {MAX_LATE_GRACE_SECONDS} "
                                        "seconds")],
    )
    is_draft = BooleanField("Hold as draft: not visible to the public", widget=GovCheckboxInput())
    version = HiddenField()
    digest = HiddenField()
    submit = SubmitField("Save consultation", widget=GovSubmitInput())

    def times(self, zone: ZoneInfo, saved: Consultation | None = None) -> tuple[datetime, datetime] | None:
        """Opening and closing as aware UTC datetimes, or None with the field errors set.

        A UK time that does not exist (the hour skipped when the clocks go
        forward) is refused rather than silently moved. With the `saved`
        consultation the form was filled from, a time left as the form showed
        it keeps its saved value: the form shows minutes, so a saved time with
        seconds is not changed by an edit of something else.
        """
        opens = self._moment(self.opens_on, self.opens_time, zone)
        closes = self._moment(self.closes_on, self.closes_time, zone)
        if opens is None or closes is None:
            return None
        if saved is not None:
            opens, closes = _as_saved(opens, saved.opens_at), _as_saved(closes, saved.closes_at)
        return opens, closes

    @staticmethod
    def _moment(day_field: UKDateField, time_field: TimeField, zone: ZoneInfo) -> datetime | None:
        local = datetime.combine(day_field.data, parse_time(time_field.data), tzinfo=zone)
        moment = local.astimezone(timezone.utc)
        if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
            time_field.errors = [f"The {time_field.noun} does not exist on that day because the clocks go "
                                 "forward; choose a different time"]
            return None
        return moment

    def fill_from(self, consultation, zone: ZoneInfo) -> None:
        """Show the stored UTC times back in UK time."""
        opens, closes = consultation.opens_at.astimezone(zone), consultation.closes_at.astimezone(zone)
        self.reference.data = consultation.reference
        self.title.data = consultation.title
        self.summary.data = consultation.summary
        self.opens_on.data, self.opens_time.data = opens.date(), format_time(opens.time())
        self.closes_on.data, self.closes_time.data = closes.date(), format_time(closes.time())
        self.late_grace_seconds.data = consultation.late_grace_seconds
        self.is_draft.data = consultation.is_draft


def _as_saved(entered: datetime, saved: datetime) -> datetime:
    return saved if entered == saved.replace(second=0, microsecond=0) else entered


class UploadDraftForm(FlaskForm):
    draft = FileField(
        "Upload a file",
        description=f"A Word document (.docx), plain text (.txt) or Markdown (.md), smaller than {MAX_UPLOAD_LABEL}",
        widget=GovFileInput(),
        validators=[FileRequired(message="Select a file to import")],
    )
    # Browsers always send the checked radio; a missing answer means the default.
    target = RadioField("Where should the draft go?", widget=GovRadioInput(), default=NEW_DOCUMENT,
                        invalid_choice_message="Choose where the draft should go: a new document, or one of the "
                                               "documents listed")
    submit = SubmitField("Upload and preview", widget=GovSubmitInput())

    def offer_documents(self, documents) -> None:
        """Offer to replace an existing document; with none, the question is not asked."""
        if not documents:
            del self.target
            return
        self.target.choices = [(NEW_DOCUMENT, "Add it as a new document")] + [
            (str(document.id), f"Replace “{document.title}”") for document in documents
        ]

    def replace_document_id(self) -> int | None:
        if "target" not in self or self.target.data in (None, NEW_DOCUMENT):
            return None
        return int(self.target.data)


class ConfirmImportForm(FlaskForm):
    """Confirm a previewed import, choosing which left-out blocks to keep as an introduction.

    The choices are the staged draft's includable skipped blocks, and the hint says what choosing
    them does; the view sets both with ``offer_skipped``. A tampered value that is not among the
    choices is refused by the field.
    """

    token = HiddenField()
    include = SelectMultipleField(
        "Include any of this as an unnumbered introduction?",
        choices=[],
        widget=GovCheckboxesInput(),
        invalid_choice_message="Choose from the left-out text shown on this page",
    )
    submit = SubmitField("Import this draft", widget=GovSubmitInput())

    def offer_skipped(self, parsed: ParsedDocument) -> None:
        """Offer the draft's includable left-out blocks, saying what choosing any of them makes of the draft."""
        self.include.choices = [
            (str(index), _first_words(block.text)) for index, block in enumerate(parsed.skipped) if block.includable
        ]
        # What with_introduction does with the chosen blocks, in the counts the import reports.
        sections = sum(len(chapter.sections) for chapter in parsed.chapters)
        self.include.description = (
            "Select the text commenters need to read. It becomes one unnumbered chapter, "
            f"“{INTRODUCTION_TITLE}”, before the first chapter, so the document has "
            f"{quantity(len(parsed.chapters) + 1, 'chapter')} and {quantity(sections, 'section')}. "
            "What you do not select is left out.")

    @property
    def chosen(self) -> list[int]:
        return [int(value) for value in self.include.data or []]


def _first_words(text: str, count: int = 25) -> str:
    words = text.split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")


class AssignCommitteeMemberForm(FlaskForm):
    email = StringField(
        "Email address of the committee member",
        description="They must already have an account with the committee role",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[DataRequired(message="Enter the email address of a committee member"),
                    Length(max=254, message="Email address must be 254 characters or fewer")],
    )
    submit = SubmitField("Assign to this consultation", widget=GovSubmitInput())


class RemoveCommitteeMemberForm(FlaskForm):
    user_id = StoredIntegerField(widget=HiddenInput(), validators=[InputRequired(message="Choose who to remove")])


class CloseConsultationForm(FlaskForm):
    """The button that closes an open consultation now; it carries only its CSRF token."""

    submit = SubmitField("Close consultation now", widget=GovSubmitInput())
