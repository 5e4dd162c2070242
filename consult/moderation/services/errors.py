"""The rules of the staff workspace, broken: each error carries its sentence, field and HTTP status."""

from dataclasses import dataclass, field
from datetime import datetime

from consult.comments.models import Comment
from consult.errors import DomainError
from consult.moderation.models import CommentResponse, Theme


class ModerationError(DomainError):
    """A broken rule of the staff workspace, with the sentence to show the person who broke it."""


class InvalidInput(ModerationError):
    """What the person entered breaks a rule; the sentence goes beside the field it names."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, field)


class NothingToChange(ModerationError):
    """The change asked for is already so."""

    status = 409

    def __init__(self, message: str):
        super().__init__(message)


class InvalidSelection(ModerationError):
    message = "Some of the selected comments are not in this consultation. Nothing has been changed."
    status = 404


@dataclass(frozen=True)
class Change:
    """Who last changed a row, and when (None when no record says).

    `by_id` is that person's user id when known, so that a change the
    person asking made themselves can be told from a colleague's; two
    changes are the same when their name and time are.
    """

    by: str
    at: datetime | None
    by_id: int | None = field(default=None, compare=False)


class StaleVersion(ModerationError):
    """The row changed after the person opened it: carries who changed it. Nothing has been saved.

    When the change was the asker's own (another tab, or the form sent
    twice), the sentence says so: naming them as if they were a colleague
    sends them looking for someone who is not there.
    """

    status = 409

    def __init__(self, subject: str, change: Change, actor=None):
        self.change = change
        self.by_you = actor is not None and change.by_id is not None and change.by_id == actor.id
        if self.by_you:
            super().__init__(f"You changed {subject[0].lower()}{subject[1:]} in another tab or window, or sent "
                             "the form twice, since you opened it here. This change has not been saved.")
        else:
            super().__init__(f"{subject} was changed by {change.by} since you opened it. "
                             "Your change has not been saved.")


class StaleComment(StaleVersion):
    """The comment changed after the person opened it: carries the current row and who changed it."""

    def __init__(self, comment: Comment, change: Change, actor=None):
        self.comment = comment
        super().__init__("This comment", change, actor)


class StaleResponse(StaleVersion):
    def __init__(self, comment: Comment, response: CommentResponse, change: Change, actor=None):
        self.comment = comment
        self.response = response
        super().__init__("The response to this comment", change, actor)


class StaleTheme(StaleVersion):
    def __init__(self, theme: Theme, change: Change, actor=None):
        self.theme = theme
        super().__init__("This theme", change, actor)


class SelectionChanged(ModerationError):
    message = ("Another member of staff changed some of these comments at the same moment. "
               "Nothing has been changed. Go back to the queue and try again.")
    status = 409


class MatchingChanged(ModerationError):
    message = ("The comments matching these filters have changed since you checked them. "
               "Nothing has been changed. Check the comments and try again.")
    status = 409


class DuplicateThemeName(ModerationError):
    field = "name"
    status = 409

    def __init__(self, name: str):
        """`name` is the existing theme's, as it is written (the name typed may differ from it in case)."""
        self.name = name
        super().__init__(f"There is already a theme called ‘{name}’ in this consultation. "
                         "Choose a different name, or merge the two themes.")


class ThemesChanged(ModerationError):
    message = ("Another member of staff changed these themes at the same moment. Nothing has been changed. "
               "Check the themes and try again.")
    status = 409


class ThemeGone(NothingToChange):
    """The theme was merged or deleted already: a merge or delete sent again is told where the first one left it.

    `merged_into` is the theme it was merged into; `moved_to` the theme its
    comments moved to when it was deleted, if any.
    """

    def __init__(self, name: str, merged_into: str | None = None, moved_to: str | None = None):
        if merged_into is not None:
            what = f"was already merged into ‘{merged_into}’"
        else:
            what = "was already deleted" + (f", and its comments moved to ‘{moved_to}’" if moved_to else "")
        super().__init__(f"The theme ‘{name}’ {what}. Nothing more was changed.")


class ThemeInUse(ModerationError):
    field = "reassign_to"
    status = 409

    def __init__(self, theme: Theme, used: int):
        self.theme = theme
        self.used = used
        comments = "1 comment" if used == 1 else f"{used} comments"
        super().__init__(f"‘{theme.name}’ is on {comments}. Choose a theme to move "
                         f"{'it' if used == 1 else 'them'} to before you delete it.")
