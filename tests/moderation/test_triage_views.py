"""Triage at volume through the pages: moving through a filtered queue, flags, notes, who is reading,
highlighted matches, 'all matching' across pages, saved views and the dashboard's dates."""

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from consult.comments.models import Comment
from consult.database import utcnow
from consult.extensions import db
from consult.moderation import services
from consult.moderation.models import ModerationDecision, SavedView, TriageMark
from consult.moderation.states import ModerationState, ResponseState
from tests.moderation.test_views import (  # noqa: F401  world is a fixture
    assert_sound_markup,
    base,
    form_posting_to,
    fresh,
    hidden_values,
    start_bulk,
    text_of,
    world,
)


def link_href(html: str, rel: str) -> str | None:
    match = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def test_previous_and_next_keep_the_filter_and_shortcuts_are_listed(client, login, world,
                                                                    make_submitted_comments):
    consultation = world["consultation"]
    make_submitted_comments(consultation, 2, body="Unrelated remark {i}")
    login(world["alice"])
    first, second = world["comments"][0], world["comments"][1]
    html = client.get(f"{base(world)}/comments/{first.number}", query_string={"q": "patient"}).get_data(
        as_text=True)
    assert link_href(html, "prev") is None
    following = link_href(html, "next")
    assert urlsplit(following).path == f"{base(world)}/comments/{second.number}"
    assert parse_qs(urlsplit(following).query) == {"q": ["patient"]}
    last = client.get(following).get_data(as_text=True)
    assert link_href(last, "next") is None  # the charity's comment and the others do not match
    assert urlsplit(link_href(last, "prev")).path == f"{base(world)}/comments/{first.number}"
    shortcuts = text_of(last.split('id="shortcuts"')[1].split("</aside>")[0])
    for key, does in [("n", "Next comment"), ("p", "Previous comment"), ("a", "Accept"), ("r", "Reject")]:
        assert f"{key} {does}" in shortcuts
    assert "js/triage.mjs" in last
    # Without script, the shortcuts' targets are a plain link and two CSRF forms.
    accept = form_posting_to(last, f"{base(world)}/comments/{second.number}/accept")
    reject = form_posting_to(last, f"{base(world)}/comments/{second.number}/reject")
    assert hidden_values(accept)["csrf_token"] and hidden_values(reject)["csrf_token"]
    assert_sound_markup(last)


def test_the_quick_reject_form_rejects_with_the_reason_or_asks_for_one(client, login, world):
    login(world["alice"])
    comment = world["comments"][0]
    html = client.get(f"{base(world)}/comments/{comment.number}").get_data(as_text=True)
    reject = hidden_values(form_posting_to(html, f"{base(world)}/comments/{comment.number}/reject"))
    asked = client.post(f"{base(world)}/comments/{comment.number}/reject", data={**reject, "reason": ""})
    assert asked.status_code == 200 and "Select why the comment is rejected" in asked.get_data(as_text=True)
    done = client.post(f"{base(world)}/comments/{comment.number}/reject", data={**reject, "reason": "spam"})
    assert done.status_code == 302
    assert fresh(comment).moderation_state is ModerationState.REJECTED


def test_a_colleague_sees_who_is_reading_and_can_leave_it_out(client, login, world):
    first = world["comments"][0]
    login(world["alice"])
    client.get(f"{base(world)}/comments/{first.number}")
    login(world["bob"])
    queue = client.get(f"{base(world)}/comments").get_data(as_text=True)
    row = queue.split(f'data-comment="{first.number}"')[1].split("</tr>")[0]
    assert re.search(r"Being read by Alice Staff since (\d{1,2}(:\d\d)?[ap]m|midday|midnight)", text_of(row))
    free = client.get(f"{base(world)}/comments", query_string={"reading": "free"}).get_data(as_text=True)
    assert f'data-comment="{first.number}"' not in free and "Showing 1 to 2 of 2 comments" in text_of(free)
    page = text_of(client.get(f"{base(world)}/comments/{first.number}").get_data(as_text=True))
    assert re.search(r"Being read by Alice Staff since (\d{1,2}(:\d\d)?[ap]m|midday|midnight)\. Check with them", page)
    db.session.expire_all()
    assert db.session.get(TriageMark, first.id).reader_id == world["alice"].id  # Bob did not take it over


def test_committee_members_read_without_holding_a_comment(client, login, world, assign_committee):
    assign_committee(world["committee"], world["consultation"])
    login(world["committee"])
    first = world["comments"][0]
    html = client.get(f"{base(world)}/comments/{first.number}").get_data(as_text=True)
    assert db.session.get(TriageMark, first.id) is None
    assert "Flag for a second look" not in html and 'id="shortcuts"' not in html


