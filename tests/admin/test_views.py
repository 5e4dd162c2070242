"""The admin pages as an admin uses them: users and roles, the audit trail and its CSV export."""

import csv
import html
import io
import re
from datetime import datetime, timezone
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from consult.access import rule_for_endpoint
from consult.accounts.models import Role, User
from consult.admin import services
from consult.audit.models import AuditEvent
from consult.audit.services import record
from consult.extensions import db
from tests.conftest import csrf_token_from

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


# --- helpers -------------------------------------------------------------------

def text_of(response) -> str:
    return response.get_data(as_text=True)


def main_of(response) -> str:
    page = text_of(response)
    return page[page.index("<main"):page.index("</main>")]


def error_summary_items(page: str) -> list[str]:
    match = re.search(r'class="govuk-error-summary".*?</ul>', page, re.S)
    assert match, "page has no error summary"
    return [html.unescape(item).strip() for item in re.findall(r'<a href="#[^"]*">(.*?)</a>', match.group(0), re.S)]


def audit_events(*conditions) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(*conditions).order_by(AuditEvent.id)))


def role_of(user: User) -> Role:
    return db.session.scalar(select(User.role).where(User.id == user.id))


class _TableRows(HTMLParser):
    """The text of each cell in each audit row (rows carrying data-event-id), as a reader sees it."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.attributes: list[dict] = []
        self._in_row = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr" and "data-event-id" in dict(attrs):
            self._in_row = True
            self.rows.append([])
            self.attributes.append(dict(attrs))
        elif tag == "td" and self._in_row:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr":
            self._in_row = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
         "path"}


class _Structure(HTMLParser):
    """Every element closed in order, and no id used twice: what a validator would complain of first."""

    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.ids: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if "id" in dict(attrs):
            self.ids.append(dict(attrs)["id"])
        if tag not in _VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        if "id" in dict(attrs):
            self.ids.append(dict(attrs)["id"])

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.open[-1] if self.open else 'nothing'}>")
        else:
            self.open.pop()


def assert_well_formed(response) -> None:
    parser = _Structure()
    parser.feed(text_of(response))
    parser.close()
    assert parser.problems == []
    assert parser.open == []
    assert sorted({i for i in parser.ids if parser.ids.count(i) > 1}) == []


def page_rows(response) -> list[tuple[str, str, str]]:
    """(done by, action, "object_type object_id") of each event on an audit page, as its row records them."""
    parser = _TableRows()
    parser.feed(text_of(response))
    return [(row["data-actor"], row["data-action"], row["data-object"]) for row in parser.attributes]


def page_cells(response) -> list[list[str]]:
    """The text of each event's cells (when, who, what happened), as a reader sees it, without the hidden details."""
    parser = _TableRows()
    parser.feed(text_of(response))
    return [[*row[:2], row[2].split(" Details of this event")[0]] for row in parser.rows]


def csv_rows(response) -> list[tuple[str, str, str]]:
    rows = list(csv.reader(io.StringIO(text_of(response).lstrip("\ufeff"))))
    assert rows[0][:5] == ["Time (UTC)", "Actor", "Action", "Object type", "Object id"]
    return [("System" if row[1] == "system" else row[1], row[2], f"{row[3]} {row[4]}") for row in rows[1:]]


@pytest.fixture
def admin(login_as):
    return login_as(Role.ADMIN, name="Ada Admin", email="ada.admin@example.org")


@pytest.fixture
def change_role(client, post_form):
    """Choose a role, then confirm it, as the two pages do."""

    def change(user: User, role: str, confirm: bool = True):
        first = post_form(f"/admin/users/{user.id}/role", {"role": role})
        if not confirm or first.status_code != 200 or "confirmed" not in text_of(first):
            return first
        return client.post(f"/admin/users/{user.id}/role", data=_carried(text_of(first)))

    return change


def _carried(page: str) -> dict:
    """The hidden fields of the check page's form, as the browser sends them with its button."""
    form = page[page.index('action="/admin/users/'):]
    hidden = [dict(re.findall(r'(\w+)="([^"]*)"', tag)) for tag in re.findall(r"<input[^>]*>", form)]
    return {attrs["name"]: html.unescape(attrs["value"]) for attrs in hidden if attrs.get("type") == "hidden"}


def sign_in_elsewhere(app, user: User):
    """A second browser, signed in as `user` with their current session token."""
    other = app.test_client()
    with other.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return other


# --- who may use the admin pages -------------------------------------------------

