"""The staff services behind the consultation pages: rules, audit rows, all-or-nothing imports."""

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text

from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.comments import services as comment_services
from consult.consultations import services
from consult.consultations.importing import (
    DocumentFormatError,
    ParsedChapter,
    ParsedDocument,
    ParsedSection,
    PreviewNotFound,
    UploadRefused,
)
from consult.consultations.models import Chapter, CommitteeAssignment, Consultation, Document, Section
from consult.database import utcnow
from consult.errors import DomainError
from consult.extensions import db
from tests.conftest import sections_of

UTC = timezone.utc
OPENS = datetime(2027, 1, 12, 9, tzinfo=UTC)
CLOSES = datetime(2027, 2, 9, 17, tzinfo=UTC)
NOW = OPENS - timedelta(days=30)  # staff set the dates a month before opening


def details(**overrides) -> services.ConsultationDetails:
    values = {"reference": "SRV1001", "title": "Service consultation", "summary": "Summary.",
              "opens_at": OPENS, "closes_at": CLOSES, "is_draft": False}
    return services.ConsultationDetails(**{**values, **overrides})


def events(consultation, action=None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.object_type == "consultations",
                                     AuditEvent.object_id == str(consultation.id)).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def parsed(*chapters) -> ParsedDocument:
    return ParsedDocument(title="New draft", numbers_generated=False, chapters=tuple(
        ParsedChapter(number, title, "", tuple(ParsedSection(n, None, f"Text of {n}.") for n in numbers))
        for number, title, numbers in chapters))


@pytest.fixture
def staff(make_user):
    return make_user(name="Sam Staff", role=Role.STAFF)


@pytest.fixture
def consultation(staff):
    created = services.add_consultation(staff, details(), NOW)
    db.session.commit()
    return created


# --- Creating and editing ------------------------------------------------------

def test_adding_a_consultation_audits_who_and_what(staff, consultation):
    [event] = events(consultation)
    assert (event.actor_id, event.action, event.before) == (staff.id, "consultation.create", None)
    assert event.after["reference"] == "SRV1001" and event.after["closes_at"] == "2027-02-09T17:00:00+00:00"


@pytest.mark.parametrize("closes_at", [OPENS, OPENS - timedelta(minutes=1)])
def test_a_consultation_cannot_close_before_it_opens(app_context, staff, closes_at):
    with pytest.raises(services.ConsultationDatesInvalid):
        services.add_consultation(staff, details(closes_at=closes_at), NOW)
    assert count(Consultation) == 0 and count(AuditEvent) == 0


def test_a_duplicate_reference_is_refused_with_nothing_added(staff, consultation):
    with pytest.raises(services.DuplicateReference):
        services.add_consultation(staff, details(reference="srv1001", title="Second"), NOW)
    assert count(Consultation) == 1 and len(events(consultation)) == 1


def test_editing_audits_before_and_after(staff, consultation):
    changed = services.edit_consultation(staff, consultation, details(title="Renamed", is_draft=True),
                                         consultation.version, services.details_digest(consultation), NOW)
    db.session.commit()
    assert changed is True
    [event] = events(consultation, "consultation.edit")
    assert event.before["title"] == "Service consultation" and event.after["title"] == "Renamed"
    assert event.before["is_draft"] is False and event.after["is_draft"] is True


def test_an_edit_from_an_older_version_with_other_details_is_a_conflict_naming_the_editor(
        staff, consultation, make_user):
    seen = consultation.version, services.details_digest(consultation)
    other = make_user(name="Olu Other", role=Role.ADMIN)
    services.edit_consultation(other, consultation, details(title="Olu's title"), *seen, NOW)
    db.session.commit()

    with pytest.raises(services.EditConflict) as raised:
        services.edit_consultation(staff, consultation, details(title="Sam's title"), *seen, NOW)

    assert raised.value.changed_by == "Olu Other"
    assert raised.value.changed_at == events(consultation, "consultation.edit")[-1].occurred_at
    db.session.rollback()
    assert db.session.get(Consultation, consultation.id).title == "Olu's title"
    assert len(events(consultation, "consultation.edit")) == 1


