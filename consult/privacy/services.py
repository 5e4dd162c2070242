"""People's own data (UK GDPR): what we hold about a person, erasing it, and how long we keep it.

Every function takes plain values and the moment it acts at (`now`), raises
a DomainError when a rule is broken, flushes, and leaves the commit to its
caller (a view, or the retention command).
"""

import enum
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from sqlalchemy import Select, delete, exists, func, inspect, or_, select, update
from werkzeug.security import check_password_hash

from consult.accounts.models import Role, User, new_session_token
from consult.audit.services import record
from consult.comments import services as comment_services
from consult.comments.models import Comment, CommentStatus, ParticipantKind, Participation
from consult.downloads import SheetWriter, new_workbook
from consult.errors import DomainError
from consult.extensions import db
from consult.mail.models import OutboxEmail, OutboxStatus
from consult.organisations.models import OrganisationCode, OrganisationLead
from consult.questions.models import Answer, Question
from consult.uk_time import spreadsheet_time


# What an anonymised account keeps in place of what identified the person.
ERASED_NAME = "Deleted account"
ERASED_DETAILS = "Details erased when the participant deleted their account."
# No "$" separator, so werkzeug's check_password_hash refuses every password against it.
UNUSABLE_PASSWORD = "erased"

DELETED_BY_OWNER = "deleted by the account holder"


def erased_email(user_id: int) -> str:
    """A unique stand-in for an erased address: the reserved .invalid domain can never receive mail,
    and the registration form's email check refuses it, so no one can register it."""
    return f"deleted-{user_id}@invalid"


class WrongPassword(DomainError):
    message = "Your password is not correct"
    field = "password"


class AccountCannotBeDeleted(DomainError):
    message = ("Accounts with the staff, committee or admin role cannot be deleted here, because what they "
               "did is part of the consultation record. Ask an admin to change your role to stakeholder first.")
    status = 403


class AlreadyAnonymised(DomainError):
    message = "This account has already been deleted."
    status = 409


# --- Your data -----------------------------------------------------------------

ACCOUNT_FIELDS = [
    ("id", "Account number"), ("email", "Email address"), ("name", "Full name"), ("role", "Role"),
    ("created_at", "Created (UK time)"), ("last_signed_in_at", "Last signed in (UK time)"),
]
PARTICIPATION_FIELDS = [
    ("consultation", "Consultation"), ("consultation_title", "Consultation title"),
    ("taking_part", "How you are taking part"), ("individual_type", "Participant type"),
    ("organisation_name", "Organisation"), ("organisation_type", "Organisation type"),
    ("has_tobacco_links", "Links with the tobacco industry"), ("tobacco_details", "Tobacco link details"),
    ("other_interests", "Other interests"), ("publish_name", "Name may be published"),
    ("organisation_role", "Role in the organisation's response"),
    ("chosen_at", "Chosen (UK time)"), ("submitted_at", "Submitted (UK time)"),
    ("receipt_reference", "Receipt reference"),
]
COMMENT_FIELDS = [
    ("consultation", "Consultation"), ("reference", "Comment number"), ("status", "Status"),
    ("document", "Document"), ("chapter", "Chapter"), ("section_number", "Section number"),
    ("section_heading", "Section heading"), ("quote", "Selected text"), ("comment", "Comment"),
    ("written_at", "Written (UK time)"), ("submitted_at", "Submitted (UK time)"),
]
ANSWER_FIELDS = [
    ("consultation", "Consultation"), ("question", "Question"), ("about", "About"), ("status", "Status"),
    ("yes_no", "Yes or no"), ("answer", "Answer"), ("written_at", "Written (UK time)"),
    ("sent_to_lead_at", "Sent to your organisation's lead (UK time)"), ("submitted_at", "Submitted (UK time)"),
]
ORGANISATION_FIELDS = [
    ("what", "What"), ("organisation", "Organisation"), ("organisation_type", "Organisation type"),
    ("consultation", "Consultation"), ("code", "Code"), ("since", "Since (UK time)"),
]


@dataclass(frozen=True)
class YourData:
    """Everything held about one person, as plain values: the same for the JSON and the workbook."""

    account: dict
    participations: list[dict]
    comments: list[dict]
    answers: list[dict]
    organisation: list[dict]
    emails: list[dict]

    def as_dict(self) -> dict:
        return {"account": self.account, "participations": self.participations, "comments": self.comments,
                "answers": self.answers, "organisation": self.organisation, "emails": self.emails}


def _label(value) -> str | None:
    return None if value is None else value.label


