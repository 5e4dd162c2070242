"""Grouping as comments arrive: a submission or an import queues one grouping job, which the real worker runs."""

import time

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from consult import jobs
from consult.accounts.models import Role
from consult.analysis import jobs as analysis_jobs
from consult.analysis.jobs import group_new_comments
from consult.analysis.models import Campaign, CampaignMember
from consult.analysis.services import group_consultation
from consult.analysis.triggers import RETRIES, _group_marker, _marker, queue_grouping
from consult.comments import services as comment_services
from consult.database import utcnow
from consult.extensions import db
from consult.jobs import AlreadyRunning, held_alone, make_worker, queue, redis_connection
from tests.analysis.test_cli import LETTER
from tests.analysis.test_services import add
from tests.conftest import new_participation, sections_of
from tests.mail.helpers import empty_queue, redis_or_skip, run_worker, signal_handlers_kept

PEOPLE = [("Sarah Jones", "Leeds"), ("Tom Okafor", "Swansea"), ("Priya Patel", "Derby")]


def members(consultation) -> dict[int, int]:
    db.session.expire_all()
    return dict(db.session.execute(select(CampaignMember.comment_id, CampaignMember.campaign_id)
                                   .join(Campaign).where(Campaign.consultation_id == consultation.id)).all())


def test_a_submission_queues_one_grouping_that_the_worker_runs(app, consultation_with_themes, make_user):
    redis_or_skip(app)
    consultation = consultation_with_themes()
    empty_queue(app)  # the themes' own refresh
    redis_connection().delete(_group_marker(consultation.id), _marker(consultation.id))
    try:
        ids = add(consultation, {f"m{n}": LETTER.format(name=name, town=town)
                                 for n, (name, town) in enumerate(PEOPLE[:2])})
        section = sections_of(consultation)["1.1"]
        target = comment_services.CommentTargetRef(section.document, section.chapter, section)
        participation = new_participation(make_user(), consultation)
        comment = comment_services.save_draft(participation, target, LETTER.format(name="Olu Mensah", town="Hull"),
                                              None, utcnow())
        comment_services.submit_response(participation, utcnow())
        db.session.commit()

        queued = [job.func_name for job in queue(app).jobs]
        assert queued.count("consult.analysis.jobs.group_new_comments") == 1  # an import and a submission: one
        assert queued.index("consult.analysis.jobs.group_new_comments") < queued.index(
            "consult.analysis.jobs.refresh_suggestions")  # grouped before the suggestions are worked out
        assert members(consultation) == {}  # nothing ran in the request

        run_worker(app)

        found = members(consultation)
        assert set(found) == {ids["m0"], ids["m1"], comment.id} and len(set(found.values())) == 1
        assert queue_grouping([consultation.id]) == [consultation.id]  # the job cleared its marker as it started
    finally:
        empty_queue(app)
        redis_connection().delete(_group_marker(consultation.id), _marker(consultation.id))


def test_the_arrival_job_places_new_comments_and_moves_nobody(consultation_with_themes):
    consultation = consultation_with_themes()
    first = add(consultation, {f"m{n}": LETTER.format(name=name, town=town)
                               for n, (name, town) in enumerate(PEOPLE[:2])})
    group_consultation(consultation.id)
    db.session.commit()
    before = members(consultation)
    later = add(consultation, {"m9": LETTER.format(name="Megan Clarke", town="Exeter"),
                               "own": "Waiting lists are long in the north."})

    placed = group_new_comments(consultation.id)

    after = members(consultation)
    assert placed == 1
    assert {k: v for k, v in after.items() if k in before} == before
    assert after[later["m9"]] == after[first["m0"]] and later["own"] not in after


