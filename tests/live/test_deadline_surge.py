import pytest

from tests.live.surge import run_surge

pytestmark = pytest.mark.live


def test_submissions_around_the_deadline_lose_nothing(live_server):
    report = run_surge(live_server, users=30, spread=1.5)
    assert report.ok, (report.summary(), report.other[:5], report.problems[:5])
    # The surge straddles the deadline, so both outcomes must have happened.
    assert report.acknowledged and report.refused_closed, report.summary()
