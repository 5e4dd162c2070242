"""Form pieces shared by every domain: the POST-only button, yes/no answers, the GOV.UK date, versioned posts."""

import hashlib
import hmac
import json
import re
from datetime import date

from flask import abort
from flask_wtf import FlaskForm
from govuk_frontend_wtf.main import wtforms_errors as govuk_wtforms_errors
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovSubmitInput
from wtforms import Field, HiddenField, IntegerField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from consult.text import direction_controls_refused, has_direction_controls, tidy_name
from consult.web import LARGEST_ID

YES, NO = "yes", "no"
YES_NO = [SelectChoice(YES, "Yes"), SelectChoice(NO, "No")]


def strip_whitespace(value):
    """A WTForms filter: leading and trailing spaces are never part of an answer."""
    return value.strip() if isinstance(value, str) else value


def name_as_kept(value):
    """A WTForms filter for a name a person types (full name, organisation name): see consult.text.tidy_name."""
    return tidy_name(value) if isinstance(value, str) else value


class NoDirectionControls:
    """Refuses a name holding a character that changes the direction of text (consult.text.DIRECTION_CONTROLS)."""

    def __init__(self, subject: str):
        self.message = direction_controls_refused(subject)

    def __call__(self, form, field):
        if has_direction_controls(field.data or ""):
            raise ValidationError(self.message)


class StoredIntegerField(IntegerField):
    """A whole number a form sends for the database to store or compare (a version, a count, an id).

    Every such column is a 32-bit integer. SQLite compares any size, but PostgreSQL refuses a number beyond
    that range in the middle of the request, which would end in a 500; here it is simply not a valid
    number, and each form's own handling of a garbled number applies (a 400 for a hidden field the page
    filled in, the field's message for one the person typed).
    """

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not -LARGEST_ID - 1 <= self.data <= LARGEST_ID:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))


def valid_versioned_post(form) -> bool:
    """Whether a valid form was posted, for a form that carries the version of the row it changes.

    The version is a hidden field the page filled in, so a POST with it missing or garbled did not come from
    the page as it was sent: that is refused with 400, not shown as a mistake for the person to correct.
    """
    if form.validate_on_submit():
        return True
    if form.version.errors:
        abort(400)
    return False


class EmptyForm(FlaskForm):
    """A POST-only button (delete, confirm) that still carries a CSRF token."""

    submit = SubmitField("Continue", widget=GovSubmitInput())


class ShowsWhatItActsOn:
    """A form that acts only on what its page showed (mixed into a FlaskForm).

    A check page shows answers kept in the session, which every tab and
    window of the browser shares, and a submit page shows a response that
    another tab, or a colleague sending to their lead, can change: a button
    pressed after that would act on what the person never saw. The page
    carries a fingerprint of what it showed; a press whose fingerprint
    differs from what is there now, or has none, is refused, and the page
    is shown again as things are.
    """

    shown = HiddenField()

    def show(self, answers) -> None:
        self.shown.data = _fingerprint(answers)

    def confirms(self, answers) -> bool:
        return hmac.compare_digest((self.shown.data or "").encode(), _fingerprint(answers).encode())

    def still_shows(self, current) -> bool:
        """confirms(), for a press that may come without a fingerprint (a scripted POST, a page from before
        pages carried one), which is not compared: the page itself always sends one."""
        return not self.shown.data or self.confirms(current)


class ConfirmShownForm(ShowsWhatItActsOn, EmptyForm):
    """A confirm button that acts only on what its page showed (see ShowsWhatItActsOn)."""


def _fingerprint(answers) -> str:
    return hashlib.sha256(json.dumps(answers, sort_keys=True, default=str).encode()).hexdigest()[:32]


# The years a date typed here may have: nothing the service holds is older than this century's records, and
# a far year would only overflow date arithmetic (a day's end is the next day's start).
YEARS = range(1900, 3000)
_DIGITS = re.compile(r"[0-9]{1,4}")  # ASCII only: int() would also read other scripts' digits


_ONE_UK_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{1,4})")
_ONE_ISO_DATE = re.compile(r"([0-9]{1,4})-([0-9]{1,2})-([0-9]{1,2})")


def _date_in_one(value: str) -> list[str] | None:
    """A date written in one box, UK style or ISO, as its [day, month, year]; None for anything else."""
    if match := _ONE_UK_DATE.fullmatch(value):
        return list(match.groups())
    if match := _ONE_ISO_DATE.fullmatch(value):
        return list(reversed(match.groups()))
    return None