def test_an_older_version_with_the_same_details_is_not_a_conflict(staff, consultation):
    seen = consultation.version, services.details_digest(consultation)
    consultation.last_comment_number += 1  # what submitting a response does
    db.session.commit()
    assert consultation.version != seen[0]

    assert services.edit_consultation(staff, consultation, details(title="Fine"), *seen, NOW) is True


def test_a_write_that_lands_after_the_check_is_still_caught(staff, consultation):
    seen = consultation.version, services.details_digest(consultation)
    # Another transaction saves new details after this session read the row.
    db.session.execute(text("UPDATE consultations SET title = 'Behind your back', version = version + 1 "
                            "WHERE id = :id"), {"id": consultation.id})

    with pytest.raises(services.EditConflict):
        services.edit_consultation(staff, consultation, details(title="Mine"), *seen, NOW)
    assert db.session.scalar(select(Consultation.title).where(Consultation.id == consultation.id)) == \
        "Behind your back"


def test_a_counter_bump_that_lands_after_the_check_is_retried(staff, consultation):
    seen = consultation.version, services.details_digest(consultation)
    db.session.execute(text("UPDATE consultations SET last_comment_number = last_comment_number + 1, "
                            "version = version + 1 WHERE id = :id"), {"id": consultation.id})

    assert services.edit_consultation(staff, consultation, details(title="Mine"), *seen, NOW) is True
    db.session.commit()
    assert db.session.scalar(select(Consultation.title).where(Consultation.id == consultation.id)) == "Mine"


def test_an_unchanged_save_records_nothing(staff, consultation):
    assert services.edit_consultation(staff, consultation, details(), consultation.version,
                                      services.details_digest(consultation), NOW) is False
    assert events(consultation, "consultation.edit") == []


def test_editing_to_a_reference_in_use_is_refused(staff, consultation):
    services.add_consultation(staff, details(reference="TAKEN1"), NOW)
    with pytest.raises(services.DuplicateReference):
        services.edit_consultation(staff, consultation, details(reference="taken1"), consultation.version,
                                   services.details_digest(consultation), NOW)
    db.session.rollback()
    assert db.session.get(Consultation, consultation.id).reference == "SRV1001"


# --- Closing and opening times against the clock -------------------------------

PAST_DETAILS = {"opens_at": datetime(2020, 1, 1, 9, tzinfo=UTC), "closes_at": datetime(2020, 2, 1, 17, tzinfo=UTC)}


@pytest.mark.parametrize("is_draft", [False, True])
def test_a_new_consultation_whose_closing_time_has_passed_is_refused(app_context, staff, is_draft):
    with pytest.raises(services.ConsultationDatesInvalid) as refused:
        services.add_consultation(staff, details(is_draft=is_draft, **PAST_DETAILS), NOW)
    assert refused.value.field == "closes_on"
    assert str(refused.value) == "The closing time must be in the future"
    assert count(Consultation) == 0 and count(AuditEvent) == 0


def test_a_new_consultation_may_close_a_minute_from_now_but_not_now(app_context, staff):
    now = OPENS + timedelta(days=1)
    with pytest.raises(services.ConsultationDatesInvalid):
        services.add_consultation(staff, details(closes_at=now), now)
    created = services.add_consultation(staff, details(closes_at=now + timedelta(minutes=1)), now)
    assert created.closes_at == now + timedelta(minutes=1)


