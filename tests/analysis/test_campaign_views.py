"""Campaigns for staff: one row in the queue, the campaign page, staff's corrections that survive regrouping,
and decisions for the whole group that leave every member its own comment."""

import random
import re

import pytest
from sqlalchemy import func, select, update

from consult.accounts.models import Role
from consult.analysis.models import (
    Campaign,
    CampaignDetachment,
    CampaignMember,
    SuggestionState,
    ThemeSuggestion,
)
from consult.analysis.services import group_arrivals, group_consultation
from consult.audit.models import AuditEvent
from consult.comments.models import Comment
from consult.database import utcnow
from consult.extensions import db
from consult.moderation.models import CommentTheme, Theme
from consult.moderation.states import ModerationState
from bench import make_eval_set
from tests.analysis.test_campaigns import INDEPENDENT
from tests.analysis.test_cli import LETTER
from tests.analysis.test_services import add
from tests.moderation.test_views import assert_sound_markup, form_posting_to, hidden_values, text_of
from tests.query_counting import counted_queries

PEOPLE = [("Sarah Jones", "Leeds"), ("Tom Okafor", "Swansea"), ("Priya Patel", "Derby"), ("Olu Mensah", "Hull"),
          ("Megan Clarke", "Exeter")]
OTHER = ("The probe should only be used under ultrasound guidance by a trained interventional radiologist, "
         "and the committee should ask for the audit data before any decision on routine use is made at all.")


def letters(people=PEOPLE, start: int = 0) -> dict[str, str]:
    return {f"m{n}": LETTER.format(name=name, town=town) for n, (name, town) in enumerate(people, start=start)}


@pytest.fixture
def grouped(consultation_with_themes):
    """A consultation with a six-letter campaign (one sent twice word for word), a three-comment campaign,
    and two comments of their own; grouped."""
    consultation = consultation_with_themes()
    texts = letters()
    texts["m5"] = texts["m0"]
    ids = add(consultation, texts | {"o1": OTHER, "o2": OTHER.replace("at all", "at any point"),
                                     "o3": OTHER + " Thanks.",
                                     "own": "Ultrasound guidance shows the ice ball forming.",
                                     "own2": "Waiting lists are long in the north."})
    group_consultation(consultation.id)
    db.session.commit()
    return consultation, ids


def campaign_of(comment_id: int) -> int | None:
    db.session.expire_all()
    return db.session.scalar(select(CampaignMember.campaign_id).where(CampaignMember.comment_id == comment_id))


def base(consultation) -> str:
    return f"/staff/consultations/{consultation.reference}"