class _UKDateInput(GovDateInput):
    """GOV.UK's date input, marking as wrong only the parts the field says are (GOV.UK's pattern: one
    missing or wrong part is highlighted alone; a date wrong as a whole has all three highlighted)."""

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        wrong = {f"{field.name}-{part}" for part in field.wrong_parts} if field.errors else set()
        for item in params["items"]:
            classes = [name for name in item["classes"].split() if name != "govuk-input--error"]
            item["classes"] = " ".join(classes + (["govuk-input--error"] if item["id"] in wrong else []))
        return params


class UKDateField(Field):
    """A GOV.UK date input (day, month, year), with GOV.UK's messages saying which part is wrong.

    `subject` is how messages name the date ("Date from", "The opening
    date"; the label by default). `required` is the message for a date left
    blank; without it a blank date means "no date". `example` is added to
    "must be a real date" messages. raw_data is always three parts, which
    the widget needs to show back what was typed, whatever the request held.
    `error_target` is the input an error summary links to (see
    wtforms_errors); `wrong_parts` the inputs marked as wrong.
    """

    widget = _UKDateInput()
    _PARTS = ("day", "month", "year")
    wrong_parts: tuple[str, ...] = _PARTS  # the whole date (a validator's error too), unless a part is named

    def __init__(self, label=None, validators=None, subject: str | None = None, required: str | None = None,
                 example: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.subject = subject or self.label.text
        self.required = required
        self.example = example

    @property
    def error_target(self) -> str:
        """The id of the input to correct: the first part that is wrong (GOV.UK's date input pattern).

        The widget names its inputs after the field's name ("opens_on-day"); the field's own id is the div
        around them, which cannot take focus.
        """
        return f"{self.name}-{self.wrong_parts[0]}"

    def process_formdata(self, valuelist):
        parts = [(value or "").strip() for value in valuelist[:3]]
        if len(parts) == 1:  # one value, as a link or an edited address gives it: 31/1/2027 or 2027-01-31
            parts = _date_in_one(parts[0]) or parts
        parts += [""] * (3 - len(parts))
        self.raw_data = parts
        self.data = None
        self.wrong_parts = self._PARTS
        if not any(parts):
            if self.required:
                raise ValueError(self.required)
            return
        not_real = f"{self.subject} must be a real date" + (f", for example {self.example}" if self.example else "")
        if any("\x00" in part for part in parts):  # only a search's query string gets this far with one
            self.raw_data = [part.replace("\x00", "") for part in parts]
            raise ValueError(not_real)
        if len(valuelist) > 3:
            raise ValueError(not_real)
        missing = [name for name, part in zip(self._PARTS, parts) if not part]
        if missing:
            self.wrong_parts = tuple(missing)
            raise ValueError(f"{self.subject} must include a {' and a '.join(missing)}")
        not_numbers = [name for name, part in zip(self._PARTS, parts) if not _DIGITS.fullmatch(part)]
        if not_numbers:
            self.wrong_parts = tuple(not_numbers)
            raise ValueError(not_real)
        day, month, year = (int(part) for part in parts)
        wrong = {"day": not 1 <= day <= 31, "month": not 1 <= month <= 12,
                 "year": len(parts[2]) != 4 or year not in YEARS}
        if not any(wrong.values()):
            try:
                self.data = date(year, month, day)
                return
            except ValueError:
                wrong["day"] = True  # no such day in that month
        self.wrong_parts = tuple(part for part in self._PARTS if wrong[part])
        if self.wrong_parts == ("year",) and len(parts[2]) != 4:
            raise ValueError(f"Year in {self.subject[0].lower() + self.subject[1:]} must include 4 numbers, "
                             "like 2027")
        if self.wrong_parts == ("year",):  # four digits, but a year no date here can be in
            raise ValueError(f"Year in {self.subject[0].lower() + self.subject[1:]} must be between "
                             f"{YEARS.start} and {YEARS.stop - 1}")
        raise ValueError(not_real)

    def _value(self):
        return " ".join(self.raw_data) if self.raw_data else ""


def wtforms_errors(form, params=None) -> dict:
    """The GOV.UK error summary's params for `form`: each field's first error, linked to the input to correct.

    Takes the place of govuk-frontend-wtf's template helper of the same name, which links every error to
    its field's id. In a GOV.UK date input that id is the div around the day, month and year inputs, so a
    date's link moved focus to nothing that takes it; a field with an `error_target` (UKDateField) is linked
    to the input to correct instead. Every template that builds a summary calls this one helper.
    """
    summary = govuk_wtforms_errors(form, params or {})
    targets = {f"#{field.id}": f"#{field.error_target}" for field in form
               if field.errors and getattr(field, "error_target", None)}
    for item in summary["errorList"]:
        item["href"] = targets.get(item["href"], item["href"])
    return summary
