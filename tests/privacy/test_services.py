"""Collecting a person's data, anonymising an account, and finding accounts unused for years."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from consult.accounts.models import Role, User
from consult.accounts.services import authenticate, register_user
from consult.audit.models import AuditEvent
from consult.comments.models import Comment, Participation
from consult.database import utcnow
from consult.exports.rows import comments_select, export_comments
from consult.extensions import db
from consult.privacy import services
from tests.conftest import PASSWORD
from tests.privacy.conftest import DRAFT, ORGANISATION_COMMENT, SOMEONE_ELSES, SUBMITTED


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


# --- Your data -------------------------------------------------------------------

def test_your_data_holds_everything_about_you_and_nothing_about_anyone_else(person):
    data = services.collect_your_data(person["user"])

    assert data.account["email"] == "pat.person@example.org" and data.account["name"] == "Pat Person"
    assert [p["taking_part"] for p in data.participations] == [
        "As an individual", "As an individual", "On behalf of an organisation"]
    assert data.participations[0]["tobacco_details"] == "I advise Pat's Tobacco Ltd"
    assert data.participations[2]["organisation_name"] == "Foot Health Charity"
    assert {(c["comment"], c["status"]) for c in data.comments} == {
        (SUBMITTED, "Submitted"), (DRAFT, "Draft"), (ORGANISATION_COMMENT, "Submitted")}
    assert [email["kind"] for email in data.emails] == ["submission_receipt"] * len(data.emails) and data.emails
    assert {email["to"] for email in data.emails} == {person["user"].email}
    assert SOMEONE_ELSES not in services.your_data_json(data)
    assert "other@example.org" not in services.your_data_json(data)


def test_the_json_has_the_same_keys_for_every_item_and_iso_dates(person):
    parsed = json.loads(services.your_data_json(services.collect_your_data(person["user"])))

    assert list(parsed) == ["account", "participations", "comments", "answers", "organisation", "emails"]
    assert list(parsed["account"]) == [key for key, _ in services.ACCOUNT_FIELDS]
    assert all(list(p) == [key for key, _ in services.PARTICIPATION_FIELDS] for p in parsed["participations"])
    assert all(list(c) == [key for key, _ in services.COMMENT_FIELDS] for c in parsed["comments"])
    draft = next(c for c in parsed["comments"] if c["comment"] == DRAFT)
    assert draft["submitted_at"] is None and draft["reference"] is None
    assert datetime.fromisoformat(draft["written_at"]).tzinfo is not None


def test_the_emails_written_to_the_person_are_listed_and_no_one_elses(person, make_user):
    from consult.mail.services import queue_email

    other = make_user(email="someone-else@example.org")
    queue_email(person["user"].email, "password_reset", "Reset your password", name="Pat", link="https://x/1")
    queue_email(other.email, "password_reset", "Reset your password", name="Sam", link="https://x/2")
    db.session.commit()

    listed = services.emails_sent_to(person["user"])
    assert listed and {email["to"] for email in listed} == {person["user"].email}
    assert any(email["kind"] == "password_reset" and "Pat" in email["text"] for email in listed)


def test_anonymising_drops_unsent_emails_and_erases_sent_ones(person):
    from consult.mail.models import OutboxEmail, OutboxStatus
    from consult.mail.services import queue_email

    user = person["user"]
    address = user.email
    sent = queue_email(address, "password_reset", "Reset your password", name="Pat", link="https://x/1")
    sent.status = OutboxStatus.SENT
    unsent = queue_email(address, "password_reset", "Reset your password", name="Pat", link="https://x/2")
    db.session.commit()
    sent_id, unsent_id = sent.id, unsent.id

    services.anonymise_account(user, user, utcnow(), services.DELETED_BY_OWNER)
    db.session.commit()

    assert db.session.get(OutboxEmail, unsent_id) is None
    kept = fresh(OutboxEmail, sent_id)
    assert (kept.to, kept.text, kept.html) == (f"deleted-{user.id}@invalid", "", "")
    assert kept.subject == "Reset your password"
    remaining = db.session.scalars(select(OutboxEmail.to).where(OutboxEmail.to == address)).all()
    assert remaining == []


# --- Anonymising -------------------------------------------------------------------

def test_anonymising_erases_the_person_and_deletes_drafts(person):
    user = person["user"]
    old_token = user.session_token
    result = services.anonymise_account(user, user, utcnow(), services.DELETED_BY_OWNER)
    db.session.commit()

    assert result == services.Anonymised(drafts_deleted=1, participations_deleted=1, responses_kept=2)
    stored = fresh(User, user.id)
    assert stored.email == f"deleted-{user.id}@invalid"
    assert stored.name == services.ERASED_NAME
    assert stored.session_token != old_token
    assert stored.anonymised_at is not None and stored.last_signed_in_at is None
    assert not check_password_hash(stored.password_hash, PASSWORD)
    assert authenticate("pat.person@example.org", PASSWORD) is None
    assert fresh(Comment, person["draft_id"]) is None
    assert fresh(Participation, person["draft_participation_id"]) is None
    assert fresh(Comment, person["submitted"].id).body == SUBMITTED


def test_an_individual_response_keeps_only_what_the_record_needs(person):
    services.anonymise_account(person["user"], None, utcnow(), "test")
    db.session.commit()

    individual = fresh(Participation, person["individual"].id)
    assert individual.publish_name is False
    assert individual.other_interests == ""
    assert individual.has_tobacco_links is True  # the committee weighs the comment by it
    assert individual.tobacco_details == services.ERASED_DETAILS
    assert individual.receipt_reference is not None


def test_an_organisation_response_keeps_the_organisation_and_its_declarations(person):
    services.anonymise_account(person["user"], None, utcnow(), "test")
    db.session.commit()

    organisation = fresh(Participation, person["organisation"].id)
    assert organisation.organisation_name == "Foot Health Charity"
    assert (organisation.has_tobacco_links, organisation.tobacco_details) == (True, "A grant in 2019")
    assert organisation.other_interests == "We sell insoles"


def test_staff_outputs_still_hold_the_submitted_comments_without_the_person(person):
    services.anonymise_account(person["user"], None, utcnow(), "test")
    db.session.commit()

    answered, _, for_charity = person["consultations"]
    items = {item.body: item for item in export_comments(
        comments_select().where(Comment.consultation_id.in_([answered.id, for_charity.id])))}
    assert items[SUBMITTED].stakeholder == "Individual (patient or carer)"  # they had agreed to be named
    assert items[SUBMITTED].email == f"deleted-{person['user'].id}@invalid"
    assert items[ORGANISATION_COMMENT].stakeholder == "Foot Health Charity"
    assert items[SOMEONE_ELSES].email == "other@example.org"
    assert DRAFT not in items


def test_the_act_is_audited_without_the_erased_email_or_name(person):
    user = person["user"]
    services.anonymise_account(user, user, utcnow(), services.DELETED_BY_OWNER)
    db.session.commit()

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.anonymise"))
    assert (event.actor_id, event.object_type, event.object_id) == (user.id, "users", str(user.id))
    assert event.after["reason"] == services.DELETED_BY_OWNER
    assert event.after["drafts_deleted"] == 1
    recorded = json.dumps([event.before, event.after])
    assert "pat.person" not in recorded and "Pat Person" not in recorded


def test_an_account_is_anonymised_once(person):
    services.anonymise_account(person["user"], None, utcnow(), "test")
    with pytest.raises(services.AlreadyAnonymised):
        services.anonymise_account(person["user"], None, utcnow(), "test")


def test_the_erased_email_can_register_again(person):
    services.anonymise_account(person["user"], None, utcnow(), "test")
    db.session.commit()

    again = register_user("Pat.Person@example.org", "Pat Again", PASSWORD)
    db.session.commit()
    assert again.id != person["user"].id
    assert services.collect_your_data(again).participations == []


def test_deleting_your_own_account_needs_your_password(person):
    with pytest.raises(services.WrongPassword):
        services.delete_own_account(person["user"], "not my password", utcnow())
    assert fresh(User, person["user"].id).anonymised_at is None


@pytest.mark.parametrize("role", [Role.STAFF, Role.COMMITTEE, Role.ADMIN])
def test_staff_committee_and_admin_accounts_cannot_delete_themselves(make_user, role):
    user = make_user(role=role)
    with pytest.raises(services.AccountCannotBeDeleted):
        services.delete_own_account(user, PASSWORD, utcnow())
    assert fresh(User, user.id).anonymised_at is None


# --- Retention -------------------------------------------------------------------------

NOW = utcnow()
CUTOFF = services.years_before(NOW, 3)
LONG_AGO = CUTOFF - timedelta(days=1)


def inactive_ids() -> list[int]:
    return list(db.session.scalars(services.inactive_accounts_query(CUTOFF).with_only_columns(User.id)))


def test_only_stakeholder_accounts_unused_since_the_cutoff_are_inactive(make_user, make_consultation,
                                                                         make_participation):
    def made(name, role=Role.STAKEHOLDER, signed_in_at=None):
        user = make_user(name=name, role=role)
        user.created_at, user.last_signed_in_at = LONG_AGO, signed_in_at
        return user

    never_back = made("Never back")
    signed_in_long_ago = made("Long ago", signed_in_at=LONG_AGO)
    signed_in_lately = made("Lately", signed_in_at=CUTOFF + timedelta(days=1))
    staff = made("Staff", role=Role.STAFF)
    commented_lately = made("Commenter")
    make_participation(commented_lately, make_consultation()).updated_at = CUTOFF + timedelta(days=1)
    commented_long_ago = made("Old commenter")
    make_participation(commented_long_ago, make_consultation()).updated_at = LONG_AGO
    gone = made("Gone")
    services.anonymise_account(gone, None, LONG_AGO, "test")
    db.session.commit()
    created_lately = make_user(name="New")

    found = inactive_ids()
    assert never_back.id in found and signed_in_long_ago.id in found and commented_long_ago.id in found
    for kept in (signed_in_lately, staff, commented_lately, gone, created_lately):
        assert kept.id not in found


def test_an_account_used_again_after_listing_is_kept(make_user):
    user = make_user()
    user.created_at = LONG_AGO
    db.session.commit()
    assert user.id in inactive_ids()
    services.record_sign_in(user, NOW)
    assert services.anonymise_if_inactive(user.id, CUTOFF, NOW, "test") is False
    assert fresh(User, user.id).anonymised_at is None


def test_years_before_a_leap_day():
    leap_day = datetime(2028, 2, 29, 9, tzinfo=timezone.utc)
    assert services.years_before(leap_day, 3) == datetime(2025, 2, 28, 9, tzinfo=timezone.utc)
    assert services.years_before(leap_day, 4) == datetime(2024, 2, 29, 9, tzinfo=timezone.utc)


def test_after_deletion_no_audit_event_holds_the_erased_email_or_name(make_user):
    """The trail is append-only, so nothing in it may copy an address or name: deleting the account
    would leave them there for ever. Every account act that writes an event is walked here."""
    from consult.accounts import recovery_services
    from consult.accounts.services import create_account
    from consult.admin.account_services import send_reset_link
    from consult.mail.models import OutboxStatus
    from consult.mail.services import retry_email

    admin = make_user(role=Role.ADMIN)
    person = create_account("Robin.Erased@example.org", "Robin Erased", PASSWORD, Role.STAKEHOLDER, actor=admin)
    db.session.commit()
    recovery_services.reset_password(recovery_services.reset_token(person), "a new password for Robin")
    send_reset_link(person, admin)
    failed = recovery_services.send_password_reset(person)
    failed.status, failed.attempts = OutboxStatus.FAILED, 6
    failed.last_error = "SMTPRecipientsRefused: {'robin.erased@example.org': (550, b'No such user')}"
    db.session.flush()
    retry_email(failed.id, admin)
    db.session.commit()

    services.delete_own_account(person, "a new password for Robin", utcnow())
    db.session.commit()

    events = db.session.scalars(select(AuditEvent)).all()
    assert {"user.create", "user.reset_password", "user.send_password_reset", "mail.retry",
            "user.anonymise"} <= {event.action for event in events}
    recorded = json.dumps([[event.before, event.after] for event in events]).lower()
    assert "robin" not in recorded and "erased@example.org" not in recorded