def page_of(client, consultation, campaign_id: int, **args) -> str:
    response = client.get(f"{base(consultation)}/campaigns/{campaign_id}", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def version_of(campaign_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id).version


# --- The queue -------------------------------------------------------------------------------------------


def test_the_queue_shows_each_campaign_as_one_row_and_each_comment_when_asked(client, login_as, grouped):
    consultation, ids = grouped
    login_as(Role.STAFF)
    letter, other = campaign_of(ids["m0"]), campaign_of(ids["o1"])

    collapsed = client.get(f"{base(consultation)}/comments").get_data(as_text=True)
    each = client.get(f"{base(consultation)}/comments", query_string={"members": "show"}).get_data(as_text=True)
    one = client.get(f"{base(consultation)}/comments", query_string={"campaign": letter}).get_data(as_text=True)

    assert "Campaign: 6 comments (6 identical)" in text_of(collapsed)
    assert "Campaign: 3 comments" in text_of(collapsed)
    assert f'href="/staff/consultations/{consultation.reference}/campaigns/{letter}"' in collapsed
    assert f'data-campaign="{other}"' in collapsed
    assert len(re.findall(r"data-comment=", collapsed)) == 2  # the two comments of their own
    assert "Showing rows 1 to 4 of 4: 11 comments, with each campaign as one row." in text_of(collapsed)
    assert len(re.findall(r"data-comment=", each)) == 11 and "data-campaign=" not in each
    assert len(re.findall(r"data-comment=", one)) == 6
    assert "Showing the comments of Campaign" in text_of(one) or f"campaign {letter}" in text_of(one)
    assert_sound_markup(collapsed)


def test_a_collapsed_queue_costs_the_same_statements_however_big_the_campaign(client, login_as, grouped):
    consultation, ids = grouped
    login_as(Role.STAFF)
    url = f"{base(consultation)}/comments"
    client.get(url)
    with counted_queries() as small:
        client.get(url)
    add(consultation, {f"x{n}": LETTER.format(name=f"Person {n}", town="Leeds") for n in range(40)})
    group_consultation(consultation.id)
    db.session.commit()
    with counted_queries() as big:
        html = client.get(url).get_data(as_text=True)

    assert "Campaign: 46 comments" in text_of(html)
    assert len(big) == len(small)


def test_collapsed_rows_page_like_comments(client, login_as, grouped):
    consultation, ids = grouped
    add(consultation, {f"solo{n}": f"Comment number {n} raises point {n * 7} about waiting {n} weeks."
                       for n in range(30)})
    login_as(Role.STAFF)

    first = text_of(client.get(f"{base(consultation)}/comments").get_data(as_text=True))
    second = text_of(client.get(f"{base(consultation)}/comments", query_string={"page": 2}).get_data(as_text=True))

    assert "Showing rows 1 to 25 of 34: 41 comments" in first
    assert "Showing rows 26 to 34 of 34: 41 comments" in second


def test_the_suggested_filter_keeps_comments_with_a_pending_suggestion(client, login_as, grouped):
    consultation, ids = grouped
    cost, evidence = (db.session.scalar(select(Theme).where(Theme.consultation_id == consultation.id,
                                                            Theme.name == name)) for name in ("Cost", "Evidence"))
    db.session.add_all([
        ThemeSuggestion(consultation_id=consultation.id, comment_id=ids["own"], theme_id=cost.id, confidence=0.9),
        ThemeSuggestion(consultation_id=consultation.id, comment_id=ids["own2"], theme_id=cost.id, confidence=0.8,
                        state=SuggestionState.REJECTED),
    ])
    db.session.commit()
    login_as(Role.STAFF)

    def numbers(**args):
        html = client.get(f"{base(consultation)}/comments", query_string={"members": "show", **args})
        assert html.status_code == 200
        return re.findall(r'data-comment="(\d+)"', html.get_data(as_text=True))

    own = str(db.session.get(Comment, ids["own"]).number)
    assert numbers(suggested="0") == [own]
    assert numbers(suggested=str(cost.id)) == [own]
    assert numbers(suggested=str(evidence.id)) == []
    bad = client.get(f"{base(consultation)}/comments", query_string={"suggested": "999999"})
    assert bad.status_code == 200 and "Select suggested theme from the list" in bad.get_data(as_text=True)


# --- The campaign page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["small", "large"])
def test_the_page_shows_the_typical_text_once_and_each_members_differences(client, login_as, grouped, size,
                                                                          monkeypatch):
    if size == "large":  # read by walking the consultation's comments in number order, not from the campaign
        monkeypatch.setattr("consult.moderation.queries.FEW_IN_CAMPAIGN", 1)
    consultation, ids = grouped
    login_as(Role.STAFF)
    html = page_of(client, consultation, campaign_of(ids["m0"]))
    members = [int(n) for n in re.findall(r'data-member="(\d+)"', html)]
    assert members == sorted(members) and len(members) == 6
    text = text_of(html)

    typical = re.search(r'id="typical-text">(.*?)</div>', html, re.S).group(1)
    assert "Sarah Jones" in typical  # the letter all six sent, names aside: the earliest copy
    assert ("Campaign: 6 comments (6 with the same words as another member, apart from names, numbers and "
            "punctuation)") in text
    assert "Sent by 6 of the 6 members, apart from names, numbers and punctuation: more than any other text." in text
    tom = html.split(f'data-member="{db.session.get(Comment, ids["m1"]).number}"')[1].split("</li>")[0]
    assert re.search(r"<del><span class=\"govuk-visually-hidden\">\[removed: </span>Sarah", tom)
    assert re.search(r"<ins><span class=\"govuk-visually-hidden\">\[added: </span>Tom", tom)
    assert "The same words as another member of the campaign, apart from names, numbers and punctuation." in text
    assert "(Jaccard) 100%" not in text  # its 100% is with the member it copies, not with the campaign
    assert text.count("The same as the typical text.") == 2
    assert_sound_markup(html)


def test_differences_are_escaped(client, login_as, grouped):
    consultation, ids = grouped
    extra = add(consultation, {"x": LETTER.format(name="Ann Lee", town="York") + " <script>alert(1)</script>"})
    group_consultation(consultation.id)
    db.session.commit()
    assert campaign_of(extra["x"]) == campaign_of(ids["m0"])
    login_as(Role.STAFF)

    html = page_of(client, consultation, campaign_of(ids["m0"]))

    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_a_reworded_member_says_which_signals_attached_it(client, login_as, consultation_with_themes):
    consultation = consultation_with_themes()
    rng = random.Random(3)
    texts = {f"m{n}": make_eval_set.mail_merge(rng, make_eval_set.CAMPAIGNS["A"]) for n in range(8)}
    texts["own"] = ("After ten years of neuroma pain I am exhausted by treatments that wear off. "
                    "A research-only recommendation turns access into a postcode lottery. "
                    "People in constant pain should not have to wait for a trial that may never be run.")
    ids = add(consultation, texts | {f"i{n}": text for n, text in enumerate(INDEPENDENT)})
    group_consultation(consultation.id)
    db.session.commit()
    login_as(Role.STAFF)

    html = page_of(client, consultation, campaign_of(ids["m0"]))
    member = html.split(f'data-member="{db.session.get(Comment, ids["own"]).number}"')[1].split("</li>")[0]

    assert campaign_of(ids["own"]) == campaign_of(ids["m0"])
    assert "Reworded: joined because both signals agreed" in text_of(member)
    assert "TF-IDF cosine" in member and "distinctive words the campaign uses" in member


def test_the_committee_reads_the_page_without_controls(client, login_as, grouped):
    consultation, ids = grouped
    user = login_as(Role.COMMITTEE)
    from consult.consultations.models import CommitteeAssignment
    db.session.add(CommitteeAssignment(consultation_id=consultation.id, user_id=user.id))
    db.session.commit()

    html = page_of(client, consultation, campaign_of(ids["m0"]))

    assert "Campaign: 6 comments" in text_of(html)
    assert "/campaigns/" not in "".join(re.findall(r'<form method="post" action="([^"]+)"', html))
    assert "/comments/bulk" not in html and "Detach" not in html


def test_an_unknown_or_foreign_campaign_is_not_found(client, login_as, grouped, consultation_with_themes):
    consultation, ids = grouped
    elsewhere = consultation_with_themes()
    login_as(Role.STAFF)

    assert client.get(f"{base(elsewhere)}/campaigns/{campaign_of(ids['m0'])}").status_code == 404
    assert client.get(f"{base(consultation)}/campaigns/99999999999").status_code == 404


# --- Staff's corrections -----------------------------------------------------------------------------------


def test_naming_is_audited_kept_through_regrouping_and_refused_on_a_stale_page(client, login_as, post_form,
                                                                              grouped):
    consultation, ids = grouped
    campaign_id = campaign_of(ids["m0"])
    person = login_as(Role.STAFF)
    url = f"{base(consultation)}/campaigns/{campaign_id}/name"
    seen = version_of(campaign_id)

    done = post_form(url, {"campaign-name": "  Postcode   lottery letter ", "campaign-version": seen})
    stale = post_form(url, {"campaign-name": "Something else", "campaign-version": seen})
    group_consultation(consultation.id)
    db.session.commit()

    assert done.status_code == 302
    assert db.session.get(Campaign, campaign_id).name == "Postcode lottery letter"
    assert stale.status_code == 302
    assert "This campaign was changed by" in text_of(client.get(stale.headers["Location"]).get_data(as_text=True))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.name"))
    assert event.actor_id == person.id and event.after == {"name": "Postcode lottery letter"}
    queue = text_of(client.get(f"{base(consultation)}/comments").get_data(as_text=True))
    assert "Postcode lottery letter" in queue


def test_a_name_too_long_is_explained_and_kept(client, login_as, post_form, grouped):
    consultation, ids = grouped
    campaign_id = campaign_of(ids["m0"])
    login_as(Role.STAFF)

    response = post_form(f"{base(consultation)}/campaigns/{campaign_id}/name",
                         {"campaign-name": "x" * 201, "campaign-version": version_of(campaign_id)})

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html and "The name must be 200 characters or fewer" in html
    assert 'href="#campaign-name"' in html
    assert db.session.get(Campaign, campaign_id).name == ""


def test_a_name_whose_text_would_run_backwards_is_explained_and_kept(client, login_as, post_form, grouped):
    consultation, ids = grouped
    campaign_id = campaign_of(ids["m0"])
    login_as(Role.STAFF)

    response = post_form(f"{base(consultation)}/campaigns/{campaign_id}/name",
                         {"campaign-name": "rettel\u202e", "campaign-version": version_of(campaign_id)})

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The name must not include hidden characters that change the direction of text" in html
    assert db.session.get(Campaign, campaign_id).name == ""


def test_a_detached_member_stays_out_of_every_campaign(client, login_as, post_form, grouped):
    consultation, ids = grouped
    campaign_id = campaign_of(ids["m2"])
    person = login_as(Role.STAFF)
    number = db.session.get(Comment, ids["m2"]).number
    page = page_of(client, consultation, campaign_id)
    form = form_posting_to(page, f"{base(consultation)}/campaigns/{campaign_id}/members/{ids['m2']}/detach")

    response = client.post(f"{base(consultation)}/campaigns/{campaign_id}/members/{ids['m2']}/detach",
                           data=hidden_values(form))
    group_consultation(consultation.id)
    group_arrivals(consultation.id)
    db.session.commit()

    assert response.status_code == 302
    assert campaign_of(ids["m2"]) is None
    assert campaign_of(ids["m3"]) == campaign_id
    detachment = db.session.get(CampaignDetachment, ids["m2"])
    assert detachment.detached_by_id == person.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.detach"))
    assert event.object_type == "comments" and event.object_id == str(ids["m2"])
    assert event.before["campaign"] == campaign_id
    assert f'data-member="{number}"' not in page_of(client, consultation, campaign_id)
    assert db.session.get(Comment, ids["m2"]).status.value == "submitted"  # still a counted comment


def test_detaching_a_comment_already_gone_says_so(client, login_as, post_form, grouped):
    consultation, ids = grouped
    campaign_id, other = campaign_of(ids["m0"]), campaign_of(ids["o1"])
    login_as(Role.STAFF)

    response = post_form(f"{base(consultation)}/campaigns/{campaign_id}/members/{ids['o1']}/detach",
                         {"version": version_of(campaign_id)})

    assert response.status_code == 302
    assert "That comment is no longer in this campaign" in text_of(
        client.get(response.headers["Location"]).get_data(as_text=True))
    assert campaign_of(ids["o1"]) == other


def test_a_merge_holds_through_regrouping_and_takes_new_copies(client, login_as, post_form, grouped):
    consultation, ids = grouped
    letter, other = campaign_of(ids["m0"]), campaign_of(ids["o1"])
    db.session.get(Campaign, other).name = "Radiologist letter"
    db.session.commit()
    login_as(Role.STAFF)

    response = post_form(f"{base(consultation)}/campaigns/{letter}/merge",
                         {"other": other, "version": version_of(letter)})
    group_consultation(consultation.id)
    db.session.commit()
    later = add(consultation, {"late": OTHER + " Kind regards."})
    group_arrivals(consultation.id)
    db.session.commit()

    assert response.status_code == 302
    assert db.session.get(Campaign, other) is None
    assert {campaign_of(ids[k]) for k in ("m0", "m4", "o1", "o2", "o3")} == {letter}
    assert campaign_of(later["late"]) == letter
    assert db.session.get(Campaign, letter).name == "Radiologist letter"  # it had none: it takes the other's
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.merge"))
    assert event.after["moved"] == 3 and event.after["merged"] == other
    # Its size before and after, so the audit trail reads "comments: 6 → 9", not "removed (was 6)".
    assert (event.before["comments"], event.after["comments"]) == (6, 9)


def test_after_a_merge_the_typical_text_is_the_letter_most_members_sent_whatever_their_names(
        client, login_as, post_form, grouped):
    """Mail-merged letters differ by name, so counted word for word each was 'sent' once and the earliest
    member stood as 'sent word for word by more members than any other text': here the three radiologists'."""
    consultation, ids = grouped
    letter, other = campaign_of(ids["m0"]), campaign_of(ids["o1"])
    login_as(Role.STAFF)
    post_form(f"{base(consultation)}/campaigns/{other}/merge", {"other": letter, "version": version_of(other)})

    html = page_of(client, consultation, other)
    typical = re.search(r'id="typical-text">(.*?)</div>', html, re.S).group(1)
    assert "Sarah Jones" in typical and OTHER not in typical
    assert "Sent by 6 of the 9 members, apart from names, numbers and punctuation" in text_of(html)


def test_a_campaign_whose_members_all_differ_says_its_text_is_only_the_earliest(client, login_as, grouped):
    consultation, ids = grouped
    login_as(Role.STAFF)
    html = page_of(client, consultation, campaign_of(ids["o1"]))
    first = db.session.get(Comment, ids["o1"]).number
    said = re.sub(r"<[^>]+>", "", re.search(r'id="typical-sent-by">(.*?)</p>', html, re.S).group(1))
    assert said == (f"No two members sent the same words, so this is the earliest member’s text, "
                    f"{consultation.reference}-{first:04d}.")
    assert "more than any other text" not in text_of(html)


def test_a_merge_sent_again_says_it_is_done(client, login_as, post_form, grouped):
    """The second press said 'Select the campaign to merge into this one', as if nothing had happened."""
    consultation, ids = grouped
    letter, other = campaign_of(ids["m0"]), campaign_of(ids["o1"])
    login_as(Role.STAFF)
    sent = {"other": other, "version": version_of(letter)}
    assert post_form(f"{base(consultation)}/campaigns/{letter}/merge", sent).status_code == 302
    client.get(f"{base(consultation)}/campaigns/{letter}")  # its message is read

    again = post_form(f"{base(consultation)}/campaigns/{letter}/merge", sent)

    assert again.status_code == 302
    page = text_of(client.get(again.headers["Location"]).get_data(as_text=True))
    assert "That campaign has already been merged into this one." in page
    assert "Select the campaign to merge" not in page
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "campaign.merge")) == 1
    gone = text_of(client.get(f"{base(consultation)}/comments", query_string={"campaign": other}).get_data(
        as_text=True))  # a link to the merged-away campaign's comments, kept from before
    assert f"This consultation has no campaign {other}: it may have been merged into another campaign" in gone


