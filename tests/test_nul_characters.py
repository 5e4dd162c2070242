"""A NUL byte anywhere in a request is refused cleanly, never a 500 (PostgreSQL cannot compare one)."""

import pytest

from consult.accounts.models import Role


def _paths(reference: str) -> list[str]:
    return [
        f"/consultations/{reference}%00",
        f"/consultations/{reference}%00/take-part",
        f"/consultations/{reference}?q=a%00b",
        "/consultations/?q=a%00b",
        "/consultations/?a%00b=1",
        f"/staff/consultations/{reference}%00/comments",
        f"/staff/consultations/{reference}/comments?theme=a%00",
        "/account/sign-in?next=/consultations/%00",
    ]


@pytest.mark.parametrize("role", [None, Role.STAKEHOLDER, Role.STAFF])
def test_a_nul_in_the_path_or_query_is_a_bad_request_for_anyone(client, login_as, make_consultation, role):
    consultation = make_consultation()
    if role is not None:
        login_as(role)
    for path in _paths(consultation.reference):
        response = client.get(path)
        assert response.status_code == 400, path
        page = response.get_data(as_text=True)
        if "%00" in path.split("?")[0]:
            assert "there is a problem with the request" in page, path
        else:  # a search or filter: said as one
            assert "What you sent contains a character we cannot accept" in page, path
            assert "What you searched for or filtered by holds an invisible control character (NUL)" in page, path


def test_a_nul_in_a_search_names_the_search_box(client, login_as, make_consultation):
    consultation = make_consultation()
    login_as(Role.STAFF)
    page = client.get(f"/staff/consultations/{consultation.reference}/comments?q=cost%00").get_data(as_text=True)
    assert "It is in: Search words. Nothing was looked up." in page
    dated = client.get(f"/staff/consultations/{consultation.reference}/comments?submitted_from=1/1/2026%00")
    assert "It is in: Submitted on or after." in dated.get_data(as_text=True)


def test_a_nul_in_a_form_is_refused_with_what_it_is_and_how_to_get_rid_of_it(client, post_form):
    response = post_form("/account/sign-in", {"email": "a\x00@example.org", "password": "x"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "What you sent contains a character we cannot accept" in page
    assert "invisible control character (NUL)" in page and "what you typed is still in the form" in page
    assert "It is in: Email address." in page


@pytest.mark.parametrize("fields", [
    [("email", "a@example.org"), ("email", "b\x00@example.org")],  # a repeated field's later value
    [("email", "a@example.org"), ("x\x00y", "1")],  # a field's name
])
def test_a_nul_anywhere_in_a_form_is_refused(client, csrf, fields):
    from werkzeug.datastructures import MultiDict

    data = MultiDict([("csrf_token", csrf("/account/sign-in")), ("password", "x"), *fields])
    assert client.post("/account/sign-in", data=data).status_code == 400


def test_the_admin_search_still_explains_a_nul_beside_its_field(client, login_as):
    login_as(Role.ADMIN)
    response = client.get("/admin/users?q=ada%00")
    assert response.status_code == 200
    assert "Search must only include letters, numbers and symbols" in response.get_data(as_text=True)
    dated = client.get("/admin/audit?since=%00&since=1&since=2026").get_data(as_text=True)
    assert "Date from must be a real date" in dated and "\x00" not in dated
