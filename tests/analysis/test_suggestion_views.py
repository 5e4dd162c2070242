"""The suggestion pages: staff only, CSRF on every decision, what staff see and what their clicks do."""

import html
import re

import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.analysis.jobs import refresh_suggestions
from consult.analysis.models import SuggestionState, ThemeSuggestion
from consult.audit.models import AuditEvent
from consult.comments.models import Comment
from consult.extensions import db
from consult.moderation.models import CommentTheme, Theme
from tests.analysis.test_suggestions import themed  # noqa: F401  the fixture


@pytest.fixture
def suggested(themed):  # noqa: F811
    refresh_suggestions(themed.id)
    return themed


def _base(consultation) -> str:
    return f"/staff/consultations/{consultation.reference}"


def _best(consultation) -> tuple[ThemeSuggestion, Comment]:
    suggestion = db.session.scalar(select(ThemeSuggestion).where(
        ThemeSuggestion.consultation_id == consultation.id, ThemeSuggestion.state == SuggestionState.PENDING)
        .order_by(ThemeSuggestion.confidence.desc()).limit(1))
    return suggestion, db.session.get(Comment, suggestion.comment_id)


PAGES = ["/suggestions", "/suggestions/tag-next", "/suggestions/new-topics"]


@pytest.mark.parametrize("page", PAGES)
def test_only_staff_see_the_pages(client, login_as, suggested, page):
    assert client.get(_base(suggested) + page).status_code == 302  # to sign in
    login_as(Role.COMMITTEE)
    assert client.get(_base(suggested) + page).status_code == 403
    login_as(Role.STAFF)
    assert client.get(_base(suggested) + page).status_code == 200


def test_the_list_shows_suggestions_by_confidence_and_filters_by_theme(client, login_as, suggested):
    login_as(Role.STAFF)
    suggestion, comment = _best(suggested)
    cost = db.session.scalar(select(Theme).where(Theme.consultation_id == suggested.id, Theme.name == "Cost"))

    page = client.get(_base(suggested) + "/suggestions").get_data(as_text=True)
    filtered = client.get(_base(suggested) + f"/suggestions?theme={cost.id}&confidence=0").get_data(as_text=True)
    bad = client.get(_base(suggested) + "/suggestions?confidence=lots")

    assert f'data-comment="{comment.number}" data-theme="{suggestion.theme_id}"' in page
    assert f"{round(suggestion.confidence * 100)}%" in page
    assert "Evidence</td>" not in filtered and "Cost</td>" in filtered
    assert bad.status_code == 200 and "Enter a confidence between 0 and 100" in bad.get_data(as_text=True)


def test_accepting_from_the_list_tags_the_comment_and_says_so(client, login_as, post_form, suggested):
    person = login_as(Role.STAFF, name="Priya Staff")
    suggestion, comment = _best(suggested)
    theme_id = suggestion.theme_id
    url = f"{_base(suggested)}/comments/{comment.number}/suggestions/{theme_id}/accept"

    response = post_form(url, {"next": f"{_base(suggested)}/suggestions"}, follow_redirects=True)

    text = response.get_data(as_text=True)
    assert "Suggestion accepted: the comment now has the theme" in text
    tag = db.session.get(CommentTheme, (comment.id, theme_id))
    assert tag is not None and tag.tagged_by_id == person.id
    page = client.get(f"{_base(suggested)}/comments/{comment.number}").get_data(as_text=True)
    assert "Suggested by the system, accepted by Priya Staff" in page
    again = post_form(url, follow_redirects=True).get_data(as_text=True)
    assert "already been accepted, rejected or replaced" in again


def test_a_decision_without_the_csrf_token_changes_nothing(client, login_as, suggested):
    login_as(Role.STAFF)
    suggestion, comment = _best(suggested)
    url = f"{_base(suggested)}/comments/{comment.number}/suggestions/{suggestion.theme_id}/reject"

    response = client.post(url, data={})

    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(ThemeSuggestion, suggestion.id).state is SuggestionState.PENDING
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "suggestion.reject")) is None


def test_the_comment_page_shows_suggestions_and_similar_comments(client, login_as, suggested):
    login_as(Role.STAFF)
    suggestion, comment = _best(suggested)

    page = client.get(f"{_base(suggested)}/comments/{comment.number}").get_data(as_text=True)

    assert 'id="comment-suggestions"' in page and suggestion.theme.name + ": suggested by the system" in page
    assert 'id="similar"' in page and "% similar" in page


def test_the_comment_page_lists_no_weak_or_negative_similarity(client, login_as, suggested):
    from consult.analysis.models import CommentEmbedding

    login_as(Role.STAFF)
    comment, *others = db.session.scalars(select(Comment).where(Comment.consultation_id == suggested.id)
                                          .order_by(Comment.number)).all()
    db.session.get(CommentEmbedding, comment.id).neighbours = [[others[0].id, 0.62], [others[1].id, 0.07],
                                                               [others[2].id, -0.02]]
    db.session.commit()

    page = client.get(f"{_base(suggested)}/comments/{comment.number}").get_data(as_text=True)

    assert f"{others[0].reference}</a> (62% similar)" in page
    assert "7% similar" not in page and "-2% similar" not in page and others[2].reference not in page


