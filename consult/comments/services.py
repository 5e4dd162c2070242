"""The stakeholder's rules: take part once, keep drafts, submit once before the deadline.

Every function takes plain values and the moment it acts at (`now`), raises a
domain error when a rule is broken, flushes, and leaves the commit to the view.
"""

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from consult.audit.services import record
from consult.consultations.models import Chapter, Consultation, ConsultationStatus, Document, Section
from consult.comments.models import (
    MAX_COMMENT_LENGTH,
    Comment,
    CommentStatus,
    CommentTarget,
    IndividualType,
    OrganisationRole,
    OrganisationType,
    ParticipantKind,
    Participation,
)
from consult.errors import DomainError
from consult.consultations.guidance_text import guidance_plain
from consult.extensions import db
from consult.text import direction_controls_refused, has_direction_controls, is_blank, tidy_name
from consult.uk_time import spreadsheet_time


class CommentingError(DomainError):
    """A broken rule of taking part or commenting, with the sentence to show the person who broke it."""

    status = 409  # the request is fine; the state of the response or the consultation refuses it


class ConsultationNotOpen(CommentingError):
    def __init__(self, consultation: Consultation, status: ConsultationStatus):
        self.consultation = consultation
        self.consultation_status = status
        if status is ConsultationStatus.CLOSED:
            super().__init__("This consultation closed and is no longer accepting comments.")
        else:
            super().__init__("This consultation is not open for comments yet.")


class ParticipationAlreadyChosen(CommentingError):
    message = "You have already chosen how you are taking part in this consultation. It cannot be changed."

    def __init__(self, existing: Participation):
        super().__init__()
        self.existing = existing


class InvalidOrganisationName(CommentingError):
    field = "organisation_name"
    status = 400

    def __init__(self):
        super().__init__(direction_controls_refused("Organisation name"))


class ParticipationRequired(CommentingError):
    message = "Tell us how you are taking part in this consultation before you comment."


class ResponseAlreadySubmitted(CommentingError):
    message = "You have already submitted your response to this consultation, so comments can no longer be added or changed."


class EmailNotVerified(CommentingError):
    message = ("Confirm your email address before you submit your response: open the link we sent you. "
               "Your draft comments are kept. If the email has not arrived, ask for the link again.")


class NothingToSubmit(CommentingError):
    message = "You have no draft comments to submit. Add a comment or answer a question first."


class SentToLead(CommentingError):
    message = ("You have sent this comment to your organisation’s commenting lead, so it can no longer be "
               "changed. The lead can change their copy.")


class ColleaguesSendToLead(CommentingError):
    message = ("You are commenting with your organisation’s code, so your organisation’s commenting lead "
               "submits its response. Send your comments to the lead instead.")


class DraftAlreadySaved(CommentingError):
    """The comment form was sent again (Back, then Save again, or two presses that both got through) and
    its draft is already saved (save_draft's `once`). Nothing is wrong, so the view says so."""

    message = "You had already saved this comment as a draft. It is kept once."
    status = 200


class DraftGone(CommentingError):
    """The draft was deleted by a request that got to it first (another tab, or the same delete sent twice)."""

    message = "This draft comment is no longer there: it was deleted, perhaps in another tab or window."
    status = 404


class DraftChangedElsewhere(CommentingError):
    message = ("This draft was changed in another tab or window after you opened this page, so your changes "
               "below are not saved yet. Select ‘Save changes’ to replace the saved draft with them.")
    field = "body"


class ChangedSinceShown(CommentingError):
    """A submit or send pressed on a page that no longer shows what it would act on (see as_shown)."""


class InvalidComment(CommentingError):
    """The comment's own text is wrong: shown beside its field like any other answer to correct."""

    field = "body"
    status = 200


@dataclass(frozen=True)
class ParticipationChoice:
    """The answers to 'How are you taking part?', as plain values."""

    kind: ParticipantKind
    individual_type: IndividualType | None = None
    organisation_name: str | None = None
    organisation_type: OrganisationType | None = None
    has_tobacco_links: bool = False
    tobacco_details: str = ""
    other_interests: str = ""
    publish_name: bool = False


def require_open(consultation: Consultation, now: datetime) -> None:
    """Refuse unless the consultation takes responses at `now`, the moment the request reached the service.

    Up to the consultation's late grace after closes_at, a write is still taken: it was sent before
    the deadline and waited behind others in the queue.
    """
    if not consultation.accepts_responses_at(now):
        raise ConsultationNotOpen(consultation, consultation.status_at(now))


