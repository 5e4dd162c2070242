"""The sentences the staff workspace says after an action: flashes, confirmations, and both sides of a conflict.

Kept apart from the views so that the words can be read, and changed, in one place.
"""

from consult.comments.models import Comment
from consult.moderation.models import CommentResponse, Theme
from consult.moderation.services import REVEAL_REFUSED, BulkAction, BulkOutcome, BulkPlan, Decision
from consult.moderation.states import ModerationState, ResponseState
from consult.uk_time import uk_datetime

Rows = list[tuple[str, str]]

FIX_FILTERS = "Correct the filters before you act on all the comments matching them"


def comments(number: int) -> str:
    """'1 comment', '2 comments'."""
    return "1 comment" if number == 1 else f"{number} comments"


# A flash message travels in the session cookie, which browsers drop past 4 KB: a message names at most
# this many comments, then says how many more.
NAMED_AT_MOST = 10


def _references(rows) -> str:
    rows = list(rows)
    named = ", ".join(c.reference for c in rows[:NAMED_AT_MOST])
    return named + (f" and {len(rows) - NAMED_AT_MOST:,} more" if len(rows) > NAMED_AT_MOST else "")


# --- One comment -------------------------------------------------------------------------


def decided(comment: Comment, decision: Decision) -> str:
    return f"Comment {comment.reference} is now {decision.state.label.lower()}."


def theme_added(theme: Theme, comment: Comment) -> str:
    return f"Added the theme ‘{theme.name}’ to comment {comment.reference}."


def theme_removed(theme: Theme, comment: Comment) -> str:
    return f"Removed the theme ‘{theme.name}’ from comment {comment.reference}."


def response_saved(comment: Comment) -> str:
    return f"The response to comment {comment.reference} has been saved."


# --- Both sides of a conflict ------------------------------------------------------------------


def ruling_rows(state, reason, note: str | None, redactions: Rows) -> Rows:
    """A moderation decision in words, on a comment or on an answer, for either side of a conflict.

    `state` and `reason` are enum members with a label; `redactions` are the redacted texts the decision
    holds, already labelled, shown after the note.
    """
    rows = [("Decision", state.label)]
    if reason is not None:
        rows.append(("Reason", reason.label))
    if note:
        rows.append(("Note", note))
    return rows + redactions


def decision_rows(decision: Decision) -> Rows:
    """What a person asked for, to show beside the current version when they collide."""
    redactions = []
    if decision.redacted_body is not None:
        redactions.append(("Redacted comment", decision.redacted_body))
    if decision.redacted_quote is not None:
        redactions.append(("Redacted quoted passage", decision.redacted_quote or "(withheld)"))
    return ruling_rows(decision.state, decision.reason, decision.note, redactions)


def current_comment_rows(comment: Comment) -> Rows:
    """The comment's decision as it stands, to show beside the one that was refused."""
    redacted = comment.moderation_state is ModerationState.REDACTED
    return decision_rows(Decision(
        comment.moderation_state, reason=comment.rejection_reason, note=comment.moderation_note,
        redacted_body=comment.redacted_body if redacted else None,
        redacted_quote=comment.redacted_quote if redacted else None))


def response_rows(response: CommentResponse | None) -> Rows:
    """A response as it stands."""
    if response is None:
        return [("Response", "(none)")]
    rows = [("Status", response.state.label)]
    if response.text:
        rows.append(("Response", response.text))
    if response.reason:
        rows.append(("Why no response is needed", response.reason))
    return rows


def written_response_rows(state: ResponseState | None, text: str | None) -> Rows:
    """A response as a person wrote it."""
    return [("Status", state.label if state else ""), ("Response", text or "")]


def no_response_rows(reason: str | None) -> Rows:
    """'No response needed', as a person asked for it."""
    return [("Status", ResponseState.NOT_NEEDED.label), ("Why no response is needed", reason or "")]


def theme_rows(name: str | None, description: str | None) -> Rows:
    return [("Name", name or ""), ("Description", description or "")]


# --- Themes -----------------------------------------------------------------------------------


def theme_created(theme: Theme) -> str:
    return f"Theme ‘{theme.name}’ created."


def theme_saved(theme: Theme, changed: bool) -> tuple[str, str]:
    return (f"Theme ‘{theme.name}’ saved.", "success") if changed else ("Nothing was changed.", "info")


def themes_merged(name: str, moved: int, target: Theme) -> str:
    return f"Merged ‘{name}’ into ‘{target.name}’: {comments(moved)} moved."


def theme_deleted(name: str, moved: int, target: Theme | None) -> str:
    return f"Deleted the theme ‘{name}’." + (
        f" {comments(moved)} moved to ‘{target.name}’." if target else "")


