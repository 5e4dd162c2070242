"""Staff workspace forms: the queue's filters (from the query string), decisions, themes, responses, bulk."""

import re
from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from consult.comments.models import MAX_COMMENT_LENGTH
from consult.consultations.models import Document
from consult.forms import YEARS, YES, StoredIntegerField, strip_whitespace
from consult.moderation.queries import (
    ANY_SUGGESTION,
    NO_THEME,
    PER_PAGE_CHOICES,
    ParticipantType,
    QueueFilters,
    ResponseFilter,
    participant_types,
)
from consult.moderation.services import NOTE_MAX, REDACTION_REASONS, THEME_DESCRIPTION_MAX, THEME_NAME_MAX
from consult.moderation.states import ModerationState, RejectionReason, ResponseState
from consult.widgets import GovRadioInput, GovSelect, GovTextArea, GovTextInput

# The state filter's value for "accepted or redacted": the comments publishing makes public.
PUBLIC = "public"

_DATE = re.compile(r"^\s*([0-9]{1,2})\s*[/.\- ]\s*([0-9]{1,2})\s*[/.\- ]\s*([0-9]{4})\s*$")
_ISO_DATE = re.compile(r"^\s*([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})\s*$")  # as a link or a date picker writes it


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the choices a select or radios offers."""
    return [SelectChoice(value, label) for value, label in pairs]


def parse_uk_date(text: str) -> date:
    """'27/3/2027' (or with dashes, dots or spaces), or '2027-03-27', as a date; ValueError otherwise."""
    if match := _ISO_DATE.match(text or ""):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DATE.match(text or ""):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ValueError(text)
    if year not in YEARS:
        raise ValueError(text)
    return date(year, month, day)


class ListChoiceField(SelectField):
    """A select whose value must be one of its options, with a message a person can act on."""

    widget = GovSelect()

    def pre_validate(self, form):
        if self.validate_choice and self.data and self.data not in {str(value) for value, *_ in self.iter_choices()}:
            raise ValidationError(f"Select {self.label.text.lower()} from the list")


class UKDateTextField(StringField):
    """A date typed as day/month/year; blank means no date."""

    widget = GovTextInput()

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.date = None
        if not self.data:
            return
        try:
            self.date = parse_uk_date(self.data)
        except ValueError:
            raise ValueError(f"{self.label.text} must be a real date, like 27/3/2027") from None


class _ErrorShownApart:
    """A field whose error the page shows in a message of its own (id `<name>-error`), where the error
    summary links (see consult.forms.wtforms_errors), because the field has no control to show it beside."""

    @property
    def error_target(self) -> str:
        return f"{self.id}-error"


class RowCheckboxes(_ErrorShownApart, SelectMultipleField):
    """Items chosen by a checkbox on each row of a table. An error about the choice is shown above the
    table: linked to the first row's checkbox, it moved focus to a box scrolled out of sight, with no
    message beside it."""


class LinkedFilter(_ErrorShownApart, StringField):
    """A filter set by following a link (a campaign's 'show its comments'), not by a control on the page:
    a hidden input, whose error is shown above the list (a link to the hidden input led nowhere)."""

    widget = HiddenInput()


class QueueFilterForm(FlaskForm):
    """The queue's filters, read from the query string so that a filtered queue has a URL."""

    class Meta:
        csrf = False  # a GET filter changes nothing, and its URL can be shared

    q = StringField("Words in the comment or quoted passage", widget=GovTextInput(), filters=[strip_whitespace],
                    validators=[Length(max=200, message="Search must be 200 characters or fewer")])
    state = ListChoiceField("Moderation state")
    response = ListChoiceField("Staff response",
                               description="‘Without an agreed response’ includes drafts and ‘No response "
                                           "needed’: all are published with an empty response",
                               choices=options([("", "Any response")] + [(r.value, r.label) for r in ResponseFilter]))
    theme = ListChoiceField("Theme")
    document = ListChoiceField("Document")
    chapter = ListChoiceField("Chapter")
    section = ListChoiceField("Section")
    participant = ListChoiceField("Type of participant")
    organisation = StringField("Organisation name contains", widget=GovTextInput(), filters=[strip_whitespace],
                               validators=[Length(max=200, message="Organisation name must be 200 characters "
                                                                   "or fewer")])
    tobacco = ListChoiceField("Links with the tobacco industry",
                              choices=options([("", "Any"), ("yes", "Links declared"), ("no", "No links declared")]))
    submitted_from = UKDateTextField("Submitted on or after", description="For example, 27/3/2027")
    submitted_to = UKDateTextField("Submitted on or before", description="For example, 27/3/2027")
    flag = ListChoiceField("Needs a second look",
                           choices=options([("", "Any"), ("yes", "Flagged for a second look"), ("no", "Not flagged")]))
    reading = ListChoiceField("Being read",
                              choices=options([("", "Any"), ("free", "Not being read by someone else")]))
    per_page = ListChoiceField("Comments per page", choices=options((str(n), str(n)) for n in PER_PAGE_CHOICES))
    suggested = ListChoiceField("Suggested theme")
    campaign = LinkedFilter("Campaign", filters=[strip_whitespace])
    order = ListChoiceField("Order", description="Best match first needs words to search for",
                            choices=options([("", "By comment number"), ("match", "Best match first")]))
    members = ListChoiceField("Campaigns in the list",
                              choices=options([("", "One row for each campaign"), ("show", "Each comment on its own")]))

    FIELDS = ("q", "state", "response", "theme", "document", "chapter", "section", "participant", "organisation",
              "tobacco", "flag", "reading", "submitted_from", "submitted_to", "per_page", "suggested", "campaign",
              "members", "order")

    def set_choices(self, documents: list[Document], themes) -> None:
        self.state.choices = options([("", "Any state")] + [(s.value, s.label) for s in ModerationState]
                                     + [(PUBLIC, "Accepted or redacted")])
        self.theme.choices = options([("", "Any theme"), (str(NO_THEME), "No theme yet")]
                                     + [(str(t.id), t.name) for t in themes])
        many = len(documents) > 1
        self.document.choices = options([("", "Any document")] + [(str(d.id), d.title) for d in documents])
        self.chapter.choices = options([("", "Any chapter")] + [
            (str(c.id), f"{d.title}: {c.label}" if many else c.label) for d in documents for c in d.chapters])
        self.section.choices = options([("", "Any section")] + [
            (str(s.id), (f"{d.title}: " if many else "") + f"{s.number}" + (f" {s.heading}" if s.heading else ""))
            for d in documents for c in d.chapters for s in c.sections])
        self.participant.choices = options([("", "Any participant")]
                                           + [(t.key, t.label) for t in participant_types()])
        self.suggested.choices = options([("", "Any comment"), (str(ANY_SUGGESTION), "A theme is suggested")]
                                         + [(str(t.id), f"‘{t.name}’ is suggested") for t in themes])

    def validate_campaign(self, field):
        if field.data and not (field.data.isascii() and field.data.isdigit() and 0 < int(field.data) <= 2**31 - 1):
            raise ValidationError("Campaign must be a campaign's number")

    def validate_submitted_to(self, field):
        start, end = getattr(self.submitted_from, "date", None), getattr(field, "date", None)
        if start and end and end < start:
            raise ValidationError("Submitted on or before must be the same as or after submitted on or after")

    def query_args(self) -> dict[str, str]:
        """The filters in use, for links that keep them (pagination, back links, the bulk form)."""
        args = {}
        for name in self.FIELDS:
            value = self[name].data
            if value and not self[name].errors and not (name == "per_page" and value == str(PER_PAGE_CHOICES[0])):
                args[name] = value
        return args

    def filters(self, search_original: bool, day_bounds, viewer_id: int | None = None,
                reading_since=None) -> QueueFilters:
        """The valid filters as plain values; a field with an error is left out, not guessed at.

        "Not being read by someone else" needs who is asking (`viewer_id`) and
        how recent a hold counts (`reading_since`); without them it is left out.
        """

        def chosen(name: str) -> str | None:
            field = self[name]
            return field.data if field.data and not field.errors else None

        def number(name: str) -> int | None:
            value = chosen(name)
            return int(value) if value is not None else None

        start = self.submitted_from.date if chosen("submitted_from") else None
        end = self.submitted_to.date if chosen("submitted_to") else None
        starts_at, ends_before = day_bounds(start, end)
        tobacco = chosen("tobacco")
        state = chosen("state")
        return QueueFilters(
            document_id=number("document"),
            chapter_id=number("chapter"),
            section_id=number("section"),
            state=ModerationState(state) if state and state != PUBLIC else None,
            public=state == PUBLIC,
            theme_id=number("theme"),
            participant_type=ParticipantType.from_key(chosen("participant")) if chosen("participant") else None,
            organisation_name=chosen("organisation") or "",
            has_tobacco_links=None if tobacco is None else tobacco == "yes",
            submitted_from=starts_at,
            submitted_before=ends_before,
            text=chosen("q") or "",
            search_original=search_original,
            flagged=None if chosen("flag") is None else chosen("flag") == "yes",
            free_for=viewer_id if chosen("reading") == "free" else None,
            reading_since=reading_since if chosen("reading") == "free" else None,
            suggested_theme_id=number("suggested"),
            campaign_id=number("campaign"),
            response=ResponseFilter(chosen("response")) if chosen("response") else None,
            best_match_first=chosen("order") == "match",
        )

    @property
    def collapses_campaigns(self) -> bool:
        """One row per campaign, unless asked for each comment or already looking inside one campaign."""
        return self.members.data != "show" and not (self.campaign.data and not self.campaign.errors)

    @property
    def page_size(self) -> int:
        value = self.per_page.data
        return int(value) if value and not self.per_page.errors else PER_PAGE_CHOICES[0]


def version_field(required: bool = True) -> StoredIntegerField:
    """The row's version when the page was opened: a change made since is refused, not overwritten."""
    return StoredIntegerField(widget=HiddenInput(), validators=[InputRequired()] if required else [Optional()])


def note_field(description: str, label: str = "Note") -> TextAreaField:
    """A note staff write beside a decision, held to the length the services keep."""
    return TextAreaField(label, description=description, widget=GovTextArea(),
                         validators=[Length(max=NOTE_MAX, message=f"The note must be {NOTE_MAX:,} characters "
                                                                  "or fewer")])


class AcceptForm(FlaskForm):
    version = version_field()
    submit = SubmitField("Accept", widget=GovSubmitInput())


def reason_field(label: str, reasons) -> RadioField:
    """The reasons a decision may give, as radios; ChosenReason reads the one chosen.

    Neither a missing nor an unknown reason is refused here: whether the
    decision needs one is the service's rule, and the service words it.
    """
    return RadioField(label, choices=options((reason.value, reason.label) for reason in reasons),
                      widget=GovRadioInput(), validate_choice=False, validators=[Optional()])


class ChosenReason:
    """A form's `reason` radio as a RejectionReason, or None when none (or no known one) was chosen."""

    @property
    def chosen_reason(self) -> RejectionReason | None:
        try:
            return RejectionReason(self.reason.data) if self.reason.data else None
        except ValueError:
            return None


class RejectForm(ChosenReason, FlaskForm):
    reason = reason_field("Why are you rejecting this comment?", RejectionReason)
    note = note_field("Required if you choose ‘Other’. Staff and the committee can read it.")
    version = version_field()
    submit = SubmitField("Reject comment", widget=GovSubmitInput())


class RedactForm(ChosenReason, FlaskForm):
    reason = reason_field("Why are you redacting this comment?", REDACTION_REASONS)
    redacted_body = TextAreaField(
        "Redacted comment",
        description="Edit the comment to remove what must not be published. This copy is shown everywhere "
                    "instead of the original, which only admins can see.",
        widget=GovCharacterCount())
    redacted_quote = TextAreaField(
        "Redacted quoted passage",
        description="Leave it as it is to keep the original passage, or clear it to withhold the passage.",
        widget=GovTextArea())
    note = note_field("Required if you choose ‘Other’.")
    version = version_field()
    submit = SubmitField("Save redaction", widget=GovSubmitInput())


class TriageNoteForm(FlaskForm):
    note = note_field("For example, why it needs a second look. Staff and the committee can read it.",
                      label="Note for colleagues")
    note_version = version_field()
    submit = SubmitField("Save note", widget=GovSubmitInput())


class SavedViewForm(FlaskForm):
    name = StringField("Name this view", description="For example, Flagged comments on chapter 1",
                       widget=GovTextInput(), filters=[strip_whitespace])
    filters = HiddenField()
    submit = SubmitField("Save this view", widget=GovSubmitInput())


class DeleteSavedViewForm(FlaskForm):
    view = StoredIntegerField(widget=HiddenInput(), validators=[InputRequired()])


class TagForm(FlaskForm):
    # An unknown theme is refused by the view (404), not offered as a choice to correct.
    theme = ListChoiceField("Add a theme", validate_choice=False,
                            validators=[InputRequired(message="Select a theme to add")])
    submit = SubmitField("Add theme", widget=GovSubmitInput())


_WRITTEN_STATES = [SelectChoice(ResponseState.DRAFT.value, "Draft: still being written"),
                   SelectChoice(ResponseState.AGREED.value, "Agreed: ready to publish")]


class ResponseForm(FlaskForm):
    text = TextAreaField("Response", widget=GovCharacterCount())
    state = RadioField("Is the response ready?", choices=_WRITTEN_STATES, default=ResponseState.DRAFT.value,
                       widget=GovRadioInput(), validate_choice=False, validators=[Optional()])
    version = version_field(required=False)
    submit = SubmitField("Save response", widget=GovSubmitInput())

    @property
    def chosen_state(self) -> ResponseState | None:
        return ResponseState(self.state.data) if self.state.data in ("draft", "agreed") else None


class NoResponseForm(FlaskForm):
    reason = TextAreaField("Why does this comment need no response?",
                           description="For example, it repeats comment 12, which has a response.",
                           widget=GovTextArea())
    version = version_field(required=False)
    submit = SubmitField("Confirm no response is needed", widget=GovSubmitInput())


class ThemeForm(FlaskForm):
    name = StringField("Theme name", widget=GovTextInput(), filters=[strip_whitespace],
                       validators=[Length(max=THEME_NAME_MAX,
                                          message=f"The theme name must be {THEME_NAME_MAX} characters or fewer")])
    description = TextAreaField("Description (optional)", description="What comments with this theme are about.",
                                widget=GovTextArea(),
                                validators=[Length(max=THEME_DESCRIPTION_MAX,
                                                   message=f"The description must be {THEME_DESCRIPTION_MAX:,} "
                                                           "characters or fewer")])
    version = version_field(required=False)
    submit = SubmitField("Save theme", widget=GovSubmitInput())


class MergeThemeForm(FlaskForm):
    target = ListChoiceField("Merge into", validate_choice=False,
                             validators=[InputRequired(message="Select the theme to merge into")])
    submit = SubmitField("Merge themes", widget=GovSubmitInput())


class DeleteThemeForm(FlaskForm):
    reassign_to = ListChoiceField("Move its comments to", validate_choice=False, validators=[Optional()])
    submit = SubmitField("Delete theme", widget=GovSubmitInput())


class ThemeResponseForm(FlaskForm):
    text = TextAreaField("Response", widget=GovCharacterCount())
    state = RadioField("Is the response ready?", choices=_WRITTEN_STATES, default=ResponseState.DRAFT.value,
                       widget=GovRadioInput(), validate_choice=False, validators=[Optional()])
    submit = SubmitField("Apply response", widget=GovSubmitInput())

    chosen_state = ResponseForm.chosen_state


BULK_ACTIONS = [("accept", "Accept"), ("reject", "Reject"), ("tag", "Add a theme"), ("respond", "Apply a response")]




class BulkForm(FlaskForm):
    """A bulk action on the queue: chosen on the queue, then confirmed on a page that states the count."""

    scope = RadioField("Which comments?",
                       choices=options([("selected", "The comments selected"), ("all", "All matching")]),
                       default="selected", widget=GovRadioInput(), validate_choice=False, validators=[Optional()])
    selected = RowCheckboxes(choices=[], validate_choice=False)
    action = RadioField("What do you want to do?", choices=options(BULK_ACTIONS), widget=GovRadioInput(),
                        validate_choice=False)
    reason = ListChoiceField("Reason for rejecting",
                             choices=options([("", "Select a reason")] + [(r.value, r.label) for r in RejectionReason]))
    note = note_field("Required if the reason is ‘Other’.")
    tag_theme = ListChoiceField("Theme to add", validate_choice=False)
    response_text = TextAreaField("Response", widget=GovTextArea(),
                                  validators=[Length(max=MAX_COMMENT_LENGTH,
                                                     message=f"The response must be {MAX_COMMENT_LENGTH:,} "
                                                             "characters or fewer")])
    response_state = RadioField("Is the response ready?", choices=_WRITTEN_STATES,
                                default=ResponseState.DRAFT.value, widget=GovRadioInput(), validate_choice=False,
                                validators=[Optional()])
    # Carried from the queue: its filters, when it was loaded and how many matched then.
    filters = HiddenField()
    snapshot = HiddenField()
    total = HiddenField()
    # Carried from the confirmation page: the comments and the versions it showed, or, for all comments
    # matching the filters, "count:checksum" of the set it stated (the filters themselves are carried above).
    items = HiddenField()
    matched = HiddenField()
    confirmed = HiddenField()
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def validate_action(self, field):
        if field.data not in dict(BULK_ACTIONS):
            raise ValidationError("Select what you want to do with the comments")

    def validate_tag_theme(self, field):
        if self.action.data == "tag" and not field.data:
            raise ValidationError("Select the theme to add")

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed.data == YES

    @property
    def chosen_reason(self) -> RejectionReason | None:
        return RejectionReason(self.reason.data) if self.reason.data else None

    @property
    def chosen_response_state(self) -> ResponseState | None:
        value = self.response_state.data
        return ResponseState(value) if value in ("draft", "agreed") else None
