"""The audit trail as a person reads it: who, what in a sentence with a link to the thing, and when.

Events store raw codes ("comment.accept", "comments 10"); this turns a page of
them into sentences ("Accepted comment HTE1001-0004"). The things they name
are loaded once per kind of object for the whole page (a fixed handful of
queries whatever the page holds), and an event whose object is gone still
reads well from what the event itself recorded.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select

from consult.accounts.models import User
from consult.audit.models import AuditEvent
from consult.comments.models import Comment, Participation
from consult.consultations.models import Consultation
from consult.extensions import db
from consult.moderation.models import CommentResponse, Theme


@dataclass(frozen=True)
class Thing:
    """An object an event names: how to call it, and where to read it (None when there is nowhere)."""

    label: str
    href: str | None = None


@dataclass(frozen=True)
class EventLine:
    """One event as the page shows it. The sentence is split around the object so the object can be a link."""

    event: AuditEvent
    actor_name: str
    actor_email: str
    before_text: str
    thing: Thing | None
    after_text: str

    @property
    def sentence(self) -> str:
        return "".join([self.before_text, self.thing.label if self.thing else "", self.after_text]).strip()


# What each action says, around the object's label: (text before, text after).
_SENTENCES: dict[str, tuple[str, str]] = {
    "comment.accept": ("Accepted comment ", ""),
    "comment.reject": ("Rejected comment ", ""),
    "comment.redact": ("Redacted comment ", ""),
    "comment.tag": ("Tagged comment ", ""),
    "comment.untag": ("Removed a theme from comment ", ""),
    "comment.import_offline": ("Imported comment ", " from a response sent outside the service"),
    "comment.flag": ("Flagged comment ", ""),
    "comment.unflag": ("Removed the flag from comment ", ""),
    "comment.note": ("Wrote a note on comment ", ""),
    "suggestion.accept": ("Accepted the suggested theme of comment ", ""),
    "suggestion.reject": ("Turned down the suggested theme of comment ", ""),
    "campaign.name": ("Named the campaign ", ""),
    "campaign.merge": ("Merged another campaign into the campaign ", ""),
    "campaign.remove": ("Removed the campaign ", ""),
    "campaign.detach": ("Took comment ", " out of its campaign"),
    "campaign.split": ("Moved comment ", " into a new campaign"),
    "saved_view.create": ("Saved the queue view ", ""),
    "saved_view.delete": ("Deleted the saved queue view ", ""),
    "answer.accept": ("Accepted ", ""),
    "answer.redact": ("Redacted ", ""),
    "answer.withhold": ("Withheld ", " from publication"),
    "comment.draft": ("Saved a draft comment on ", ""),
    "comment.update_draft": ("Changed a draft comment on ", ""),
    "comment.delete_draft": ("Deleted a draft comment on ", ""),
    "answer.remove": ("Removed a draft answer on ", ""),
    "participation.choose": ("Said how they take part in ", ""),
    "participation.submit": ("Submitted a response to ", ""),
    "response.draft": ("Drafted the response to comment ", ""),
    "response.agree": ("Agreed the response to comment ", ""),
    "response.not_needed": ("Marked comment ", " as needing no response"),
    "theme.create": ("Created the theme ", ""),
    "theme.update": ("Changed the theme ", ""),
    "theme.merge": ("Merged the theme ", ""),
    "theme.delete": ("Deleted the theme ", ""),
    "theme.summarise": ("Wrote the committee summary of the theme ", ""),
    "question.add": ("Added ", ""),
    "question.add_standard": ("Added the standard ", ""),
    "question.reuse": ("Added, from another consultation, ", ""),
    "question.declaration_on": ("Asked the declaration ", ""),
    "question.edit": ("Changed ", ""),
    "question.move": ("Moved ", ""),
    "question.remove": ("Removed ", ""),
    "organisation.create": ("Added the organisation ", ""),
    "organisation.lead_marked": ("Made ", " a commenting lead of their organisation"),
    "organisation.lead_removed": ("Removed ", " as a commenting lead of their organisation"),
    "consultation.create": ("Created consultation ", ""),
    "consultation.edit": ("Changed the details of consultation ", ""),
    "consultation.close": ("Closed consultation ", " straight away, before its closing time"),
    "consultation.import_document": ("Added a document to consultation ", ""),
    "consultation.replace_document": ("Replaced a document in consultation ", ""),
    "consultation.assign_committee_member": ("Gave a committee member access to consultation ", ""),
    "consultation.unassign_committee_member": ("Removed a committee member from consultation ", ""),
    "consultation.publish_comments": ("Published the comments and responses of consultation ", ""),
    "consultation.withdraw_comments": ("Withdrew the published comments of consultation ", ""),
    "user.create": ("Created the account of ", ""),
    "user.register": ("Registered an account", ""),
    "user.change_role": ("Changed the role of ", ""),
    "user.deactivate": ("Deactivated the account of ", ""),
    "user.reactivate": ("Reactivated the account of ", ""),
    "user.send_password_reset": ("Sent a password reset link to ", ""),
    "user.reset_password": ("Reset their password", ""),
    "user.anonymise": ("Erased the personal details of account ", ""),
    "mail.retry": ("Asked for email ", " to be sent again"),
}

# Actions about the actor themselves: the object is the actor, so it is not named again.
_SELF = {"user.register", "user.reset_password"}
_DRAFTS = {"comment.draft", "comment.update_draft", "comment.delete_draft", "answer.remove"}


def _ids(events: Iterable[AuditEvent], object_type: str) -> set[int]:
    return {int(e.object_id) for e in events if e.object_type == object_type and e.object_id.isdigit()
            and len(e.object_id) <= 18}


def _comment_thing(number: int | None, reference: str) -> Thing:
    if number is None:
        return Thing(f"a draft comment on {reference}")
    return Thing(f"{reference}-{number:04d}", url_for("moderation.comment", reference=reference, number=number))


def _load(events: list[AuditEvent]) -> dict[tuple[str, str], Thing]:
    """Every object the page's events name, in one query per kind."""
    things: dict[tuple[str, str], Thing] = {}
    comment_ids = _ids(events, "comments")
    response_of: dict[int, int] = {}
    if ids := _ids(events, "comment_responses"):
        response_of = dict(db.session.execute(
            select(CommentResponse.id, CommentResponse.comment_id).where(CommentResponse.id.in_(ids))).all())
        comment_ids |= set(response_of.values())
    comments: dict[int, Thing] = {}
    if comment_ids:
        for comment_id, number, reference in db.session.execute(
                select(Comment.id, Comment.number, Consultation.reference)
                .join(Consultation, Consultation.id == Comment.consultation_id).where(Comment.id.in_(comment_ids))):
            comments[comment_id] = _comment_thing(number, reference)
    for comment_id, thing in comments.items():
        things["comments", str(comment_id)] = thing
    for response_id, comment_id in response_of.items():
        if comment_id in comments:
            things["comment_responses", str(response_id)] = comments[comment_id]
    if ids := _ids(events, "consultations"):
        for consultation_id, reference in db.session.execute(
                select(Consultation.id, Consultation.reference).where(Consultation.id.in_(ids))):
            things["consultations", str(consultation_id)] = Thing(
                reference, url_for("staff_consultations.show", reference=reference))
    if ids := _ids(events, "participations"):
        for participation_id, reference in db.session.execute(
                select(Participation.id, Consultation.reference)
                .join(Consultation, Consultation.id == Participation.consultation_id)
                .where(Participation.id.in_(ids))):
            things["participations", str(participation_id)] = Thing(
                reference, url_for("staff_consultations.show", reference=reference))
    if ids := _ids(events, "themes"):
        for theme_id, name, reference in db.session.execute(
                select(Theme.id, Theme.name, Consultation.reference)
                .join(Consultation, Consultation.id == Theme.consultation_id).where(Theme.id.in_(ids))):
            things["themes", str(theme_id)] = Thing(
                f"\u2018{name}\u2019 ({reference})",
                url_for("moderation.edit_theme", reference=reference, theme_id=theme_id))
    if ids := _ids(events, "users"):
        for user_id, name, email in db.session.execute(
                select(User.id, User.name, User.email).where(User.id.in_(ids))):
            things["users", str(user_id)] = Thing(f"{name} ({email})", url_for("admin.user", user_id=user_id))
    return things