def test_merging_with_a_campaign_of_another_consultation_is_refused(client, login_as, post_form, grouped,
                                                                    consultation_with_themes):
    consultation, ids = grouped
    elsewhere = consultation_with_themes()
    foreign = Campaign(consultation_id=elsewhere.id)
    db.session.add(foreign)
    db.session.commit()
    letter = campaign_of(ids["m0"])
    login_as(Role.STAFF)

    response = post_form(f"{base(consultation)}/campaigns/{letter}/merge",
                         {"other": foreign.id, "version": version_of(letter)})

    assert response.status_code == 400
    assert "Select the campaign to merge into this one" in response.get_data(as_text=True)
    assert db.session.get(Campaign, foreign.id) is not None


def test_a_split_holds_through_regrouping_and_is_audited_per_comment(client, login_as, grouped):
    consultation, ids = grouped
    letter = campaign_of(ids["m0"])
    login_as(Role.STAFF)
    page = page_of(client, consultation, letter)
    form = form_posting_to(page, f"{base(consultation)}/campaigns/{letter}/split")
    data = {**hidden_values(form), "name": "Derby and Hull", "selected": [str(ids["m2"]), str(ids["m3"])]}

    response = client.post(f"{base(consultation)}/campaigns/{letter}/split", data=data)
    group_consultation(consultation.id)
    db.session.commit()

    assert response.status_code == 302
    new = campaign_of(ids["m2"])
    assert new != letter and campaign_of(ids["m3"]) == new
    assert db.session.get(Campaign, new).name == "Derby and Hull"
    assert {campaign_of(ids[k]) for k in ("m0", "m1", "m4", "m5")} == {letter}
    assert response.headers["Location"].endswith(f"/campaigns/{new}")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.split")).all()
    assert sorted(e.object_id for e in events) == sorted([str(ids["m2"]), str(ids["m3"])])