def find_participation(user_id: int, consultation_id: int) -> Participation | None:
    return db.session.scalar(
        select(Participation).where(
            Participation.user_id == user_id, Participation.consultation_id == consultation_id
        )
    )


def choose_participation(user, consultation: Consultation, choice: ParticipationChoice,
                         now: datetime) -> Participation:
    """Record how `user` takes part. Exactly once: the database refuses a second row.

    When two first choices race, the loser's insert fails on the unique
    constraint inside a savepoint; it then raises ParticipationAlreadyChosen
    carrying the row that won, so the caller can show it instead of an error.
    An organisation's name is kept as consult.text.tidy_name keeps names;
    one holding a direction control is refused (InvalidOrganisationName).
    """
    require_open(consultation, now)
    existing = find_participation(user.id, consultation.id)
    if existing is not None:
        raise ParticipationAlreadyChosen(existing)
    is_organisation = choice.kind is ParticipantKind.ORGANISATION
    organisation_name = tidy_name(choice.organisation_name or "") if is_organisation else None
    if organisation_name and has_direction_controls(organisation_name):
        raise InvalidOrganisationName()
    participation = Participation(
        user_id=user.id,
        consultation_id=consultation.id,
        kind=choice.kind,
        individual_type=None if is_organisation else choice.individual_type,
        organisation_name=organisation_name,
        organisation_type=choice.organisation_type if is_organisation else None,
        has_tobacco_links=choice.has_tobacco_links,
        tobacco_details=choice.tobacco_details.strip() if choice.has_tobacco_links else "",
        other_interests=choice.other_interests.strip(),
        publish_name=choice.publish_name,
    )
    try:
        with db.session.begin_nested():
            db.session.add(participation)
    except IntegrityError:
        winner = find_participation(user.id, consultation.id)
        if winner is None:  # refused for another reason: not a race, so not ours to hide
            raise
        raise ParticipationAlreadyChosen(winner) from None
    # The declaration a person made is part of the record of their response,
    # so an admin asked "what did this person do" can find it by their email.
    record(user, "participation.choose", participation, None, {
        "consultation": consultation.reference, "kind": choice.kind.value,
        "organisation_name": participation.organisation_name, "has_tobacco_links": choice.has_tobacco_links,
        "publish_name": choice.publish_name})
    return participation


_WHITESPACE = re.compile(r"\s+")


