"""How are you taking part? Asked one question a page, checked, then confirmed once.

The answers are kept in the session, per consultation, until the person
confirms them on the check page; only then does services.choose_participation
store them, once. Each question belongs to a path: the questions about an
organisation are asked only of someone taking part on behalf of one, and the
details of tobacco links only of someone who has them. An answer off the
chosen path is kept (so that going back and changing your mind loses nothing)
but is never shown on the check page nor stored.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from consult.access import signed_in
from consult.comments import services
from consult.comments.forms import (
    DescribeYouForm,
    OrganisationForm,
    OtherInterestsForm,
    PublishNameForm,
    TakingPartForm,
    TobaccoDetailsForm,
    TobaccoLinksForm,
)
from consult.comments.models import IndividualType, OrganisationType, ParticipantKind
from consult.comments.pages import not_open_page
from consult.comments.views import bp, lower_first, own_participation
from consult.database import utcnow
from consult.extensions import db
from consult.forms import NO, YES, ConfirmShownForm
from consult.loaders import public_consultation_or_404
from consult.web import request_arrived_at, safe_next_url

_PENDING_KEY = "pending_participation"
# Fields answered yes or no on the page and kept as True or False.
_YES_NO_FIELDS = {"has_tobacco_links", "publish_name"}


def _is_individual(answers: dict) -> bool:
    return answers.get("kind") == ParticipantKind.INDIVIDUAL.value


def _is_organisation(answers: dict) -> bool:
    return answers.get("kind") == ParticipantKind.ORGANISATION.value


def _always(answers: dict) -> bool:
    return True


@dataclass(frozen=True, eq=False)
class Question:
    """One page of the questions: its address and form, the answers it keeps, whether the answers so far lead to it."""

    name: str
    path: str
    form: type[FlaskForm]
    fields: tuple[str, ...]
    template: str
    asked_when: Callable[[dict], bool] = _always

    @property
    def endpoint(self) -> str:
        return f"{bp.name}.{self.name}"

    def is_answered(self, answers: dict) -> bool:
        return all(answers.get(name) is not None for name in self.fields)

    def form_data(self, answers: dict) -> dict:
        data = {}
        for name in self.fields:
            value = answers.get(name)
            if name in _YES_NO_FIELDS and value is not None:
                value = YES if value else NO
            if value is not None:
                data[name] = value
        return data

    def answers_from(self, form: FlaskForm) -> dict:
        answers = {}
        for name in self.fields:
            value = form[name].data
            answers[name] = value == YES if name in _YES_NO_FIELDS else (value or "")
        return answers


KIND = Question("take_part", "/take-part", TakingPartForm, ("kind",), "comments/take_part.html")
INDIVIDUAL = Question("take_part_individual", "/take-part/about-you", DescribeYouForm, ("individual_type",),
                      "comments/take_part_individual.html", _is_individual)
ORGANISATION = Question("take_part_organisation", "/take-part/organisation", OrganisationForm,
                        ("organisation_name", "organisation_type"), "comments/take_part_organisation.html",
                        _is_organisation)
TOBACCO = Question("take_part_tobacco", "/take-part/tobacco-links", TobaccoLinksForm, ("has_tobacco_links",),
                   "comments/take_part_tobacco.html")
TOBACCO_DETAILS = Question("take_part_tobacco_details", "/take-part/tobacco-links/details", TobaccoDetailsForm,
                           ("tobacco_details",), "comments/take_part_tobacco_details.html",
                           lambda answers: answers.get("has_tobacco_links") is True)
INTERESTS = Question("take_part_interests", "/take-part/other-interests", OtherInterestsForm, ("other_interests",),
                     "comments/take_part_interests.html")
# An organisation's comments are published under its name, never its respondent's: nothing to ask.
PUBLISH_NAME = Question("take_part_publish_name", "/take-part/publish-name", PublishNameForm, ("publish_name",),
                        "comments/take_part_publish_name.html", _is_individual)
QUESTIONS = [KIND, INDIVIDUAL, ORGANISATION, TOBACCO, TOBACCO_DETAILS, INTERESTS, PUBLISH_NAME]


def _asked(answers: dict) -> list[Question]:
    """The questions on the path the answers so far have chosen, in order."""
    asked = []
    for question in QUESTIONS:
        if not question.asked_when(answers):
            continue
        asked.append(question)
        if not question.is_answered(answers):
            break  # later questions may depend on this answer
    return asked


def _first_unanswered(answers: dict) -> Question | None:
    return next((q for q in _asked(answers) if not q.is_answered(answers)), None)


def choice_from_answers(answers: dict) -> services.ParticipationChoice:
    """The answers on the chosen path as the service takes them; answers off the path are left out."""
    organisation = _is_organisation(answers)
    has_links = answers.get("has_tobacco_links") is True
    return services.ParticipationChoice(
        kind=ParticipantKind(answers["kind"]),
        individual_type=None if organisation else IndividualType(answers["individual_type"]),
        organisation_name=answers["organisation_name"] if organisation else None,
        organisation_type=OrganisationType(answers["organisation_type"]) if organisation else None,
        has_tobacco_links=has_links,
        tobacco_details=(answers.get("tobacco_details") or "") if has_links else "",
        other_interests=answers.get("other_interests") or "",
        publish_name=not organisation and answers.get("publish_name") is True,
    )


# --- the session's pending answers ---------------------------------------------

def _pending(consultation) -> dict:
    return dict(session.get(_PENDING_KEY, {}).get(str(consultation.id)) or {})


def _keep_pending(consultation, answers: dict) -> None:
    session[_PENDING_KEY] = {**session.get(_PENDING_KEY, {}), str(consultation.id): answers}


def _forget_pending(consultation) -> None:
    pending = dict(session.get(_PENDING_KEY, {}))
    pending.pop(str(consultation.id), None)
    session[_PENDING_KEY] = pending


# --- where each page leads ----------------------------------------------------

def _changing() -> bool:
    """Reached from a Change link on the check page: return there once the path is complete."""
    return request.args.get("change") == YES


def _url(endpoint: str, consultation, change: bool = False) -> str:
    return url_for(endpoint, reference=consultation.reference, next=safe_next_url(request.args.get("next")),
                   change=YES if change else None)


def _check_url(consultation) -> str:
    return _url("comments.check_take_part", consultation)


def _after(question: Question, consultation, answers: dict) -> str:
    if _changing():
        unanswered = _first_unanswered(answers)
        return _url(unanswered.endpoint, consultation, change=True) if unanswered else _check_url(consultation)
    asked = _asked(answers)
    later = asked[asked.index(question) + 1:]
    return _url(later[0].endpoint, consultation) if later else _check_url(consultation)


def _back(question: Question, consultation, answers: dict) -> str:
    if _changing():
        return _check_url(consultation)
    asked = _asked(answers)
    position = asked.index(question)
    if position == 0:
        return url_for("consultations.show", reference=consultation.reference)
    return _url(asked[position - 1].endpoint, consultation)


def _already_taking_part(consultation, existing):
    flash(f"You are taking part {lower_first(existing.description)}. This cannot be changed.", "info")
    return redirect(url_for("consultations.show", reference=consultation.reference))


def _ask(reference: str, question: Question):
    """Show one question, or keep its answer and go on: load, refuse if already chosen or not open, validate."""
    consultation = public_consultation_or_404(reference)
    existing = own_participation(consultation)
    if existing is not None:
        return _already_taking_part(consultation, existing)
    try:
        services.require_open(consultation, utcnow())
    except services.ConsultationNotOpen as error:
        return not_open_page(consultation, None, error)
    answers = _pending(consultation)
    if question not in _asked(answers):
        # Not on the path the answers chose (or an earlier answer is missing): the first gap instead.
        gap = _first_unanswered(answers)
        return redirect(_url(gap.endpoint, consultation, change=_changing()) if gap else _check_url(consultation))
    form = question.form(data=question.form_data(answers) if request.method == "GET" else None)
    if form.validate_on_submit() and not _refused_as_led(form):
        answers.update(question.answers_from(form))
        _keep_pending(consultation, answers)
        return redirect(_after(question, consultation, answers))
    return render_template(question.template, consultation=consultation, form=form,
                           back_href=_back(question, consultation, answers), lead=_lead_record(question))


def _refused_as_led(form) -> bool:
    """An organisation with a commenting lead responds once, through its lead: its name is refused here.

    Otherwise anyone could send a second response in its name, beside (and
    perhaps against) the one its lead submits. The message says the way in.
    """
    if "organisation_name" not in form or not form.organisation_name.data:
        return False
    refusal = _led_refusal(form.organisation_name.data)
    if refusal is None:
        return False
    form.organisation_name.errors.append(refusal)
    return True


def _led_refusal(organisation_name: str | None) -> str | None:
    """Why this organisation name cannot be taken, if its organisation now has a commenting lead."""
    if not organisation_name:
        return None
    from consult.organisations.services import organisation_with_leads  # organisations builds on comments

    organisation = organisation_with_leads(organisation_name)
    if organisation is None:
        return None
    return (f"{organisation.name} responds through its commenting lead. Ask them for your organisation’s code and "
            "enter it on the consultation’s page, or take part as an individual")


def _lead_record(question: Question):
    """On the first question, a commenting lead's record: their organisation responds through its own page."""
    if question is not KIND:
        return None
    from consult.organisations.services import lead_of  # organisations builds on comments, not the reverse

    return lead_of(current_user.id)