def _admin_routes(app) -> list[tuple[str, str]]:
    return sorted((rule.rule, method) for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")
                  for method in rule.methods - {"HEAD", "OPTIONS"})


def test_the_admin_pages_exist_and_are_for_admins_only(app):
    routes = _admin_routes(app)
    assert routes == [
        ("/admin/audit", "GET"), ("/admin/audit.csv", "GET"), ("/admin/users", "GET"),
        ("/admin/users/<int:user_id>", "GET"), ("/admin/users/<int:user_id>/deactivate", "POST"),
        ("/admin/users/<int:user_id>/password-reset", "POST"), ("/admin/users/<int:user_id>/reactivate", "POST"),
        ("/admin/users/<int:user_id>/role", "POST"),
    ]
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            assert rule_for_endpoint(rule.endpoint).roles == frozenset({Role.ADMIN}), rule.rule


@pytest.mark.parametrize("role", [Role.STAKEHOLDER, Role.STAFF, Role.COMMITTEE])
def test_everyone_but_an_admin_is_refused(app, client, csrf, login_as, make_user, role):
    target = make_user(role=Role.STAFF)
    login_as(role)
    for path, method in _admin_routes(app):
        url = path.replace("<int:user_id>", str(target.id))
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": csrf(), "role": "admin", "confirmed": "yes"})
        assert response.status_code == 403, (method, url)
    assert role_of(target) is Role.STAFF
    assert audit_events() == []


def test_anonymous_visitors_are_sent_to_sign_in(app, client, csrf, make_user):
    target = make_user(role=Role.STAFF)
    for path, method in _admin_routes(app):
        url = path.replace("<int:user_id>", str(target.id))
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 302, (method, url)
            assert response.headers["Location"].startswith("/account/sign-in"), (method, url)
        else:  # what was sent is kept on the sign-in page, and nothing is done
            response = client.post(url, data={"csrf_token": csrf(), "role": "admin", "confirmed": "yes"})
            assert response.status_code == 401, (method, url)
            assert 'action="/account/sign-in' in text_of(response), (method, url)
    assert role_of(target) is Role.STAFF


def test_an_admin_sees_the_admin_link_and_the_pages(client, admin):
    assert 'href="/admin/users"' in text_of(client.get("/consultations/"))
    for path in ("/admin/users", f"/admin/users/{admin.id}", "/admin/audit", "/admin/audit.csv"):
        assert client.get(path).status_code == 200, path


# --- the list of users -----------------------------------------------------------

def test_the_user_list_shows_each_user_with_their_role(client, admin, make_user):
    make_user(name="Sasha Staff", email="sasha@example.org", role=Role.STAFF)
    make_user(name="Chris Committee", email="chris@example.org", role=Role.COMMITTEE)
    page = main_of(client.get("/admin/users"))
    assert re.search(r"Sasha Staff</td>\s*<td[^>]*>sasha@example.org</td>\s*<td[^>]*>Staff</td>", page)
    assert re.search(r"Chris Committee</td>\s*<td[^>]*>chris@example.org</td>\s*<td[^>]*>Committee member</td>", page)
    assert "3 users" in page


def test_the_user_list_can_be_searched_by_email_or_name(client, admin, make_user):
    make_user(name="Sasha Staff", email="sasha@example.org", role=Role.STAFF)
    make_user(name="Chris Committee", email="chris@nhs.example", role=Role.COMMITTEE)

    by_name = main_of(client.get("/admin/users?q=sasha"))
    assert "sasha@example.org" in by_name and "chris@nhs.example" not in by_name
    assert "1 user matches “sasha”" in by_name

    by_email = main_of(client.get("/admin/users?q=NHS.example"))
    assert "chris@nhs.example" in by_email and "sasha@example.org" not in by_email

    nothing = main_of(client.get("/admin/users?q=nobody-at-all"))
    assert "No users match your search" in nothing


def test_the_user_list_is_paginated(client, admin, make_user, monkeypatch):
    monkeypatch.setattr(services, "USERS_PER_PAGE", 2)
    for letter in "bcd":
        make_user(name=f"User {letter}", email=f"{letter}@example.org")
    first = main_of(client.get("/admin/users"))
    second = main_of(client.get("/admin/users?page=2"))
    assert "ada.admin@example.org" in first and "b@example.org" in first and "c@example.org" not in first
    assert "c@example.org" in second and "d@example.org" in second and "b@example.org" not in second
    assert 'href="/admin/users?page=2"' in first
    assert "govuk-pagination" in first


