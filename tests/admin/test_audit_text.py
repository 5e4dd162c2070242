"""Every act the trail records reads as a sentence on the admin's audit page, never as a raw code."""

import re
from pathlib import Path

from consult.admin.audit_text import _SENTENCES, _fallback
from consult.audit.models import AuditEvent

PACKAGE = Path(__file__).resolve().parents[2] / "consult"
# An action is "<kind of object>.<verb>"; the same shape names endpoints, which url_for( comes before.
_ACTION = re.compile(r'(?<!url_for\()"((?:answer|campaign|comment|consultation|mail|organisation|participation|'
                     r'question|response|saved_view|suggestion|theme|user)\.[a-z_]+)"')


def _recorded_actions() -> set[str]:
    return {match for path in PACKAGE.rglob("*.py") for match in _ACTION.findall(path.read_text(encoding="utf-8"))}


def test_the_source_is_searched_for_the_actions_it_records():
    actions = _recorded_actions()
    assert {"comment.accept", "comment.note", "question.add_standard", "campaign.split"} <= actions


def test_every_action_the_service_records_has_a_sentence():
    assert sorted(_recorded_actions() - set(_SENTENCES)) == []


def test_an_object_no_longer_there_is_named_by_what_was_recorded_of_it():
    def label(object_type, after=None):
        return _fallback(AuditEvent(action="x.y", object_type=object_type, object_id="12", after=after)).label

    assert label("campaigns", {"name": "Postcode letter"}) == "‘Postcode letter’"
    # Unnamed: its sentence says "campaign" already, so not "Removed the campaign campaign number 12".
    assert label("campaigns", {"comments": 4}) == "number 12"
    assert label("questions", {"text": "Is it clear?"}) == "question ‘Is it clear?’"
    assert label("questions", {"text": "x" * 100}) == "question ‘" + "x" * 59 + "…’"
    assert label("answers", {"moderation_state": "accepted"}) == "answer number 12"
