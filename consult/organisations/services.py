"""Organisation responses: leads, codes, colleagues' hand-over, and the one submission.

An account that staff mark as an organisation's commenting lead asks, on an
open consultation, for the organisation's code and shares it with
colleagues; the service never sends it. Colleagues need an account of their
own (with a confirmed email address, which is what the lead sees, so every
comment is attributable): with the code they take part on the
organisation's behalf, comment like anyone else, and send their comments to
the lead. What they send becomes read-only, and each lead's response gets an
editable copy pointing back to it. A lead submits once for the organisation.

Every act that touches an organisation's response to a consultation (a lead
starting or submitting it, a colleague sending to it) first takes the lock
on the organisation's row with a conditional UPDATE, so they happen one after
another: a send either lands before a submission (and is in it) or finds the
organisation has already responded. The partial unique index on
participations is the last word: one submitted response per organisation
and consultation, however many leads it has.

Functions take plain values and `now`, raise an OrganisationError when a
rule is broken, flush, and leave the commit to the view.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, distinct, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from consult.accounts.models import Role, User
from consult.audit.services import record, snapshot
from consult.comments.models import (
    Comment,
    CommentStatus,
    OrganisationRole,
    OrganisationType,
    ParticipantKind,
    Participation,
)
from consult.comments.services import (
    find_participation,
    list_comments,
    require_open,
    submit_response,
)
from consult.consultations.models import Consultation
from consult.errors import DomainError
from consult.extensions import db
from consult.organisations.models import CODE_LENGTH, Organisation, OrganisationCode, OrganisationLead
from consult.questions.models import Answer, Question
from consult.questions.services import answers_by_question, list_questions, save_answer
from consult.text import (
    comments_and_answers,
    direction_controls_refused,
    excerpt,
    has_direction_controls,
    name_key,
    tidy_name,
)
from consult.uk_time import spreadsheet_time


class OrganisationError(DomainError):
    """A broken rule of an organisation's response, with the sentence to show."""

    status = 409


class NotALead(OrganisationError):
    message = "Only an organisation's commenting lead can do this."
    status = 403


class NoLongerLead(OrganisationError):
    message = ("You are no longer the commenting lead of this organisation, so you cannot read what colleagues "
               "send or submit its response. Another of its leads can.")
    status = 403


class IncorrectCode(OrganisationError):
    """Any code that does not open this consultation, for whatever reason: one message, so codes cannot be probed."""

    message = "Incorrect code. Check the code with your organisation’s commenting lead and try again."
    field = "code"
    status = 200


class CodeFormatWrong(OrganisationError):
    message = "Enter the 12-digit code your organisation’s commenting lead gave you, like 1234 5678 9012"
    field = "code"
    status = 200


class OrganisationAlreadyResponded(OrganisationError):
    message = "Your organisation has already responded to this consultation."


class ResponseClosedToColleague(OrganisationAlreadyResponded):
    """What a colleague is told, wherever they try to add, change or send, once their lead has submitted."""

    message = ("Your organisation has already responded to this consultation, so comments and answers can no "
               "longer be added, changed or sent to its commenting lead.")


class AlreadyTakingPart(OrganisationError):
    def __init__(self, existing: Participation):
        description = existing.description[:1].lower() + existing.description[1:]
        super().__init__(f"You are already taking part in this consultation {description}. This cannot be changed.")
        self.existing = existing


class LeadUsesOwnResponse(OrganisationError):
    message = ("You are a commenting lead for this organisation, so you do not need its code: "
               "add your comments to your organisation’s response.")
    field = "code"
    status = 200


class LeadOfAnotherOrganisation(OrganisationError):
    """One response a consultation: commenting for another organisation would leave the lead's own unled."""

    field = "code"
    status = 200

    def __init__(self, organisation: Organisation):
        name = organisation.name
        super().__init__(f"You are the commenting lead of {name}, so you cannot comment for another organisation "
                         f"on this consultation: you would no longer be able to lead {name}’s response. "
                         "Ask an admin to remove you as its lead first.")


class NothingToSend(OrganisationError):
    message = ("You have no comments or answers to send to your organisation’s lead. "
               "Add a comment or answer a question first.")


