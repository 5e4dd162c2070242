"""The queue's Redis client is one per process: a submission queues its email and analysis jobs on
connections already open, rather than opening new ones after every commit."""

from consult.comments import services as comment_services
from consult.comments.models import IndividualType, ParticipantKind
from consult.database import utcnow
from consult.extensions import db
from consult.jobs import make_worker, redis_connection
from tests.conftest import sections_of


def _submit_one(consultation, user) -> None:
    choice = comment_services.ParticipationChoice(
        kind=ParticipantKind.INDIVIDUAL, individual_type=IndividualType.PATIENT_OR_CARER, organisation_name=None,
        organisation_type=None, has_tobacco_links=False, tobacco_details="", other_interests="")
    participation = comment_services.choose_participation(user, consultation, choice, utcnow())
    section = sections_of(consultation)["1.1"]
    comment_services.save_draft(participation, comment_services.CommentTargetRef(
        section.document, section.chapter, section), "A comment", None, utcnow())
    db.session.commit()
    comment_services.submit_response(participation, utcnow())
    db.session.commit()  # queues the receipt, the campaign grouping and the suggestion refresh


def test_submissions_queue_their_jobs_on_the_connections_already_open(app, queue_ready, make_consultation,
                                                                      make_user):
    consultation = make_consultation()
    client = redis_connection(app)
    assert redis_connection(app) is client
    _submit_one(consultation, make_user())
    opened = client.connection_pool._created_connections

    for _ in range(3):
        _submit_one(consultation, make_user())

    assert redis_connection(app) is client
    assert client.connection_pool._created_connections == opened
    assert len(client.lrange(f"rq:queue:{app.config['QUEUE_NAME']}", 0, -1)) >= 4  # the receipts, at least


def test_a_worker_waits_for_jobs_on_a_client_of_its_own(app, queue_ready):
    """A worker blocks on its connection while the queue is empty; the requests' client must not wait behind it."""
    assert make_worker(app).connection is not redis_connection(app)


def test_each_redis_address_has_its_own_client(app, monkeypatch):
    first = redis_connection(app)
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:6379/14")
    assert redis_connection(app) is not first
    assert redis_connection(app).connection_pool.connection_kwargs["db"] == 14
