"""Role changes: the rules, the audit trail and the sessions they end."""

import pytest
from sqlalchemy import select, update

from consult.accounts.models import Role, User
from consult.accounts.services import load_user_from_session
from consult.admin import services
from consult.audit.models import AuditEvent
from consult.extensions import db


def events_for(user: User) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "users", AuditEvent.object_id == str(user.id))
        .order_by(AuditEvent.id)))


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