class NothingMoreToSend(NothingToSend):
    message = ("You have already sent all your comments and answers to your organisation’s lead. "
               "Add a comment or answer a question if you have more to send.")


class EmailNotConfirmed(OrganisationError):
    message = ("Confirm your email address before you send comments to your organisation’s lead: open the link "
               "we sent you. Your lead sees this address beside each comment. Your comments are kept.")


class NotAColleague(OrganisationError):
    message = "Enter your organisation’s code before you send comments to its commenting lead."


class AnswerNotThere(OrganisationError):
    """Any answer that is not one of the organisation's colleagues' sent answers: one message, so none is revealed."""

    message = "That answer is no longer there. Choose from the answers shown now."
    status = 404


class InvalidLead(OrganisationError):
    """The admin's choice of lead cannot be recorded; shown beside the field it is about."""

    status = 200


class AnswersToMerge(OrganisationError):
    """Colleagues answered a question differently and the lead has not yet given the organisation's answer."""

    status = 409

    def __init__(self, questions: list[tuple[int, Question]]):
        self.questions = questions
        listed = "; ".join(f"question {number}, “{excerpt(question.text, 80)}”" for number, question in questions)
        super().__init__(
            f"Colleagues gave different answers to {listed}. Choose one of their answers, or write your "
            "organisation’s own, before you submit: your organisation can give one answer to each question.")


class InvalidDeclaration(OrganisationError):
    field = "tobacco_details"
    status = 200


# --- Leads (admins) -----------------------------------------------------------

LEAD_FIELDS = ("user_id", "organisation_id")


def lead_of(user_id: int) -> OrganisationLead | None:
    """The user's lead record (and through it, their one organisation), if staff have made them a lead."""
    return db.session.get(OrganisationLead, user_id)


def find_organisation(name: str) -> Organisation | None:
    """The organisation of this name, as name_key compares names, if it is on record."""
    return db.session.scalar(select(Organisation).where(Organisation.name_key == name_key(name)))


def organisation_with_leads(name: str) -> Organisation | None:
    """The organisation of this name (as name_key compares names) if it has a commenting lead, else None."""
    return db.session.scalar(select(Organisation).where(Organisation.name_key == name_key(name))
                             .where(Organisation.leads.any()))


def mark_lead(user: User, organisation_name: str, organisation_type: OrganisationType, actor) -> OrganisationLead:
    """Make `user` the commenting lead of the named organisation (recorded, if new), audited.

    A lead leads one organisation (the table is keyed by the user); an
    organisation may have several leads. An organisation already on record
    keeps its type: naming it with another type is refused, not silently changed.
    """
    name = " ".join(tidy_name(organisation_name or "").split())
    if not name:
        raise InvalidLead("Enter the name of the organisation", field="name")
    if has_direction_controls(name):
        raise InvalidLead(direction_controls_refused("Organisation name"), field="name")
    if len(name) > 200:
        raise InvalidLead("The organisation’s name must be 200 characters or fewer", field="name")
    if user.role is not Role.STAKEHOLDER:
        raise InvalidLead("Only a stakeholder account can be an organisation’s commenting lead. "
                          "Staff, committee and admin accounts cannot.", field="name")
    existing = lead_of(user.id)
    if existing is not None:
        raise InvalidLead(f"{user.name} is already the commenting lead of {existing.organisation.name}. "
                          "Remove that first: a lead leads one organisation.", field="name")
    organisation = find_organisation(name)
    if organisation is not None and organisation.type is not organisation_type:
        raise InvalidLead(f"{organisation.name} is recorded as “{organisation.type.label}”. "
                          "Choose that type, or check the name.", field="type")
    if organisation is None:
        organisation = Organisation(name=name, name_key=name_key(name), type=organisation_type)
        db.session.add(organisation)
        db.session.flush()
        record(actor, "organisation.create", organisation, after=snapshot(organisation, ("name", "type")))
    lead = OrganisationLead(user_id=user.id, organisation_id=organisation.id, marked_by_id=getattr(actor, "id", None))
    try:
        with db.session.begin_nested():
            db.session.add(lead)
    except IntegrityError:
        raise InvalidLead(f"{user.name} has just been made the commenting lead of another organisation.",
                          field="name") from None
    record(actor, "organisation.lead_marked", user, after={"organisation_id": organisation.id,
                                                            "organisation": organisation.name})
    return lead