def test_committee_members_are_not_asked_to_check_before_triaging(client, login, world, assign_committee):
    first = world["comments"][0]
    login(world["alice"])
    client.get(f"{base(world)}/comments/{first.number}")  # Alice is reading it
    assign_committee(world["committee"], world["consultation"])
    login(world["committee"])
    page = text_of(client.get(f"{base(world)}/comments/{first.number}").get_data(as_text=True))
    assert "Check with them before you triage it" not in page


def test_a_note_sent_twice_from_one_page_says_it_was_you_and_keeps_the_first(client, login, world):
    first = world["comments"][0]
    login(world["alice"])
    html = client.get(f"{base(world)}/comments/{first.number}").get_data(as_text=True)
    note = hidden_values(form_posting_to(html, f"{base(world)}/comments/{first.number}/note"))
    assert client.post(f"{base(world)}/comments/{first.number}/note",
                       data={**note, "note": "First thought"}).status_code == 302
    again = client.post(f"{base(world)}/comments/{first.number}/note", data={**note, "note": "Second thought"})
    assert again.status_code == 409
    assert ("You changed the note on this comment in another tab or window, or sent the form twice, since you "
            "opened it here.") in text_of(again.get_data(as_text=True))
    assert db.session.get(TriageMark, first.id).note == "First thought"


def test_flag_and_note_with_who_and_when_and_the_flagged_filter(client, login, post_form, world):
    first = world["comments"][0]
    login(world["alice"])
    flagged = post_form(f"{base(world)}/comments/{first.number}/flag", {})
    assert flagged.status_code == 302
    page = text_of(client.get(flagged.headers["Location"]).get_data(as_text=True))
    assert f"Comment {first.reference} is flagged for a second look." in page
    assert re.search(r"Needs a second look Flagged by Alice Staff at \S+ on \d+ \w+ \d{4}", page)
    again = post_form(f"{base(world)}/comments/{first.number}/flag", {})
    assert "already flagged for a second look" in client.get(again.headers["Location"]).get_data(as_text=True)

    html = client.get(f"{base(world)}/comments/{first.number}").get_data(as_text=True)
    note = hidden_values(form_posting_to(html, f"{base(world)}/comments/{first.number}/note"))
    saved = client.post(f"{base(world)}/comments/{first.number}/note",
                        data={**note, "note": "Is <this> a duplicate of 3?"})
    assert saved.status_code == 302
    shown = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Is &lt;this&gt; a duplicate of 3?" in shown
    assert re.search(r"By Alice Staff at \S+ on \d+ \w+ \d{4}", text_of(shown))

    login(world["bob"])
    stale = client.post(f"{base(world)}/comments/{first.number}/note", data={**note, "note": "Bob's note"})
    assert stale.status_code == 409
    assert "The note on this comment was changed by Alice Staff since you opened it" in text_of(
        stale.get_data(as_text=True))
    assert db.session.get(TriageMark, first.id).note == "Is <this> a duplicate of 3?"
    long = client.post(f"{base(world)}/comments/{first.number}/note",
                       data={**note, "note_version": "1", "note": "x" * 2001})
    assert "The note must be 2,000 characters or fewer" in long.get_data(as_text=True)

    for garbled in ("2147483648", "99999999999999999999", "9223372036854775808"):  # beyond a stored version
        refused = client.post(f"{base(world)}/comments/{first.number}/note",
                              data={**note, "note_version": garbled, "note": "Bob's note"})
        assert refused.status_code == 400
    assert db.session.get(TriageMark, first.id).note == "Is <this> a duplicate of 3?"

    queue = client.get(f"{base(world)}/comments", query_string={"flag": "yes"}).get_data(as_text=True)
    assert "Showing 1 to 1 of 1 comment matching these filters" in text_of(queue)
    assert "The one comment matching these filters" in text_of(queue) and "All 1 comment" not in text_of(queue)
    row = text_of(queue.split(f'data-comment="{first.number}"')[1].split("</tr>")[0])
    assert "Second look flagged by Alice Staff" in row and "Note by Alice Staff" in row
    assert "Showing 1 to 2 of 2" in text_of(client.get(f"{base(world)}/comments",
                                                       query_string={"flag": "no"}).get_data(as_text=True))
    unflag = post_form(f"{base(world)}/comments/{first.number}/unflag", {})
    assert unflag.status_code == 302 and not db.session.get(TriageMark, first.id).flagged


