import pytest

from tests.mail.helpers import empty_queue, redis_or_skip, smtp_server


@pytest.fixture
def queue_ready(app):
    """Redis is there and this process's queue starts empty (other tests leave jobs nobody ran)."""
    redis_or_skip(app)
    empty_queue(app)
    yield
    empty_queue(app)


@pytest.fixture
def inbox(app, queue_ready):
    with smtp_server(app) as received:
        yield received