@pytest.mark.parametrize("page", ["0", "-3", "abc", "99999999999999999999", "100001"])
def test_an_odd_page_number_is_not_an_error(client, admin, page):
    response = client.get(f"/admin/users?page={page}")
    assert response.status_code == 200


def test_a_search_with_control_characters_is_explained(client, admin):
    response = client.get("/admin/users?q=ada%00")
    assert response.status_code == 200
    assert error_summary_items(text_of(response)) == ["Search must only include letters, numbers and symbols"]


def test_an_unknown_user_is_not_found(client, admin, post_form):
    assert client.get("/admin/users/999999").status_code == 404
    assert post_form("/admin/users/999999/role", {"role": "staff", "confirmed": "yes"}).status_code == 404
    assert client.get("/admin/users/not-a-number").status_code == 404


def test_names_and_emails_are_shown_as_text(client, admin, make_user, change_role):
    target = make_user(name=f"Name {SCRIPT}", email="markup@example.org", role=Role.STAFF)
    pages = [client.get("/admin/users"), client.get(f"/admin/users/{target.id}"),
             change_role(target, "committee", confirm=False)]
    confirmed = change_role(target, "committee")
    pages.append(client.get(confirmed.headers["Location"]))
    for response in pages:
        assert SCRIPT not in text_of(response)
        assert ESCAPED_SCRIPT in text_of(response)


# --- granting and revoking roles -------------------------------------------------

def test_the_role_change_is_confirmed_before_anything_changes(client, admin, make_user, change_role):
    target = make_user(name="Sasha Staff", role=Role.STAFF)
    response = change_role(target, "admin", confirm=False)

    assert response.status_code == 200
    page = main_of(response)
    assert "Change Sasha Staff’s role from Staff to Admin?" in page
    assert "will be signed out on every device" in page
    hidden = {tag: dict(re.findall(r'(\w+)="([^"]*)"', tag)) for tag in re.findall(r"<input[^>]*>", page)}
    carried = {attrs["name"]: attrs["value"] for attrs in hidden.values() if attrs.get("type") == "hidden"}
    assert carried["role"] == "admin" and carried["confirmed"] == "yes"
    assert role_of(target) is Role.STAFF
    assert audit_events() == []


def test_a_role_change_confirmed_from_a_page_older_than_the_role_is_checked_again(client, admin, make_user,
                                                                                 change_role, post_form):
    """The page said 'from Staff to Committee member'; meanwhile another tab made them an admin. Confirming
    recorded 'from admin to committee', a change nobody was shown."""
    target = make_user(name="Sasha Staff", role=Role.STAFF)
    first_tab = _carried(text_of(post_form(f"/admin/users/{target.id}/role", {"role": "committee"})))
    assert first_tab["from_role"] == "staff"
    change_role(target, "admin")  # another tab
    assert role_of(target) is Role.ADMIN

    stale = client.post(f"/admin/users/{target.id}/role", data=first_tab)

    assert stale.status_code == 409
    page = text_of(stale)
    assert ("Sasha Staff’s role was changed after that page was shown: it is now Admin. Nothing was changed."
            in html.unescape(page)) and 'href="#what-changes"' in page
    assert "Change Sasha Staff’s role from Admin to Committee member?" in html.unescape(main_of(stale))
    assert role_of(target) is Role.ADMIN
    assert [e.after for e in audit_events()] == [{"role": "admin"}]
    confirm = _carried(page)
    again = client.post(f"/admin/users/{target.id}/role", data=confirm)
    assert again.status_code == 302 and role_of(target) is Role.COMMITTEE
    client.get(again.headers["Location"])  # its message is read
    twice = client.post(f"/admin/users/{target.id}/role", data=confirm)  # the confirm sent again
    assert twice.status_code == 302
    told = text_of(client.get(twice.headers["Location"]))
    assert "Sasha Staff’s role is already Committee member. Nothing more was changed." in html.unescape(told)
    assert len(audit_events()) == 2


@pytest.mark.parametrize("start,new", [(Role.STAKEHOLDER, Role.STAFF), (Role.STAFF, Role.ADMIN),
                                       (Role.STAKEHOLDER, Role.COMMITTEE)])
