"""Theme suggestions: never a tag until a person accepts, provenance and audit, the queued retrain, the engine."""

import numpy as np
import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.analysis import review
from consult.analysis import suggestions as engine
from consult.analysis.embeddings import embed_consultation
from consult.analysis.jobs import refresh_suggestions
from consult.analysis.models import CommentEmbedding, SuggestionRun, SuggestionState, ThemeSuggestion
from consult.analysis.triggers import queue_refresh
from consult.audit.models import AuditEvent
from consult.comments.models import Comment
from consult.database import utcnow
from consult.extensions import db
from consult.jobs import queue
from consult.moderation.models import CommentTheme, Theme
from consult.moderation.services import create_theme, tag_comment
from consult.moderation.states import TagSource
from tests.analysis.conftest import jsonl, row
from tests.mail.helpers import empty_queue, redis_or_skip, run_worker

COST = ["The probe costs too much for what it does.", "Theatre time and follow-up make this poor value for money."]
EVIDENCE = ["The studies are tiny and uncontrolled, so the evidence is too weak.",
            "There is no randomised trial, so we cannot know if it works."]
UNTAGGED = ["The price of each probe is far too high for the NHS budget.",
            "Small case series without controls are not enough evidence to go on.",
            "Cost per patient is high and the benefit is unproven value.",
            "We need proper controlled studies before trusting these results."]


@pytest.fixture
def themed(app, consultation_with_themes, write, make_user):
    """A consultation with Evidence and Cost, two tagged comments each and four untagged ones."""
    consultation = consultation_with_themes()
    rows = ([row(f"c{n}", text, themes=["Cost"]) for n, text in enumerate(COST)]
            + [row(f"e{n}", text, themes=["Evidence"]) for n, text in enumerate(EVIDENCE)]
            + [row(f"u{n}", text) for n, text in enumerate(UNTAGGED)])
    result = app.test_cli_runner().invoke(args=["comments", "import", str(write("r.jsonl", jsonl(rows))),
                                                "--consultation", consultation.reference])
    assert result.exit_code == 0, result.output
    return consultation


def _comment(consultation, external_id: str) -> Comment:
    return db.session.scalar(select(Comment).where(Comment.consultation_id == consultation.id,
                                                   Comment.external_id == external_id))


def _pending(consultation) -> list[ThemeSuggestion]:
    return list(db.session.scalars(select(ThemeSuggestion).where(
        ThemeSuggestion.consultation_id == consultation.id, ThemeSuggestion.state == SuggestionState.PENDING)))


def _theme(consultation, name: str) -> Theme:
    return db.session.scalar(select(Theme).where(Theme.consultation_id == consultation.id, Theme.name == name))


def test_suggestions_go_to_untagged_comments_and_never_become_tags(themed):
    tags_before = db.session.scalar(select(func.count()).select_from(CommentTheme))

    figures = refresh_suggestions(themed.id)

    pending = _pending(themed)
    assert figures["tagged"] == 4 and figures["suggested"] == len(pending) > 0
    assert db.session.scalar(select(func.count()).select_from(CommentTheme)) == tags_before
    suggested_for = {s.comment_id for s in pending}
    assert suggested_for <= {_comment(themed, f"u{n}").id for n in range(4)}
    per_comment = {}
    for s in pending:
        per_comment[s.comment_id] = per_comment.get(s.comment_id, 0) + 1
        assert 0 <= s.confidence <= 1
    assert max(per_comment.values()) <= 2
    best = {c: max((s for s in pending if s.comment_id == c), key=lambda s: s.confidence).theme.name
            for c in suggested_for}
    assert best[_comment(themed, "u0").id] == "Cost"
    assert best[_comment(themed, "u1").id] == "Evidence"


def test_a_refresh_with_a_single_theme_suggests_it_instead_of_failing(app, make_consultation, write):
    consultation = make_consultation()
    create_theme(consultation.id, "Cost", "", None)
    db.session.commit()
    rows = [row("c0", COST[0], themes=["Cost"])] + [row(f"u{n}", text) for n, text in enumerate(UNTAGGED)]
    result = app.test_cli_runner().invoke(args=["comments", "import", str(write("r.jsonl", jsonl(rows))),
                                                "--consultation", consultation.reference])
    assert result.exit_code == 0, result.output

    figures = refresh_suggestions(consultation.id)

    assert figures["tagged"] == 1 and figures["suggested"] == len(_pending(consultation)) > 0
    assert db.session.get(SuggestionRun, consultation.id).figures == figures