def test_search_matches_are_marked_in_escaped_text(client, login, world, make_submitted_comments):
    [comment] = make_submitted_comments(world["consultation"], 1, body="Use <b>bold</b> & <script>x</script>",
                                        quote="only be used in research")
    login(world["alice"])
    queue = client.get(f"{base(world)}/comments", query_string={"q": "bold"}).get_data(as_text=True)
    assert "&lt;b&gt;<mark>bold</mark>&lt;/b&gt; &amp; &lt;script&gt;" in queue
    assert "<b>bold" not in queue and "<script>x" not in queue
    page = client.get(f"{base(world)}/comments/{comment.number}", query_string={"q": "research"}).get_data(
        as_text=True)
    quote = page.split('id="quote"')[1].split("</blockquote>")[0]
    assert "<mark>research</mark>" in quote
    body = page.split('id="comment-body"')[1].split("</div>")[0]
    assert "&lt;b&gt;bold&lt;/b&gt;" in body and "<mark>" not in body


def test_all_matching_across_pages_confirms_a_count_and_refuses_a_changed_set(client, login, world,
                                                                              make_submitted_comments):
    make_submitted_comments(world["consultation"], 30, body="Campaign text {i}")
    login(world["alice"])
    _html, data = start_bulk(client, world, {"q": "campaign"}, scope="all", action="accept")
    confirm = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    assert "You are about to accept 30 comments." in text_of(confirm)
    carried = hidden_values(form_posting_to(confirm, f"{base(world)}/comments/bulk"))
    assert carried["items"] == "" and carried["matched"].startswith("30:")
    assert parse_qs(carried["filters"]) == {"q": ["campaign"]}

    taken = db.session.scalar(select(Comment).where(Comment.body == "Campaign text 7"))
    services.decide_comment(taken, services.Decision(ModerationState.ACCEPTED), world["bob"], taken.version,
                            utcnow())
    db.session.commit()
    refused = client.post(f"{base(world)}/comments/bulk", data=carried)
    assert refused.status_code == 302
    assert ("The comments matching these filters have changed since you checked them. Nothing has been changed."
            in client.get(refused.headers["Location"]).get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 1

    _html, data = start_bulk(client, world, {"q": "campaign"}, scope="all", action="accept")
    confirm = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    assert "You are about to accept 30 comments." in text_of(confirm)  # the queue reloaded: Bob's is in it
    done = client.post(f"{base(world)}/comments/bulk",
                       data=hidden_values(form_posting_to(confirm, f"{base(world)}/comments/bulk")))
    told = text_of(client.get(done.headers["Location"]).get_data(as_text=True))
    assert "Accepted 29 comments." in told
    assert f"Not changed because they were already accepted: {taken.reference}" in told
    assert db.session.scalar(select(func.count()).select_from(Comment).where(
        Comment.moderation_state == ModerationState.ACCEPTED)) == 30
    assert fresh(world["comments"][0]).moderation_state is ModerationState.NEW


def test_the_bulk_panel_sits_above_the_list_and_a_page_can_be_ticked_at_once(client, login, world):
    login(world["alice"])
    html = client.get(f"{base(world)}/comments").get_data(as_text=True)
    assert html.index('id="bulk-panel"') < html.index('id="queue"')
    assert 'id="select-page"' in html and "Select all 3 comments on this page" in html
    assert html.index("Check what will change") > html.index('id="queue"')  # a second button below the list
    assert "All 3 comments matching these filters" in text_of(html)
    assert_sound_markup(html)


def test_saved_views_are_saved_listed_opened_and_deleted_by_their_owner(client, login, post_form, world):
    login(world["alice"])
    queue = client.get(f"{base(world)}/comments", query_string={"flag": "yes", "q": "patient"}).get_data(
        as_text=True)
    view_form = hidden_values(form_posting_to(queue, f"{base(world)}/views"))
    blank = client.post(f"{base(world)}/views", data={**view_form, "name": "  "})
    assert "Enter a name for this view" in blank.get_data(as_text=True)
    assert 'href="#name"' in blank.get_data(as_text=True)
    saved = client.post(f"{base(world)}/views", data={**view_form, "name": "Flagged <patients>"})
    assert saved.status_code == 302
    again = client.post(f"{base(world)}/views", data={**view_form, "name": "Flagged <patients>"})
    assert "You already have a view called ‘Flagged &lt;patients&gt;’" in again.get_data(as_text=True)

    dashboard = client.get("/staff/").get_data(as_text=True)
    link = re.search(r'<a class="govuk-link" href="([^"]+)">Flagged &lt;patients&gt;</a>', dashboard)
    assert link and parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query) == {
        "q": ["patient"], "flag": ["yes"]}
    assert client.get(link.group(1).replace("&amp;", "&")).status_code == 200
    view = db.session.scalar(select(SavedView))

    login(world["bob"])
    assert "Flagged &lt;patients&gt;" not in client.get("/staff/").get_data(as_text=True)
    assert post_form("/staff/saved-views/delete", {"view": view.id}).status_code == 404
    login(world["alice"])
    # The dashboard's own button, sent as a browser sends it: every field of its form, in order.
    button = form_posting_to(client.get("/staff/").get_data(as_text=True), "/staff/saved-views/delete")
    sent = [(f["name"], f.get("value", "")) for f in button["fields"] if f.get("type") == "hidden"]
    assert [name for name, _ in sent].count("view") == 1
    deleted = client.post("/staff/saved-views/delete", data=MultiDict(sent))
    assert deleted.status_code == 302
    assert "View ‘Flagged &lt;patients&gt;’ deleted." in client.get(deleted.headers["Location"]).get_data(
        as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SavedView)) == 0


