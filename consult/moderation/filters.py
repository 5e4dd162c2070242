"""The queue's filters, read from a query string: for the queue itself, its bulk actions and its downloads.

Nothing here is a view, so another domain (the downloads) can select exactly
the comments the queue shows by importing ``queue_filters_from``.
"""

from flask_login import current_user

from consult.access import can_see_original_of_redacted
from consult.database import utcnow
from consult.moderation import queries
from consult.moderation.services.triage import READING_FOR
from consult.moderation.forms import QueueFilterForm
from consult.uk_time import uk_day_bounds


def filter_form(consultation, args, themes=None, documents=None) -> QueueFilterForm:
    """The filter form read from `args` and validated; pass `themes` and `documents` if already loaded."""
    form = QueueFilterForm(formdata=args)
    form.set_choices(queries.documents_with_parts(consultation.id) if documents is None else documents,
                     queries.themes_of(consultation.id) if themes is None else themes)
    form.validate()
    return form


def filters_of(form: QueueFilterForm) -> queries.QueueFilters:
    """The form's valid filters as plain values, searching the original text only for those who may see it."""
    return form.filters(search_original=can_see_original_of_redacted(current_user), day_bounds=uk_day_bounds,
                        viewer_id=current_user.id, reading_since=utcnow() - READING_FOR)


def queue_filters_from(consultation, args) -> tuple[queries.QueueFilters, dict]:
    """The queue's filters read from a query string, so a download can select exactly what the queue shows."""
    form = filter_form(consultation, args)
    return filters_of(form), form.query_args()


def kept_queue_args(source) -> dict[str, str]:
    """The queue's filters and page from a query string, so that links back keep them."""
    keep = set(QueueFilterForm.FIELDS) | {"page"}
    return {key: value for key, value in source.items() if key in keep and value}