def remove_lead(user: User, actor) -> Organisation:
    """Stop `user` being a commenting lead, audited. Their responses so far are kept as they are."""
    lead = lead_of(user.id)
    if lead is None:
        raise InvalidLead(f"{user.name} is not the commenting lead of any organisation.")
    organisation = lead.organisation
    db.session.delete(lead)
    # Their copies of what colleagues sent, in responses not yet submitted, go with the role: the originals
    # stay with the colleagues, and every lead of the organisation has (or gets, on starting) copies of its own.
    copies = db.session.scalars(
        select(Comment).join(Participation, Participation.id == Comment.participation_id)
        .where(Participation.user_id == user.id, Participation.organisation_id == organisation.id,
               Participation.organisation_role == OrganisationRole.LEAD, Participation.submitted_at.is_(None),
               Comment.original_comment_id.is_not(None))).all()
    for copy in copies:
        db.session.delete(copy)
    db.session.flush()
    record(actor, "organisation.lead_removed", user, before={"organisation_id": organisation.id,
                                                             "organisation": organisation.name,
                                                             "copies_removed": len(copies)})
    return organisation


# --- The organisation's response ----------------------------------------------

def _lock_organisation(organisation_id: int, now: datetime) -> None:
    """Take the organisation's row lock, so its response's starts, sends and submissions queue."""
    db.session.execute(
        update(Organisation).where(Organisation.id == organisation_id).values(updated_at=now)
        .execution_options(synchronize_session=False)
    )


def organisation_response(organisation_id: int, consultation_id: int) -> Participation | None:
    """The organisation's submitted response to the consultation, if it has responded."""
    return db.session.scalar(
        select(Participation).where(Participation.organisation_id == organisation_id,
                                    Participation.consultation_id == consultation_id,
                                    Participation.submitted_at.is_not(None))
    )


def _require_not_responded(organisation_id: int, consultation_id: int) -> None:
    if organisation_response(organisation_id, consultation_id) is not None:
        raise OrganisationAlreadyResponded()


def colleague_response_closed(participation: Participation) -> ResponseClosedToColleague | None:
    """The refusal a colleague meets once their organisation has responded; None before, and for anyone else."""
    if (participation.organisation_role is OrganisationRole.COLLEAGUE
            and organisation_response(participation.organisation_id, participation.consultation_id) is not None):
        return ResponseClosedToColleague()
    return None


def require_colleague_response_open(participation: Participation, now: datetime | None = None) -> None:
    """Refuse a colleague's new, changed or deleted comment or answer, or a send, once their organisation responded.

    With `now`, as the services call it before they write, the organisation's
    lock comes first, so a change racing the lead's submission either lands
    before it or is refused. Without, a page reads the same rule to say so
    instead of offering a form. Anyone but a colleague passes.
    """
    if participation.organisation_role is not OrganisationRole.COLLEAGUE:
        return
    if now is not None:
        _lock_organisation(participation.organisation_id, now)
    refused = colleague_response_closed(participation)
    if refused is not None:
        raise refused


def leads(user_id: int, organisation_id: int) -> bool:
    """Whether the user is, now, a commenting lead of this organisation.

    A lead's response is theirs to lead only while staff keep them a lead of
    its organisation: once removed (or moved to another organisation), they
    neither read what colleagues send nor submit for it.
    """
    lead = lead_of(user_id)
    return lead is not None and lead.organisation_id == organisation_id


def former_lead(participation: Participation | None) -> bool:
    """A response started as an organisation's lead by someone who no longer leads that organisation."""
    return (participation is not None and participation.organisation_role is OrganisationRole.LEAD
            and not leads(participation.user_id, participation.organisation_id))


def require_lead(user_id: int) -> OrganisationLead:
    """The user's lead record, or NotALead (a 403 page): the rule every lead-only route runs first."""
    lead = lead_of(user_id)
    if lead is None:
        raise NotALead()
    return lead


