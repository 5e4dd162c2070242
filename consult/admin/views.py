"""Admin pages: users and roles, and the audit trail."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
