"""Comment saves sent at the same moment: every one is kept, and none slips into a submitted response."""


import pytest
from sqlalchemy import func, select

from consult.accounts.services import register_user
from consult.comments import services as comment_services
from consult.accounts.models import User
from consult.comments.models import Comment, CommentStatus, IndividualType, ParticipantKind, Participation
from consult.database import utcnow
from consult.extensions import db
from tests.conftest import PASSWORD
from tests.live.seeding import open_consultation_with_draft
from tests.liveserver import all_at_once, signed_in_tab

pytestmark = pytest.mark.live

USERS = 6


def _prepare(live_server, users: int):
    """An open consultation, and users who have chosen how they take part and hold one draft each."""
    with live_server.app_context():
        now = utcnow()
        consultation, document = open_consultation_with_draft("SAVE", "Saves")
        sections = [s for chapter in document.chapters for s in chapter.sections]
        choice = comment_services.ParticipationChoice(kind=ParticipantKind.INDIVIDUAL,
                                                      individual_type=IndividualType.PATIENT_OR_CARER)
        emails = []
        for number in range(users):
            user = register_user(f"saver{number}-{now.timestamp()}@example.org", f"Saver {number}", PASSWORD)
            participation = comment_services.choose_participation(user, consultation, choice, now)
            comment_services.save_draft(participation, comment_services.CommentTargetRef(
                document, sections[0].chapter, sections[0]), "A draft kept from before.", None, now)
            emails.append(user.email)
        reference, section_ids = consultation.reference, [s.id for s in sections]
    return reference, section_ids, emails


def _comments_by_status(live_server, reference: str) -> dict:
    with live_server.app.app_context():
        return dict(db.session.execute(
            select(Comment.status, func.count()).join(Comment.consultation)
            .where(Comment.consultation.has(reference=reference)).group_by(Comment.status)).all())


def test_concurrent_saves_are_all_kept(live_server):
    reference, section_ids, emails = _prepare(live_server, USERS)
    tabs = [signed_in_tab(live_server, email, PASSWORD) for email in emails]
    forms = [f"/consultations/{reference}/sections/{section_ids[n % len(section_ids)]}/comment"
             for n in range(USERS)]
    tokens = [tab.token(form) for tab, form in zip(tabs, forms)]

    def save(number: int, words: str):
        return lambda: tabs[number].post(forms[number], {"body": f"{words} {number}."}, token=tokens[number])

    responses = all_at_once([save(n, words) for n in range(USERS) for words in ("Saved at once", "Also at once")])
    assert [r.status_code for r in responses] == [302] * (2 * USERS), [r.text[:300] for r in responses]
    assert all(r.headers["Location"].endswith(f"/consultations/{reference}/response") for r in responses)
    assert _comments_by_status(live_server, reference) == {CommentStatus.DRAFT: USERS + 2 * USERS}


def test_one_form_sent_twice_at_once_is_kept_once(live_server):
    """Back then Save again, or two presses that both got through: the same words, one draft."""
    reference, section_ids, emails = _prepare(live_server, USERS)
    tabs = [signed_in_tab(live_server, email, PASSWORD) for email in emails]
    form = f"/consultations/{reference}/sections/{section_ids[1]}/comment"
    tokens = [tab.token(form) for tab in tabs]

    responses = all_at_once([lambda n=n: tabs[n].post(form, {"body": "Sent twice."}, token=tokens[n])
                             for n in range(USERS)] * 2)
    assert [r.status_code for r in responses] == [302] * (2 * USERS), [r.text[:300] for r in responses]
    assert _comments_by_status(live_server, reference) == {CommentStatus.DRAFT: USERS + USERS}


def test_a_draft_deleted_twice_at_once_or_edited_as_it_is_deleted_is_told_it_has_gone(live_server):
    reference, _, emails = _prepare(live_server, 2)
    with live_server.app.app_context():
        drafts = dict(db.session.execute(
            select(User.email, Comment.id).join(Participation, Participation.user_id == User.id)
            .join(Comment, Comment.participation_id == Participation.id)
            .where(User.email.in_(emails))).all())
    jobs = []
    for email, sends in zip(emails, (("delete", "delete"), ("edit", "delete"))):
        tab = signed_in_tab(live_server, email, PASSWORD)
        base = f"/consultations/{reference}/comments/{drafts[email]}"
        for action in sends:
            token = tab.token(f"{base}/{action}")
            jobs.append(lambda tab=tab, url=f"{base}/{action}", token=token, action=action: tab.post(
                url, {"body": "Changed as it went"} if action == "edit" else {}, token=token))

    responses = all_at_once(jobs)

    assert sorted(r.status_code for r in responses[:2]) == [302, 404], [r.text[:300] for r in responses]
    assert "This draft comment is no longer there" in next(r.text for r in responses[:2] if r.status_code == 404)
    assert all(r.status_code in (302, 404) for r in responses[2:]), [r.text[:300] for r in responses[2:]]
    assert _comments_by_status(live_server, reference) == {}


def test_a_save_racing_the_submission_is_submitted_with_it_or_refused(live_server):
    reference, section_ids, emails = _prepare(live_server, USERS)
    jobs = []
    for number, email in enumerate(emails):
        saving, submitting = signed_in_tab(live_server, email, PASSWORD), signed_in_tab(live_server, email, PASSWORD)
        form = f"/consultations/{reference}/sections/{section_ids[-1]}/comment"
        submit = f"/consultations/{reference}/response/submit"
        save_token, submit_token = saving.token(form), submitting.token(submit)
        jobs.append(lambda tab=saving, token=save_token, form=form, n=number: tab.post(
            form, {"body": f"Sent as the response went {n}."}, token=token))
        jobs.append(lambda tab=submitting, token=submit_token, submit=submit: tab.post(submit, token=token))

    responses = all_at_once(jobs)
    assert all(r.status_code in (302, 409) for r in responses), [(r.status_code, r.text[:300]) for r in responses]
    with live_server.app.app_context():
        participations = db.session.scalars(
            select(Participation).where(Participation.consultation.has(reference=reference))).all()
        assert all(p.is_submitted for p in participations)
        # Whichever came first, no draft is left behind in a response that has been submitted.
        assert db.session.scalar(select(func.count()).select_from(Comment).where(
            Comment.participation_id.in_([p.id for p in participations]),
            Comment.status == CommentStatus.DRAFT)) == 0