def start_lead_response(user: User, consultation: Consultation, now: datetime) -> Participation:
    """The lead's response on the organisation's behalf: found, or made with every comment colleagues sent.

    "On behalf of an organisation" is fixed, with the organisation's own
    name and type. A lead already taking part another way cannot lead this
    consultation's response.
    """
    require_open(consultation, now)
    lead = require_lead(user.id)
    organisation = lead.organisation
    existing = find_participation(user.id, consultation.id)
    if existing is not None:
        if existing.organisation_role is OrganisationRole.LEAD and existing.organisation_id == organisation.id:
            return existing
        raise AlreadyTakingPart(existing)
    _lock_organisation(organisation.id, now)
    _require_not_responded(organisation.id, consultation.id)
    participation, added = _take_part_for(user, consultation, organisation, OrganisationRole.LEAD)
    if not added:
        if participation.organisation_role is OrganisationRole.LEAD:
            return participation
        raise AlreadyTakingPart(participation)
    for original in sent_comments(organisation.id, consultation.id):
        _copy_for_lead(original, participation)
    db.session.flush()
    return participation


def _take_part_for(user: User, consultation: Consultation, organisation: Organisation,
                   role: OrganisationRole) -> tuple[Participation, bool]:
    """The user's participation on the organisation's behalf (its name and type, linked to it), and whether it is new.

    One participation per user and consultation is the database's rule: when
    another request has just made the user's, that one is returned, not new,
    and the caller decides whether it will do.
    """
    participation = Participation(
        user_id=user.id, consultation_id=consultation.id, kind=ParticipantKind.ORGANISATION,
        organisation_name=organisation.name, organisation_type=organisation.type,
        organisation_id=organisation.id, organisation_role=role,
    )
    try:
        with db.session.begin_nested():
            db.session.add(participation)
    except IntegrityError:
        winner = find_participation(user.id, consultation.id)
        if winner is None:
            raise
        return winner, False
    return participation, True


def _new_code() -> str:
    first = str(secrets.randbelow(9) + 1)  # no leading zero
    return first + "".join(str(secrets.randbelow(10)) for _ in range(CODE_LENGTH - 1))


def share_code(user: User, consultation: Consultation, now: datetime, attempts: int = 5) -> OrganisationCode:
    """The organisation's one code for this consultation: the same one every time it is asked for.

    Made with `secrets`, 12 digits, no leading zero, re-drawn when it clashes
    with another pair's code. When two leads ask at once, the unique pair
    constraint keeps one row and both are shown it. Starts the lead's response
    too, since colleagues' comments will be sent to it.
    """
    start_lead_response(user, consultation, now)
    organisation = lead_of(user.id).organisation
    for _ in range(attempts):
        existing = find_code(organisation.id, consultation.id)
        if existing is not None:
            return existing
        code = OrganisationCode(organisation_id=organisation.id, consultation_id=consultation.id,
                                code=_new_code(), created_by_id=user.id)
        try:
            with db.session.begin_nested():
                db.session.add(code)
        except IntegrityError:
            continue  # another lead's code for this pair, or a clash with any code: look again, or redraw
        return code
    raise OrganisationError("A code could not be made just now. Try again.", status=503)


def find_code(organisation_id: int, consultation_id: int) -> OrganisationCode | None:
    return db.session.scalar(select(OrganisationCode).where(OrganisationCode.organisation_id == organisation_id,
                                                            OrganisationCode.consultation_id == consultation_id))


def _digits(code: str) -> str:
    """What a person typed, less the spaces and dashes they may have copied with it."""
    cleaned = re.sub(r"[\s-]", "", code or "")
    if not cleaned:
        raise CodeFormatWrong("Enter your organisation’s code")
    if len(cleaned) != CODE_LENGTH or not cleaned.isascii() or not cleaned.isdigit():
        raise CodeFormatWrong()
    return cleaned


def check_code(user: User, consultation: Consultation, code: str, now: datetime) -> OrganisationCode:
    """The code that lets `user` comment on `consultation` for an organisation, or the reason it does not.

    A code that is unknown, or belongs to another consultation, gets the one
    IncorrectCode message. A code whose organisation has already responded
    says so: it stops working once the response is in.
    """
    require_open(consultation, now)
    found = db.session.scalar(select(OrganisationCode).where(OrganisationCode.code == _digits(code)))
    if found is None or found.consultation_id != consultation.id:
        raise IncorrectCode()
    _require_not_responded(found.organisation_id, consultation.id)
    lead = lead_of(user.id)
    if lead is not None and lead.organisation_id == found.organisation_id:
        raise LeadUsesOwnResponse()
    if lead is not None:
        raise LeadOfAnotherOrganisation(lead.organisation)
    existing = find_participation(user.id, consultation.id)
    if existing is not None:
        raise AlreadyTakingPart(existing)
    return found


