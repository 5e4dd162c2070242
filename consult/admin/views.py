"""Admin pages: users and roles, and the audit trail.

Every route here is for admins only. The audit trail is read-only: no route
changes or removes an event, and the page and its CSV export run the same
query with the same filters.
"""

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from consult.access import admin
from consult.accounts.models import User
from consult.accounts.services import find_user_by_email
from consult.admin import audit_text, services
from consult.admin.forms import AuditFilterForm, ChangeRoleForm, ConfirmRoleForm, UserSearchForm, role_hints
from consult.audit.models import AuditEvent
from consult.audit.services import AuditFilter, audit_csv_rows, audit_page
from consult.database import utcnow
from consult.downloads import csv_download
from consult.errors import attach_error, form_errors
from consult.extensions import db
from consult.forms import YES
from consult.loaders import user_or_404
from consult.uk_time import uk_day_bounds
from consult.web import MAX_PAGE, query_page

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_EVENTS_PER_PAGE = 50
def _page_links(pagination, endpoint: str, **values) -> dict | None:
    """govukPagination parameters for a paginated list, keeping the other query values."""
    if pagination.pages <= 1:
        return None

    def href(number: int) -> str:
        return url_for(endpoint, **values, page=number)

    items = []
    for number in pagination.iter_pages(left_edge=1, left_current=1, right_current=1, right_edge=1):
        if number is None:
            items.append({"ellipsis": True})
        else:
            items.append({"number": number, "href": href(number), "current": number == pagination.page})
    return {
        "previous": {"href": href(pagination.prev_num)} if pagination.has_prev else None,
        "next": {"href": href(pagination.next_num)} if pagination.has_next and pagination.page < MAX_PAGE else None,
        "items": items,
        "landmarkLabel": "Pages",
    }


# --- users and roles -------------------------------------------------------------


@bp.get("/users")
@admin
def users():
    form = UserSearchForm(formdata=request.args)
    search = form.q.data if form.validate() else ""
    pagination = db.paginate(services.user_search_query(search or ""), page=query_page(),
                             per_page=services.USERS_PER_PAGE, error_out=False, count=True)
    return render_template("admin/users.html", form=form, search=search, pagination=pagination,
                           page_links=_page_links(pagination, "admin.users", q=search or None),
                           role_labels=services.ROLE_LABELS)


def _render_user(user: User, form: ChangeRoleForm, status: int = 200):
    return render_template("admin/user.html", user=user, form=form, role_hints=role_hints(),
                           role_labels=services.ROLE_LABELS,
                           is_self=user.id == current_user.id), status


@bp.get("/users/<int:user_id>")
@admin
def user(user_id: int):
    found = user_or_404(user_id)
    return _render_user(found, ChangeRoleForm(formdata=None))


def _confirm_role_page(found, new_role, changed_since: bool = False):
    confirm = ConfirmRoleForm(formdata=None, role=new_role.value, confirmed=YES, from_role=found.role.value)
    return render_template("admin/confirm_role.html", user=found, form=confirm, new_role=new_role,
                           changed_since=changed_since, role_labels=services.ROLE_LABELS,
                           role_descriptions=services.ROLE_DESCRIPTIONS)


@bp.post("/users/<int:user_id>/role")
@admin
def change_role(user_id: int):
    """Two steps on one URL: choose the role, then confirm what changes. Only the confirmed POST acts."""
    found = user_or_404(user_id)
    form = ChangeRoleForm()
    if not form.validate_on_submit():
        return _render_user(found, form)
    new_role = form.new_role
    if not form.is_confirmed:
        problem = None
        if found.id == current_user.id and new_role is not found.role:
            problem = services.CannotRemoveOwnAdminRole()
        elif new_role is found.role:
            problem = services.RoleUnchanged(found)
        if problem:
            attach_error(form, problem)
            return _render_user(found, form)
        return _confirm_role_page(found, new_role)
    if new_role is found.role:  # confirmed twice (a double press, or Back then confirm): the first one did it
        flash(f"{found.name}’s role is already {services.ROLE_LABELS[new_role]}. Nothing more was changed.", "info")
        return redirect(url_for("admin.user", user_id=found.id))
    if form.from_role.data and form.from_role.data != found.role.value:
        # Another admin (or another tab) changed the role after the check page was drawn: what it said
        # would change is no longer what would. Show the change as it now stands, to confirm again.
        return _confirm_role_page(found, new_role, changed_since=True), 409
    with form_errors(form) as outcome:
        services.change_role(found, new_role, current_user._get_current_object())
    if not outcome.ok:
        # Shown beside the choice, as after any other choice that cannot be made.
        return _render_user(found, form)
    db.session.commit()
    flash(f"{found.name}’s role is now {services.ROLE_LABELS[new_role]}. They have been signed out on "
          "every device, and have the new role when they sign in again.", "success")
    return redirect(url_for("admin.user", user_id=found.id))