def _recorded(event: AuditEvent) -> dict:
    return event.after if isinstance(event.after, dict) else event.before if isinstance(event.before, dict) else {}


# Objects named by what the event recorded of them: a readable word for the kind, then their name or words.
_KINDS = {"campaigns": "campaign", "saved_views": "view", "organisations": "organisation", "questions": "question",
          "answers": "answer"}
_QUOTED_MAX = 60


def _fallback(event: AuditEvent) -> Thing:
    """The object as the event itself recorded it, when it no longer exists or is of no known kind."""
    recorded = _recorded(event)
    words = recorded.get("name") or recorded.get("text")
    if event.object_type == "outbox_emails":
        return Thing(f"number {event.object_id}")
    if isinstance(words, str) and words:
        shown = words if len(words) <= _QUOTED_MAX else words[:_QUOTED_MAX - 1] + "\u2026"
        kind = "" if event.object_type in ("themes", "campaigns", "saved_views", "organisations") else \
            f"{_KINDS.get(event.object_type, event.object_type)} "
        return Thing(f"{kind}\u2018{shown}\u2019")
    if event.object_type == "campaigns":  # its sentences name the kind already: "Removed the campaign "
        return Thing(f"number {event.object_id}")
    return Thing(f"{_KINDS.get(event.object_type, event.object_type)} number {event.object_id}")