def _normalise_space(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if is_blank(body):
        raise InvalidComment("Enter your comment")
    if len(body) > MAX_COMMENT_LENGTH:
        raise InvalidComment(
            f"Your comment must be {MAX_COMMENT_LENGTH:,} characters or fewer. It has {len(body):,}."
        )
    return body


def clean_quote(quote: str | None, section: Section | None) -> str | None:
    """A quoted passage must really occur in the section it quotes (spacing aside); the form asks too.

    Either as written or as a reader sees it: a section's lists and bold
    words are shown without their bullets and asterisks, so words selected or
    copied from the page come without them.
    """
    quote = _normalise_space(quote or "")
    if not quote:
        return None
    if section is None:
        raise InvalidComment("A quoted passage can only be added to a comment on a section.", field="quote")
    if quote not in _normalise_space(section.text) and quote not in _normalise_space(guidance_plain(section.text)):
        raise InvalidComment(
            f"The quoted passage does not appear in section {section.number}. "
            "Copy the words exactly from the section, or leave the quote empty.",
            field="quote",
        )
    return quote


def claim_unsubmitted(participation: Participation, now: datetime) -> bool:
    """Lock the participation row; whether it is still unsubmitted.

    The conditional UPDATE waits for a concurrent submission to finish and
    then matches no row, so nothing a caller writes after a True can slip in
    after a submission: drafts here, answers in consult.questions. A
    colleague's claim is refused once their organisation has responded,
    under the organisation's lock, taken first as by every act on its response.
    """
    _require_colleague_response_open(participation, now)
    return bool(db.session.execute(
        _claim_unsubmitted_statement(), {"participation_id": participation.id, "now": now}
    ).rowcount)


@functools.cache
def _claim_unsubmitted_statement():
    """Built once: it runs on every draft saved, changed or deleted, and composing it costs more than running it."""
    return (update(Participation)
            .where(Participation.id == bindparam("participation_id"), Participation.submitted_at.is_(None))
            .values(updated_at=bindparam("now", type_=Participation.updated_at.type))
            .execution_options(synchronize_session=False))


def _claim_for_editing(participation: Participation, now: datetime) -> None:
    if not claim_unsubmitted(participation, now):
        raise ResponseAlreadySubmitted()


def _require_colleague_response_open(participation: Participation, now: datetime | None = None) -> None:
    """A colleague's drafts close when their organisation responds: the rule, and its lock, are the organisation's."""
    if participation.organisation_role is OrganisationRole.COLLEAGUE:
        from consult.organisations.services import require_colleague_response_open  # that module builds on this

        require_colleague_response_open(participation, now)


def require_changeable(participation: Participation, comment: Comment | None = None) -> None:
    """Refuse, before a form is offered, what saving it would refuse: a colleague's change once their
    organisation has responded, or a change to a comment already sent to the lead.

    Reads only; the service that saves checks again under its locks.
    """
    _require_colleague_response_open(participation)
    if comment is not None and comment.is_sent_to_lead:
        raise SentToLead()


def may_still_draft(participation: Participation | None) -> bool:
    """Whether pages should offer this person ways to comment: not once their response is submitted, nor, for a
    colleague, once their organisation has responded. Anyone not yet taking part is offered them (and asked how
    they take part first)."""
    if participation is None:
        return True
    if participation.is_submitted:
        return False
    try:
        _require_colleague_response_open(participation)
    except DomainError:
        return False
    return True


def how_drafts_are_sent(participation: Participation) -> str:
    """What the person does to send their drafts, for "It is not sent until you …"."""
    if participation.organisation_role is OrganisationRole.COLLEAGUE:
        return "send it to your organisation’s commenting lead"
    return "submit your response"


@dataclass(frozen=True)
class CommentTargetRef:
    """Where a comment points: a document, one of its chapters, or one of its sections."""

    document: Document
    chapter: Chapter | None = None
    section: Section | None = None

    @property
    def kind(self) -> CommentTarget:
        if self.section is not None:
            return CommentTarget.SECTION
        if self.chapter is not None:
            return CommentTarget.CHAPTER
        return CommentTarget.DOCUMENT


def save_draft(participation: Participation, target: CommentTargetRef, body: str,
               quote: str | None, now: datetime, once: bool = False) -> Comment:
    """Keep a new draft comment for the participant to review before submitting.

    With `once` (a person's comment form), a draft of this response with the same words and quote on the
    same part is taken for this one sent again, Back then Save again, or two presses that both got through:
    DraftAlreadySaved says so, and no copy is saved. A browser's Back shows the words again but asks the page
    afresh, so nothing the page carried could tell the two sends apart. Without it (the demo, a copy made
    for an organisation's lead) every call adds a draft.
    """
    require_open(participation.consultation, now)
    if target.document.consultation_id != participation.consultation_id:
        raise InvalidComment("That part of the document belongs to another consultation.")
    cleaned_body = _clean_body(body)
    cleaned_quote = clean_quote(quote, target.section)
    _claim_for_editing(participation, now)
    draft = dict(
        consultation_id=participation.consultation_id,
        document_id=target.document.id,
        chapter_id=target.section.chapter_id if target.section else (target.chapter.id if target.chapter else None),
        section_id=target.section.id if target.section else None,
        target=target.kind,
        quote=cleaned_quote,
        body=cleaned_body,
    )
    # Looked for after the claim on the response: of two sends at once, the second waits for the first's row
    # lock (or SQLite's write lock), then finds its draft.
    if once and _same_draft_exists(participation, draft):
        raise DraftAlreadySaved()
    comment = Comment(participation=participation, status=CommentStatus.DRAFT, **draft)
    db.session.add(comment)
    db.session.flush()
    # Who drafted what and when, never the draft's words: they are the author's until submitted. Recorded
    # against the participation, so a comment's own events stay the moderation acts on it.
    record(participation.user, "comment.draft", participation, None,
           {"consultation": participation.consultation.reference, "comment_id": comment.id})
    return comment


def _same_draft_exists(participation: Participation, draft: dict) -> bool:
    """Whether the participant already has an unsent draft with these words and this quote on this part."""
    same = [getattr(Comment, column).is_(None) if value is None else getattr(Comment, column) == value
            for column, value in draft.items()]
    return db.session.scalar(select(exists().where(
        Comment.participation_id == participation.id, Comment.status == CommentStatus.DRAFT,
        Comment.sent_to_lead_at.is_(None), *same)))


def _require_editable(comment: Comment, now: datetime) -> None:
    if not comment.is_draft:
        raise ResponseAlreadySubmitted()
    require_open(comment.consultation, now)
    _claim_for_editing(comment.participation, now)
    # Read after the claim, so what a request that won the row lock did is seen: a send to the organisation's
    # lead, a delete (of two deletes, or an edit and a delete, sent at once, the later finds the draft gone),
    # or an edit, whose version the write that follows must carry.
    now_stored = db.session.execute(select(Comment.sent_to_lead_at, Comment.version)
                                    .where(Comment.id == comment.id)).one_or_none()
    if now_stored is None:
        raise DraftGone()
    if now_stored.sent_to_lead_at is not None:
        raise SentToLead()
    set_committed_value(comment, "version", now_stored.version)


def update_draft(comment: Comment, body: str, quote: str | None, now: datetime,
                 seen_version: int | None = None) -> Comment:
    """Change a draft's text or quote; submitted comments are read-only.

    With `seen_version` (the version the edit page showed), a draft saved
    since then in another tab or window is not overwritten unseen:
    DraftChangedElsewhere. Read after the claim on the response, which
    every save of its drafts takes, so two saves cannot both pass.
    """
    cleaned_body = _clean_body(body)
    cleaned_quote = clean_quote(quote, comment.section)
    _require_editable(comment, now)
    if seen_version is not None:
        db.session.refresh(comment, ["version"])
        if comment.version != seen_version:
            raise DraftChangedElsewhere()
    comment.body = cleaned_body
    comment.quote = cleaned_quote
    record(comment.participation.user, "comment.update_draft", comment.participation, None,
           {"consultation": comment.consultation.reference, "comment_id": comment.id})
    db.session.flush()
    return comment


def delete_draft(comment: Comment, now: datetime) -> None:
    """Remove a draft. Submitted comments are never deleted."""
    _require_editable(comment, now)
    record(comment.participation.user, "comment.delete_draft", comment.participation,
           {"consultation": comment.consultation.reference, "comment_id": comment.id}, None)
    db.session.delete(comment)
    db.session.flush()


def list_comments(participation: Participation) -> list[Comment]:
    """The participant's comments in document order: document, chapter, then section."""
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.participation_id == participation.id)
            .outerjoin(Section, Comment.section_id == Section.id)
            .outerjoin(Chapter, Comment.chapter_id == Chapter.id)
            .join(Document, Comment.document_id == Document.id)
            .options(joinedload(Comment.section), joinedload(Comment.chapter),
                     joinedload(Comment.document))
            .order_by(
                Document.position,
                Chapter.position.is_not(None),
                Chapter.position,
                Section.position.is_not(None),
                Section.position,
                Comment.created_at,
                Comment.id,
            )
        )
    )