def test_granting_a_role_is_recorded(client, admin, make_user, change_role, start, new):
    target = make_user(name="Taylor", role=start)
    response = change_role(target, new.value)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users/{target.id}"
    assert role_of(target) is new
    [event] = audit_events(AuditEvent.action == "user.change_role")
    assert (event.actor_id, event.object_type, event.object_id) == (admin.id, "users", str(target.id))
    assert (event.before, event.after) == ({"role": start.value}, {"role": new.value})
    assert event.request_id
    page = main_of(client.get(response.headers["Location"]))
    assert f"Taylor’s role is now {services.ROLE_LABELS[new]}" in page


@pytest.mark.parametrize("start", [Role.ADMIN, Role.STAFF, Role.COMMITTEE])
def test_revoking_a_role_is_recorded(client, admin, make_user, change_role, start):
    target = make_user(role=start)
    assert change_role(target, "stakeholder").status_code == 302
    assert role_of(target) is Role.STAKEHOLDER
    [event] = audit_events(AuditEvent.action == "user.change_role")
    assert (event.before, event.after) == ({"role": start.value}, {"role": "stakeholder"})


def test_a_demoted_users_open_session_stops_working(app, client, admin, make_user, change_role):
    target = make_user(role=Role.STAFF)
    elsewhere = sign_in_elsewhere(app, target)
    assert elsewhere.get("/account/password").status_code == 200

    assert change_role(target, "stakeholder").status_code == 302

    response = elsewhere.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")


def test_a_promoted_user_signs_in_again_to_use_the_new_role(app, client, admin, make_user, change_role):
    target = make_user(role=Role.STAKEHOLDER)
    elsewhere = sign_in_elsewhere(app, target)
    assert change_role(target, "admin").status_code == 302
    assert elsewhere.get("/admin/users").status_code == 302  # the old session is over

    db.session.expire_all()
    again = sign_in_elsewhere(app, db.session.get(User, target.id))
    assert again.get("/admin/users").status_code == 200


def test_an_admin_cannot_remove_their_own_admin_role(client, admin, change_role, post_form):
    response = change_role(admin, "staff", confirm=False)
    assert response.status_code == 200
    assert "Change Ada Admin’s role" not in text_of(response)  # refused before the confirmation
    assert error_summary_items(text_of(response)) == [services.CannotRemoveOwnAdminRole.message]
    assert "Error: " in text_of(response).split("</title>")[0]

    # Sending the confirmation straight away is refused by the service too.
    skipped = post_form(f"/admin/users/{admin.id}/role", {"role": "stakeholder", "confirmed": "yes"})
    assert skipped.status_code == 200
    assert error_summary_items(text_of(skipped)) == [services.CannotRemoveOwnAdminRole.message]

    assert role_of(admin) is Role.ADMIN
    assert audit_events() == []
    assert client.get("/admin/users").status_code == 200  # still signed in, still an admin


def test_choosing_the_role_a_user_already_has_says_so(client, admin, make_user, change_role):
    target = make_user(name="Sasha Staff", role=Role.STAFF)
    response = change_role(target, "staff")
    assert error_summary_items(text_of(response)) == [
        "Sasha Staff already has the role Staff. Choose a different role."]
    assert audit_events() == []


@pytest.mark.parametrize("role,message", [
    ("wizard", "Select one of the roles in the list"),
    ("ADMIN", "Select one of the roles in the list"),
    ("", "Select a new role"),
])
def test_an_unknown_role_is_a_clear_error(client, admin, make_user, post_form, role, message):
    target = make_user(role=Role.STAFF)
    for confirmed in ("", "yes"):
        response = post_form(f"/admin/users/{target.id}/role", {"role": role, "confirmed": confirmed})
        assert response.status_code == 200
        assert error_summary_items(text_of(response)) == [message]
    assert role_of(target) is Role.STAFF
    assert audit_events() == []


def test_a_role_change_without_a_valid_token_is_refused(client, admin, make_user):
    target = make_user(role=Role.STAFF)
    response = client.post(f"/admin/users/{target.id}/role",
                           data={"role": "admin", "confirmed": "yes", "csrf_token": "forged"})
    assert response.status_code == 400
    assert role_of(target) is Role.STAFF
    assert audit_events() == []


# --- the audit trail -------------------------------------------------------------