def _extra(event: AuditEvent) -> str:
    """A few words an action's own record adds to its sentence."""
    after = event.after if isinstance(event.after, dict) else {}
    before = event.before if isinstance(event.before, dict) else {}
    if event.action == "comment.tag" and after.get("theme"):
        return f" with the theme \u2018{after['theme']}\u2019"
    if event.action == "comment.untag" and before.get("theme"):
        return f" (\u2018{before['theme']}\u2019)"
    if event.action == "theme.merge" and after.get("merged_into"):
        return f" into \u2018{after['merged_into']}\u2019"
    if event.action == "user.change_role" and before.get("role") and after.get("role"):
        return f" from {before['role']} to {after['role']}"
    if event.action == "participation.submit" and after.get("comments") is not None:
        count = after["comments"]
        return f" with {count} comment{'' if count == 1 else 's'}"
    return ""


def describe(events: list[AuditEvent]) -> list[EventLine]:
    """Each event as a sentence with its object as a link, for the admin's page of the trail."""
    things = _load(events)
    lines = []
    for event in events:
        before, after = _SENTENCES.get(event.action, (f"{event.action} on ", ""))
        consultation = _recorded(event).get("consultation")
        if event.action in _SELF:
            thing = None
        elif event.action in _DRAFTS and isinstance(consultation, str):
            # A draft is its author's until submitted: the event names the consultation, not the comment.
            thing = Thing(consultation, url_for("staff_consultations.show", reference=consultation))
        else:
            thing = things.get((event.object_type, event.object_id)) or _fallback(event)
        actor = event.actor
        lines.append(EventLine(
            event=event,
            actor_name=actor.name if actor else "The service",
            actor_email=actor.email if actor else "",
            before_text=before,
            thing=thing,
            after_text=after + _extra(event),
        ))
    return lines


def csv_values(events: list[AuditEvent]) -> dict[int, list[str]]:
    """For each event, the readable columns the CSV adds after its raw fields: name and sentence."""
    return {line.event.id: [line.actor_name, line.sentence] for line in describe(events)}
