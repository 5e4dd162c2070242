"""Staff workspace: the dashboard, the triage queue, comment pages, themes and responses.

One blueprint, split by task. Each view: load the consultation (404 unless
the user may review it), load the comment or theme (404 unless it belongs to
that consultation), validate the form, call the service, commit once, flash,
redirect. Committee members may read a consultation they are assigned to;
every route that changes something is staff-only, so the route rule refuses
them with 403 before the view runs, and the pages they read show no controls.
"""

from flask import Blueprint

from consult.moderation.highlight import highlight

bp = Blueprint("moderation", __name__, url_prefix="/staff")
bp.add_app_template_filter(highlight, "highlight")

# Importing the modules registers their routes on `bp`.
from consult.moderation.views import bulk, comment, queue, responses, themes, triage  # noqa: E402, F401
