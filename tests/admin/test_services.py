"""Role changes and accounts made for someone: the rules, the audit trail and the session they end."""

import pytest
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash

from consult.accounts.models import Role, User
from consult.accounts.services import MIN_PASSWORD_LENGTH, EmailAlreadyRegistered, load_user_from_session
from consult.admin import services
from consult.audit.models import AuditEvent
from consult.extensions import db


def events_for(user: User) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "users", AuditEvent.object_id == str(user.id))
        .order_by(AuditEvent.id)))


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.mark.parametrize("start,new", [(Role.STAKEHOLDER, Role.STAFF), (Role.STAFF, Role.ADMIN),
                                       (Role.ADMIN, Role.STAKEHOLDER), (Role.COMMITTEE, Role.STAKEHOLDER)])
def test_a_role_change_is_recorded_with_the_role_before_and_after(make_user, start, new):
    admin, user = make_user(role=Role.ADMIN), make_user(role=start)
    services.change_role(user, new, admin)
    db.session.commit()

    db.session.expire_all()
    assert db.session.get(User, user.id).role is new
    [event] = events_for(user)
    assert (event.actor_id, event.action) == (admin.id, "user.change_role")
    assert event.before == {"role": start.value}
    assert event.after == {"role": new.value}


def test_a_role_change_ends_every_session_the_user_had(make_user):
    admin, user = make_user(role=Role.ADMIN), make_user(role=Role.STAFF)
    old_session_id = user.get_id()
    assert load_user_from_session(old_session_id) is user

    services.change_role(user, Role.STAKEHOLDER, admin)
    db.session.commit()

    assert user.get_id() != old_session_id
    assert load_user_from_session(old_session_id) is None
    assert load_user_from_session(user.get_id()) is user


def test_an_admin_cannot_remove_their_own_admin_role(make_user):
    admin = make_user(role=Role.ADMIN)
    token = admin.session_token
    for role in (Role.STAFF, Role.COMMITTEE, Role.STAKEHOLDER):
        with pytest.raises(services.CannotRemoveOwnAdminRole):
            services.change_role(admin, role, admin)
    db.session.commit()
    db.session.expire_all()
    assert (admin.role, admin.session_token) == (Role.ADMIN, token)
    assert events_for(admin) == []


def test_an_admin_can_remove_another_admins_role(make_user):
    first, second = make_user(role=Role.ADMIN), make_user(role=Role.ADMIN)
    services.change_role(second, Role.STAFF, first)
    assert second.role is Role.STAFF


def test_a_change_to_the_same_role_is_refused_and_not_recorded(make_user):
    admin, user = make_user(role=Role.ADMIN), make_user(role=Role.STAFF)
    token = user.session_token
    with pytest.raises(services.RoleUnchanged, match="already has the role Staff"):
        services.change_role(user, Role.STAFF, admin)
    assert user.session_token == token
    assert events_for(user) == []


def test_an_actor_demoted_meanwhile_can_no_longer_change_roles(make_user):
    """Two admins demoting each other at once: the second change sees the first and is refused."""
    first, second = make_user(role=Role.ADMIN), make_user(role=Role.ADMIN)
    assert first.role is Role.ADMIN  # loaded by "this request"
    # Another request demotes `first` meanwhile: the object in hand is now stale.
    db.session.execute(update(User).where(User.id == first.id).values(role=Role.STAFF)
                       .execution_options(synchronize_session=False))
    assert first.role is Role.ADMIN

    with pytest.raises(services.ActorIsNotAdmin):
        services.change_role(second, Role.STAFF, first)
    assert second.role is Role.ADMIN
    assert events_for(second) == []


def test_an_account_made_for_someone_is_recorded_as_done_by_the_system(make_user):
    user = services.create_account("First.Admin@Example.org", "First Admin", "a" * MIN_PASSWORD_LENGTH, Role.ADMIN)
    db.session.commit()

    assert (user.email, user.role) == ("first.admin@example.org", Role.ADMIN)
    assert check_password_hash(user.password_hash, "a" * MIN_PASSWORD_LENGTH)
    [event] = events_for(user)
    assert (event.actor_id, event.action, event.before) == (None, "user.create", None)
    assert event.after == {"email": "first.admin@example.org", "name": "First Admin", "role": "admin"}


def test_an_account_made_by_an_admin_names_the_admin(make_user):
    admin = make_user(role=Role.ADMIN)
    user = services.create_account("new@example.org", "New", "b" * 12, Role.STAFF, actor=admin)
    assert events_for(user)[0].actor_id == admin.id


def test_a_short_password_creates_nothing(make_user):
    before = audit_count()
    with pytest.raises(services.PasswordTooShort):
        services.create_account("short@example.org", "Short", "a" * (MIN_PASSWORD_LENGTH - 1), Role.ADMIN)
    assert db.session.scalar(select(User).where(User.email == "short@example.org")) is None
    assert audit_count() == before


def test_an_existing_email_creates_nothing_whatever_its_case(make_user):
    make_user(email="taken@example.org")
    before = audit_count()
    with pytest.raises(EmailAlreadyRegistered):
        services.create_account("TAKEN@example.org", "Other", "c" * 12, Role.ADMIN)
    assert audit_count() == before


def test_user_search_matches_email_or_name_in_any_case(make_user):
    ada = make_user(name="Ada Lovelace", email="ada@analytical.example")
    grace = make_user(name="Grace Hopper", email="g.hopper@navy.example")
    make_user(name="Someone Else", email="else@example.org")

    def found(search: str) -> list[str]:
        return [u.email for u in db.session.scalars(services.user_search_query(search))
                if u.id in (ada.id, grace.id)]

    assert found("LOVELACE") == [ada.email]
    assert found("navy.EXAMPLE") == [grace.email]
    assert found("  hopper ") == [grace.email]
    assert found("") == [ada.email, grace.email]  # by email


def test_user_search_treats_wildcards_as_text(make_user):
    make_user(name="Percent Person", email="per%cent@example.org")
    make_user(name="Plain Person", email="percent@example.org")
    emails = [u.email for u in db.session.scalars(services.user_search_query("per%c"))]
    assert emails == ["per%cent@example.org"]
    assert list(db.session.scalars(services.user_search_query("_"))) == []
