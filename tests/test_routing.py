"""Every URL's numbers are bounded at routing, so no view can be handed an id the databases refuse."""

import re

import pytest

from consult.accounts.models import Role
from consult.web import LARGEST_ID

TOO_LARGE = "99999999999999999999"
_PART = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _paths_with_numbers(app, number: str) -> list[tuple[str, str]]:
    """(method, path) for every route that takes a number, with every number set to `number`."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "int" not in {converter for converter, _name in _PART.findall(rule.rule)}:
            continue
        path = _PART.sub(lambda part: number if part.group(1) == "int" else "HTE1001", rule.rule)
        method = "GET" if "GET" in rule.methods else "POST"
        paths.append((method, path))
    return paths


def test_every_route_with_a_number_is_tried(app):
    assert len(_paths_with_numbers(app, TOO_LARGE)) > 40


@pytest.mark.parametrize("number", [TOO_LARGE, str(LARGEST_ID + 1)])
def test_a_number_beyond_any_id_is_not_found_on_every_route(app, client, number):
    answers = {(method, path): client.open(path, method=method).status_code
               for method, path in _paths_with_numbers(app, number)}
    assert {key: status for key, status in answers.items() if status != 404} == {}


def test_the_largest_id_still_reaches_its_view(app, client):
    # Past routing: anonymous, so the view's own access rule answers (a redirect to sign in), not routing's 404.
    response = client.get(f"/prepared/{LARGEST_ID}")
    assert response.status_code == 404
    response = client.get(f"/admin/users/{LARGEST_ID}")
    assert response.status_code in (302, 401, 403)


def test_a_number_beyond_any_id_in_a_query_string_is_never_a_server_error(client, login_as, make_consultation):
    consultation = make_consultation()
    login_as(Role.ADMIN)
    staff = f"/staff/consultations/{consultation.reference}"
    pages = [f"{staff}/suggestions?theme={TOO_LARGE}", f"{staff}/suggestions?page={TOO_LARGE}",
             f"{staff}/comments?page={TOO_LARGE}", f"{staff}/review?section={TOO_LARGE}",
             f"{staff}/review?theme={TOO_LARGE}", f"{staff}/campaigns?page={TOO_LARGE}",
             f"/admin/audit?page={TOO_LARGE}", f"/admin/users?page={TOO_LARGE}", f"/admin/mail/failed?page={TOO_LARGE}"]
    answers = {path: client.get(path).status_code for path in pages}
    assert {path: status for path, status in answers.items() if status >= 500} == {}
    assert set(answers.values()) <= {200, 404}, answers  # each page was reached, not refused or redirected