def emails_sent_to(user: User) -> list[dict]:
    """Every email the service has written to this person's address, whatever its state, oldest first.

    The outbox keeps the address, subject and both bodies: all of it is the
    person's, so every column is listed.
    """
    keys = [attribute.key for attribute in inspect(OutboxEmail).column_attrs]
    rows = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to == user.email).order_by(OutboxEmail.id))
    return [{key: _plain(getattr(row, key)) for key in keys} for row in rows]


def _erase_emails_to(address: str, erased_address: str) -> int:
    """Emails still to be sent are dropped; sent ones keep only their kind, subject and dates.

    The subject names a consultation, never the person; the bodies greet
    them by name, so they go.
    """
    unsent = db.session.execute(
        delete(OutboxEmail).where(OutboxEmail.to == address, OutboxEmail.status != OutboxStatus.SENT)
        .execution_options(synchronize_session="fetch")).rowcount
    db.session.execute(
        update(OutboxEmail).where(OutboxEmail.to == address)
        .values(to=erased_address, text="", html="").execution_options(synchronize_session="fetch"))
    return unsent


def _plain(value):
    """A column value as JSON would carry it: enums by their value, everything else unchanged."""
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _answer_status(answer: Answer, participation: Participation) -> str:
    if participation.is_submitted:
        return "Submitted"
    return "Sent to your organisation's lead" if answer.sent_to_lead_at is not None else "Draft"


def _answers_of(participation: Participation) -> list[dict]:
    answers = db.session.scalars(
        select(Answer).join(Question, Answer.question_id == Question.id)
        .where(Answer.participation_id == participation.id).order_by(Question.position, Answer.id))
    return [{
        "consultation": participation.consultation.reference,
        "question": answer.question.text,
        "about": answer.question.about,
        "status": _answer_status(answer, participation),
        "yes_no": answer.yes_no,
        "answer": answer.text,
        "written_at": answer.created_at,
        "sent_to_lead_at": answer.sent_to_lead_at,
        "submitted_at": participation.submitted_at,
    } for answer in answers]


def _organisation_of(user: User) -> list[dict]:
    """Being an organisation's commenting lead, and the codes the person shared with colleagues."""
    rows = []
    lead = db.session.get(OrganisationLead, user.id)
    if lead is not None:
        rows.append({"what": "Commenting lead", "organisation": lead.organisation.name,
                     "organisation_type": lead.organisation.type.label, "consultation": None, "code": None,
                     "since": lead.created_at})
    for code in db.session.scalars(select(OrganisationCode).where(OrganisationCode.created_by_id == user.id)
                                   .order_by(OrganisationCode.id)):
        rows.append({"what": "Code shared with colleagues", "organisation": code.organisation.name,
                     "organisation_type": code.organisation.type.label,
                     "consultation": code.consultation.reference, "code": code.shown, "since": code.created_at})
    return rows


def collect_your_data(user: User) -> YourData:
    """Everything held about `user` and nobody else: their account, how they took part (with their
    declarations), every comment and answer they wrote (drafts, sent to a lead and submitted), their
    part in an organisation (commenting lead, codes shared) and the emails sent to them.

    Comments appear as the person wrote them, before any moderation, since
    it is their own text. Staff's moderation notes are not included.
    """
    account = {
        "id": user.id, "email": user.email, "name": user.name, "role": user.role.value,
        "created_at": user.created_at, "last_signed_in_at": user.last_signed_in_at,
    }
    participations, comments, answers = [], [], []
    for participation in db.session.scalars(
            select(Participation).where(Participation.user_id == user.id).order_by(Participation.created_at,
                                                                                   Participation.id)):
        consultation = participation.consultation
        participations.append({
            "consultation": consultation.reference,
            "consultation_title": consultation.title,
            "taking_part": participation.kind.label,
            "individual_type": _label(participation.individual_type),
            "organisation_name": participation.organisation_name,
            "organisation_type": _label(participation.organisation_type),
            "has_tobacco_links": participation.has_tobacco_links,
            "tobacco_details": participation.tobacco_details,
            "other_interests": participation.other_interests,
            "publish_name": participation.publish_name,
            "organisation_role": _label(participation.organisation_role),
            "chosen_at": participation.created_at,
            "submitted_at": participation.submitted_at,
            "receipt_reference": participation.receipt_reference,
        })
        for comment in comment_services.list_comments(participation):
            comments.append({
                "consultation": consultation.reference,
                "reference": comment.reference,
                "status": comment.status.label,
                "document": comment.document.title,
                "chapter": comment.chapter.label if comment.chapter else None,
                "section_number": comment.section.number if comment.section else None,
                "section_heading": (comment.section.heading or None) if comment.section else None,
                "quote": comment.quote,
                "comment": comment.body,
                "written_at": comment.created_at,
                "submitted_at": comment.submitted_at,
            })
        answers.extend(_answers_of(participation))
    return YourData(account, participations, comments, answers, _organisation_of(user), emails_sent_to(user))