def test_the_response_filter_is_kept_by_a_saved_view_its_pages_and_the_comments_either_side(
        client, login, world, make_submitted_comments):
    alice, now = world["alice"], utcnow()
    later = make_submitted_comments(world["consultation"], 50, body="Later comment {i}")
    for comment in later[::2]:
        services.save_response(comment, "Agreed words", ResponseState.AGREED, alice, None, now)
    db.session.commit()
    waiting = [c.number for c in world["comments"] + later[1::2]]  # 28 without an agreed response
    login(alice)
    queue = client.get(f"{base(world)}/comments", query_string={"response": "not_agreed"}).get_data(as_text=True)
    view_form = hidden_values(form_posting_to(queue, f"{base(world)}/views"))
    assert parse_qs(view_form["filters"]) == {"response": ["not_agreed"]}
    assert client.post(f"{base(world)}/views", data={**view_form, "name": "To answer"}).status_code == 302

    dashboard = client.get("/staff/").get_data(as_text=True)
    link = re.search(r'<a class="govuk-link" href="([^"]+)">To answer</a>', dashboard).group(1).replace("&amp;", "&")
    first_page = client.get(link).get_data(as_text=True)
    assert '<option value="not_agreed" selected>Without an agreed response</option>' in first_page
    assert "Showing 1 to 25 of 28 comments matching these filters" in first_page
    assert [int(n) for n in re.findall(r'data-comment="(\d+)"', first_page)] == waiting[:25]
    next_link = link_href(first_page, "next")
    assert parse_qs(urlsplit(next_link).query) == {"response": ["not_agreed"], "page": ["2"]}
    second_page = client.get(next_link).get_data(as_text=True)
    assert "Showing 26 to 28 of 28 comments" in second_page
    assert [int(n) for n in re.findall(r'data-comment="(\d+)"', second_page)] == waiting[25:]

    # A comment opened from the filtered list: previous and next skip the comments already agreed.
    opened = re.search(rf'href="([^"]+/comments/{waiting[26]}\?[^"]*)"', second_page).group(1).replace("&amp;", "&")
    page = client.get(opened).get_data(as_text=True)
    assert urlsplit(link_href(page, "prev")).path == f"{base(world)}/comments/{waiting[25]}"
    following = link_href(page, "next")
    assert urlsplit(following).path == f"{base(world)}/comments/{waiting[27]}"
    assert parse_qs(urlsplit(following).query)["response"] == ["not_agreed"]


def test_the_dashboard_says_closed_opens_and_closes_at_what_time_on_what_day(client, login, make_consultation,
                                                                            make_staff):
    closed, upcoming, open_now = (make_consultation(state=s) for s in ("closed", "upcoming", "open"))
    login(make_staff())
    html = client.get("/staff/").get_data(as_text=True)

    def dates(consultation) -> str:
        card = html.split(f'data-consultation="{consultation.reference}"')[1]
        return text_of(card.split("data-dates>")[1].split("</p>")[0])

    when = r"\S+ on \d+ \w+ \d{4}"
    assert re.fullmatch(rf"Closed Closed at {when}", dates(closed))
    assert re.fullmatch(rf"Opens soon Opens at {when}\. Closes at {when}", dates(upcoming))
    assert re.fullmatch(rf"Open for comments Closes at {when}", dates(open_now))
    assert not re.search(r"(Closed|Opens|Closes) on \S+ on", html)


def test_a_tampered_all_matching_confirmation_changes_nothing(client, login, world, make_submitted_comments):
    make_submitted_comments(world["consultation"], 4, body="Campaign text {i}")
    login(world["alice"])
    _html, data = start_bulk(client, world, {"q": "campaign"}, scope="all", action="accept")
    confirm = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    carried = hidden_values(form_posting_to(confirm, f"{base(world)}/comments/bulk"))
    widened = client.post(f"{base(world)}/comments/bulk", data={**carried, "filters": ""})
    assert "have changed since you checked them" in client.get(widened.headers["Location"]).get_data(as_text=True)
    for matched in ("", "x:1", "4", "99999999999999999999:1"):
        assert client.post(f"{base(world)}/comments/bulk", data={**carried, "matched": matched}).status_code == 400
    assert client.post(f"{base(world)}/comments/bulk", data={**carried, "filters": "state=bogus"}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 0
