"""The running counts always equal a fresh count, whatever staff do and in whatever order."""

import importlib.util
import random
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from consult.accounts.models import Role
from consult.analysis import campaign_review
from consult.analysis.campaigns import Membership
from consult.analysis.models import Campaign, CampaignDetachment, CampaignMember
from consult.analysis.services import store_groups
from consult.database import utcnow
from consult.errors import DomainError
from consult.exports.review import summarise
from consult.extensions import db
from consult.moderation import counters, queries, services
from consult.moderation.models import CommentTheme, ProgressCounter, Theme
from consult.moderation.states import ModerationState, RejectionReason, ResponseState

SEQUENCES = 40
STEPS = 30

_VERSIONS = Path(__file__).parents[2] / "migrations" / "versions"


def _migration(name: str = "5d2b8e4c7a10_progress_counters"):
    spec = importlib.util.spec_from_file_location(name, _VERSIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored(consultation_id: int) -> dict:
    rows = db.session.execute(select(ProgressCounter.dimension, ProgressCounter.key, ProgressCounter.n)
                              .where(ProgressCounter.consultation_id == consultation_id))
    return {(d, k): n for d, k, n in rows if (d, k) != counters.BUILT}


def counted_by_migration(consultation_id: int) -> dict:
    """What the migration's SQL, a separate way of counting, finds; nothing it writes is kept."""
    savepoint = db.session.begin_nested()
    db.session.execute(delete(ProgressCounter))
    _migration().fill_counters(db.session.connection())
    _migration("c8e1f4a7b392_published_agreed_counts").fill_agreed(db.session.connection())
    _migration("f7b3c9e2a514_theme_responded_counts").fill_theme_responded(db.session.connection())
    _migration("b6e1d8f3a925_campaign_counts").fill_campaign_counts(db.session.connection())
    found = stored(consultation_id)
    savepoint.rollback()
    return found


def assert_counts_fresh(consultation_id: int) -> None:
    db.session.flush()
    assert stored(consultation_id) == dict(counters.tally(consultation_id))


def _versions(comments):
    return {c.id: c.version for c in comments}


def _response_version(comment):
    response = queries.responses_by_comment([comment.id]).get(comment.id)
    return response.version if response else None


REDACT = services.Decision(ModerationState.REDACTED, reason=RejectionReason.PERSONAL_DATA,
                           redacted_body="Comment [withheld].")
ACCEPT = services.Decision(ModerationState.ACCEPTED)
REJECT = services.Decision(ModerationState.REJECTED, reason=RejectionReason.SPAM)


def _act(rng: random.Random, world: dict) -> None:
    consultation, admin, comments = world["consultation"], world["admin"], world["comments"]
    themes = list(db.session.scalars(select(Theme).where(Theme.consultation_id == consultation.id)))
    now = utcnow()
    action = rng.choice(["submit", "decide", "decide", "bulk_decide", "tag", "tag", "untag", "bulk_tag",
                         "respond", "no_response", "bulk_respond", "new_theme", "merge", "delete_theme",
                         "group", "group", "detach", "merge_campaigns", "split_campaign"])
    if action == "submit" or not comments:
        organisation = rng.random() < 0.4
        comments += world["submit"](consultation, rng.randint(1, 3),
                                    kind="organisation" if organisation else "individual",
                                    target=rng.choice(["section", "chapter", "document"]))
        return
    comment = rng.choice(comments)
    some = rng.sample(comments, rng.randint(1, len(comments)))
    theme = rng.choice(themes) if themes else None
    if action == "decide":
        services.decide_comment(comment, rng.choice([ACCEPT, REJECT, REDACT]), admin, comment.version, now)
    elif action == "bulk_decide":
        services.bulk_decide(consultation.id, _versions(some), rng.choice([ACCEPT, REJECT]), admin, now)
    elif action == "tag" and theme:
        services.tag_comment(comment, theme, admin, now)
    elif action == "untag" and theme:
        services.untag_comment(comment, theme, admin)
    elif action == "bulk_tag" and theme:
        services.bulk_tag(consultation.id, [c.id for c in some], theme, admin, now)
    elif action == "respond":
        services.save_response(comment, f"Response {rng.random()}", rng.choice(list(ResponseState)[:2]), admin,
                               _response_version(comment), now)
    elif action == "no_response":
        services.mark_no_response_needed(comment, "Out of scope", admin, _response_version(comment), now)
    elif action == "bulk_respond":
        services.apply_response(consultation.id, [c.id for c in some], "Thank you.",
                                rng.choice([ResponseState.DRAFT, ResponseState.AGREED]), admin, now)
    elif action in ("group", "detach", "merge_campaigns", "split_campaign"):
        _act_on_campaigns(rng, action, consultation, admin, comments, now)
    elif action == "new_theme" or not themes:
        services.create_theme(consultation.id, f"Theme {rng.randint(1, 10_000)}", "", admin)
    elif action == "merge" and len(themes) > 1:
        source, target = rng.sample(themes, 2)
        services.merge_themes(source, target, admin)
    elif action == "delete_theme":
        others = [t for t in themes if t.id != theme.id]
        services.delete_theme(theme, admin, rng.choice(others) if others and rng.random() < 0.7 else None)


def _act_on_campaigns(rng: random.Random, action: str, consultation, admin, comments, now) -> None:
    """Campaign members move with Core statements (grouping, merge, split) and ORM deletes (detach)."""
    campaigns = list(db.session.scalars(select(Campaign).where(Campaign.consultation_id == consultation.id)))
    if action == "group" or not campaigns:
        detached = set(db.session.scalars(select(CampaignDetachment.comment_id)))
        groupable = [c for c in comments if c.id not in detached]  # as submitted_texts leaves them out
        if not groupable:
            return
        grouped = rng.sample(groupable, rng.randint(1, len(groupable)))
        store_groups(consultation.id, {c.id: Membership(rng.randint(1, 3), rng.choice(["identical", "paraphrase"]))
                                       for c in grouped})
        return
    campaign = rng.choice(campaigns)
    members = list(db.session.scalars(select(CampaignMember.comment_id)
                                      .where(CampaignMember.campaign_id == campaign.id)))
    if action == "detach":
        campaign_review.detach_member(campaign, rng.choice(members), campaign.version, admin, now)
    elif action == "merge_campaigns" and len(campaigns) > 1:
        other = rng.choice([c for c in campaigns if c.id != campaign.id])
        campaign_review.merge_campaigns(campaign, other, campaign.version, admin, now)
    elif action == "split_campaign" and len(members) > 1:
        campaign_review.split_members(campaign, rng.sample(members, rng.randint(1, len(members) - 1)), "",
                                      campaign.version, admin, now)


@pytest.mark.parametrize("seed", range(SEQUENCES))
def test_counts_equal_a_fresh_count_after_any_sequence_of_changes(seed, make_consultation, make_submitted_comments,
                                                                  make_staff):
    rng = random.Random(seed)
    consultation = make_consultation()
    bystander = make_consultation()
    make_submitted_comments(bystander, 2)
    before_bystander = stored(bystander.id)
    admin = make_staff("Ada Admin", Role.ADMIN)
    world = {"consultation": consultation, "admin": admin, "comments": [], "submit": make_submitted_comments}
    for _ in range(STEPS):
        try:
            _act(rng, world)
        except DomainError:
            pass  # a refused change must leave the counts as they were, which the check below proves
        assert_counts_fresh(consultation.id)
    assert stored(consultation.id) == counted_by_migration(consultation.id)
    assert stored(bystander.id) == before_bystander


def test_the_pages_show_the_same_figures_after_a_rebuild(make_consultation, make_submitted_comments, make_staff):
    consultation = make_consultation()
    admin = make_staff("Ada Admin", Role.ADMIN)
    first, second, third = make_submitted_comments(consultation, 3)
    make_submitted_comments(consultation, 2, kind="organisation", target="document")
    cost = services.create_theme(consultation.id, "Cost", "", admin)
    services.tag_comment(first, cost, admin, utcnow())
    services.decide_comment(second, REJECT, admin, second.version, utcnow())
    services.mark_no_response_needed(third, "Duplicate", admin, None, utcnow())
    kept = (queries.progress_for([consultation.id]), summarise(consultation))
    counters.recount_consultation(consultation.id)
    assert (queries.progress_for([consultation.id]), summarise(consultation)) == kept
    assert kept[0][consultation.id] == queries.Progress(submitted=5, triaged=1, themed=1, answered=1)
    assert kept[1].total == 4


def test_a_consultation_never_counted_is_counted_when_first_read(make_consultation, make_submitted_comments):
    consultation = make_consultation()
    make_submitted_comments(consultation, 3)
    db.session.execute(delete(ProgressCounter).where(ProgressCounter.consultation_id == consultation.id))
    assert queries.progress_for([consultation.id])[consultation.id].submitted == 3
    assert stored(consultation.id) == dict(counters.tally(consultation.id))


def test_the_queue_total_comes_from_the_counts_unless_filtered_by_more_than_state(make_consultation,
                                                                                 make_submitted_comments,
                                                                                 make_staff):
    consultation = make_consultation()
    admin = make_staff("Ada Admin", Role.ADMIN)
    comments = make_submitted_comments(consultation, 4)
    services.decide_comment(comments[0], ACCEPT, admin, comments[0].version, utcnow())
    accepted = queries.QueueFilters(state=ModerationState.ACCEPTED)
    assert queries.queue_page(consultation.id, queries.QueueFilters()).total == 4
    assert queries.queue_page(consultation.id, accepted).total == 1
    # Proof the totals are read, not counted: a count the services did not move shows through.
    db.session.execute(ProgressCounter.__table__.update()
                       .where(ProgressCounter.consultation_id == consultation.id, ProgressCounter.key == "submitted")
                       .values(n=40))
    assert queries.queue_page(consultation.id, queries.QueueFilters()).total == 40
    assert queries.queue_page(consultation.id, queries.QueueFilters(text="Comment")).total == 4


def test_a_change_made_directly_through_the_models_is_counted(make_consultation, make_submitted_comments, make_staff):
    consultation = make_consultation()
    admin = make_staff("Ada Admin", Role.ADMIN)
    first, second = make_submitted_comments(consultation, 2)
    theme = services.create_theme(consultation.id, "Safety", "", admin)
    first.moderation_state, first.rejection_reason = ModerationState.REJECTED, RejectionReason.SPAM
    db.session.add(CommentTheme(comment_id=second.id, theme_id=theme.id, tagged_by_id=admin.id))
    db.session.flush()
    assert_counts_fresh(consultation.id)
    assert queries.progress_for([consultation.id])[consultation.id] == queries.Progress(
        submitted=2, triaged=1, themed=1, answered=0)


def test_a_change_rolled_back_takes_its_counts_back(make_consultation, make_submitted_comments, make_staff):
    consultation = make_consultation()
    admin = make_staff("Ada Admin", Role.ADMIN)
    [comment] = make_submitted_comments(consultation, 1)
    kept = stored(consultation.id)
    savepoint = db.session.begin_nested()
    services.decide_comment(comment, ACCEPT, admin, comment.version, utcnow())
    db.session.flush()
    assert stored(consultation.id) != kept
    savepoint.rollback()
    assert stored(consultation.id) == kept


def test_the_rebuild_command_recounts_a_consultation_whose_counts_drifted(app, make_consultation,
                                                                           make_submitted_comments):
    consultation = make_consultation()
    make_submitted_comments(consultation, 3)
    # As a bulk load that skips the models would leave it: counts that say nothing was submitted.
    db.session.execute(ProgressCounter.__table__.update()
                       .where(ProgressCounter.consultation_id == consultation.id, ProgressCounter.key == "submitted")
                       .values(n=0))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["counters", "rebuild", consultation.reference])

    assert result.exit_code == 0, result.output
    assert f"Recounted the progress of {consultation.reference}." in result.output
    assert_counts_fresh(consultation.id)
    assert app.test_cli_runner().invoke(args=["counters", "rebuild", "NOPE999"]).exit_code != 0