def join_with_code(user: User, consultation: Consultation, code: str, now: datetime) -> Participation:
    """Take part as a colleague of the code's organisation, after the person confirmed its name.

    The participation is on the organisation's behalf (its name and type),
    linked to it, and never submits itself: its comments go to the lead.
    """
    found = check_code(user, consultation, code, now)
    participation, added = _take_part_for(user, consultation, found.organisation, OrganisationRole.COLLEAGUE)
    if not added:
        raise AlreadyTakingPart(participation)
    return participation


def _copy_for_lead(original: Comment, lead_participation: Participation) -> Comment:
    copy = Comment(
        participation=lead_participation, consultation_id=original.consultation_id,
        document_id=original.document_id, chapter_id=original.chapter_id, section_id=original.section_id,
        target=original.target, quote=original.quote, body=original.body, status=CommentStatus.DRAFT,
        original_comment_id=original.id,
    )
    db.session.add(copy)
    return copy


@dataclass(frozen=True)
class Handover:
    """A colleague's comments and answers on their way to the lead together, or just sent."""

    comments: list[Comment]
    answers: list[Answer]

    def __bool__(self) -> bool:
        return bool(self.comments or self.answers)

    @property
    def answers_by_question(self) -> dict[int, Answer]:
        return {answer.question_id: answer for answer in self.answers}

    @property
    def counted(self) -> str:
        """'1 comment and 2 answers', naming only what there is."""
        return comments_and_answers(len(self.comments), len(self.answers))


def unsent_comments(participation: Participation) -> list[Comment]:
    """A colleague's comments not yet sent to the lead, in document order."""
    return [c for c in list_comments(participation) if c.is_draft and not c.is_sent_to_lead]


def has_sent(participation: Participation) -> bool:
    """Whether a colleague has already sent their lead anything (a comment or an answer)."""
    sent_comment = select(Comment.id).where(Comment.participation_id == participation.id,
                                            Comment.sent_to_lead_at.is_not(None)).exists()
    sent_answer = select(Answer.id).where(Answer.participation_id == participation.id,
                                          Answer.sent_to_lead_at.is_not(None)).exists()
    return bool(db.session.scalar(select(or_(sent_comment, sent_answer))))


def unsent(participation: Participation) -> Handover:
    """Everything a colleague has not yet sent to the lead: comments in document order, answers in question order."""
    return Handover(unsent_comments(participation), unsent_answers(participation))


def send_to_lead(participation: Participation, now: datetime) -> Handover:
    """Send a colleague's unsent comments and answers to their organisation's lead; they become read-only.

    Answers alone may be sent. Each unsubmitted lead response of the
    organisation gets an editable copy of each comment (a lead who starts
    later gets copies then); the lead reads sent answers where they are.
    Under the organisation's lock, a send that races a submission either
    lands first, and is in it, or is refused with ResponseClosedToColleague.
    """
    if participation.organisation_role is not OrganisationRole.COLLEAGUE:
        raise NotAColleague()
    require_open(participation.consultation, now)
    if not participation.user.email_verified:
        raise EmailNotConfirmed()
    require_colleague_response_open(participation, now)
    # The colleague's own row too: an edit in flight finishes before, or sees the comment sent.
    db.session.execute(update(Participation).where(Participation.id == participation.id).values(updated_at=now)
                       .execution_options(synchronize_session=False))
    db.session.expire_all()
    to_send = unsent_comments(participation)
    answers = unsent_answers(participation)
    if not to_send and not answers:
        raise NothingMoreToSend() if has_sent(participation) else NothingToSend()
    for answer in answers:
        answer.sent_to_lead_at = now
    # Copies go to the responses of the organisation's leads as they stand now, never to a removed lead's.
    lead_responses = db.session.scalars(
        select(Participation)
        .join(OrganisationLead, and_(OrganisationLead.user_id == Participation.user_id,
                                     OrganisationLead.organisation_id == Participation.organisation_id))
        .where(Participation.organisation_id == participation.organisation_id,
               Participation.consultation_id == participation.consultation_id,
               Participation.organisation_role == OrganisationRole.LEAD)
    ).all()
    for comment in to_send:
        comment.sent_to_lead_at = now
        for lead_response in lead_responses:
            _copy_for_lead(comment, lead_response)
    db.session.flush()
    sent = Handover(to_send, answers)
    _tell_the_leads(participation, sent)
    return sent