def test_each_comment_is_embedded_once_and_gets_similar_comments(themed):
    refresh_suggestions(themed.id)
    vectors = dict(db.session.execute(select(CommentEmbedding.comment_id, CommentEmbedding.vector)).all())

    assert len(vectors) == 8 and all(len(v) == 384 * 4 for v in vectors.values())
    assert embed_consultation(themed.id) == 0  # nothing new: nothing encoded again
    similar = review.similar_comments(_comment(themed, "u0"))
    assert similar and similar[0][0].external_id in {"c0", "c1", "u2"}


def test_only_comments_close_in_meaning_are_called_similar_never_a_negative_score(themed):
    refresh_suggestions(themed.id)
    comment = _comment(themed, "u0")
    stored = db.session.get(CommentEmbedding, comment.id).neighbours
    assert stored and all(-1 <= score <= 1 for _, score in stored)
    # Cosine of sentence embeddings runs from -1 to 1, and the nearest few of a small consultation can be
    # unrelated: rows stored with such scores are not shown as similar.
    close, loose, opposed = (_comment(themed, name) for name in ("c0", "e1", "u1"))
    db.session.get(CommentEmbedding, comment.id).neighbours = [[close.id, 0.79], [loose.id, 0.07],
                                                               [opposed.id, -0.02]]
    db.session.flush()
    assert review.similar_comments(comment) == [(close, 0.79)]
    assert all(score >= review.SIMILAR_AT_LEAST > 0 for _, score in review.similar_comments(_comment(themed, "u2")))


def test_accepting_makes_a_tag_that_says_the_system_suggested_it_and_who_accepted(themed, make_user):
    refresh_suggestions(themed.id)
    person = make_user(name="Priya Staff", role=Role.STAFF)
    suggestion = max(_pending(themed), key=lambda s: s.confidence)
    comment_id, theme_id, confidence = suggestion.comment_id, suggestion.theme_id, suggestion.confidence

    tag = review.accept_suggestion(suggestion, person, utcnow())
    db.session.commit()

    assert (tag.source, tag.tagged_by_id) == (TagSource.SYSTEM, person.id)
    assert db.session.get(CommentTheme, (comment_id, theme_id)) is not None
    assert review.suggestion_for(db.session.get(Comment, comment_id), db.session.get(Theme, theme_id)) is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "suggestion.accept"))
    assert event.actor_id == person.id and event.object_id == str(comment_id)
    assert event.after["tag"]["source"] == "system" and event.after["confidence"] == confidence
    with pytest.raises(review.SuggestionGone):
        review.accept_suggestion(None, person, utcnow())


def test_a_rejected_suggestion_is_kept_audited_and_not_made_again(themed, make_user):
    refresh_suggestions(themed.id)
    person = make_user(role=Role.STAFF)
    suggestion = _pending(themed)[0]
    pair = (suggestion.comment_id, suggestion.theme_id)

    review.reject_suggestion(suggestion, person, utcnow())
    db.session.commit()
    refresh_suggestions(themed.id)

    assert pair not in {(s.comment_id, s.theme_id) for s in _pending(themed)}
    kept = db.session.scalar(select(ThemeSuggestion).where(ThemeSuggestion.comment_id == pair[0],
                                                           ThemeSuggestion.theme_id == pair[1]))
    assert kept.state is SuggestionState.REJECTED and kept.decided_by_id == person.id
    assert db.session.get(CommentTheme, pair) is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "suggestion.reject"))
    assert event.actor_id == person.id and event.after["theme_id"] == pair[1]


def test_bulk_accept_takes_only_suggestions_at_or_above_the_confidence(themed, make_user):
    refresh_suggestions(themed.id)
    person = make_user(role=Role.STAFF)
    cost = _theme(themed, "Cost")
    confidences = sorted(s.confidence for s in _pending(themed) if s.theme_id == cost.id)
    threshold = confidences[-1]

    decided = review.bulk_decide(themed.id, cost, threshold, True, person, utcnow())

    assert decided == sum(1 for c in confidences if c >= threshold) >= 1
    left = [s.confidence for s in _pending(themed) if s.theme_id == cost.id]
    assert all(c < threshold for c in left)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "suggestion.accept")) == decided