# --- audit trail -----------------------------------------------------------------


def _read_audit_filters() -> tuple[AuditFilterForm, AuditFilter | None]:
    """The filters in the query string, or None with the form's errors when they cannot be used."""
    form = AuditFilterForm(formdata=request.args)
    if not form.validate():
        return form, None
    actor_id = None
    if form.actor.data:
        actor = find_user_by_email(form.actor.data)
        if actor is None:
            form.actor.errors.append("No account has this email address")
            return form, None
        actor_id = actor.id
    # Dates are UK calendar days: "to" includes the whole of its day.
    since, until = uk_day_bounds(form.since.data, form.until.data)
    return form, AuditFilter(
        actor_id=actor_id,
        object_type=form.object_type.data or None,
        object_id=form.object_id.data or None,
        action=form.action.data or None,
        since=since,
        until=until,
    )


def _filter_query_values() -> dict:
    """The filter values exactly as given, for links that keep them (pages, CSV)."""
    return {key: request.args.getlist(key) for key in request.args if key not in ("page", "older", "newer", "submit")}


def _readable(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _changes(event: AuditEvent) -> list[dict]:
    """One row per field in before or after, so that a person reads what changed."""
    before, after = event.before or {}, event.after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [{"field": "value", "before": _readable(event.before), "after": _readable(event.after),
                 "changed": event.before != event.after}]
    rows = []
    for field in sorted(set(before) | set(after)):
        rows.append({
            "field": field,
            "before": _readable(before.get(field)) if field in before else "",
            "after": _readable(after.get(field)) if field in after else "",
            "changed": before.get(field) != after.get(field),
        })
    return rows


def _cursor(name: str) -> int | None:
    """An event id from the query string; anything else is as if absent, so an edited link shows the first page."""
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


@bp.get("/audit")
@admin
def audit():
    form, filters = _read_audit_filters()
    page, page_links, lines = None, None, []
    if filters is not None:
        older, newer = _cursor("older"), _cursor("newer")
        page = audit_page(filters, AUDIT_EVENTS_PER_PAGE, older_than=older, newer_than=None if older else newer)
        if page is None:  # the event the link started from is not in the trail
            page = audit_page(filters, AUDIT_EVENTS_PER_PAGE)
        values = _filter_query_values()
        if page.newer_than or page.older_than:
            page_links = {
                "previous": {"text": "Newer events", "href": url_for("admin.audit", **values, newer=page.newer_than)}
                if page.newer_than else None,
                "next": {"text": "Older events", "href": url_for("admin.audit", **values, older=page.older_than)}
                if page.older_than else None,
                "landmarkLabel": "Pages of events",
            }
        lines = [{"line": line, "changes": _changes(line.event)} for line in audit_text.describe(page.events)]
    return render_template("admin/audit.html", form=form, page=page, page_links=page_links,
                           lines=lines, csv_url=url_for("admin.audit_csv", **_filter_query_values()))


@bp.get("/audit.csv")
@admin
def audit_csv():
    form, filters = _read_audit_filters()
    if filters is None:
        # The page shows what is wrong with the filters; a CSV of an error would not.
        return redirect(url_for("admin.audit", **_filter_query_values()))
    filename = f"audit-trail-{utcnow():%Y%m%d-%H%M%S}.csv"
    return csv_download(audit_csv_rows(filters, ["Actor name", "What happened"], audit_text.csv_values), filename)