def test_an_edit_cannot_move_the_closing_time_into_the_past(staff, consultation):
    now = OPENS + timedelta(days=3)  # open, with people part-way through their responses
    with pytest.raises(services.ConsultationDatesInvalid) as refused:
        services.edit_consultation(staff, consultation, details(closes_at=now - timedelta(hours=1)),
                                   consultation.version, services.details_digest(consultation), now)
    assert refused.value.field == "closes_on"
    assert str(refused.value) == ("The closing time must be in the future. To stop taking comments now, use "
                                  "‘Close this consultation now’ on its page")
    db.session.rollback()
    assert db.session.get(Consultation, consultation.id).closes_at == CLOSES
    assert events(consultation, "consultation.edit") == []


def test_an_open_consultation_can_be_closed_early_later_today(staff, consultation):
    now = OPENS + timedelta(days=3)
    assert services.edit_consultation(staff, consultation, details(closes_at=now + timedelta(hours=1)),
                                      consultation.version, services.details_digest(consultation), now) is True


def test_a_closed_consultation_keeps_its_past_closing_time_when_other_details_change(staff, consultation):
    now = CLOSES + timedelta(days=10)
    assert services.edit_consultation(staff, consultation, details(title="Renamed after closing"),
                                      consultation.version, services.details_digest(consultation), now) is True
    db.session.commit()
    saved = db.session.get(Consultation, consultation.id)
    assert (saved.title, saved.closes_at) == ("Renamed after closing", CLOSES)


def test_a_closed_consultation_cannot_be_given_another_past_closing_time(staff, consultation):
    now = CLOSES + timedelta(days=10)
    with pytest.raises(services.ConsultationDatesInvalid) as refused:
        services.edit_consultation(staff, consultation, details(closes_at=CLOSES + timedelta(days=1)),
                                   consultation.version, services.details_digest(consultation), now)
    # Not "close it now": it has closed, and only a closing time in the future changes that.
    assert str(refused.value) == ("This consultation has closed: its closing time can only be moved into the "
                                  "future, which opens it again")


def test_an_open_consultation_cannot_have_its_opening_moved_into_the_future(staff, consultation):
    now = OPENS + timedelta(days=3)
    with pytest.raises(services.ConsultationDatesInvalid) as refused:
        services.edit_consultation(staff, consultation, details(opens_at=now + timedelta(days=1)),
                                   consultation.version, services.details_digest(consultation), now)
    assert refused.value.field == "opens_on"
    assert str(refused.value) == ("The consultation has already opened, so the opening time cannot be in the "
                                  "future: people may be part-way through their responses")
    db.session.rollback()
    assert db.session.get(Consultation, consultation.id).opens_at == OPENS


@pytest.mark.parametrize("is_draft,now,opens_at", [
    (False, OPENS - timedelta(days=3), OPENS + timedelta(days=7)),  # not yet open: it can open later
    (False, OPENS + timedelta(days=3), OPENS - timedelta(days=7)),  # open: an earlier opening changes nothing
    (True, OPENS + timedelta(days=3), OPENS + timedelta(days=7)),  # held as a draft: nobody could comment yet
])
def test_an_opening_time_may_move_when_nobody_can_be_part_way_through(staff, consultation, is_draft, now, opens_at):
    consultation.is_draft = is_draft
    db.session.commit()
    assert services.edit_consultation(staff, consultation, details(opens_at=opens_at, is_draft=is_draft),
                                      consultation.version, services.details_digest(consultation), now) is True
    assert consultation.opens_at == opens_at


def test_the_staff_list_includes_drafts_with_document_counts(staff, consultation, make_consultation):
    imported = make_consultation(reference="LST1001")
    services.add_consultation(staff, details(reference="DRAFT1", is_draft=True, opens_at=OPENS + timedelta(days=1)),
                              NOW)
    rows = {c.reference: n for c, n in services.list_all_consultations()}
    assert rows == {"SRV1001": 0, "LST1001": 1, "DRAFT1": 0}
    assert imported.reference in rows


# --- Documents -----------------------------------------------------------------