def new_receipt_reference(consultation: Consultation) -> str:
    """A submitted response's receipt reference: the consultation's, then eight characters hard to misread."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
    code = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"{consultation.reference}-{code[:4]}-{code[4:]}"


def reserve_comment_numbers(consultation_id: int, count: int) -> int:
    """The first of `count` comment numbers taken from the consultation's sequence, in one UPDATE of its counter.

    The counter's row is the lock, so numbers taken at the same moment (two
    submissions, or a submission and an offline import) follow on and never
    collide.
    """
    last_number = db.session.execute(
        update(Consultation)
        .where(Consultation.id == consultation_id)
        .values(last_comment_number=Consultation.last_comment_number + count)
        .returning(Consultation.last_comment_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return last_number - count + 1


def submit_response(participation: Participation, now: datetime, *, send_receipt: bool = True) -> Participation:
    """Turn every draft into a numbered, read-only comment, once; the answers become read-only with it.

    The receipt is emailed unless `send_receipt` is False, for a response no one is there to read it
    (the demo's fictional commenters).

    A second call (double click, replayed POST, a second tab) finds the
    response already submitted and returns it unchanged, so the caller shows
    the same receipt. The conditional UPDATE is the lock: of two concurrent
    submissions exactly one matches the unsubmitted row.
    """
    if participation.is_submitted:
        return participation
    if participation.organisation_role is OrganisationRole.COLLEAGUE:
        raise ColleaguesSendToLead()
    require_open(participation.consultation, now)
    if not participation.user.email_verified:
        raise EmailNotVerified()
    drafts = [c for c in list_comments(participation) if c.is_draft]
    if not drafts and not _has_answers(participation):
        raise NothingToSubmit()
    claimed = db.session.execute(
        update(Participation)
        .where(Participation.id == participation.id, Participation.submitted_at.is_(None))
        .values(submitted_at=now, receipt_reference=new_receipt_reference(participation.consultation),
                updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(participation)
    if not claimed:
        return participation
    # Re-read the drafts now that the row is ours: a save that won the lock
    # just before us is included, none can follow.
    drafts = list(db.session.scalars(
        select(Comment).where(Comment.participation_id == participation.id,
                              Comment.status == CommentStatus.DRAFT)
    ))
    first_number = reserve_comment_numbers(participation.consultation_id, len(drafts))
    ordered = {c.id: i for i, c in enumerate(list_comments(participation))}
    drafts.sort(key=lambda c: ordered[c.id])
    for offset, comment in enumerate(drafts):
        comment.status = CommentStatus.SUBMITTED
        comment.number = first_number + offset
        comment.submitted_at = now
    record(participation.user, "participation.submit", participation, None, {
        "consultation": participation.consultation.reference, "receipt_reference": participation.receipt_reference,
        "comments": len(drafts),
        "first_comment": f"{participation.consultation.reference}-{first_number:04d}" if drafts else None})
    db.session.flush()
    if send_receipt:
        _queue_receipt_email(participation, len(drafts), _count_answers(participation))
    return participation


def as_shown(comments: list[Comment], answers) -> list:
    """What a submit or send page shows of comments and answers, as a submit button's page fingerprints it
    (consult.forms.ConfirmShownForm): each comment's id and version, each answer's id and words. A press
    acts only if they are still so: a comment added, changed or sent in meanwhile is seen first."""
    return [[(c.id, c.version) for c in comments], [(a.id, a.yes_no, a.text) for a in answers]]


def _has_answers(participation: Participation) -> bool:
    """Answers to the consultation's questions are part of the response, so they alone may be submitted."""
    from consult.questions.models import Answer

    return db.session.scalar(select(Answer.id).where(Answer.participation_id == participation.id).limit(1)) is not None


def _count_answers(participation: Participation) -> int:
    """How many questions the response answers: one answer per question, all submitted with it."""
    from consult.questions.models import Answer

    return db.session.scalar(select(func.count(Answer.id)).where(Answer.participation_id == participation.id))


def _queue_receipt_email(participation: Participation, comment_count: int, answer_count: int) -> None:
    """The receipt, by email, in the submission's own transaction (sent after it commits)."""
    from consult.mail.services import absolute_url, queue_email

    consultation = participation.consultation
    queue_email(
        participation.user.email, "submission_receipt", f"Your response to {consultation.reference} was submitted",
        name=participation.user.name, consultation_title=consultation.title,
        consultation_reference=consultation.reference, receipt_reference=participation.receipt_reference,
        comment_count=comment_count, answer_count=answer_count, submitted_at=participation.submitted_at,
        link=absolute_url("comments.receipt", reference=consultation.reference),
    )


# The stakeholder's own download: their comments as they wrote them, nothing anyone else added,
# each row with the declaration the response was sent under and its receipt reference.
OWN_COLUMNS = ["Comment number", "Status", "Document", "Chapter", "Section number", "Section heading",
               "Selected text", "Comment", "Question text", "Yes/No answer", "Answer text",
               "Submitted at (UK time)", "Receipt reference", "Taking part",
               "Which best describes you", "Organisation name", "Type of organisation",
               "Links with the tobacco industry", "Details of the links or funding", "Other interests",
               "Publish your name with your comments"]


def own_values(comment: Comment) -> list:
    """A stakeholder's own comment as they wrote it, with their declaration, for their own download."""
    cells = {
        "Comment number": comment.reference or "",
        "Status": comment.status.label,
        "Document": comment.document.title,
        "Chapter": comment.chapter.label if comment.chapter else "",
        "Section number": comment.section.number if comment.section else "",
        "Section heading": (comment.section.heading or "") if comment.section else "",
        "Selected text": comment.quote or "",
        "Comment": comment.body,
        "Submitted at (UK time)": spreadsheet_time(comment.submitted_at),
        **own_declaration(comment.participation),
    }
    return [cells.get(heading, "") for heading in OWN_COLUMNS]


def own_declaration(participation: Participation) -> dict[str, str]:
    """The declaration a response was sent under, by column of the own download: on every row of it."""
    return {
        "Receipt reference": participation.receipt_reference or "",
        "Taking part": participation.kind.label,
        "Which best describes you": participation.individual_type.label if participation.individual_type else "",
        "Organisation name": participation.organisation_name or "",
        "Type of organisation": participation.organisation_type.label if participation.organisation_type else "",
        "Links with the tobacco industry": "Yes" if participation.has_tobacco_links else "No",
        "Details of the links or funding": participation.tobacco_details,
        "Other interests": participation.other_interests,
        "Publish your name with your comments": "Yes" if participation.publish_name else "No",
    }
