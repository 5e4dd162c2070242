"""Two requests taking part for an organisation at once: the unique constraint settles it.

Each test makes the service's early look for an existing participation miss,
as it does when another request inserts between that look and this insert.
"""

import pytest

from consult.comments.models import OrganisationRole
from consult.database import utcnow
from consult.organisations import services
from tests.conftest import new_participation, new_user
from tests.organisations.conftest import new_lead


def _first_looks_miss(monkeypatch, misses: int) -> None:
    """The service's first `misses` looks for the user's participation find none; later ones see the table."""
    real = services.find_participation
    calls = iter(range(misses))

    def look(user_id, consultation_id):
        return None if next(calls, None) is not None else real(user_id, consultation_id)

    monkeypatch.setattr(services, "find_participation", look)


def test_a_lead_whose_response_another_request_started_gets_that_response(make_consultation, app_context,
                                                                          monkeypatch):
    consultation = make_consultation()
    lead = new_lead()
    started = services.start_lead_response(lead, consultation, utcnow())
    _first_looks_miss(monkeypatch, 1)
    assert services.start_lead_response(lead, consultation, utcnow()) is started


def test_a_lead_who_just_took_part_another_way_cannot_lead(make_consultation, app_context, monkeypatch):
    consultation = make_consultation()
    lead = new_lead()
    individual = new_participation(lead, consultation)
    _first_looks_miss(monkeypatch, 1)
    with pytest.raises(services.AlreadyTakingPart) as refused:
        services.start_lead_response(lead, consultation, utcnow())
    assert refused.value.existing is individual


def test_a_colleague_who_just_joined_in_another_request_is_told_they_take_part(shared, monkeypatch):
    consultation, _, code = shared
    colleague = new_user(name="Cal")
    joined = services.join_with_code(colleague, consultation, code.code, utcnow())
    assert joined.organisation_role is OrganisationRole.COLLEAGUE
    _first_looks_miss(monkeypatch, 1)  # check_code's look
    with pytest.raises(services.AlreadyTakingPart) as refused:
        services.join_with_code(colleague, consultation, code.code, utcnow())
    assert refused.value.existing is joined
