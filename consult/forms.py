"""Form pieces shared by every domain: the POST-only button, yes/no answers, the GOV.UK date, versioned posts."""

import hashlib
import hmac
import json
import re
from datetime import date

from flask import abort
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovSubmitInput
from wtforms import Field, HiddenField, SubmitField
from wtforms.fields.choices import SelectChoice

YES, NO = "yes", "no"
YES_NO = [SelectChoice(YES, "Yes"), SelectChoice(NO, "No")]


def strip_whitespace(value):
    """A WTForms filter: leading and trailing spaces are never part of an answer."""
    return value.strip() if isinstance(value, str) else value


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


class ConfirmShownForm(EmptyForm):
    """A confirm button that acts only on what its page showed.

    A check page shows answers kept in the session, which every tab and
    window of the browser shares: another tab can change them after the page
    was shown, and a confirm pressed then would record what the person never
    saw. The page carries a fingerprint of what it showed; a confirmation
    whose fingerprint differs from the answers as they are now, or has none,
    is refused, and the page is shown again with the answers as they are.
    """

    shown = HiddenField()

    def show(self, answers) -> None:
        self.shown.data = _fingerprint(answers)

    def confirms(self, answers) -> bool:
        return hmac.compare_digest((self.shown.data or "").encode(), _fingerprint(answers).encode())


def _fingerprint(answers) -> str:
    return hashlib.sha256(json.dumps(answers, sort_keys=True, default=str).encode()).hexdigest()[:32]


_DIGITS = re.compile(r"\d{1,4}")


class UKDateField(Field):
    """A GOV.UK date input (day, month, year), with GOV.UK's messages saying which part is wrong.

    `subject` is how messages name the date ("Date from", "The opening
    date"; the label by default). `required` is the message for a date left
    blank; without it a blank date means "no date". `example` is added to
    "must be a real date" messages. raw_data is always three parts, which
    the widget needs to show back what was typed, whatever the request held.
    """

    widget = GovDateInput()

    def __init__(self, label=None, validators=None, subject: str | None = None, required: str | None = None,
                 example: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.subject = subject or self.label.text
        self.required = required
        self.example = example

    def process_formdata(self, valuelist):
        parts = [(value or "").strip() for value in valuelist[:3]]
        parts += [""] * (3 - len(parts))
        self.raw_data = parts
        self.data = None
        if not any(parts):
            if self.required:
                raise ValueError(self.required)
            return
        not_real = f"{self.subject} must be a real date" + (f", for example {self.example}" if self.example else "")
        if len(valuelist) > 3:
            raise ValueError(not_real)
        missing = [name for name, part in zip(("day", "month", "year"), parts) if not part]
        if missing:
            raise ValueError(f"{self.subject} must include a {' and a '.join(missing)}")
        if not all(_DIGITS.fullmatch(part) for part in parts):
            raise ValueError(not_real)
        if len(parts[2]) != 4:
            raise ValueError(f"Year in {self.subject[0].lower() + self.subject[1:]} must include 4 numbers, "
                             "like 2027")
        day, month, year = (int(part) for part in parts)
        try:
            # Nothing here is older than this century's records; far years would only overflow date arithmetic.
            if not 1900 <= year <= 2999:
                raise ValueError(year)
            self.data = date(year, month, day)
        except ValueError:
            raise ValueError(not_real) from None

    def _value(self):
        return " ".join(self.raw_data) if self.raw_data else ""
