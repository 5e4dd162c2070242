"""Security proofs that cover every route automatically.

The route list is read from the app's url_map, so a route added later is in
the matrix, the CSRF check and the header check without anyone adding it.
"""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.routing import Rule

from consult import create_app
from consult.access import PUBLIC, rule_for_endpoint
from consult.accounts.models import Role, User
from consult.analysis.models import Campaign, CampaignMember, MembershipMethod
from consult.background.models import BackgroundJob, JobState
from consult.comments import services as comment_services
from consult.comments.models import Comment, OrganisationType
from consult.consultations.models import CommitteeAssignment
from consult.database import utcnow
from consult.extensions import db
from consult.loaders import LARGEST_ID
from consult.moderation.models import Theme
from consult.organisations import services as organisation_services
from consult.questions.models import Question, QuestionKind
from tests.conftest import (
    make_test_config,
    new_consultation,
    new_participation,
    new_user,
    sections_of,
    session_on,
)

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
ROLES = ["anonymous", "owner", "other stakeholder", "staff", "admin", "committee (assigned)",
         "committee (not assigned)", "organisation lead"]


def test_every_route_declares_who_may_use_it(app):
    undeclared = [rule.rule for rule in app.url_map.iter_rules() if rule_for_endpoint(rule.endpoint) is None]
    assert undeclared == []


def test_a_route_without_a_declaration_is_refused(app, client):
    view = app.view_functions["consultations.index"]
    saved = view.access_rule
    view.access_rule = None
    try:
        assert client.get("/consultations/").status_code == 403
    finally:
        view.access_rule = saved


# Every test here runs in a SAVEPOINT of one module-wide transaction (tests/conftest.py
# module_database): the world below is built once, and each cell's writes are rolled back.
pytestmark = pytest.mark.usefixtures("module_database")


@dataclass(frozen=True)
class World:
    """An open consultation: the owner keeps a draft, someone else has submitted, a theme exists.

    Plain ids and values only: each test has sessions of its own, so it loads what it needs.
    """

    reference: str
    document_id: int
    chapter_id: int
    section_id: int
    comment_id: int
    number: int
    theme_id: int
    people: dict[str, int]  # role -> user id
    question_id: int = 0
    campaign_id: int = 0
    job_id: int = 0  # a download prepared for the assigned committee member


@pytest.fixture(scope="module")
def world(app, module_database) -> World:
    with app.app_context(), session_on(module_database):
        consultation = new_consultation()
        section = sections_of(consultation)["2.1"]
        target = comment_services.CommentTargetRef(section.document, section.chapter, section)
        people = {
            "owner": new_user(name="Owner"),
            "other stakeholder": new_user(name="Other"),
            "staff": new_user(name="Staff", role=Role.STAFF),
            "admin": new_user(name="Admin", role=Role.ADMIN),
            "committee (assigned)": new_user(name="Assigned", role=Role.COMMITTEE),
            "committee (not assigned)": new_user(name="Unassigned", role=Role.COMMITTEE),
            "organisation lead": new_user(name="Lead"),
        }
        organisation_services.mark_lead(people["organisation lead"], "Foot Health UK",
                                         OrganisationType.CHARITY_OR_PATIENT_GROUP, people["admin"])
        organisation_services.share_code(people["organisation lead"], consultation, utcnow())
        draft = comment_services.save_draft(new_participation(people["owner"], consultation), target, SECRET,
                                            None, utcnow())
        submitter = new_participation(new_user(name="Submitter"), consultation)
        submitted = comment_services.save_draft(submitter, target, "A submitted comment", None, utcnow())
        comment_services.submit_response(submitter, utcnow())
        theme = Theme(consultation_id=consultation.id, name="Safety")
        db.session.add_all([theme, CommitteeAssignment(consultation_id=consultation.id,
                                                       user_id=people["committee (assigned)"].id)])
        question = Question(consultation_id=consultation.id, kind=QuestionKind.YES_NO, position=1,
                            text="Has all of the relevant evidence been taken into account?")
        db.session.add(question)
        campaign = Campaign(consultation_id=consultation.id)
        db.session.add(campaign)
        db.session.flush()
        db.session.add(CampaignMember(comment_id=submitted.id, campaign_id=campaign.id,
                                      method=MembershipMethod.IDENTICAL, score={"jaccard": 1.0}))
        job = BackgroundJob(kind="comments.csv", consultation_id=consultation.id, state=JobState.DONE,
                            requested_by_id=people["committee (assigned)"].id, file_name="world-prepared.csv",
                            download_name="prepared.csv", mimetype="text/csv", total=1, done=1,
                            expires_at=utcnow() + timedelta(days=1))
        db.session.add(job)
        directory = Path(app.config["DOWNLOADS_DIRECTORY"])
        directory.mkdir(parents=True, exist_ok=True)
        (directory / job.file_name).write_text("Comment number\n", encoding="utf-8")
        db.session.commit()
        return World(consultation.reference, section.document_id, section.chapter_id, section.id, draft.id,
                     consultation.last_comment_number, theme.id, {role: user.id for role, user in people.items()},
                     question.id, campaign.id, job.id)