def _tell_the_leads(colleague: Participation, sent: Handover) -> None:
    """Email each of the organisation's leads what a colleague sent, in the send's own transaction.

    A lead gathers colleagues' comments over weeks and submits once; without
    a word when something arrives, they would have to keep checking.
    """
    from consult.mail.services import absolute_url, queue_email

    consultation = colleague.consultation
    leads = db.session.scalars(select(User).join(OrganisationLead, OrganisationLead.user_id == User.id)
                               .where(OrganisationLead.organisation_id == colleague.organisation_id)
                               .order_by(User.id)).all()
    for lead in leads:
        if not lead.is_active or lead.anonymised_at is not None:
            continue
        queue_email(
            lead.email, "sent_to_lead",
            f"A colleague sent {sent.counted} for your organisation’s response to {consultation.reference}",
            name=lead.name, colleague_name=colleague.user.name, colleague_email=colleague.user.email,
            counted=sent.counted, organisation_name=colleague.organisation_name,
            consultation_title=consultation.title, consultation_reference=consultation.reference,
            closes_at=consultation.closes_at,
            link=absolute_url("organisations.hub", reference=consultation.reference),
        )


def unsent_answers(participation: Participation) -> list[Answer]:
    """A colleague's answers not yet sent to the lead, in the consultation's order of questions."""
    return list(db.session.scalars(
        select(Answer).join(Question, Answer.question_id == Question.id)
        .where(Answer.participation_id == participation.id, Answer.sent_to_lead_at.is_(None))
        .options(joinedload(Answer.question)).order_by(Question.position)))


def _sent_answer_list(organisation_id: int, consultation_id: int) -> list[Answer]:
    """Colleagues' answers sent to the lead, oldest first, each with who sent it and its question: one query."""
    return list(db.session.scalars(
        select(Answer).join(Participation, Answer.participation_id == Participation.id)
        .where(Participation.organisation_id == organisation_id, Participation.consultation_id == consultation_id,
               Participation.organisation_role == OrganisationRole.COLLEAGUE, Answer.sent_to_lead_at.is_not(None))
        .options(joinedload(Answer.participation).joinedload(Participation.user), joinedload(Answer.question))
        .order_by(Answer.sent_to_lead_at, Answer.id)))


def sent_answers(organisation_id: int, consultation_id: int) -> dict[int, list[Answer]]:
    """Colleagues' answers sent to the lead, by question id, oldest first, each with who sent it."""
    grouped: dict[int, list[Answer]] = {}
    for answer in _sent_answer_list(organisation_id, consultation_id):
        grouped.setdefault(answer.question_id, []).append(answer)
    return grouped


def adopt_answer(participation: Participation, colleague_answer: Answer, now: datetime) -> Answer:
    """Make a colleague's sent answer the organisation's answer to its question, in the lead's response.

    Any other answer (someone else's, another organisation's, one not sent)
    is AnswerNotThere, as a missing one is: whether it exists is not told.
    """
    if participation.organisation_role is not OrganisationRole.LEAD:
        raise NotALead()
    sender = colleague_answer.participation
    if (sender.organisation_role is not OrganisationRole.COLLEAGUE
            or sender.organisation_id != participation.organisation_id
            or sender.consultation_id != participation.consultation_id or colleague_answer.sent_to_lead_at is None):
        raise AnswerNotThere()
    return save_answer(participation, colleague_answer.question, colleague_answer.yes_no, colleague_answer.text, now)