def theme_response_applied(theme: Theme, outcome: BulkOutcome) -> list[tuple[str, str]]:
    """What applying a response to a theme's comments did, as flash messages."""
    messages = [_first_message(outcome, f"Applied the response to {comments(len(outcome.changed))} "
                                        f"with the theme ‘{theme.name}’.")]
    if outcome.unchanged:
        messages.append(("info", f"{len(outcome.unchanged)} already had a response, which was kept: "
                                 + _references(outcome.unchanged) + ". Edit those one at a time."))
    return messages


# --- Bulk actions -----------------------------------------------------------------------------


def _first_message(outcome: BulkOutcome, done: str) -> tuple[str, str]:
    """What was done, in green; when nothing was (a form sent again, or every comment already so), a plain
    'nothing changed', so that a green 'Accepted 0 comments' never reads as success. The notes after it say why."""
    if outcome.changed:
        return ("success", done)
    return ("info", "No comments were changed.")


def action_sentence(action: BulkAction, count: int) -> str:
    """The action in words, for 'You are about to ...' and its button."""
    chosen = comments(count)
    if action.kind == "accept":
        return f"accept {chosen}"
    if action.kind == "reject":
        return f"reject {chosen} as {action.reason.label}"
    if action.kind == "tag":
        return f"add the theme ‘{action.theme.name}’ to {chosen}"
    return f"apply this response to {chosen}, marked {action.response_state.label.lower()}"


# Why a bulk action leaves a comment in this state as it is, and what to do instead: (for one, for several).
_LEFT_BECAUSE = {
    ModerationState.REJECTED: ("open it to change its rejection", "open each one to change its rejection"),
    ModerationState.REDACTED: (REVEAL_REFUSED[0].lower() + REVEAL_REFUSED[1:].rstrip("."),) * 2,
}


def _left(state: ModerationState, count: int, done: bool) -> tuple[str, str]:
    """'1 rejected comment will be left as it is' (or 'was left', when `done`), and why."""
    one = count == 1
    verb = ("was" if one else "were") if done else "will be"
    return (f"{count:,} {state.label.lower()} {'comment' if one else 'comments'} {verb} left as "
            f"{'it is' if one else 'they are'}", _LEFT_BECAUSE[state][0 if one else 1])


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def plan_notes(plan: BulkPlan) -> list[str]:
    """What the action will leave as it is, and what changed in the queue between loading it and choosing
    all the comments matching its filters."""
    notes = [f"{said}: {why}." for said, why in (_left(state, n, done=False) for state, n in plan.left.items())]
    if plan.arrived:
        notes.append(f"{plan.arrived} {'comment was' if plan.arrived == 1 else 'comments were'} submitted "
                     "since you loaded the queue. They are not included.")
    if plan.shown_total is not None and plan.matching is not None and plan.shown_total != plan.matching:
        notes.append(f"The queue showed {plan.shown_total} comments matching these filters. "
                     f"{plan.matching} match now, because comments have changed since.")
    return notes


def bulk_summary(action: BulkAction, outcome: BulkOutcome) -> list[tuple[str, str]]:
    """What happened, as flash messages: what changed, what already was so, what the person had changed
    already, what someone else had changed."""
    reason = action.reason.label if action.reason else ""
    changed = comments(len(outcome.changed))
    done = {
        "accept": f"Accepted {changed}.",
        "reject": f"Rejected {changed} as {reason}.",
        "tag": f"Added the theme ‘{action.theme.name if action.theme else ''}’ to {changed}.",
        "respond": f"Applied the response to {changed}.",
    }[action.kind]
    messages = [_first_message(outcome, done)]
    if outcome.unchanged:
        why = {"accept": "they were already accepted", "reject": f"they were already rejected as {reason}",
               "tag": "they already had this theme",
               "respond": "they already had a response, which was kept"}[action.kind]
        messages.append(("info", f"Not changed because {why}: {_references(outcome.unchanged)}."))
    for state in ModerationState:
        left = [c for c in outcome.refused if c.moderation_state is state]
        if left:
            said, why = _left(state, len(left), done=True)
            messages.append(("info", f"{said}: {_references(left)}. {_sentence_case(why)}."))
    yours = [c.comment for c in outcome.conflicts if c.yours]
    if yours:  # the person sent the action again: say so, rather than blame a colleague
        one = len(yours) == 1
        messages.append(("info", f"You had already changed {comments(len(yours))} since you loaded the queue, "
                                 f"so {'it was' if one else 'they were'} not changed now: {_references(yours)}."))
    theirs = [c for c in outcome.conflicts if not c.yours]
    if theirs:
        one = len(theirs) == 1
        listed = "; ".join(
            f"{c.comment.reference} (changed by {c.change.by}"
            f"{' at ' + uk_datetime(c.change.at) if c.change.at else ''})" for c in theirs[:NAMED_AT_MOST])
        if len(theirs) > NAMED_AT_MOST:
            listed += f" and {len(theirs) - NAMED_AT_MOST:,} more"
        messages.append(("info", f"{comments(len(theirs))} {'was' if one else 'were'} not changed "
                                 f"because someone else changed {'it' if one else 'them'} since you loaded the "
                                 f"queue: {listed}."))
    return messages