def test_adding_a_document_is_audited(staff, consultation):
    document = services.add_document(staff, consultation, parsed(("1", "One", ["1.1", "1.2"])), "draft.docx")
    db.session.commit()
    [event] = events(consultation, "consultation.import_document")
    assert event.actor_id == staff.id and event.before is None
    assert event.after == {"document_id": document.id, "title": "New draft", "position": 1, "chapters": 1,
                           "sections": 2, "filename": "draft.docx"}


def test_a_refused_import_leaves_no_rows_and_no_audit(staff, consultation):
    broken = parsed(("1", "One", ["1.1"]), ("2", "Two", ["1.1"]))  # the same number twice
    with pytest.raises(DocumentFormatError, match="nothing was imported"):
        services.add_document(staff, consultation, broken, "draft.txt")
    db.session.rollback()
    assert count(Document) == count(Chapter) == count(Section) == 0
    assert events(consultation, "consultation.import_document") == []


def test_a_title_too_long_to_store_is_refused_before_anything_is_written(staff, consultation):
    too_long = ParsedDocument(title="T" * 301, numbers_generated=False, chapters=parsed(
        ("1", "One", ["1.1"])).chapters)
    with pytest.raises(DocumentFormatError, match="The document title is 301 characters long"):
        services.add_document(staff, consultation, too_long, "draft.txt")
    assert count(Document) == 0


def test_replacing_keeps_the_position_and_audits_both_sides(staff, make_consultation):
    consultation = make_consultation()
    [old] = consultation.documents
    replacement = services.replace_document(staff, consultation, old, parsed(("1", "Only", ["1.1"])), "v2.md")
    db.session.commit()

    assert [(d.id, d.position, d.title) for d in consultation.documents] == [
        (replacement.id, 1, "New draft")]
    assert count(Chapter) == 1 and count(Section) == 1
    [event] = events(consultation, "consultation.replace_document")
    assert event.before["title"] == "Sample draft guidance" and event.before["sections"] == 4
    assert event.after["title"] == "New draft" and event.after["filename"] == "v2.md"


@pytest.mark.parametrize("submitted", [False, True])
def test_a_document_with_comments_cannot_be_replaced(staff, make_consultation, make_user, make_participation,
                                                    submitted):
    consultation = make_consultation()
    participation = make_participation(make_user(), consultation)
    section = sections_of(consultation)["2.1"]
    comment_services.save_draft(participation, comment_services.CommentTargetRef(
        section.document, section.chapter, section), "Keep this.", None, utcnow())
    comment_services.save_draft(participation, comment_services.CommentTargetRef(section.document),
                                "And this.", None, utcnow())
    if submitted:
        comment_services.submit_response(participation, utcnow())
    db.session.commit()
    [old] = consultation.documents

    with pytest.raises(services.DocumentHasComments) as raised:
        services.replace_document(staff, consultation, old, parsed(("1", "Only", ["1.1"])), "v2.md")

    assert raised.value.count == 2
    assert "has 2 comments; versioned drafts come later" in str(raised.value)
    db.session.rollback()
    assert [d.id for d in consultation.documents] == [old.id]
    assert count(Section, Section.document_id == old.id) == 4
    assert events(consultation, "consultation.replace_document") == []


def test_a_replacement_the_database_refuses_leaves_the_old_document(staff, make_consultation):
    consultation = make_consultation()
    [old] = consultation.documents
    broken = parsed(("1", "One", ["1.1"]), ("2", "Two", ["1.1"]))

    with pytest.raises(DocumentFormatError, match="nothing was changed"):
        services.replace_document(staff, consultation, old, broken, "v2.md")

    db.session.rollback()
    assert [d.title for d in db.session.get(Consultation, consultation.id).documents] == ["Sample draft guidance"]
    assert count(Section, Section.document_id == old.id) == 4


# --- Committee -----------------------------------------------------------------