def test_a_tag_change_queues_one_refresh_that_the_worker_runs(app, themed, make_user):
    redis_or_skip(app)
    empty_queue(app)
    from consult.analysis.triggers import _marker
    from consult.jobs import redis_connection
    redis_connection().delete(_marker(themed.id))
    person = make_user(role=Role.STAFF)
    try:
        for external_id in ("u0", "u2"):
            tag_comment(_comment(themed, external_id), _theme(themed, "Cost"), person, utcnow())
            db.session.commit()

        assert queue(app).count == 1  # two changes while a refresh waits: one job
        run_worker(app)

        run = db.session.get(SuggestionRun, themed.id)
        assert run is not None and run.figures["tagged"] == 6
        assert queue_refresh([themed.id]) == [themed.id]  # the job cleared its marker as it started
    finally:
        empty_queue(app)
        redis_connection().delete(_marker(themed.id))


# --- the engine on its own -----------------------------------------------------


def _clusters(seed: int = 0, per: int = 40, themes: int = 3, dims: int = 16, noise: float = 0.25):
    rng = np.random.default_rng(seed)
    centres = engine.normalise(rng.normal(size=(themes, dims)))
    vectors = np.vstack([centres[t] + noise * rng.normal(size=(per, dims)) for t in range(themes)])
    truth = np.repeat(np.arange(themes), per)
    return engine.normalise(vectors), centres, truth


def test_a_few_tags_per_theme_label_the_rest():
    vectors, centres, truth = _clusters()
    tags = {int(i): {int(truth[i])} for t in range(3) for i in np.flatnonzero(truth == t)[:2]}

    chosen = engine.choose(engine.score_themes(vectors, centres + 0.3, tags))

    right = sum(1 for i, picks in enumerate(chosen) if i not in tags and picks and picks[0][0] == truth[i])
    assert right / (len(truth) - len(tags)) > 0.9
    assert all(len(picks) <= 2 for picks in chosen)


@pytest.mark.parametrize("tagged", [0, 2, 12], ids=["no tags", "a few tags", "every comment tagged"])
def test_a_single_theme_with_nothing_to_contrast_it_is_scored_by_spreading_alone(caplog, tagged):
    vectors, centres, _truth = _clusters(per=4)
    tags = {row: {0} for row in range(tagged)}
    anchors = centres[:1]

    with caplog.at_level("INFO", logger="consult.analysis.suggestions"):
        scores = engine.score_themes(vectors, anchors, tags)

    assert scores.shape == (12, 1) and np.all((scores >= 0) & (scores <= 1))
    assert "theme column 0 is scored by spreading alone: no comment to learn it is absent from" in caplog.text


def test_tag_these_next_spreads_over_the_groups_and_skips_ineligible_rows():
    vectors, centres, truth = _clusters()
    eligible = np.ones(len(truth), dtype=bool)
    eligible[:5] = False

    picks = engine.next_to_tag(vectors, engine.score_themes(vectors, centres, {}), eligible, 6)

    assert len(picks) == 6 and not set(picks) & set(range(5))
    assert {int(truth[i]) for i in picks} == {0, 1, 2}


def test_possible_topics_find_a_group_no_theme_covers_with_its_words():
    vectors, _, truth = _clusters(per=12, noise=0.15)
    texts = [["freezing probe ice ball", "waiting list travel distance", "register trial data"][t] + f" {i}"
             for i, t in enumerate(truth)]
    scores = np.zeros((len(truth), 2))
    scores[truth == 0, 0] = scores[truth == 1, 1] = 0.9  # two themes cover groups 0 and 1

    topics = engine.possible_topics(vectors, texts, scores, np.zeros(len(truth), dtype=bool))

    assert len(topics) == 1 and set(topics[0].rows) == set(np.flatnonzero(truth == 2).tolist())
    assert {"register", "trial"} & set(" ".join(topics[0].phrases).split()) and len(topics[0].typical) == 3