def count_your_data(user: User) -> tuple[int, int]:
    """How many consultations the person has taken part in, and how many comments (drafts too) they wrote."""
    return tuple(db.session.execute(
        select(func.count(Participation.id.distinct()), func.count(Comment.id))
        .select_from(Participation).outerjoin(Comment, Comment.participation_id == Participation.id)
        .where(Participation.user_id == user.id)).one())


def _json_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")


def your_data_json(data: YourData) -> str:
    """The data as JSON: the same keys whether or not a value is empty, dates as ISO 8601 in UTC."""
    return json.dumps(data.as_dict(), default=_json_value, ensure_ascii=False, indent=2)


def _cell(value):
    """A value as a spreadsheet cell: UK time for dates (as every other download), Yes/No for answers."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return spreadsheet_time(value)
    return value


def _sheets(data: YourData) -> Iterator[tuple[str, list[str], list[list]]]:
    def rows(fields, items):
        return [[_cell(item[key]) for key, _ in fields] for item in items]

    yield "Account", [h for _, h in ACCOUNT_FIELDS], rows(ACCOUNT_FIELDS, [data.account])
    yield "Participations", [h for _, h in PARTICIPATION_FIELDS], rows(PARTICIPATION_FIELDS, data.participations)
    yield "Comments", [h for _, h in COMMENT_FIELDS], rows(COMMENT_FIELDS, data.comments)
    yield "Answers", [h for _, h in ANSWER_FIELDS], rows(ANSWER_FIELDS, data.answers)
    yield "Organisation", [h for _, h in ORGANISATION_FIELDS], rows(ORGANISATION_FIELDS, data.organisation)
    email_keys = list(data.emails[0]) if data.emails else ["sent"]
    yield "Emails", email_keys, rows([(key, key) for key in email_keys], data.emails)


def write_your_data_workbook(data: YourData, target: IO[bytes] | str) -> None:
    """A workbook with one sheet per section (Account, Participations, Comments, Answers, Organisation, Emails).

    Written by the service's shared sheet writer, so text that a spreadsheet
    would run as a formula is neutralised and long text is never truncated.
    """
    book, formats = new_workbook(target)
    for name, headings, rows in _sheets(data):
        sheet = SheetWriter(book, name, headings, formats)
        for values in rows:
            sheet.write(values)
        sheet.finish()
    book.close()


# --- Deleting an account -------------------------------------------------------

@dataclass(frozen=True)
class Anonymised:
    """What anonymising one account did, in counts (the audit trail records the same)."""

    drafts_deleted: int
    participations_deleted: int
    responses_kept: int
    answers_deleted: int = 0
    lead_role_ended: bool = False


def anonymise_account(user: User, actor: User | None, now: datetime, reason: str) -> Anonymised:
    """Erase what identifies `user` while the consultation record stays whole.

    Guarantees, in one transaction:
    - Draft (unsubmitted) comments are deleted, and so is a participation
      with nothing submitted, with its answers: without a response, the
      declarations and answers have no purpose left. A colleague's comments
      sent to their organisation's lead go too; the copies in the lead's
      response are the lead's, and stay. Answers in a submitted response stay.
    - A commenting lead stops being one (the organisation and its
      submitted responses stay); codes they shared keep working for colleagues.
    - Submitted comments stay, unchanged, in every staff output. A response
      on behalf of an organisation keeps the organisation's name, type and
      declarations: they are the organisation's, and the committee must see
      an organisation's tobacco links (WHO FCTC article 5.3). An individual's
      response shows as "Individual (<type>)": consent to publish the name is
      withdrawn (the name no longer exists), "other interests" free text is
      erased, and the tobacco-link details text is replaced by a note saying
      it was erased. Whether they declared tobacco links (yes or no) is kept,
      because the committee weighs the comment by it and it names nobody.
    - The email becomes `deleted-<id>@invalid` (the column is unique and not
      null), so the address can register again; the name and last sign-in are
      erased, the password can no longer match anything, and the session
      token is rotated, so every session and remember-me cookie ends at once.
    - Emails to the old address that were never sent are dropped; sent ones
      keep their kind, subject and dates, with the address and bodies erased.
    - The audit trail records the act, the reason and the counts, never the
      erased email or name.
    A second call for the same account raises AlreadyAnonymised.
    """
    # Lock the account, then its participations, so that a comment saved at the same moment either lands
    # before (and is deleted here) or finds its participation gone; re-read so the rules see what is committed.
    db.session.execute(select(User).where(User.id == user.id).with_for_update()
                       .execution_options(populate_existing=True)).one()
    if user.anonymised_at is not None:
        raise AlreadyAnonymised()
    participations = list(db.session.scalars(
        select(Participation).where(Participation.user_id == user.id).order_by(Participation.id)
        .with_for_update().execution_options(populate_existing=True)))
    ids = [participation.id for participation in participations]
    unsubmitted = [participation.id for participation in participations if not participation.is_submitted]
    drafts_deleted = db.session.execute(
        delete(Comment).where(Comment.participation_id.in_(ids), Comment.status == CommentStatus.DRAFT)
        .execution_options(synchronize_session="fetch")).rowcount if ids else 0
    answers_deleted = db.session.execute(
        delete(Answer).where(Answer.participation_id.in_(unsubmitted))
        .execution_options(synchronize_session="fetch")).rowcount if unsubmitted else 0
    lead = db.session.get(OrganisationLead, user.id)
    if lead is not None:
        db.session.delete(lead)
    kept = deleted = 0
    for participation in participations:
        if not participation.is_submitted:
            db.session.delete(participation)
            deleted += 1
            continue
        kept += 1
        participation.publish_name = False
        if participation.kind is ParticipantKind.INDIVIDUAL:
            participation.other_interests = ""
            if participation.tobacco_details:
                participation.tobacco_details = ERASED_DETAILS
    _erase_emails_to(user.email, erased_email(user.id))
    user.email = erased_email(user.id)
    user.name = ERASED_NAME
    user.password_hash = UNUSABLE_PASSWORD
    user.session_token = new_session_token()
    user.last_signed_in_at = None
    user.anonymised_at = now
    result = Anonymised(drafts_deleted=drafts_deleted, participations_deleted=deleted, responses_kept=kept,
                        answers_deleted=answers_deleted, lead_role_ended=lead is not None)
    record(actor, "user.anonymise", user, None,
           {"reason": reason, "anonymised_at": now.isoformat(), "drafts_deleted": drafts_deleted,
            "answers_deleted": answers_deleted, "participations_deleted": deleted, "responses_kept": kept,
            "lead_role_ended": lead is not None})
    db.session.flush()
    return result


def can_delete_own_account(user: User) -> bool:
    """Only stakeholders delete their own accounts.

    Staff, committee and admin accounts act in the audit trail, moderation
    and committee assignments, which must keep saying who did what; an admin
    changes such a role to stakeholder first. As an admin can never remove
    their own admin role, the last admin can never delete the last admin account.
    """
    return user.role is Role.STAKEHOLDER


def delete_own_account(user: User, password: str, now: datetime) -> Anonymised:
    """The account holder deletes their account, confirming with their password (see anonymise_account)."""
    if not can_delete_own_account(user):
        raise AccountCannotBeDeleted()
    if not check_password_hash(user.password_hash, password):
        raise WrongPassword()
    return anonymise_account(user, user, now, DELETED_BY_OWNER)


# --- Activity and retention ----------------------------------------------------

def record_sign_in(user: User, now: datetime) -> None:
    """Note when the account was last signed in to, for the retention job."""
    user.last_signed_in_at = now
    db.session.flush()


def years_before(moment: datetime, years: int) -> datetime:
    """The same date and time `years` earlier; 29 February becomes 28 February in a common year."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def inactive_accounts_query(cutoff: datetime) -> Select:
    """Stakeholder accounts, not yet anonymised, with no sign-in, no account creation and no comment
    written, changed or submitted since `cutoff`.

    Comment activity is read from the participation, which every draft save,
    change, deletion and submission touches (comments.services claims it).
    """
    recent_comment_activity = exists().where(Participation.user_id == User.id,
                                             Participation.updated_at >= cutoff)
    return (select(User)
            .where(User.role == Role.STAKEHOLDER, User.anonymised_at.is_(None), User.created_at < cutoff,
                   or_(User.last_signed_in_at.is_(None), User.last_signed_in_at < cutoff),
                   ~recent_comment_activity)
            .order_by(User.id))


def inactive_reason(years: int) -> str:
    return f"no activity for {years} years"


def anonymise_if_inactive(user_id: int, cutoff: datetime, now: datetime, reason: str) -> bool:
    """Anonymise the account if it is still inactive since `cutoff`, by the system; True if it was.

    The test is made again on the locked row, so an account signed in to
    since the job listed it is kept.
    """
    user = db.session.scalar(inactive_accounts_query(cutoff).where(User.id == user_id).with_for_update())
    if user is None:
        return False
    anonymise_account(user, None, now, reason)
    return True
