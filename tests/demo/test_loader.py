"""`flask demo load`: demo consultations everywhere, demo accounts in development only."""

import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role, User
from consult.accounts.services import authenticate
from consult.consultations.models import CommitteeAssignment, Consultation
from consult.demo.loader import DEMO_PASSWORD, DemoAccountsRefused, create_demo_accounts
from consult.extensions import db

DEMO_ACCOUNTS = {
    "stakeholder@example.org": Role.STAKEHOLDER,
    "staff@example.org": Role.STAFF,
    "committee@example.org": Role.COMMITTEE,
    "admin@example.org": Role.ADMIN,
}


@pytest.fixture
def environment(app, monkeypatch):
    def set_to(name: str) -> None:
        monkeypatch.setitem(app.config, "ENV_NAME", name)

    return set_to


@pytest.fixture
def demo_load(app, app_context):
    def run(*options: str):
        result = app.test_cli_runner().invoke(args=["demo", "load", *options])
        assert result.exit_code == 0, result.output
        db.session.expire_all()
        return result

    return run


def demo_users() -> dict[str, Role]:
    return dict(db.session.execute(select(User.email, User.role).where(User.email.in_(DEMO_ACCOUNTS))).all())


def assigned_references(email: str) -> list[str]:
    return sorted(db.session.scalars(
        select(Consultation.reference)
        .join(CommitteeAssignment, CommitteeAssignment.consultation_id == Consultation.id)
        .join(User, User.id == CommitteeAssignment.user_id)
        .where(User.email == email)))


def test_development_gets_an_account_for_each_role(demo_load, environment):
    environment("development")
    result = demo_load()

    assert demo_users() == DEMO_ACCOUNTS
    for email, role in DEMO_ACCOUNTS.items():
        assert authenticate(email, DEMO_PASSWORD).role is role
        assert f"Demo account created: {email} / {DEMO_PASSWORD} ({role.value}, development only)." in result.output


def test_the_demo_committee_member_reviews_the_open_and_closed_consultations(demo_load, environment):
    environment("development")
    demo_load()
    # HTE1001 is open, HTE0987 closed and HTE1012 not yet open.
    assert assigned_references("committee@example.org") == ["HTE0987", "HTE1001"]
    assert assigned_references("staff@example.org") == []


def test_loading_twice_changes_nothing(demo_load, environment):
    environment("development")
    demo_load()
    counts = (db.session.scalar(select(func.count()).select_from(User)),
              db.session.scalar(select(func.count()).select_from(CommitteeAssignment)),
              db.session.scalar(select(func.count()).select_from(Consultation)))

    again = demo_load()

    assert "Demo account created" not in again.output
    assert "Demo consultations created: none (already there)." in again.output
    assert (db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(CommitteeAssignment)),
            db.session.scalar(select(func.count()).select_from(Consultation))) == counts


def test_loading_again_keeps_a_role_an_admin_has_changed(demo_load, environment):
    environment("development")
    demo_load()
    staff = db.session.scalar(select(User).where(User.email == "staff@example.org"))
    staff.role = Role.STAKEHOLDER
    db.session.commit()

    demo_load()
    assert demo_users()["staff@example.org"] is Role.STAKEHOLDER


def test_accounts_are_made_for_consultations_loaded_earlier(demo_load, environment):
    """A database loaded before the demo accounts existed gets them, assignments included."""
    demo_load()  # testing: consultations only
    assert demo_users() == {}
    environment("development")
    demo_load()
    assert assigned_references("committee@example.org") == ["HTE0987", "HTE1001"]


@pytest.mark.parametrize("env_name", ["production", "testing"])
def test_no_demo_account_is_made_outside_development(demo_load, environment, env_name):
    environment(env_name)
    result = demo_load(*(["--into-production"] if env_name == "production" else []))

    assert "Demo consultations created: HTE1001, HTE0987, HTE1012." in result.output
    assert demo_users() == {}
    assert "Demo account created" not in result.output
    assert DEMO_PASSWORD not in result.output
    assert db.session.scalar(select(func.count()).select_from(CommitteeAssignment)) == 0


def test_production_is_given_no_demo_unless_asked_by_name(app, app_context, environment):
    """Loaded by mistake, three fictional consultations, one open, were on the public list at once."""
    environment("production")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert "This is a production service (CONSULT_ENV=production)" in result.output
    assert "Nothing was loaded. For a training site that should show them, run it again with --into-production." \
        in " ".join(result.output.split())
    assert db.session.scalar(select(func.count()).select_from(Consultation)) == 0


@pytest.mark.parametrize("env_name", ["production", "testing"])
def test_the_loader_itself_refuses_outside_development(app_context, environment, env_name):
    environment(env_name)
    with pytest.raises(DemoAccountsRefused):
        create_demo_accounts()
    assert demo_users() == {}


def test_development_gets_an_organisation_lead(demo_load, environment):
    from consult.organisations.services import lead_of

    environment("development")
    result = demo_load()
    lead = authenticate("lead@example.org", DEMO_PASSWORD)
    assert lead_of(lead.id).organisation.name == "Forefoot Pain Support Network"
    assert "lead@example.org" in result.output
    demo_load()  # loading again changes nothing
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "lead@example.org")) == 1


def test_every_demo_consultation_asks_the_standard_questions(demo_load):
    from consult.questions.services import STANDARD_QUESTIONS, list_questions

    demo_load()
    demo = db.session.scalars(select(Consultation)).all()
    assert len(demo) == 3
    for consultation in demo:
        assert [q.text for q in list_questions(consultation.id)] == [text for _, text in STANDARD_QUESTIONS]


def test_the_fictional_commenters_have_no_password_anyone_could_use(demo_load, environment):
    """Their accounts once had a password written in the loader, known to anyone who read it."""
    environment("production")
    demo_load("--into-production")
    commenters = db.session.scalars(select(User).where(User.email.like("sample-stakeholder-%"))).all()
    assert len(commenters) >= 10
    for index, user in enumerate(commenters[:3], start=1):
        reference = user.email.split("-")[2].upper()
        for guess in (f"unused-{reference}-{index}-password", DEMO_PASSWORD, ""):
            assert authenticate(user.email, guess) is None
    # A real hash of a secret thrown away, so a refusal takes as long as for anyone else.
    assert {user.password_hash.split("$")[0] for user in commenters} == {
        db.session.scalar(select(User.password_hash).limit(1)).split("$")[0]}


def test_loading_the_demo_emails_no_receipt_to_its_fictional_commenters(demo_load, environment):
    """Their addresses are no one's: receipts to them filled the development mail viewer, and elsewhere
    bounced into the admins' list of emails that failed."""
    from consult.mail.models import OutboxEmail

    environment("production")
    demo_load("--into-production")
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.email.like("sample-stakeholder-%"))) >= 10
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
