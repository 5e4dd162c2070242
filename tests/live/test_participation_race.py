"""Two first choices of how to take part, sent at the same moment, end with exactly one."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from consult.accounts.services import register_user
from consult.comments.models import Participation
from consult.database import utcnow
from consult.extensions import db
from tests.comments.helpers import shown_on
from tests.conftest import PASSWORD, csrf_token_from
from tests.live.seeding import open_consultation_with_draft
from tests.liveserver import Visitor

pytestmark = pytest.mark.live

AS_PATIENT = {"kind": "individual", "individual_type": "patient_or_carer",
              "has_tobacco_links": "no", "other_interests": "", "publish_name": "no"}
AS_CHARITY = {"kind": "organisation", "organisation_name": "Neuroma Support Network",
              "organisation_type": "charity_or_patient_group", "has_tobacco_links": "yes",
              "tobacco_details": "Sponsorship in 2018", "other_interests": "", "publish_name": "no"}
RACES = 8


def _prepare(live_server, users: int):
    with live_server.app_context():
        now = utcnow()
        consultation, _document = open_consultation_with_draft("RACE", "Race")
        emails = [register_user(f"racer{i}-{now.timestamp()}@example.org", f"Racer {i}", PASSWORD).email
                  for i in range(users)]
        reference = consultation.reference
    return reference, emails


def _tab_with_choice(live_server, email: str, reference: str, answers: dict) -> Visitor:
    """A browser tab that has answered the question and stands on the check page."""
    tab = Visitor(live_server.url)
    tab.sign_in(email, PASSWORD)
    url = f"/consultations/{reference}/take-part"
    while "/take-part/check" not in url:  # one question a page; each takes its own answers
        response = tab.post(url, answers)
        assert response.status_code == 302, response.text[:300]
        url = response.headers["Location"].removeprefix(live_server.url)
    return tab


def test_concurrent_first_choices_leave_exactly_one_participation(live_server):
    reference, emails = _prepare(live_server, RACES)
    check = f"/consultations/{reference}/take-part/check"
    outcomes = []
    for email in emails:
        tabs = [_tab_with_choice(live_server, email, reference, AS_PATIENT),
                _tab_with_choice(live_server, email, reference, AS_CHARITY)]
        pages = [tab.get(check).text for tab in tabs]
        tokens = [csrf_token_from(page) for page in pages]
        barrier = threading.Barrier(len(tabs))

        def confirm(index: int):
            barrier.wait()
            return tabs[index].post(check, {"shown": shown_on(pages[index])}, token=tokens[index])

        with ThreadPoolExecutor(max_workers=len(tabs)) as pool:
            responses = list(pool.map(confirm, range(len(tabs))))
        assert all(r.status_code == 302 for r in responses), [(r.status_code, r.text[:300]) for r in responses]
        pages = [tab.get(f"/consultations/{reference}").text for tab in tabs]
        outcomes.append((email, pages))

    with live_server.app.app_context():
        per_user = dict(db.session.execute(
            select(Participation.user_id, func.count()).group_by(Participation.user_id)
            .join(Participation.consultation).where(Participation.consultation.has(reference=reference))
        ).all())
        winners = {p.user.email: p.description for p in db.session.scalars(
            select(Participation).where(Participation.consultation.has(reference=reference)))}
    assert len(per_user) == RACES and set(per_user.values()) == {1}
    for email, pages in outcomes:
        # Both tabs, winner and loser, now show the one choice that was stored.
        expected = winners[email][:1].lower() + winners[email][1:]
        for page in pages:
            assert f"You are taking part {expected}" in page


def test_replayed_confirmation_creates_nothing_new(live_server):
    reference, (email,) = _prepare(live_server, 1)
    check = f"/consultations/{reference}/take-part/check"
    tab = _tab_with_choice(live_server, email, reference, AS_CHARITY)
    page = tab.get(check).text
    token, shown = csrf_token_from(page), shown_on(page)
    cookies = tab.http.cookies.copy()
    first = tab.post(check, {"shown": shown}, token=token)
    assert first.status_code == 302
    # Replay the very same request: the same cookie, token and page as the first time.
    tab.http.cookies = cookies
    replay = tab.post(check, {"shown": shown}, token=token)
    assert replay.status_code == 302
    with live_server.app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Participation)
                                  .where(Participation.consultation.has(reference=reference)))
    assert count == 1
