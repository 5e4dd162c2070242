"""Staff pages for building consultations: create, edit, import drafts, assign committees."""

from flask import Blueprint

bp = Blueprint("manage", __name__, url_prefix="/staff/consultations")