def test_staff_can_queue_a_whole_regrouping_that_keeps_their_decisions(app, client, login_as, post_form,
                                                                       consultation_with_themes):
    redis_or_skip(app)
    consultation = consultation_with_themes()
    ids = add(consultation, {f"m{n}": LETTER.format(name=name, town=town) for n, (name, town) in enumerate(PEOPLE)})
    group_consultation(consultation.id)
    db.session.commit()
    campaign_id = members(consultation)[ids["m0"]]
    db.session.get(Campaign, campaign_id).name = "Kept name"
    db.session.commit()
    later = add(consultation, {"m9": LETTER.format(name="Megan Clarke", town="Exeter")})
    empty_queue(app)  # as if the worker had been down when it arrived
    login_as(Role.STAFF)
    try:
        response = post_form(f"/staff/consultations/{consultation.reference}/campaigns/regroup")

        assert response.status_code == 302
        assert [job.func_name for job in queue(app).jobs] == ["consult.analysis.jobs.run_analysis"]
        assert queue(app).jobs[0].retries_left == RETRIES  # a regrouping that meets a locked database runs again
        assert "will be grouped again in the background" in client.get(response.headers["Location"]).get_data(
            as_text=True)
        assert later["m9"] not in members(consultation)

        run_worker(app)

        assert members(consultation) == {comment_id: campaign_id for comment_id in [*ids.values(), later["m9"]]}
        assert db.session.get(Campaign, campaign_id).name == "Kept name"
    finally:
        empty_queue(app)


def test_a_grouping_that_fails_once_is_run_again_by_the_worker(app, consultation_with_themes):
    redis_or_skip(app)
    consultation = consultation_with_themes()
    ids = add(consultation, {f"m{n}": LETTER.format(name=name, town=town)
                             for n, (name, town) in enumerate(PEOPLE[:2])})
    empty_queue(app)
    redis_connection().delete(_group_marker(consultation.id))
    attempts = []

    def locked_once(_connection, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO CAMPAIGN"):
            attempts.append(statement)
            if len(attempts) == 1:  # as when the database stays locked longer than the busy timeout
                raise OperationalError(statement, {}, Exception("database is locked"))

    event.listen(db.engine, "before_cursor_execute", locked_once)
    try:
        assert queue_grouping([consultation.id]) == [consultation.id]

        run_worker(app)

        found = members(consultation)
        assert set(found) == set(ids.values()) and len(set(found.values())) == 1
        assert len(attempts) > 1
    finally:
        event.remove(db.engine, "before_cursor_execute", locked_once)
        empty_queue(app)
        redis_connection().delete(_group_marker(consultation.id), _marker(consultation.id))


def test_a_grouping_queued_while_another_runs_waits_its_turn_in_the_queue(app, consultation_with_themes,
                                                                          monkeypatch):
    """Two workers once ran a consultation's analysis at the same time and collided on the same rows; a job
    that finds its consultation busy now goes back in the queue and runs once the other has finished."""
    redis_or_skip(app)
    monkeypatch.setattr(analysis_jobs, "BUSY_PAUSE_SECONDS", 0)
    consultation = consultation_with_themes()
    ids = add(consultation, {f"m{n}": LETTER.format(name=name, town=town)
                             for n, (name, town) in enumerate(PEOPLE[:2])})
    empty_queue(app)
    redis_connection().delete(_group_marker(consultation.id))
    try:
        assert queue_grouping([consultation.id]) == [consultation.id]
        with held_alone(f"analysis:{consultation.id}"):  # as another worker's run would hold it
            with signal_handlers_kept():
                make_worker(app).work(burst=True, max_jobs=1, logging_level="WARNING")

            assert members(consultation) == {}
            assert [job.func_name for job in queue(app).jobs] == ["consult.analysis.jobs.group_new_comments"]
            assert queue(app).jobs[0].retries_left == RETRIES
            assert queue_grouping([consultation.id]) == []  # the waiting job will see later changes

        run_worker(app)

        found = members(consultation)
        assert set(found) == set(ids.values()) and len(set(found.values())) == 1
        assert queue(app).jobs == []
    finally:
        empty_queue(app)
        redis_connection().delete(_group_marker(consultation.id), _marker(consultation.id))


def test_the_analysis_lock_is_kept_while_its_work_runs_and_freed_after(app, monkeypatch):
    redis_or_skip(app)
    # Renewed every 0.4 s; lapses 1.2 s after the last renewal. Shorter, a machine busy with the rest of the
    # suite could leave the renewing thread unscheduled for longer than the lock lasted.
    monkeypatch.setattr(jobs, "LOCK_SECONDS", 1.2)
    with held_alone("analysis:test"):
        time.sleep(3.0)  # longer than the lock lasts unrenewed
        with pytest.raises(AlreadyRunning):
            with held_alone("analysis:test"):
                pass
    with held_alone("analysis:test"):
        pass