def test_writing_drafts_moves_no_count_and_sends_no_counting_query(app_context, make_user, make_consultation,
                                                                    make_participation):
    """Drafts are counted nowhere, so saving, editing and deleting one costs the counts nothing."""
    from consult.comments import services as comment_services
    from tests.conftest import sections_of
    from tests.query_counting import counted_queries

    consultation = make_consultation()
    counters.recount_consultation(consultation.id)
    participation = make_participation(make_user(), consultation)
    section = sections_of(consultation)["1.1"]
    target = comment_services.CommentTargetRef(document=section.document, chapter=section.chapter,
                                               section=section)
    with counted_queries() as statements:
        draft = comment_services.save_draft(participation, target, "A draft.", None, utcnow())
        comment_services.update_draft(draft, "A better draft.", None, utcnow())
        db.session.flush()
        comment_services.delete_draft(draft, utcnow())
        db.session.flush()
    assert not [s for s in statements if "progress_counters" in s]
    assert stored(consultation.id) == dict(counters.tally(consultation.id)) == {}
    second = comment_services.save_draft(participation, target, "Kept.", None, utcnow())
    comment_services.submit_response(participation, utcnow())
    assert_counts_fresh(consultation.id)
    assert stored(consultation.id)["all", "submitted"] == 1
    assert second.number is not None
