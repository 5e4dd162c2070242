"""A bulk action on many matching comments, applied by the real worker behind the progress page."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consult.audit.models import AuditEvent
from consult.background.models import BackgroundJob, JobState
from consult.comments.models import Comment
from consult.database import utcnow
from consult.extensions import db
from consult.moderation.states import ModerationState
from tests.background.conftest import queue_ready  # noqa: F401  a fixture
from tests.mail.helpers import free_port, run_worker
from tests.moderation.test_views import base, form_posting_to, hidden_values, start_bulk, text_of, world  # noqa: F401

pytestmark = pytest.mark.usefixtures("queue_ready")


@pytest.fixture
def many(app, monkeypatch, world, make_submitted_comments):
    """Seven matching comments in all, and any bulk action on more than five counts as many."""
    monkeypatch.setitem(app.config, "BULK_JOB_COMMENTS", 5)
    make_submitted_comments(world["consultation"], 4, body="Copied campaign text {i}")


def _confirmed(client, world, **choices):
    """Choose on the queue, read the confirmation, and send it: the response to the confirmation."""
    _html, data = start_bulk(client, world, scope="all", **choices)
    confirm = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    assert "You are about to" in text_of(confirm)
    return client.post(f"{base(world)}/comments/bulk",
                       data=hidden_values(form_posting_to(confirm, f"{base(world)}/comments/bulk")))


def _states(world) -> set:
    return set(db.session.scalars(select(Comment.moderation_state).where(
        Comment.consultation_id == world["consultation"].id)))


def _job(response) -> BackgroundJob:
    assert response.status_code == 302
    job_id = int(re.fullmatch(r"/prepared/(\d+)", response.headers["Location"]).group(1))
    db.session.expire_all()
    return db.session.get(BackgroundJob, job_id)


def test_many_comments_are_changed_by_the_worker_each_audited(app, client, login, world, many):
    login(world["alice"])
    job = _job(_confirmed(client, world, action="reject", reason="duplicate"))
    assert (job.kind, job.total, job.state) == ("bulk", 7, JobState.QUEUED)
    page = client.get(f"/prepared/{job.id}").get_data(as_text=True)
    assert "Applying the action to 7 comments" in page and "0% (0 of 7 comments)" in page
    assert _states(world) == {ModerationState.NEW}  # nothing yet: the worker does it

    run_worker(app)

    db.session.expire_all()
    assert _states(world) == {ModerationState.REJECTED}
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "comment.reject")) == 7
    page = client.get(f"/prepared/{job.id}").get_data(as_text=True)
    assert "<title>The action has been applied" in page and "Rejected 7 comments as Duplicate." in page
    assert f'href="{base(world)}/comments' in page
    assert client.get(f"/prepared/{job.id}/status").json["percent"] == 100


def test_the_worker_leaves_rejected_comments_as_they_are_and_counts_them(app, client, login, world, many):
    from consult.moderation import services
    from consult.moderation.states import RejectionReason

    rejected = world["comments"][1]
    services.decide_comment(rejected, services.Decision(ModerationState.REJECTED, reason=RejectionReason.SPAM),
                            world["bob"], rejected.version, utcnow())
    db.session.commit()
    login(world["alice"])
    job = _job(_confirmed(client, world, action="accept"))
    run_worker(app)
    db.session.expire_all()
    states = list(db.session.scalars(select(Comment.moderation_state).where(
        Comment.consultation_id == world["consultation"].id)))
    assert states.count(ModerationState.ACCEPTED) == 6 and states.count(ModerationState.REJECTED) == 1
    page = text_of(client.get(f"/prepared/{job.id}").get_data(as_text=True))
    assert "Accepted 6 comments." in page
    assert f"1 rejected comment was left as it is: {rejected.reference}. Open it to change its rejection." in page


def test_nothing_changes_if_the_matching_set_moved_before_the_worker_ran(app, client, login, world, many,
                                                                        make_submitted_comments):
    login(world["alice"])
    job = _job(_confirmed(client, world, action="accept"))
    comment = world["comments"][0]
    # Someone else decides one of them after the confirmation, before the worker gets to it.
    comment.moderation_state, comment.version = ModerationState.ACCEPTED, comment.version + 1
    comment.updated_at = utcnow() + timedelta(seconds=1)
    db.session.commit()
    run_worker(app)
    db.session.expire_all()
    states = list(db.session.scalars(select(Comment.moderation_state).where(
        Comment.consultation_id == world["consultation"].id)))
    assert states.count(ModerationState.ACCEPTED) == 1 and len(states) == 7
    job = db.session.get(BackgroundJob, job.id)
    assert job.state is JobState.FAILED and "Nothing has been changed" in job.error
    page = client.get(f"/prepared/{job.id}").get_data(as_text=True)
    assert "The action could not be applied" in page and "have changed since you checked them" in page


def test_a_few_comments_are_still_changed_at_once(app, client, login, world, make_submitted_comments, monkeypatch):
    monkeypatch.setitem(app.config, "BULK_JOB_COMMENTS", 500)
    make_submitted_comments(world["consultation"], 4)
    login(world["alice"])
    response = _confirmed(client, world, action="accept")
    assert "/prepared/" not in response.headers["Location"]
    assert _states(world) == {ModerationState.ACCEPTED}
    assert db.session.scalars(select(BackgroundJob)).all() == []


def test_a_queue_that_is_down_changes_nothing_and_says_so(app, client, login, world, many, monkeypatch):
    login(world["alice"])
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    response = _confirmed(client, world, action="accept")
    assert "/prepared/" not in response.headers["Location"]
    assert "are not being applied at the moment" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _states(world) == {ModerationState.NEW}


def test_another_staff_member_may_watch_a_stakeholder_may_not(app, client, login, world, many, make_user):
    login(world["alice"])
    job = _job(_confirmed(client, world, action="accept"))
    login(world["bob"])
    assert client.get(f"/prepared/{job.id}").status_code == 200
    login(make_user(name="A stakeholder"))
    assert client.get(f"/prepared/{job.id}").status_code == 404
    assert client.get(f"/prepared/{job.id}/file").status_code == 404


def test_a_response_to_a_theme_of_many_comments_is_applied_by_the_worker(app, client, login, post_form, world, many):
    from consult.moderation import services
    from consult.moderation.models import CommentResponse

    theme, alice = world["theme"], world["alice"]
    comments = list(db.session.scalars(select(Comment).where(Comment.consultation_id == world["consultation"].id)))
    for comment in comments:
        services.tag_comment(comment, theme, alice, utcnow())
    db.session.commit()
    login(alice)
    job = _job(post_form(f"{base(world)}/themes/{theme.id}/response",
                         {"text": "The committee noted the cost.", "state": "agreed"}))
    assert (job.kind, job.total, job.state) == ("bulk", 7, JobState.QUEUED)
    assert db.session.scalar(select(func.count()).select_from(CommentResponse)) == 0  # the worker does it

    run_worker(app)

    db.session.expire_all()
    texts = set(db.session.scalars(select(CommentResponse.text).where(
        CommentResponse.comment_id.in_([comment.id for comment in comments]))))
    assert texts == {"The committee noted the cost."}
    assert db.session.scalar(select(func.count()).select_from(CommentResponse)) == 7
    page = client.get(f"/prepared/{job.id}").get_data(as_text=True)
    assert "Applied the response to 7 comments." in page and f'href="{base(world)}/themes' in page