@pytest.mark.parametrize("chosen,message", [
    ([], "Select the comments to move into a new campaign"),
    ("all", "Leave at least one comment in this campaign"),
    (["abc"], "Select the comments to move from the list"),
])
def test_a_split_that_cannot_be_made_is_explained(client, login_as, post_form, grouped, chosen, message):
    consultation, ids = grouped
    letter = campaign_of(ids["m0"])
    login_as(Role.STAFF)
    if chosen == "all":
        chosen = [str(ids[k]) for k in ("m0", "m1", "m2", "m3", "m4", "m5")]

    response = post_form(f"{base(consultation)}/campaigns/{letter}/split",
                         {"version": version_of(letter), "selected": chosen})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Campaign)
                             .where(Campaign.consultation_id == consultation.id)) == 2


# --- Acting on the whole group -------------------------------------------------------------------------------


def _group_action(client, consultation, campaign_id: int, **choices):
    """Send the campaign page's group action, then its confirmation; the confirmation page and the result."""
    page = page_of(client, consultation, campaign_id)
    form = form_posting_to(page, f"{base(consultation)}/comments/bulk")
    data = {**hidden_values(form), **choices}
    confirm = client.post(f"{base(consultation)}/comments/bulk", data=data)
    assert confirm.status_code == 200, confirm.get_data(as_text=True)[:500]
    html = confirm.get_data(as_text=True)
    done = client.post(f"{base(consultation)}/comments/bulk",
                       data=hidden_values(form_posting_to(html, f"{base(consultation)}/comments/bulk")))
    return html, done


