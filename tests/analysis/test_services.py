"""Stored campaigns: regrouping is idempotent, names survive, new comments join without moving others."""

from sqlalchemy import select

from consult.analysis.models import Campaign, CampaignMember, MembershipMethod, SuggestionState, ThemeSuggestion
from consult.analysis.services import attach_new_comments, export_analysis, group_consultation
from consult.comments.models import Comment
from consult.comments.offline_import import check_rows, import_responses
from consult.database import utcnow
from consult.extensions import db
from consult.moderation.models import CommentTheme, Theme
from consult.moderation.states import TagSource
from tests.analysis.test_cli import LETTER

PEOPLE = [("Sarah Jones", "Leeds"), ("Tom Okafor", "Swansea"), ("Priya Patel", "Derby"), ("Olu Mensah", "Hull")]


def add(consultation, bodies: dict[str, str]) -> dict[str, int]:
    rows = [(n, {"id": key, "section": "1.1", "participant_type": "member_of_public", "organisation": None,
                 "body": body}) for n, (key, body) in enumerate(bodies.items(), start=1)]
    comments = import_responses(consultation, check_rows(consultation, rows), None, utcnow())
    db.session.commit()
    return {c.external_id: c.id for c in comments}


def memberships(consultation) -> dict[int, int]:
    db.session.expire_all()
    return dict(db.session.execute(select(CampaignMember.comment_id, CampaignMember.campaign_id)
                                   .join(Campaign).where(Campaign.consultation_id == consultation.id)).all())


def test_regrouping_is_idempotent_and_keeps_a_campaign_name(consultation_with_themes):
    consultation = consultation_with_themes()
    ids = add(consultation, {f"m{n}": LETTER.format(name=name, town=town) for n, (name, town) in enumerate(PEOPLE)}
              | {"own": "Ultrasound guidance shows the ice ball forming."})

    first = group_consultation(consultation.id)
    db.session.commit()
    before = memberships(consultation)
    campaign = db.session.get(Campaign, next(iter(before.values())))
    campaign.name = "Postcode lottery letter"
    db.session.commit()
    second = group_consultation(consultation.id)
    db.session.commit()

    assert first.campaigns == second.campaigns == 1 and first.members == 4
    assert memberships(consultation) == before
    assert ids["own"] not in before
    assert db.session.scalars(select(Campaign.name).where(Campaign.consultation_id == consultation.id)).all() == [
        "Postcode lottery letter"]
    methods = set(db.session.scalars(select(CampaignMember.method)))
    assert methods <= {MembershipMethod.IDENTICAL, MembershipMethod.NEAR_DUPLICATE}


def test_a_campaign_that_no_longer_holds_is_removed(consultation_with_themes):
    consultation = consultation_with_themes()
    add(consultation, {"a": LETTER.format(name="Sarah Jones", town="Leeds"),
                       "b": LETTER.format(name="Tom Okafor", town="Hull")})
    group_consultation(consultation.id)
    db.session.commit()
    from consult.analysis.settings import CampaignSettings
    group_consultation(consultation.id, settings=CampaignSettings(min_size=3))
    db.session.commit()

    assert memberships(consultation) == {}
    assert db.session.scalars(select(Campaign).where(Campaign.consultation_id == consultation.id)).all() == []


def test_new_comments_join_their_campaign_without_moving_anyone(consultation_with_themes):
    consultation = consultation_with_themes()
    first = add(consultation, {f"m{n}": LETTER.format(name=name, town=town) for n, (name, town) in enumerate(PEOPLE[:2])})
    group_consultation(consultation.id)
    db.session.commit()
    before = memberships(consultation)

    later = add(consultation, {"m9": LETTER.format(name="Megan Clarke", town="Exeter"),
                               "x1": "The probe should be placed under ultrasound by a trained radiologist.",
                               "x2": "The probe should be placed under ultrasound by a trained radiologist, please."})
    placed = attach_new_comments(consultation.id, later.values())
    db.session.commit()

    after = memberships(consultation)
    assert placed == 3
    assert {k: after[k] for k in before} == before
    assert after[later["m9"]] == before[first["m0"]]
    assert after[later["x1"]] == after[later["x2"]] != before[first["m0"]]


def test_export_prefers_staff_tags_and_falls_back_to_suggestions(consultation_with_themes):
    consultation = consultation_with_themes()
    ids = add(consultation, {"tagged": "One comment.", "suggested": "Another comment.", "bare": "A third."})
    evidence, cost = (db.session.scalar(select(Theme).where(Theme.consultation_id == consultation.id,
                                                            Theme.name == name)) for name in ("Evidence", "Cost"))
    # A tag accepted from a suggestion is a tag; a pending suggestion shows only where no tag is.
    db.session.add_all([
        CommentTheme(comment_id=ids["tagged"], theme_id=cost.id, source=TagSource.SYSTEM),
        ThemeSuggestion(consultation_id=consultation.id, comment_id=ids["tagged"], theme_id=evidence.id,
                        confidence=0.9),
        ThemeSuggestion(consultation_id=consultation.id, comment_id=ids["suggested"], theme_id=evidence.id,
                        confidence=0.7),
        ThemeSuggestion(consultation_id=consultation.id, comment_id=ids["bare"], theme_id=cost.id,
                        confidence=0.5, state=SuggestionState.REJECTED),
    ])
    db.session.commit()

    data = export_analysis(consultation.id)

    assert data["themes"] == {"tagged": ["Cost"], "suggested": ["Evidence"], "bare": []}
    assert data["campaigns"] == {"tagged": None, "suggested": None, "bare": None}


def test_comments_written_on_the_site_are_grouped_but_not_exported(consultation_with_themes, make_user,
                                                                   make_participation):
    from consult.comments import services as comments
    from tests.conftest import sections_of

    consultation = consultation_with_themes()
    ids = add(consultation, {"m0": LETTER.format(name="Sarah Jones", town="Leeds")})
    participation = make_participation(make_user(), consultation)
    section = sections_of(consultation)["1.1"]
    target = comments.CommentTargetRef(document=section.document, chapter=section.chapter, section=section)
    comments.save_draft(participation, target, LETTER.format(name="Tom Okafor", town="Hull"), None, utcnow())
    comments.submit_response(participation, utcnow())
    db.session.commit()

    result = group_consultation(consultation.id)
    db.session.commit()

    assert result.members == 2
    site_comment = db.session.scalar(select(Comment).where(Comment.participation_id == participation.id))
    assert site_comment.number == 2 and not site_comment.entered_by_staff
    assert export_analysis(consultation.id)["campaigns"] == {"m0": str(memberships(consultation)[ids["m0"]])}
