"""What staff are told after acting on many comments fits where it travels: the session cookie."""

from types import SimpleNamespace

from consult.moderation import messages
from consult.moderation.services import BulkAction
from consult.moderation.services.common import BulkOutcome
from consult.moderation.states import ResponseState


def _comments(count: int) -> list:
    return [SimpleNamespace(reference=f"HTE1-{number:04d}") for number in range(1, count + 1)]


def test_a_summary_of_thousands_of_comments_names_ten_and_counts_the_rest():
    outcome = BulkOutcome(changed=_comments(6_250), unchanged=_comments(6_250))
    summaries = [
        messages.theme_response_applied(SimpleNamespace(name="Cost"), outcome),
        messages.bulk_summary(BulkAction("respond", response_text="Thank you.",
                                         response_state=ResponseState.AGREED), outcome),
    ]
    for summary in summaries:
        text = " ".join(message for _, message in summary)
        assert len(text) < 600, text  # the whole flash stays far below a browser's 4 KB cookie
        assert "HTE1-0001, HTE1-0002" in text and "HTE1-0010 and 6,240 more" in text
        assert "HTE1-0011" not in text


def test_a_summary_of_a_few_comments_names_them_all():
    outcome = BulkOutcome(changed=_comments(3), unchanged=_comments(10))
    [_, kept] = messages.theme_response_applied(SimpleNamespace(name="Cost"), outcome)
    assert kept[1] == ("10 already had a response, which was kept: " + ", ".join(
        f"HTE1-{number:04d}" for number in range(1, 11)) + ". Edit those one at a time.")


def test_an_action_that_changed_nothing_is_not_reported_as_a_success():
    outcome = BulkOutcome(changed=[], unchanged=_comments(2))
    tag = BulkAction("tag", theme=SimpleNamespace(name="Cost"))
    for summary in (messages.bulk_summary(tag, outcome),
                    messages.theme_response_applied(SimpleNamespace(name="Cost"), outcome)):
        assert summary[0] == ("info", "No comments were changed.")
        assert all(category != "success" for category, _ in summary)
        assert "HTE1-0001, HTE1-0002" in summary[1][1]  # and why
    assert messages.bulk_summary(tag, BulkOutcome(changed=_comments(1)))[0] == (
        "success", "Added the theme ‘Cost’ to 1 comment.")