def test_assigning_and_unassigning_are_audited(staff, consultation, make_user):
    member = make_user(name="Cleo Committee", email="cleo@example.org", role=Role.COMMITTEE)
    services.assign_committee_member(staff, consultation, "CLEO@example.org")
    db.session.commit()
    assert services.list_committee_members(consultation) == [member]

    services.unassign_committee_member(staff, consultation, member.id)
    db.session.commit()
    assert services.list_committee_members(consultation) == []
    assigned, removed = events(consultation)[1:]
    assert (assigned.action, assigned.actor_id, assigned.before) == (
        "consultation.assign_committee_member", staff.id, None)
    assert assigned.after == {"user_id": member.id, "email": "cleo@example.org", "name": "Cleo Committee"}
    assert (removed.action, removed.before, removed.after) == (
        "consultation.unassign_committee_member", assigned.after, None)


@pytest.mark.parametrize("role", [Role.STAKEHOLDER, Role.STAFF, Role.ADMIN])
def test_only_committee_members_can_be_assigned(staff, consultation, make_user, role):
    person = make_user(role=role)
    with pytest.raises(services.NotACommitteeMember):
        services.assign_committee_member(staff, consultation, person.email)
    assert count(CommitteeAssignment) == 0


def test_the_same_member_is_assigned_once(staff, consultation, make_user):
    member = make_user(role=Role.COMMITTEE)
    services.assign_committee_member(staff, consultation, member.email)
    with pytest.raises(services.AlreadyAssigned):
        services.assign_committee_member(staff, consultation, member.email)
    assert count(CommitteeAssignment) == 1


def test_a_racing_second_assignment_is_refused_by_the_database(staff, consultation, make_user, monkeypatch):
    member = make_user(role=Role.COMMITTEE)
    # Another request assigns them after this one has looked and found nobody.
    db.session.execute(CommitteeAssignment.__table__.insert().values(
        consultation_id=consultation.id, user_id=member.id, assigned_at=utcnow()))
    original_get = db.session.get
    monkeypatch.setattr(db.session, "get", lambda model, key, *args, **kwargs: None
                        if model is CommitteeAssignment else original_get(model, key, *args, **kwargs))

    with pytest.raises(services.AlreadyAssigned):
        services.assign_committee_member(staff, consultation, member.email)
    assert count(CommitteeAssignment) == 1
    assert events(consultation, "consultation.assign_committee_member") == []


def test_an_unknown_email_is_explained(staff, consultation):
    with pytest.raises(services.UnknownCommitteeMember, match="no account with the email address x@example.org"):
        services.assign_committee_member(staff, consultation, " x@example.org ")


def test_removing_someone_not_assigned_is_explained(staff, consultation, make_user):
    with pytest.raises(services.NotAssigned):
        services.unassign_committee_member(staff, consultation, make_user(role=Role.COMMITTEE).id)
    assert len(events(consultation)) == 1


# --- What each refusal tells the page -------------------------------------------

_PERSON = SimpleNamespace(name="Dr Committee", email="chair@example.org")


@pytest.mark.parametrize("error,field,status", [
    (services.DuplicateReference("HTE1001"), "reference", 422),
    (services.ConsultationDatesInvalid(), "closes_on", 422),
    (services.EditConflict(SimpleNamespace(reference="HTE1001"), None), None, 409),
    (services.DocumentHasComments(SimpleNamespace(title="Draft"), 2), "target", 409),
    (services.UnknownCommitteeMember("nobody@example.org"), "email", 422),
    (services.NotACommitteeMember(_PERSON), "email", 422),
    (services.AlreadyAssigned(_PERSON), "email", 409),
    (services.NotAssigned(), "user_id", 409),
    (DocumentFormatError("The file is empty."), "draft", 400),
    (UploadRefused("The selected file is empty."), "draft", 400),
    (PreviewNotFound(), None, 404),
])
def test_every_refusal_is_a_domain_error_with_its_field_and_status(error, field, status):
    """The field puts the sentence beside what to fix; an error that escapes a view is a page with this status."""
    assert isinstance(error, DomainError)
    assert (error.field, error.status) == (field, status)
    assert str(error) and str(error) == error.message