def _check_page_fields(page: str) -> dict:
    """The hidden fields a bulk check page's confirm sends (its CSRF token aside: post_form adds one)."""
    return {name: html.unescape(value) for name, value in re.findall(
        r'<input[^>]*name="(theme|confidence|decision|seen)"[^>]*value="([^"]*)"', page)}


def decide_in_bulk(post_form, url: str, choices: dict, **kwargs):
    """Choose on the suggestions page, then confirm on the check page, as a person does."""
    check = post_form(url, choices)
    assert check.status_code == 200 and "Check before you" in check.get_data(as_text=True)
    return post_form(url, _check_page_fields(check.get_data(as_text=True)), **kwargs)


def _pending(theme_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(ThemeSuggestion).where(
        ThemeSuggestion.theme_id == theme_id, ThemeSuggestion.state == SuggestionState.PENDING))


def test_deciding_many_at_once_shows_how_many_first_and_decides_that_many_or_none(
        client, login_as, post_form, suggested):
    login_as(Role.STAFF)
    cost = db.session.scalar(select(Theme).where(Theme.consultation_id == suggested.id, Theme.name == "Cost"))
    waiting = _pending(cost.id)
    assert waiting >= 2
    url = f"{_base(suggested)}/suggestions/bulk"

    check = post_form(url, {"theme": str(cost.id), "confidence": "0", "decision": "accept"})

    page = check.get_data(as_text=True)
    assert check.status_code == 200
    assert f"Check before you accept {waiting} suggestions" in page and "‘Cost’" in page
    assert _pending(cost.id) == waiting  # nothing decided yet
    fields = _check_page_fields(page)
    assert fields["seen"] == str(waiting)
    # One is decided on its own before the confirm: the confirm decides none, and says how many there are now.
    one = db.session.scalar(select(ThemeSuggestion).where(ThemeSuggestion.theme_id == cost.id,
                                                          ThemeSuggestion.state == SuggestionState.PENDING))
    one.state = SuggestionState.REJECTED
    db.session.commit()
    refused = post_form(url, fields)
    assert refused.status_code == 409
    assert f"{waiting - 1} suggestion" in refused.get_data(as_text=True) and "Nothing has been decided" in \
        refused.get_data(as_text=True)
    assert _pending(cost.id) == waiting - 1
    done = post_form(url, _check_page_fields(refused.get_data(as_text=True)), follow_redirects=True)
    assert f"Accepted {waiting - 1} suggestion" in done.get_data(as_text=True)
    assert _pending(cost.id) == 0


def test_deciding_many_when_none_are_waiting_says_so_on_the_form(client, login_as, post_form, suggested):
    login_as(Role.STAFF)
    cost = db.session.scalar(select(Theme).where(Theme.consultation_id == suggested.id, Theme.name == "Cost"))

    response = post_form(f"{_base(suggested)}/suggestions/bulk",
                         {"theme": str(cost.id), "confidence": "100", "decision": "reject"})

    assert response.status_code == 400
    assert "No suggestions for ‘Cost’ are waiting at 100% confidence or above" in response.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["1_0", "\u0667\u0660", "1e2", "70%%", "-1", "101", "nan", ""])
def test_a_confidence_must_be_written_as_a_plain_percentage(client, login_as, post_form, suggested, typed):
    login_as(Role.STAFF)
    cost = db.session.scalar(select(Theme).where(Theme.consultation_id == suggested.id, Theme.name == "Cost"))

    response = post_form(f"{_base(suggested)}/suggestions/bulk",
                         {"theme": str(cost.id), "confidence": typed, "decision": "accept"})

    assert response.status_code == 400
    assert "Enter a confidence between 0 and 100" in response.get_data(as_text=True)


def test_a_typed_percentage_is_shown_back_as_a_number(client, login_as, post_form, suggested):
    login_as(Role.STAFF)
    cost = db.session.scalar(select(Theme).where(Theme.consultation_id == suggested.id, Theme.name == "Cost"))

    page = post_form(f"{_base(suggested)}/suggestions/bulk",
                     {"theme": str(cost.id), "confidence": " 0.50 % ", "decision": "accept"}).get_data(as_text=True)

    assert "at 0.5% confidence or above" in page and _check_page_fields(page)["confidence"] == "0.5"
    # Back and Cancel return to the list as it was chosen: that theme, from that confidence.
    assert page.count(f"/suggestions?theme={cost.id}&amp;confidence=0.5") == 2


def test_a_bulk_confirm_sent_twice_says_the_suggestions_were_already_decided(client, login_as, post_form, suggested):
    login_as(Role.STAFF)
    cost = db.session.scalar(select(Theme).where(Theme.consultation_id == suggested.id, Theme.name == "Cost"))
    url = f"{_base(suggested)}/suggestions/bulk"
    check = post_form(url, {"theme": str(cost.id), "confidence": "0", "decision": "reject"})
    fields = _check_page_fields(check.get_data(as_text=True))
    assert post_form(url, fields).status_code == 302

    again = post_form(url, fields, follow_redirects=True).get_data(as_text=True)

    assert f"the {fields['seen']} you checked have been decided" in html.unescape(again)
    assert "then confirm" not in again


