"""Campaigns in what the committee gets: a Campaign column and size in the downloads, and the review page."""

import csv
import io
import re

import openpyxl
from sqlalchemy import select

from consult.accounts.models import Role
from consult.analysis.models import Campaign, CampaignMember
from consult.comments.models import Comment
from consult.extensions import db
from consult.moderation.states import ModerationState, RejectionReason
from tests.analysis.test_campaign_views import base, grouped  # noqa: F401  the fixture
from tests.moderation.test_views import text_of


def _campaign_of(comment_id: int) -> int:
    return db.session.scalar(select(CampaignMember.campaign_id).where(CampaignMember.comment_id == comment_id))


def _reference(comment_id: int) -> str:
    return db.session.get(Comment, comment_id).reference


def test_the_csv_and_the_workbook_name_each_comments_campaign_and_its_size(client, login_as, grouped):  # noqa: F811
    consultation, ids = grouped
    letter = _campaign_of(ids["m0"])
    db.session.get(Campaign, letter).name = "=Postcode letter"  # a name that would be a formula in a cell
    db.session.commit()
    login_as(Role.STAFF)

    text = client.get(f"{base(consultation)}/downloads/comments.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"{base(consultation)}/downloads/comments.xlsx").data))
    sheet = book.active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    cells = {row[0]: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}

    by_reference = {row["Comment number"]: row for row in rows}
    assert header[-2:] == ["Campaign", "Campaign size"]
    assert by_reference[_reference(ids["m1"])]["Campaign"] == "'=Postcode letter"
    assert by_reference[_reference(ids["m1"])]["Campaign size"] == "6"
    assert by_reference[_reference(ids["o2"])]["Campaign"] == f"Campaign {_campaign_of(ids['o1'])}"
    assert by_reference[_reference(ids["own"])]["Campaign"] == ""
    assert by_reference[_reference(ids["own"])]["Campaign size"] == ""
    assert cells[_reference(ids["m1"])]["Campaign size"] == 6
    assert cells[_reference(ids["o2"])]["Campaign size"] == 3
    assert len(rows) == 11  # every respondent stays a row of their own


def test_the_review_shows_each_campaign_once_with_its_size(client, login_as, grouped):  # noqa: F811
    consultation, ids = grouped
    rejected = db.session.get(Comment, ids["m4"])
    rejected.moderation_state, rejected.rejection_reason = ModerationState.REJECTED, RejectionReason.DUPLICATE
    db.session.get(Campaign, _campaign_of(ids["o1"])).name = "Radiologist letter"
    db.session.commit()
    login_as(Role.STAFF)

    html = client.get(f"{base(consultation)}/review").get_data(as_text=True)
    section = html.split('id="campaigns"')[1]

    assert re.findall(r'data-campaign="(\d+)"', section) == [str(_campaign_of(ids["m0"])),
                                                            str(_campaign_of(ids["o1"]))]
    assert f"Campaign {_campaign_of(ids['m0'])}: 5 comments" in text_of(section)  # the rejected one is not counted
    assert "Radiologist letter: 3 comments" in text_of(section)
    assert text_of(section).count("My name is") == 1  # the letter once, not five times


def test_a_campaigns_size_counts_what_the_review_and_the_downloads_list(client, login_as, grouped):  # noqa: F811
    """A rejected member is in no download and on no committee page; the size beside each member counted it,
    so the review said '5 comments' and the CSV and the drill-down said 6."""
    consultation, ids = grouped
    rejected = db.session.get(Comment, ids["m4"])
    rejected.moderation_state, rejected.rejection_reason = ModerationState.REJECTED, RejectionReason.DUPLICATE
    db.session.commit()
    login_as(Role.STAFF)
    letter = _campaign_of(ids["m0"])

    text = client.get(f"{base(consultation)}/downloads/comments.csv").get_data(as_text=True)
    rows = {row["Comment number"]: row for row in csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))}
    section = db.session.get(Comment, ids["m1"]).section_id
    drill_down = text_of(client.get(f"{base(consultation)}/review", query_string={"section": section}).get_data(
        as_text=True))
    review = text_of(client.get(f"{base(consultation)}/review").get_data(as_text=True))

    assert _reference(ids["m4"]) not in rows
    assert {rows[_reference(ids[key])]["Campaign size"] for key in ("m0", "m1", "m2", "m3", "m5")} == {"5"}
    assert f"Campaign {letter} (5 comments)" in drill_down and f"Campaign {letter} (6 comments)" not in drill_down
    assert f"Campaign {letter}: 5 comments" in review


def test_the_review_searches_the_comments(client, login_as, grouped):  # noqa: F811
    consultation, ids = grouped
    login_as(Role.STAFF)

    found = client.get(f"{base(consultation)}/review", query_string={"q": "waiting lists"})
    none = client.get(f"{base(consultation)}/review", query_string={"q": "zebra"})
    long = client.get(f"{base(consultation)}/review", query_string={"q": "x" * 201})
    nul = client.get(f"{base(consultation)}/review", query_string={"q": "probe\x00"})

    assert found.status_code == 200
    text = text_of(found.get_data(as_text=True))
    assert "Comments matching ‘waiting lists’" in text and _reference(ids["own2"]) in text
    assert _reference(ids["own"]) not in text
    assert "No comments." in text_of(none.get_data(as_text=True))
    assert long.status_code == 200 and "Search must be 200 characters or fewer" in long.get_data(as_text=True)
    # As every refused form: an error summary linked to the box, and what was typed kept in it to correct.
    page = long.get_data(as_text=True)
    assert "<title>Error: " in page and re.search(r'govuk-error-summary.*?href="#q"', page, re.S)
    assert f'value="{"x" * 201}"' in page
    assert nul.status_code in (200, 400) and nul.status_code < 500