def _person(world: World, role: str) -> User | None:
    user_id = world.people.get(role)
    return None if user_id is None else db.session.get(User, user_id)


def _url_for(app, endpoint: str, world: World) -> str:
    values = {
        "reference": world.reference,
        "document_id": world.document_id,
        "chapter_id": world.chapter_id,
        "section_id": world.section_id,
        "comment_id": world.comment_id,
        "number": world.number,
        "theme_id": world.theme_id,
        "user_id": world.people["owner"],
        "question_id": world.question_id,
        "campaign_id": world.campaign_id,
        "job_id": world.job_id,
        "answer_id": LARGEST_ID,  # no such answer: the lead finds nothing, everyone else is refused first
    }
    rule: Rule = next(app.url_map.iter_rules(endpoint))
    with app.test_request_context():
        from flask import url_for
        return url_for(endpoint, **{name: values[name] for name in rule.arguments})


@pytest.mark.xdist_group("security-world-isolation")  # both cells on one worker, one after the other
@pytest.mark.parametrize("cell", ["first", "second"])
def test_each_cell_sees_the_world_and_none_of_another_cells_writes(app_context, client, csrf, login, world, cell):
    """Whichever cell runs second proves that the first one's committed writes were rolled back."""
    draft = db.session.get(Comment, world.comment_id)
    assert draft.body == SECRET
    assert db.session.scalars(select(Theme.name).where(Theme.consultation_id == draft.consultation_id)).all() == [
        "Safety"]

    login(_person(world, "owner"))
    response = client.post(f"/consultations/{world.reference}/comments/{world.comment_id}/edit",
                           data={"csrf_token": csrf(), "body": f"Rewritten in the {cell} cell"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    db.session.add(Theme(consultation_id=draft.consultation_id, name=f"Added in the {cell} cell"))
    db.session.commit()

    db.session.expire_all()
    assert db.session.get(Comment, world.comment_id).body == f"Rewritten in the {cell} cell"
    assert len(db.session.scalars(select(Theme).where(Theme.consultation_id == draft.consultation_id)).all()) == 2


def _expected_denial(rule, role: str, user, path: str) -> int | None:
    """The status a role must get on a route, or None where the route is theirs to use."""
    if "<int:job_id>" in path:  # a prepared file: its asker's and staff's; nobody else is told it exists
        return None if role in ("committee (assigned)", "staff", "admin") else 404
    if rule is PUBLIC:
        return None
    if user is None:
        return 302  # to the sign-in page
    if not rule.allows(user):
        return 403
    if role == "committee (not assigned)" and rule.roles and "<reference>" in path:
        return 404  # in the review pages, a consultation they are not assigned to does not exist
    if "/organisation/lead/" in path and role != "organisation lead":
        return 403  # an organisation's lead-only pages: no one else in the world leads an organisation
    if role != "owner" and "comment_id" in path:
        return 404  # someone else's draft does not exist for you, whatever your role
    if path.startswith("/staff/") and "<int:answer_id>" in path:
        return 404  # staff moderate submitted answers; the world's answer_id names none
    return None


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint,method,path", ROUTES, ids=[f"{m} {p}" for _, m, p in ROUTES])
def test_route_matrix_allows_only_whom_it_should(app, app_context, client, csrf, login, world, endpoint, method,
                                                 path, role):
    user = _person(world, role)
    if user is not None:
        login(user)
    url = _url_for(app, endpoint, world)
    response = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": csrf()})
    status = response.status_code
    body = response.get_data().decode("utf-8", "replace")
    denial = _expected_denial(rule_for_endpoint(endpoint), role, user, path)

    assert status < 500
    assert not 200 <= status < 300 or denial is None, f"unauthorised {status} for {role}"
    if denial == 302:
        assert status == 302 and response.headers["Location"].startswith("/account/sign-in")
    elif denial is not None:
        assert status == denial, body[:300]
    else:
        assert status not in (403, 404) or endpoint.startswith("exports.published"), body[:300]
    if role != "owner":
        assert SECRET not in body  # a draft is its author's alone, whoever else asks


@pytest.mark.parametrize("endpoint,method,path", [r for r in ROUTES if r[1] == "POST"],
                         ids=[p for _, m, p in ROUTES if m == "POST"])
@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_every_state_changing_route_refuses_a_bad_csrf_token(app, app_context, client, login, world, endpoint,
                                                            method, path, token):
    login(_person(world, "owner"))
    url = _url_for(app, endpoint, world)
    data = {"body": "Kept text", **({"csrf_token": "not-the-token"} if token == "wrong" else {})}
    response = client.post(url, data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Your session timed out" in page
    assert "Kept text" in page  # what was typed is offered back, not lost
    draft = db.session.get(Comment, world.comment_id)
    assert comment_services.list_comments(draft.participation)[0].body == SECRET


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


@pytest.mark.parametrize("path", ["/account/sign-in", "/account/register"])
def test_a_nul_character_in_a_form_gets_a_clear_400(client, csrf, path):
    response = client.post(path, data={"csrf_token": csrf(), "email": "a\x00@example.org", "password": "x",
                                       "name": "N\x00", "confirm": "x"})
    assert response.status_code == 400
    assert "What you sent contains a character we cannot accept" in response.get_data(as_text=True)