def at(year, month, day, hour=12, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


@pytest.fixture
def trail(app_context, make_user):
    """Events by two admins and the system, on known days, including one late at night in BST."""
    ada = make_user(name="Ada", email="ada@example.org", role=Role.ADMIN)
    bo = make_user(name="Bo", email="bo@example.org", role=Role.ADMIN)
    target = make_user(name="Target", email="target@example.org")
    made = [
        (ada, "user.change_role", target, at(2026, 3, 2)),
        (bo, "consultation.publish_comments", "HTE1001", at(2026, 3, 10)),
        (None, "user.create", bo, at(2026, 3, 20)),
        # 23:30 UTC on 29 March is 00:30 on 30 March in London (BST began that morning).
        (ada, "user.change_role", bo, at(2026, 3, 29, 23, 30)),
        (bo, "user.change_role", ada, at(2026, 3, 30, 23, 30)),  # 00:30 on 31 March in London
    ]
    for actor, action, obj, when in made:
        event = record(actor, action, obj, {"role": "staff"}, {"role": "admin"})
        event.occurred_at = when
    db.session.commit()
    return {"ada": ada, "bo": bo, "target": target}


def test_the_trail_is_newest_first_and_readable(client, login, trail):
    login(trail["ada"])
    response = client.get("/admin/audit")
    rows = page_rows(response)
    assert rows == [
        ("bo@example.org", "user.change_role", f"users {trail['ada'].id}"),
        ("ada@example.org", "user.change_role", f"users {trail['bo'].id}"),
        ("System", "user.create", f"users {trail['bo'].id}"),
        ("bo@example.org", "consultation.publish_comments", "str HTE1001"),
        ("ada@example.org", "user.change_role", f"users {trail['target'].id}"),
    ]
    cells = page_cells(response)
    assert cells[0][0] == "12:30am on 31 March 2026"  # UK time
    assert cells[0][1] == "Bo Only events by bo@example.org"  # who: name and email
    assert cells[0][2].startswith("Changed the role of Ada (ada@example.org) from staff to admin")
    assert cells[2][1] == "The service"
    assert cells[2][2].startswith("Created the account of Bo (bo@example.org)")
    page = main_of(response)
    assert f'<a class="govuk-link" href="/admin/users/{trail["ada"].id}">Ada (ada@example.org)</a>' in page
    assert re.search(r"<code>role</code>:\s*<span class=\"govuk-visually-hidden\">changed from </span>staff", page)
    assert "<strong>admin</strong>" in page


@pytest.mark.parametrize("query,expected", [
    ("actor=ADA@example.org", ["user.change_role users {bo}", "user.change_role users {target}"]),
    ("action=user.create", ["user.create users {bo}"]),
    ("object_type=users&object_id={bo}", ["user.change_role users {bo}", "user.create users {bo}"]),
    ("object_type=str", ["consultation.publish_comments str HTE1001"]),
    ("since=30&since=3&since=2026&until=30&until=3&until=2026", ["user.change_role users {bo}"]),
    # A date in one value, as a hand-written or older link gives it.
    ("since=30/3/2026&until=2026-03-30", ["user.change_role users {bo}"]),
    ("since=10&since=3&since=2026&until=20&until=3&until=2026",
     ["user.create users {bo}", "consultation.publish_comments str HTE1001"]),
    ("until=1&until=3&until=2026", []),
    ("actor=bo@example.org&action=user.change_role&since=31&since=3&since=2026", ["user.change_role users {ada}"]),
])
def test_the_page_and_the_csv_show_the_same_filtered_events(client, login, trail, query, expected):
    ids = {name: trail[name].id for name in ("ada", "bo", "target")}
    query = query.format(**ids)
    login(trail["ada"])

    page = page_rows(client.get(f"/admin/audit?{query}"))
    exported = csv_rows(client.get(f"/admin/audit.csv?{query}"))

    assert [f"{action} {obj}" for _, action, obj in page] == [line.format(**ids) for line in expected]
    assert page == exported


def test_the_page_links_to_the_csv_with_the_same_filters(client, login, trail):
    login(trail["ada"])
    page = text_of(client.get("/admin/audit?action=user.change_role&since=1&since=3&since=2026"))
    link = html.unescape(re.search(r'href="(/admin/audit\.csv[^"]*)"', page).group(1))
    assert link == "/admin/audit.csv?action=user.change_role&since=1&since=3&since=2026"
    assert len(csv_rows(client.get(link))) == 3
    assert "Download the events that match these filters" in page


def test_the_page_and_the_csv_agree_across_pages(client, login, make_user):
    admin = login(make_user(role=Role.ADMIN))
    for number in range(53):
        record(admin, "bulk.test", f"thing-{number:02d}")
    db.session.commit()

    first_page = text_of(client.get("/admin/audit?action=bulk.test"))
    first = page_rows(client.get("/admin/audit?action=bulk.test"))
    older = html.unescape(re.search(r'href="(/admin/audit\?[^"]*older=\d+)"', first_page).group(1))
    assert older.startswith("/admin/audit?action=bulk.test&older=")
    assert "Newer events" not in first_page and "Older events" in first_page
    second_page = client.get(older)
    second = page_rows(second_page)
    assert (len(first), len(second)) == (50, 3)
    assert first + second == csv_rows(client.get("/admin/audit.csv?action=bulk.test"))
    assert "Older events" not in text_of(second_page)
    newer = html.unescape(re.search(r'href="(/admin/audit\?[^"]*newer=\d+)"', text_of(second_page)).group(1))
    assert page_rows(client.get(newer)) == first
    # An edited link is not an error: it shows the newest events.
    for query in ("older=abc", "older=999999999", "newer=-1", "older=99999999999999999999999"):
        response = client.get(f"/admin/audit?action=bulk.test&{query}")
        assert response.status_code == 200 and page_rows(response) == first, query


def test_events_written_in_the_same_instant_are_each_shown_once(client, login, make_user):
    admin = login(make_user(role=Role.ADMIN))
    same = at(2026, 5, 1)
    for number in range(120):
        record(admin, "bulk.same", f"thing-{number:03d}").occurred_at = same
    db.session.commit()
    seen, url = [], "/admin/audit?action=bulk.same"
    while url:
        page = text_of(client.get(url))
        seen += page_rows(client.get(url))
        found = re.search(r'href="(/admin/audit\?[^"]*older=\d+)"', page)
        url = html.unescape(found.group(1)) if found else None
    assert len(seen) == 120 and len(set(seen)) == 120


def test_a_page_of_the_trail_costs_the_same_number_of_queries_however_many_objects(client, login, make_user,
                                                                                   make_consultation):
    from tests.query_counting import counted_queries

    admin = login(make_user(role=Role.ADMIN))
    consultation = make_consultation()

    def add(n):
        for _ in range(n):
            user = make_user()
            record(admin, "user.change_role", user, {"role": "stakeholder"}, {"role": "staff"})
            record(admin, "consultation.edit", consultation, {}, {})
        db.session.commit()

    add(2)
    with counted_queries() as few:
        client.get("/admin/audit")
    add(20)
    with counted_queries() as many:
        client.get("/admin/audit")
    assert len(many) == len(few)


def test_the_csv_is_a_download(client, login, trail):
    login(trail["ada"])
    response = client.get("/admin/audit.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="audit-trail-\d{8}-\d{6}\.csv"',
                        response.headers["Content-Disposition"])
    assert response.headers["Cache-Control"] == "no-store"


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(client, login, make_user):
    admin = login(make_user(role=Role.ADMIN))
    sneaky = make_user(email="=cmd@example.org")
    record(sneaky, '=HYPERLINK("http://evil.example","click")', "+SUM(1,2)")
    db.session.commit()

    rows = list(csv.reader(io.StringIO(text_of(client.get("/admin/audit.csv")).lstrip("\ufeff"))))
    [row] = [row for row in rows[1:] if "HYPERLINK" in row[2]]
    assert row[1] == "'=cmd@example.org"
    assert row[2] == '\'=HYPERLINK("http://evil.example","click")'
    assert row[4] == "'+SUM(1,2)"
    assert admin  # the admin who downloads it


def test_an_empty_field_in_an_event_reads_as_empty_not_as_a_sentence_cut_short(client, login, make_user):
    admin = login(make_user(role=Role.ADMIN))
    record(admin, "comment.accept", admin, {"moderation_note": "", "moderation_state": "new"},
           {"moderation_note": "", "moderation_state": "accepted"})
    db.session.commit()
    page = " ".join(re.sub(r"<[^>]+>", " ", text_of(client.get("/admin/audit"))).split())
    assert "moderation_note : (empty) (unchanged)" in page
    assert "set to moderation_state" not in page and "moderation_note: set to" not in page


def test_markup_in_an_event_is_shown_as_text(client, login, make_user):
    admin = login(make_user(role=Role.ADMIN))
    record(admin, SCRIPT[:80], SCRIPT, {"note": SCRIPT}, {"note": "fine"})
    db.session.commit()
    page = text_of(client.get("/admin/audit"))
    assert SCRIPT not in page
    assert ESCAPED_SCRIPT in page


@pytest.mark.parametrize("query,message", [
    ("since=31&since=2&since=2026", "Date from must be a real date"),
    ("since=1&since=&since=2026", "Date from must include a month"),
    ("until=&until=&until=2026", "Date to must include a day and a month"),
    ("until=1&until=2&until=26", "Year in date to must include 4 numbers, like 2027"),
    ("since=a&since=b&since=c", "Date from must be a real date"),
    ("since=31/02/2026", "Date from must be a real date"),
    ("since=2026-02-31", "Date from must be a real date"),
    ("since=30/3/26", "Year in date from must include 4 numbers, like 2027"),
    ("since=last+week", "Date from must include a month and a year"),
    ("since=%00", "Date from must be a real date"),
    ("since=1&since=2&since=2026&since=4", "Date from must be a real date"),
    ("until=31&until=12&until=9999", "Year in date to must be between 1900 and 2999"),
    ("since=1&since=1&since=0001", "Year in date from must be between 1900 and 2999"),
    ("since=1&since=1&since=1850", "Year in date from must be between 1900 and 2999"),
    ("since=2&since=3&since=2026&until=1&until=3&until=2026", "Date to must be the same as or after date from"),
    ("actor=nobody@example.org", "No account has this email address"),
    ("object_id=12", "Enter the object type as well as the object id"),
    ("action=" + "x" * 81, "Action must be 80 characters or fewer"),
    ("object_type=users%00&object_id=1", "Object type must only include letters, numbers and symbols"),
    ("actor=a%00@example.org", "Email address must only include letters, numbers and symbols"),
])
def test_filters_that_cannot_be_used_are_explained(client, login, trail, query, message):
    login(trail["ada"])
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    assert error_summary_items(text_of(response)) == [message]
    assert page_rows(response) == []
    assert "Correct the filters to see the events" in text_of(response)

    csv_response = client.get(f"/admin/audit.csv?{query}")
    assert csv_response.status_code == 302
    assert csv_response.headers["Location"].startswith("/admin/audit?")


@pytest.mark.parametrize("query,target", [
    ("since=&since=&since=&object_id=12", "object_id"),  # a text field, as before
    ("since=31&since=2&since=2026", "since-day"),
    ("since=1&since=&since=2026", "since-month"),
    ("since=1&since=13&since=2026", "since-month"),
    ("until=&until=&until=2026", "until-day"),
    ("until=1&until=2&until=26", "until-year"),
    ("since=1&since=1&since=0001", "since-year"),
    ("since=a&since=3&since=2026", "since-day"),
    ("since=2&since=3&since=2026&until=1&until=3&until=2026", "until-day"),
])
def test_the_error_summary_links_a_date_to_the_input_to_correct(client, login, trail, query, target):
    login(trail["ada"])
    page = text_of(client.get(f"/admin/audit?{query}"))

    summary = re.search(r'class="govuk-error-summary".*?</ul>', page, re.S).group(0)
    assert re.findall(r'<a href="#([^"]*)">', summary) == [target]
    assert re.search(rf'<input[^>]* id="{target}"', page)


def test_what_was_typed_in_a_date_is_shown_back(client, login, trail):
    login(trail["ada"])
    page = text_of(client.get("/admin/audit?since=31&since=2&since=2026"))
    assert re.search(r'id="since-day" name="since" type="text" value="31"', page)
    assert re.search(r'id="since-year" name="since" type="text" value="2026"', page)


def test_no_admin_page_is_a_server_error_whatever_the_query(client, admin):
    for path in ("/admin/users?q=%00%ff", "/admin/audit?actor=%00&action=%ff&page=x",
                 "/admin/audit?since=99&since=99&since=9999&until=31&until=12&until=9999",
                 "/admin/audit.csv?since=1&since=1&since=0001", "/admin/audit?object_type=%25&object_id=_"):
        assert client.get(path).status_code < 500, path


def test_every_admin_page_is_well_formed(client, login, trail, make_user, change_role):
    login(trail["ada"])
    target = trail["target"]
    pages = [
        client.get("/admin/users"), client.get("/admin/users?q=zzz"), client.get("/admin/users?q=%00"),
        client.get(f"/admin/users/{target.id}"), change_role(target, "staff", confirm=False),
        change_role(target, "wizard"), change_role(trail["ada"], "staff"),
        client.get("/admin/audit"), client.get("/admin/audit?since=31&since=2&since=2026&object_id=1"),
        client.get("/admin/audit?action=nothing-matches"),
    ]
    for response in pages:
        assert response.status_code == 200
        assert_well_formed(response)


def test_a_stakeholders_own_acts_are_found_by_their_email(client, login, make_user, make_consultation):
    from consult.accounts.services import sign_up
    from consult.comments import services as comment_services
    from consult.comments.models import IndividualType, ParticipantKind
    from consult.database import utcnow
    from tests.conftest import sections_of

    consultation = make_consultation(reference="HTE7001")
    person = sign_up("sam.stakeholder@example.org", "Sam Stakeholder", "a long enough password 1")
    person.email_verified_at = utcnow()
    participation = comment_services.choose_participation(person, consultation, comment_services.ParticipationChoice(
        kind=ParticipantKind.INDIVIDUAL, individual_type=IndividualType.PATIENT_OR_CARER, publish_name=True),
        utcnow())
    section = sections_of(consultation)["1.1"]
    target = comment_services.CommentTargetRef(section.document, section.chapter, section)
    kept = comment_services.save_draft(participation, target, "Secret draft words", None, utcnow())
    comment_services.update_draft(kept, "Secret draft words, changed", None, utcnow())
    dropped = comment_services.save_draft(participation, target, "A draft I thought better of", None, utcnow())
    comment_services.delete_draft(dropped, utcnow())
    comment_services.submit_response(participation, utcnow())
    db.session.commit()

    login(make_user(role=Role.ADMIN))
    response = client.get("/admin/audit?actor=SAM.stakeholder@example.org")
    actions = [action for _, action, _ in page_rows(response)]
    assert sorted(actions) == sorted(["user.register", "participation.choose", "comment.draft",
                                      "comment.update_draft", "comment.draft", "comment.delete_draft",
                                      "participation.submit"])
    sentences = [cells[2] for cells in page_cells(response)]
    assert sentences[0].startswith("Submitted a response to HTE7001 with 1 comment")
    assert any(s.startswith("Registered an account") for s in sentences)
    assert any(s.startswith("Said how they take part in HTE7001") for s in sentences)
    assert any(s.startswith("Saved a draft comment on HTE7001") for s in sentences)
    assert any(s.startswith("Deleted a draft comment on HTE7001") for s in sentences)
    assert {cells[1] for cells in page_cells(response)} == {"Sam Stakeholder Only events by sam.stakeholder@example.org"}
    page = text_of(response)
    assert "Secret draft words" not in page and "thought better of" not in page  # no draft text in the trail
    exported = list(csv.reader(io.StringIO(text_of(
        client.get("/admin/audit.csv?actor=sam.stakeholder@example.org")).lstrip("\ufeff"))))
    assert exported[0][-2:] == ["Actor name", "What happened"]
    assert exported[0][:8] == ["Time (UTC)", "Actor", "Action", "Object type", "Object id", "Before", "After",
                               "Request id"]
    assert exported[1][2] == "participation.submit" and exported[1][-1].startswith("Submitted a response to HTE7001")
    assert "Secret draft words" not in "".join(",".join(row) for row in exported)


def test_staff_acts_read_as_sentences_linking_to_the_object(client, login, make_user, moderated):
    comment, theme = moderated
    login(make_user(role=Role.ADMIN))
    cells = page_cells(client.get("/admin/audit"))
    sentences = [row[2] for row in cells]
    assert f"Accepted comment {comment.reference}" in sentences
    assert f"Tagged comment {comment.reference} with the theme ‘Safety’" in sentences
    assert f"Created the theme ‘Safety’ ({comment.consultation.reference})" in sentences
    page = text_of(client.get("/admin/audit"))
    assert (f'<a class="govuk-link" href="/staff/consultations/{comment.consultation.reference}/comments/'
            f'{comment.number}">{comment.reference}</a>') in page


@pytest.fixture
def moderated(make_user, make_consultation, make_participation):
    from consult.comments import services as comment_services
    from consult.database import utcnow
    from consult.moderation.services import Decision, create_theme, decide_comment, tag_comment
    from consult.moderation.states import ModerationState
    from tests.conftest import sections_of

    consultation = make_consultation(reference="HTE7002")
    author = make_user()
    participation = make_participation(author, consultation)
    section = sections_of(consultation)["1.1"]
    comment = comment_services.save_draft(participation, comment_services.CommentTargetRef(
        section.document, section.chapter, section), "A comment", None, utcnow())
    comment_services.submit_response(participation, utcnow())
    staff = make_user(role=Role.STAFF)
    theme = create_theme(consultation.id, "Safety", "", staff)
    tag_comment(comment, theme, staff, utcnow())
    decide_comment(comment, Decision(ModerationState.ACCEPTED), staff, comment.version, utcnow())
    db.session.commit()
    return comment, theme