def test_a_tampered_bulk_confirm_is_refused(client, login_as, post_form, suggested):
    login_as(Role.STAFF)
    cost = db.session.scalar(select(Theme).where(Theme.consultation_id == suggested.id, Theme.name == "Cost"))
    url = f"{_base(suggested)}/suggestions/bulk"
    for fields in ({"theme": str(cost.id), "confidence": "0", "decision": "delete", "seen": "1"},
                   {"theme": str(cost.id), "confidence": "0", "decision": "accept", "seen": "many"},
                   {"theme": "999999", "confidence": "0", "decision": "accept", "seen": "1"},
                   {"theme": str(cost.id), "confidence": "abc", "decision": "accept", "seen": "1"}):
        assert post_form(url, fields).status_code in (400, 404), fields


def test_bulk_accept_with_a_bad_confidence_keeps_the_answers_and_explains(client, login_as, post_form, suggested):
    login_as(Role.STAFF)
    cost = db.session.scalar(select(Theme).where(Theme.consultation_id == suggested.id, Theme.name == "Cost"))

    bad = post_form(f"{_base(suggested)}/suggestions/bulk",
                    {"theme": str(cost.id), "confidence": "150", "decision": "accept"})
    good = decide_in_bulk(post_form, f"{_base(suggested)}/suggestions/bulk",
                          {"theme": str(cost.id), "confidence": "0", "decision": "accept"}, follow_redirects=True)

    assert bad.status_code == 400 and "Enter a confidence between 0 and 100" in bad.get_data(as_text=True)
    assert 'value="150"' in bad.get_data(as_text=True)
    assert "Accepted" in good.get_data(as_text=True) and "for ‘Cost’ at 0% confidence or above" in good.get_data(
        as_text=True)
    assert db.session.scalar(select(ThemeSuggestion).where(ThemeSuggestion.theme_id == cost.id,
                                                           ThemeSuggestion.state == SuggestionState.PENDING)) is None


def test_a_possible_topic_can_become_a_theme(client, login_as, post_form, suggested):
    login_as(Role.STAFF)

    response = post_form(f"{_base(suggested)}/suggestions/new-topics",
                         {"name": "Probe price", "description": "What each probe costs."}, follow_redirects=True)
    empty = post_form(f"{_base(suggested)}/suggestions/new-topics", {"name": ""})

    assert "Theme ‘Probe price’ created" in response.get_data(as_text=True)
    assert db.session.scalar(select(Theme).where(Theme.consultation_id == suggested.id,
                                                 Theme.name == "Probe price")) is not None
    assert empty.status_code == 400 and "Enter a name for the theme" in empty.get_data(as_text=True)


def test_a_typed_confidence_is_compared_with_the_percentage_the_list_shows(client, login_as, post_form, suggested):
    login_as(Role.STAFF)
    suggestion, comment = _best(suggested)
    theme_id = suggestion.theme_id
    others = db.session.scalars(select(ThemeSuggestion).where(
        ThemeSuggestion.consultation_id == suggested.id, ThemeSuggestion.id != suggestion.id)).all()
    for other in others:
        other.confidence = min(other.confidence, 0.5)
    suggestion.confidence = 0.756  # shown as 76%
    db.session.commit()

    page = client.get(_base(suggested) + "/suggestions").get_data(as_text=True)
    filtered = client.get(_base(suggested) + f"/suggestions?theme={theme_id}&confidence=76").get_data(as_text=True)
    above = client.get(_base(suggested) + f"/suggestions?theme={theme_id}&confidence=77").get_data(as_text=True)
    decided = decide_in_bulk(post_form, f"{_base(suggested)}/suggestions/bulk",
                             {"theme": str(theme_id), "confidence": "76", "decision": "accept"},
                             follow_redirects=True)

    assert "76%</td>" in page
    assert f'data-comment="{comment.number}" data-theme="{theme_id}"' in filtered
    assert 'value="76"' in filtered
    assert "No suggestions match" in above
    assert "Accepted 1 suggestion for" in decided.get_data(as_text=True)
    assert "at 76% confidence or above" in decided.get_data(as_text=True)
    assert db.session.get(CommentTheme, (comment.id, theme_id)) is not None


@pytest.mark.parametrize("confidence, shown", [(0.0, 0), (0.004, 0), (0.005, 1), (0.284, 28), (0.285, 29),
                                               (0.7549, 75), (0.755, 76), (0.756, 76), (0.994, 99), (0.995, 100),
                                               (1.0, 100)])
def test_the_shown_percentage_and_the_typed_threshold_agree_at_every_edge(confidence, shown):
    from consult.analysis import review

    assert review.shown_percent(confidence) == shown
    assert confidence >= review.lowest_confidence(shown)
    assert shown == 100 or confidence < review.lowest_confidence(shown + 1)
    assert confidence >= review.lowest_confidence(shown - 0.5)  # 75.5 asks for 76% and above