def test_a_decision_for_the_group_decides_each_member_as_its_own_comment(client, login_as, grouped):
    consultation, ids = grouped
    letter = campaign_of(ids["m0"])
    login_as(Role.STAFF)

    confirm, done = _group_action(client, consultation, letter, action="reject", reason="duplicate")

    assert "You are about to reject 6 comments as Duplicate." in text_of(confirm)
    assert done.status_code == 302
    states = dict(db.session.execute(select(Comment.id, Comment.moderation_state)
                                     .where(Comment.consultation_id == consultation.id)).all())
    members = [ids[k] for k in ("m0", "m1", "m2", "m3", "m4", "m5")]
    assert {states[i] for i in members} == {ModerationState.REJECTED}
    assert {states[i] for i in states if i not in members} == {ModerationState.NEW}
    events = db.session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "comment.reject")).all()
    assert sorted(events) == sorted(str(i) for i in members)


def test_a_theme_for_the_group_tags_each_member_once(client, login_as, grouped):
    consultation, ids = grouped
    letter = campaign_of(ids["m0"])
    cost = db.session.scalar(select(Theme).where(Theme.consultation_id == consultation.id, Theme.name == "Cost"))
    login_as(Role.STAFF)

    _confirm, done = _group_action(client, consultation, letter, action="tag", tag_theme=str(cost.id))

    assert done.status_code == 302
    tagged = db.session.scalars(select(CommentTheme.comment_id).where(CommentTheme.theme_id == cost.id)).all()
    assert sorted(tagged) == sorted(ids[k] for k in ("m0", "m1", "m2", "m3", "m4", "m5"))


