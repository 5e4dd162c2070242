"""Security proofs that cover every route automatically.

The route list is read from the app's url_map, so a route added later is in
the matrix, the CSRF check and the header check without anyone adding it.
"""

import pytest
from werkzeug.routing import Rule

from consult import create_app
from consult.access import PUBLIC, SIGNED_IN, rule_for_endpoint
from consult.comments import services as comment_services
from consult.database import utcnow
from consult.extensions import db
from tests.conftest import make_test_config, sections_of

SECRET = "Owner-only draft text 7f3a"


def _routes() -> list[tuple[str, str, str]]:
    app = create_app(make_test_config("sqlite://"))
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule.rule))
    return found


ROUTES = _routes()
ROLES = ["anonymous", "owner", "other stakeholder"]


def test_every_route_declares_who_may_use_it(app):
    undeclared = [rule.rule for rule in app.url_map.iter_rules() if rule_for_endpoint(rule.endpoint) is None]
    assert undeclared == []


def test_a_route_without_a_declaration_is_refused(app, client):
    app.view_functions["consultations.index"].access_rule, saved = None, app.view_functions["consultations.index"].access_rule
    try:
        assert client.get("/consultations/").status_code == 403
    finally:
        app.view_functions["consultations.index"].access_rule = saved


@pytest.fixture
def world(make_user, make_consultation, make_participation):
    """An open consultation where the owner has taken part and keeps a draft."""
    consultation = make_consultation()
    owner, other = make_user(name="Owner"), make_user(name="Other")
    participation = make_participation(owner, consultation)
    section = sections_of(consultation)["2.1"]
    comment = comment_services.save_draft(
        participation, comment_services.CommentTargetRef(section.document, section.chapter, section),
        SECRET, None, utcnow())
    db.session.commit()
    return {"consultation": consultation, "owner": owner, "other": other, "comment": comment,
            "section": section}


def _url_for(app, endpoint: str, world) -> str:
    values = {
        "reference": world["consultation"].reference,
        "document_id": world["section"].document_id,
        "chapter_id": world["section"].chapter_id,
        "section_id": world["section"].id,
        "comment_id": world["comment"].id,
    }
    rule: Rule = next(app.url_map.iter_rules(endpoint))
    with app.test_request_context():
        from flask import url_for
        return url_for(endpoint, **{name: values[name] for name in rule.arguments})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint,method,path", ROUTES, ids=[f"{m} {p}" for _, m, p in ROUTES])
def test_route_matrix_allows_only_whom_it_should(app, client, csrf, login, world, endpoint, method, path, role):
    if role == "owner":
        login(world["owner"])
    elif role == "other stakeholder":
        login(world["other"])
    url = _url_for(app, endpoint, world)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": csrf()})
    rule = rule_for_endpoint(endpoint)
    status = response.status_code
    body = response.get_data().decode("utf-8", "replace")

    assert status < 500
    if rule is PUBLIC:
        assert status != 403
    elif rule is SIGNED_IN and role == "anonymous":
        assert status == 302 and response.headers["Location"].startswith("/account/sign-in"), status
    elif role == "other stakeholder" and "comment_id" in path:
        assert status == 404  # someone else's comment does not exist for you
    elif role == "owner":
        assert status not in (403, 404), body[:300]
    if role != "owner":
        assert SECRET not in body


@pytest.mark.parametrize("endpoint,method,path", [r for r in ROUTES if r[1] == "POST"],
                         ids=[p for _, m, p in ROUTES if m == "POST"])
@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_every_state_changing_route_refuses_a_bad_csrf_token(app, client, login, world, endpoint, method, path,
                                                            token):
    login(world["owner"])
    url = _url_for(app, endpoint, world)
    data = {"body": "Kept text", **({"csrf_token": "not-the-token"} if token == "wrong" else {})}
    response = client.post(url, data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Your session timed out" in page
    assert "Kept text" in page  # what was typed is offered back, not lost
    assert comment_services.list_comments(world["comment"].participation)[0].body == SECRET


PAGES = ["/", "/consultations/", "/account/sign-in", "/account/register", "/no-such-page",
         "/static/css/app.css"]


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_on_every_response(client, path):
    with client.get(path) as response:
        headers = response.headers
    policy = headers["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_the_inline_script_carries_the_policy_nonce(client):
    response = client.get("/consultations/")
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in response.get_data(as_text=True)
