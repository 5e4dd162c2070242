"""Staff rules: moderation decisions, themes and responses, one at a time and in bulk.

Every function takes plain values and the acting user, raises a
ModerationError (a DomainError: the sentence to show, the field it is about
and the HTTP status) when a rule is broken, writes an audit event for each
change, flushes, and leaves the commit to the view. A row two staff may edit
at once has a version: a change made since the person opened it is refused
with a StaleVersion naming who made it, and nothing is overwritten.

The rules live in one module per task; this package names them all, so
callers write ``services.decide_comment(...)``.
"""

from consult.moderation.services.bulk import (
    BulkAction,
    BulkPlan,
    ThemeResponse,
    apply_bulk_action,
    apply_response_to_theme,
    apply_theme_response,
    apply_to_matching,
    check_bulk_action,
    plan_matching,
    plan_selected,
    plan_theme_response,
)
from consult.moderation.services.common import (
    NOTE_MAX,
    REDACTION_REASONS,
    RESPONSE_MAX,
    THEME_DESCRIPTION_MAX,
    THEME_NAME_MAX,
    BulkOutcome,
    Conflict,
    last_change,
    last_comment_change,
)
from consult.moderation.services.decisions import (
    REVEAL_REFUSED,
    Decision,
    bulk_decide,
    clean_decision,
    decide_comment,
    would_reveal_original,
)
from consult.moderation.services.errors import (
    Change,
    DuplicateThemeName,
    InvalidInput,
    InvalidSelection,
    MatchingChanged,
    ModerationError,
    NothingToChange,
    SelectionChanged,
    StaleComment,
    StaleResponse,
    StaleTheme,
    StaleVersion,
    ThemeGone,
    ThemeInUse,
    ThemesChanged,
)
from consult.moderation.services.responses import (
    apply_response,
    check_response_input,
    find_response,
    mark_no_response_needed,
    save_response,
)
from consult.moderation.services.saved_views import (
    VIEW_NAME_MAX,
    DuplicateViewName,
    SavedViewNotFound,
    delete_view,
    save_view,
    views_of,
)
from consult.moderation.services.triage import (
    READING_FOR,
    StaleNote,
    read_by_someone_else,
    save_triage_note,
    set_flag,
    start_reading,
    triage_mark,
)
from consult.moderation.services.themes import (
    bulk_tag,
    comment_ids_with_theme,
    create_theme,
    delete_theme,
    merge_themes,
    tag_comment,
    theme_gone,
    untag_comment,
    update_theme,
)

__all__ = [
    "NOTE_MAX", "REDACTION_REASONS", "RESPONSE_MAX", "REVEAL_REFUSED", "THEME_DESCRIPTION_MAX", "THEME_NAME_MAX",
    "BulkAction", "BulkOutcome", "BulkPlan", "Change", "Conflict", "Decision", "DuplicateThemeName", "InvalidInput",
    "InvalidSelection", "ModerationError", "NothingToChange", "SelectionChanged", "StaleComment", "StaleResponse",
    "StaleTheme", "StaleVersion", "ThemeGone", "ThemeInUse", "ThemeResponse", "ThemesChanged", "apply_bulk_action",
    "apply_response", "apply_response_to_theme", "apply_theme_response", "bulk_decide", "bulk_tag",
    "check_bulk_action", "check_response_input", "clean_decision", "comment_ids_with_theme", "create_theme",
    "decide_comment", "delete_theme", "find_response", "last_change", "last_comment_change",
    "mark_no_response_needed", "merge_themes", "plan_matching", "plan_selected", "plan_theme_response",
    "save_response", "tag_comment", "theme_gone", "untag_comment", "update_theme", "would_reveal_original",
    "READING_FOR",
    "VIEW_NAME_MAX", "DuplicateViewName", "MatchingChanged", "SavedViewNotFound", "StaleNote", "apply_to_matching",
    "delete_view", "read_by_someone_else", "save_triage_note", "save_view", "set_flag", "start_reading",
    "triage_mark", "views_of",
]