def test_a_member_changed_since_the_page_was_shown_is_left_out_and_named(client, login_as, grouped, make_user):
    consultation, ids = grouped
    letter = campaign_of(ids["m0"])
    login_as(Role.STAFF)
    page = page_of(client, consultation, letter)
    other = make_user(name="Bob Staff", role=Role.STAFF)
    db.session.execute(update(Comment).where(Comment.id == ids["m1"]).values(
        version=Comment.version + 1, moderation_state=ModerationState.ACCEPTED, moderated_by_id=other.id,
        moderated_at=utcnow(), updated_at=utcnow()))
    db.session.commit()
    form = form_posting_to(page, f"{base(consultation)}/comments/bulk")

    confirm = client.post(f"{base(consultation)}/comments/bulk",
                          data={**hidden_values(form), "action": "reject", "reason": "duplicate"})

    text = text_of(confirm.get_data(as_text=True))
    assert "You are about to reject 5 comments as Duplicate." in text
    assert db.session.get(Comment, ids["m1"]).reference in text and "Bob Staff" in text


# --- The list of campaigns ---------------------------------------------------------------------------------


def test_the_list_shows_campaigns_largest_first(client, login_as, grouped):
    consultation, ids = grouped
    login_as(Role.STAFF)

    html = client.get(f"{base(consultation)}/campaigns").get_data(as_text=True)

    order = re.findall(r'data-campaign="(\d+)"', html)
    assert order == [str(campaign_of(ids["m0"])), str(campaign_of(ids["o1"]))]
    assert "2 campaigns, largest first" in text_of(html)
    assert_sound_markup(html)