def _question_page(question: Question) -> Callable:
    """The view of one question's page, at the question's own address: every page runs the same steps, in _ask."""

    def page(reference: str):
        return _ask(reference, question)

    page.__name__ = page.__qualname__ = question.name
    return signed_in(page)


def _add_question_pages() -> None:
    for question in QUESTIONS:
        bp.add_url_rule(question.path, question.name, _question_page(question), methods=["GET", "POST"])


_add_question_pages()


ANSWERS_CHANGED = ("Your answers were changed in another tab or window after this page was shown. "
                   "Check them below, then confirm again.")


@bp.route("/take-part/check", methods=["GET", "POST"])
@signed_in
def check_take_part(reference: str):
    consultation = public_consultation_or_404(reference)
    existing = own_participation(consultation)
    if existing is not None:
        return _already_taking_part(consultation, existing)
    answers = _pending(consultation)
    gap = _first_unanswered(answers)
    if gap is not None:
        return redirect(_url(gap.endpoint, consultation))
    choice = choice_from_answers(answers)
    form = ConfirmShownForm()
    status, submitted = 200, form.validate_on_submit()
    led = _led_refusal(choice.organisation_name) if submitted and choice.kind is ParticipantKind.ORGANISATION \
        else None
    if submitted and not form.confirms(answers):
        form.form_errors.append(ANSWERS_CHANGED)
        status = 409
    elif led is not None:  # a lead was recorded for it after its name was accepted
        form.form_errors.append(led)
        status = 409
    elif submitted:
        try:
            services.choose_participation(current_user, consultation, choice, request_arrived_at())
        except services.ParticipationAlreadyChosen as error:
            db.session.rollback()
            _forget_pending(consultation)
            flash(f"You are already taking part {lower_first(error.existing.description)}. "
                  "This cannot be changed.", "info")
            return redirect(url_for("consultations.show", reference=consultation.reference))
        except services.ConsultationNotOpen as error:
            return not_open_page(consultation, None, error)
        _forget_pending(consultation)
        db.session.commit()
        # The page it leads to already says how they take part; the banner says what they can do now.
        flash("Your answers have been saved. You can now comment on the consultation documents.", "success")
        return redirect(safe_next_url(request.args.get("next"))
                        or url_for("consultations.show", reference=consultation.reference))
    changes = {question.endpoint: _url(question.endpoint, consultation, change=True) for question in QUESTIONS}
    form.show(answers)
    return render_template("comments/check_take_part.html", consultation=consultation, choice=choice, form=form,
                           changes=changes, back_href=_url(PUBLISH_NAME.endpoint, consultation)), status