def _settle_answers(participation: Participation, now: datetime) -> None:
    """Give the organisation one answer per question before it submits.

    The lead's own answer (written, or chosen from a colleague's) stands. Where the lead has
    none, colleagues' sent answers that all say the same become the organisation's; where they
    differ, nothing is guessed: AnswersToMerge names the questions the lead must settle.
    """
    own = answers_by_question(participation)
    sent = sent_answers(participation.organisation_id, participation.consultation_id)
    numbers = {question.id: number for number, question in enumerate(list_questions(participation.consultation_id), 1)}
    disagreements = []
    for question_id, answers in sent.items():
        if question_id in own:
            continue
        if len({(answer.yes_no, answer.text) for answer in answers}) == 1:
            save_answer(participation, answers[0].question, answers[0].yes_no, answers[0].text, now)
        else:
            disagreements.append((numbers.get(question_id, 0), answers[0].question))
    if disagreements:
        raise AnswersToMerge(sorted(disagreements, key=lambda pair: pair[0]))


def sent_comments(organisation_id: int, consultation_id: int, colleague_id: int | None = None) -> list[Comment]:
    """Every comment the organisation's colleagues sent to its lead for this consultation, oldest first."""
    query = (
        select(Comment).join(Participation, Comment.participation_id == Participation.id)
        .where(Participation.organisation_id == organisation_id,
               Participation.consultation_id == consultation_id,
               Participation.organisation_role == OrganisationRole.COLLEAGUE,
               Comment.sent_to_lead_at.is_not(None))
        .options(joinedload(Comment.participation).joinedload(Participation.user),
                 joinedload(Comment.document), joinedload(Comment.chapter), joinedload(Comment.section))
        .order_by(Comment.sent_to_lead_at, Comment.id)
    )
    if colleague_id is not None:
        query = query.where(Participation.user_id == colleague_id)
    return list(db.session.scalars(query))


def everything_sent(organisation_id: int, consultation_id: int) -> Handover:
    """Every comment and answer the organisation's colleagues sent to its lead, each oldest first, in two queries."""
    return Handover(sent_comments(organisation_id, consultation_id),
                    _sent_answer_list(organisation_id, consultation_id))


def questions_to_answer(participation: Participation) -> int:
    """How many questions the lead's response answers once submitted.

    The lead's own answers, and every question a colleague sent an answer to:
    submitting gives each of those the organisation's one answer (or is
    refused until the lead chooses). One query, however many were sent.
    """
    colleague = (Participation.organisation_id == participation.organisation_id) & (
        Participation.consultation_id == participation.consultation_id) & (
        Participation.organisation_role == OrganisationRole.COLLEAGUE) & Answer.sent_to_lead_at.is_not(None)
    return db.session.scalar(
        select(func.count(distinct(Answer.question_id)))
        .join(Participation, Answer.participation_id == Participation.id)
        .where(or_(Answer.participation_id == participation.id, colleague)))


@dataclass(frozen=True)
class Colleague:
    user_id: int
    name: str
    email: str


def colleagues_who_sent(organisation_id: int, consultation_id: int) -> list[Colleague]:
    """Who has sent comments to the lead, for the lead's filter."""
    rows = db.session.execute(
        select(User.id, User.name, User.email).distinct()
        .join(Participation, Participation.user_id == User.id)
        .join(Comment, Comment.participation_id == Participation.id)
        .where(Participation.organisation_id == organisation_id, Participation.consultation_id == consultation_id,
               Participation.organisation_role == OrganisationRole.COLLEAGUE, Comment.sent_to_lead_at.is_not(None))
        .order_by(User.email)
    ).all()
    return [Colleague(*row) for row in rows]


def lead_response_comments(participation: Participation, colleague_id: int | None = None) -> list[Comment]:
    """The lead's response in document order; with `colleague_id`, only the copies of what they sent."""
    comments = list_comments(participation)
    if colleague_id is None:
        return comments
    return [c for c in comments
            if c.original_comment is not None and c.original_comment.participation.user_id == colleague_id]


