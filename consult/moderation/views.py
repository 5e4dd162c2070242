"""Staff workspace: the triage queue, moderation decisions, themes and responses."""

from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/staff")