def submit_organisation_response(participation: Participation, has_tobacco_links: bool | None,
                                 tobacco_details: str, now: datetime) -> Participation:
    """Submit the organisation's one response: the lead's declaration, then the house's submit_response.

    Under the organisation's lock, a second lead (or a replay) finds the
    organisation has already responded; the partial unique index refuses a
    second submitted response even so.
    """
    if participation.organisation_role is not OrganisationRole.LEAD:
        raise NotALead()
    if participation.is_submitted:
        return participation
    if former_lead(participation):
        raise NoLongerLead()
    if has_tobacco_links is None:
        raise InvalidDeclaration("Select yes if your organisation has links with the tobacco industry",
                                 field="has_tobacco_links")
    details = (tobacco_details or "").strip() if has_tobacco_links else ""
    if has_tobacco_links and not details:
        raise InvalidDeclaration("Give details of the links with, or funding from, the tobacco industry")
    require_open(participation.consultation, now)
    _lock_organisation(participation.organisation_id, now)
    _require_not_responded(participation.organisation_id, participation.consultation_id)
    _settle_answers(participation, now)
    participation.has_tobacco_links = has_tobacco_links
    participation.tobacco_details = details
    db.session.flush()
    try:
        with db.session.begin_nested():
            submit_response(participation, now)
    except IntegrityError:
        raise OrganisationAlreadyResponded() from None
    _tell_colleagues_left_out(participation)
    return participation


@dataclass(frozen=True)
class Unsent:
    """A colleague with comments or answers they have not sent to the lead."""

    colleague: Participation
    comments: int
    answers: int

    @property
    def counted(self) -> str:
        return comments_and_answers(self.comments, self.answers)


def colleagues_with_unsent(organisation_id: int, consultation_id: int) -> list[Unsent]:
    """Colleagues holding comments or answers not yet sent to the lead, in the order they joined: two counts.

    The lead's submit page names them, since a submission closes their part.
    """
    colleagues = (Participation.organisation_id == organisation_id, Participation.consultation_id == consultation_id,
                  Participation.organisation_role == OrganisationRole.COLLEAGUE)
    comments = dict(db.session.execute(
        select(Comment.participation_id, func.count()).join(Participation, Participation.id == Comment.participation_id)
        .where(*colleagues, Comment.status == CommentStatus.DRAFT, Comment.sent_to_lead_at.is_(None))
        .group_by(Comment.participation_id)).all())
    answers = dict(db.session.execute(
        select(Answer.participation_id, func.count()).join(Participation, Participation.id == Answer.participation_id)
        .where(*colleagues, Answer.sent_to_lead_at.is_(None))
        .group_by(Answer.participation_id)).all())
    ids = sorted(set(comments) | set(answers))
    if not ids:
        return []
    found = db.session.scalars(select(Participation).where(Participation.id.in_(ids))
                               .options(joinedload(Participation.user))).all()
    return [Unsent(p, comments.get(p.id, 0), answers.get(p.id, 0)) for p in sorted(found, key=lambda p: p.id)]


def _tell_colleagues_left_out(response: Participation) -> None:
    """Email each colleague whose unsent comments or answers the submitted response leaves out.

    Their part closed with the lead's submission; without a word they would
    find out only by trying to send, after the consultation may have closed.
    """
    from consult.mail.services import absolute_url, queue_email

    consultation = response.consultation
    for unsent in colleagues_with_unsent(response.organisation_id, consultation.id):
        user = unsent.colleague.user
        if not user.is_active or user.anonymised_at is not None:
            continue
        queue_email(
            user.email, "left_out_of_response",
            f"Your organisation’s response to {consultation.reference} was submitted without {unsent.counted}",
            name=user.name, counted=unsent.counted, organisation_name=response.organisation_name,
            consultation_title=consultation.title, consultation_reference=consultation.reference,
            submitted_at=response.submitted_at, one=unsent.comments + unsent.answers == 1,
            link=absolute_url("comments.review", reference=consultation.reference),
        )


# --- The lead's download of what colleagues sent ---------------------------------

SENT_COLUMNS = ["Sent by", "Email address", "Sent at (UK time)", "Document", "Chapter", "Section number",
                "Section heading", "Selected text", "Comment"]


def sent_values(comment: Comment) -> list:
    """One colleague's original, as sent, with who sent it."""
    sender = comment.participation.user
    return [
        sender.name,
        sender.email,
        spreadsheet_time(comment.sent_to_lead_at),
        comment.document.title,
        comment.chapter.label if comment.chapter else "",
        comment.section.number if comment.section else "",
        (comment.section.heading or "") if comment.section else "",
        comment.quote or "",
        comment.body,
    ]

