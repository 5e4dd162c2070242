"""The triage queue's filters, alone and combined, its pages, and its cost in SQL statements."""

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from consult.accounts.models import Role
from consult.comments import services as comment_services
from consult.comments.models import IndividualType, OrganisationType, ParticipantKind
from consult.consultations.importing import parse_document
from consult.consultations.services import create_consultation, import_document
from consult.database import utcnow
from consult.exports.publication import publication_counts
from consult.extensions import db
from consult.moderation import queries, services
from consult.moderation.queries import NO_THEME, ParticipantType, QueueFilters, ResponseFilter
from consult.moderation.states import ModerationState, RejectionReason, ResponseState
from tests.conftest import SAMPLE_DRAFT, new_user, sections_of
from tests.query_counting import counted_queries, statement_shape


def numbers(consultation, **filters) -> list[int]:
    return [c.number for c in db.session.scalars(
        queries.matching_comments(consultation.id, QueueFilters(**filters)))]


def pages_of_two(consultation_id: int, filters: dict, total: int) -> list[int]:
    """The numbers on every page of two, read one after another, each page counting `total` in all."""
    paged, page = [], 1
    while True:
        result = queries.queue_page(consultation_id, QueueFilters(**filters), page=page, per_page=2)
        assert result.total == total
        paged += [row.comment.number for row in result.rows]
        if page >= result.pages:
            return paged
        page += 1


@pytest.fixture
def queue(make_consultation, make_submitted_comments, make_staff):
    """Five participants' comments, one per kind of row the queue must tell apart.

    1: patient, section 1.1, quoting it       2: health professional, section 2.1
    3: charity with tobacco links, chapter 2  4: professional body, the whole document
    5: researcher, section 1.2
    """
    consultation = make_consultation()
    now = utcnow()
    [patient] = make_submitted_comments(consultation, body="Cost is too HIGH for 100% of patients",
                                        quote="only be used in research", submitted_at=now - timedelta(days=4))
    [professional] = make_submitted_comments(consultation, individual_type=IndividualType.HEALTH_PROFESSIONAL,
                                             body="The probe_size matters", section="2.1",
                                             submitted_at=now - timedelta(days=3))
    [charity] = make_submitted_comments(consultation, kind="organisation", organisation_name="Foot Health Charity",
                                        has_tobacco_links=True, tobacco_details="A grant in 2019",
                                        body="Patients wait too long", section="2.1", target="chapter",
                                        submitted_at=now - timedelta(days=2))
    [college] = make_submitted_comments(consultation, kind="organisation", organisation_name="Royal College",
                                        organisation_type=OrganisationType.PROFESSIONAL_BODY,
                                        body="We support the draft", target="document",
                                        submitted_at=now - timedelta(days=1))
    [researcher] = make_submitted_comments(consultation, individual_type=IndividualType.RESEARCHER,
                                           body="More research on cost please", section="1.2", submitted_at=now)
    staff = make_staff()
    cost = services.create_theme(consultation.id, "Cost", "", staff)
    for comment in (patient, researcher):
        services.tag_comment(comment, cost, staff, now)
    services.decide_comment(professional, services.Decision(ModerationState.ACCEPTED), staff,
                            professional.version, now)
    services.decide_comment(college, services.Decision(ModerationState.REJECTED, reason=RejectionReason.SPAM),
                            staff, college.version, now)
    db.session.commit()
    return {"consultation": consultation, "cost": cost, "now": now, "staff": staff,
            "comments": [patient, professional, charity, college, researcher]}


def test_no_filters_lists_every_submitted_comment_in_number_order(queue):
    assert numbers(queue["consultation"]) == [1, 2, 3, 4, 5]


def test_drafts_and_other_consultations_never_appear(queue, make_user, make_participation, make_consultation,
                                                     make_submitted_comments):
    consultation = queue["consultation"]
    participation = make_participation(make_user(), consultation)
    section = sections_of(consultation)["1.1"]
    comment_services.save_draft(participation, comment_services.CommentTargetRef(
        section.document, section.chapter, section), "Still a draft with cost", None, utcnow())
    make_submitted_comments(make_consultation(), body="Cost elsewhere")
    db.session.commit()
    assert numbers(consultation) == [1, 2, 3, 4, 5]
    assert numbers(consultation, text="cost") == [1, 5]


def test_filter_by_document_chapter_and_section(queue):
    consultation = queue["consultation"]
    parts = sections_of(consultation)
    assert numbers(consultation, document_id=parts["1.1"].document_id) == [1, 2, 3, 4, 5]
    assert numbers(consultation, document_id=parts["1.1"].document_id + 999) == []
    assert numbers(consultation, chapter_id=parts["2.1"].chapter_id) == [2, 3]  # the chapter and its sections
    assert numbers(consultation, chapter_id=parts["1.1"].chapter_id) == [1, 5]
    assert numbers(consultation, section_id=parts["2.1"].id) == [2]
    assert numbers(consultation, section_id=parts["1.2"].id) == [5]


def test_filter_by_moderation_state(queue):
    consultation = queue["consultation"]
    assert numbers(consultation, state=ModerationState.NEW) == [1, 3, 5]
    assert numbers(consultation, state=ModerationState.ACCEPTED) == [2]
    assert numbers(consultation, state=ModerationState.REJECTED) == [4]
    assert numbers(consultation, state=ModerationState.REDACTED) == []


def test_filter_by_theme_or_no_theme(queue):
    consultation = queue["consultation"]
    assert numbers(consultation, theme_id=queue["cost"].id) == [1, 5]
    assert numbers(consultation, theme_id=NO_THEME) == [2, 3, 4]


def test_filter_by_participant_type(queue):
    consultation = queue["consultation"]
    individual, organisation = ParticipantKind.INDIVIDUAL, ParticipantKind.ORGANISATION
    assert numbers(consultation, participant_type=ParticipantType(individual)) == [1, 2, 5]
    assert numbers(consultation, participant_type=ParticipantType(organisation)) == [3, 4]
    assert numbers(consultation, participant_type=ParticipantType(
        individual, individual_type=IndividualType.RESEARCHER)) == [5]
    assert numbers(consultation, participant_type=ParticipantType(
        organisation, organisation_type=OrganisationType.PROFESSIONAL_BODY)) == [4]
    assert numbers(consultation, participant_type=ParticipantType(
        organisation, organisation_type=OrganisationType.COMPANY_OR_INDUSTRY)) == []


def test_participant_type_keys_round_trip():
    for kind in queries.participant_types():
        assert ParticipantType.from_key(kind.key) == kind
    with pytest.raises(ValueError):
        ParticipantType.from_key("individual:charity_or_patient_group")


def test_participant_type_labels_keep_an_acronym_as_written():
    labels = {kind.key: kind.label for kind in queries.participant_types()}
    assert labels["organisation:nhs_or_public_body"] == "Organisation (NHS or public body)"
    assert labels["organisation:charity_or_patient_group"] == "Organisation (charity or patient group)"
    assert labels["individual:health_professional"] == "Individual (health or social care professional)"
    assert labels["organisation"] == "Any organisation"


def test_filter_by_organisation_name_contains_ignoring_case(queue):
    consultation = queue["consultation"]
    assert numbers(consultation, organisation_name="health char") == [3]
    assert numbers(consultation, organisation_name="COLLEGE") == [4]
    assert numbers(consultation, organisation_name="%") == []  # a wildcard is a literal character


def test_filter_by_tobacco_links(queue):
    consultation = queue["consultation"]
    assert numbers(consultation, has_tobacco_links=True) == [3]
    assert numbers(consultation, has_tobacco_links=False) == [1, 2, 4, 5]


def test_filter_by_submitted_dates(queue):
    consultation, now = queue["consultation"], queue["now"]
    assert numbers(consultation, submitted_from=now - timedelta(days=2)) == [3, 4, 5]
    assert numbers(consultation, submitted_before=now - timedelta(days=2)) == [1, 2]
    assert numbers(consultation, submitted_from=now - timedelta(days=3),
                   submitted_before=now - timedelta(days=1)) == [2, 3]


def test_text_search_covers_body_and_quote_ignoring_case(queue):
    consultation = queue["consultation"]
    assert numbers(consultation, text="COST") == [1, 5]
    assert numbers(consultation, text="used in RESEARCH") == [1]  # only in the quote of comment 1
    assert numbers(consultation, text="research") == [1, 5]


def test_text_search_reads_web_search_syntax_on_every_database(queue):
    consultation = queue["consultation"]
    assert numbers(consultation, text="patient") == [1, 3]  # any form of the word: "Patients"
    assert numbers(consultation, text='"probe_size matters"') == [2]  # a phrase
    assert numbers(consultation, text='"matters probe_size"') == []
    assert numbers(consultation, text='"probe_size matters') == [2]  # an unclosed quote runs to the end
    assert numbers(consultation, text="the cost of it") == [1, 5]  # stop words are not required
    assert numbers(consultation, text="wait OR probe") == [2, 3]
    assert numbers(consultation, text="patients -wait") == [1]  # -word excludes
    assert numbers(consultation, text='patients -"wait too"') == [1]
    assert numbers(consultation, text="-cost") == [2, 3, 4]
    assert numbers(consultation, text="probe_size") == [2]
    assert numbers(consultation, text="100%") == [1]


@pytest.mark.parametrize("filters", [
    dict(text="cost"), dict(text="patient"), dict(text='"probe_size matters"'), dict(text="wait OR probe"),
    dict(text="patients -wait"), dict(text="-cost"), dict(text="cost", state=ModerationState.NEW),
    dict(text="research", participant_type=ParticipantType(ParticipantKind.INDIVIDUAL)),
    dict(text="cost", theme="cost"), dict(text="nothing-matches-this"), dict(text="%"),
    dict(text='"research on cost"', search_original=True),
])
def test_a_search_counts_the_comments_it_lists_and_no_other_consultations(queue, make_consultation,
                                                                           make_submitted_comments, filters):
    """A count that starts from the search's matches (SQLite) finds what the listing finds, in this consultation."""
    consultation = queue["consultation"]
    make_submitted_comments(make_consultation(), 3, body="Cost of patients waiting for the probe_size matters")
    db.session.commit()
    if filters.pop("theme", None):
        filters["theme_id"] = queue["cost"].id
    listed = numbers(consultation, **filters)
    assert queries.count_matching(consultation.id, QueueFilters(**filters)) == len(listed)
    assert queries.count_matching(consultation.id, QueueFilters(**filters), limit=0) == min(1, len(listed))


def _use_search_plan(monkeypatch, plan: str) -> None:
    """Make SQLite find a searched page or neighbour by `plan` (PostgreSQL has one plan whatever is set)."""
    if plan != "few matches":
        monkeypatch.setattr(queries, "SEARCH_FEW_MATCHES", 0)
        monkeypatch.setattr(queries, "SEARCH_WALK_CHUNK", 2)
    if plan == "walk out of budget":
        monkeypatch.setattr(queries, "SEARCH_WALK_BUDGET", 2)


@pytest.mark.parametrize("plan", ["few matches", "walk", "walk out of budget"])
@pytest.mark.parametrize("filters", [
    dict(text="cost"), dict(text="patients"), dict(text="patients -wait"), dict(text="wait OR probe"),
    dict(text="cost", state=ModerationState.NEW), dict(text="nothing-matches-this"),
])
def test_every_way_of_finding_a_searched_page_lists_the_same_comments(queue, make_consultation,
                                                                        make_submitted_comments, monkeypatch,
                                                                        plan, filters):
    """Pages of two, read one after another, hold exactly the listing in number order, whichever plan SQLite uses."""
    consultation = queue["consultation"]
    later = make_submitted_comments(consultation, 6, body="Patients say the cost is fair")
    make_submitted_comments(make_consultation(), 3, body="Cost and patients elsewhere")
    # Numbers out of the order of ids, as when drafts are submitted in another order than written.
    first, last = queue["comments"][0], later[-1]
    first.number, last.number = -1, first.number
    db.session.flush()
    first.number = later[-2].number + 1
    db.session.commit()
    _use_search_plan(monkeypatch, plan)
    listed = numbers(consultation, **filters)
    paged, page = [], 1
    while True:
        result = queries.queue_page(consultation.id, QueueFilters(**filters), page=page, per_page=2)
        paged += [row.comment.number for row in result.rows]
        if page >= result.pages:
            break
        page += 1
    assert paged == listed


@pytest.mark.parametrize("plan", ["few matches", "walk", "walk out of budget"])
@pytest.mark.parametrize("filters", [dict(text="cost"), dict(text="patients -wait"), dict(text="wait OR probe"),
                                     dict(text="cost", state=ModerationState.NEW), dict(text="nothing-matches-this")])
def test_a_searched_comment_links_to_the_same_neighbours_whichever_plan_finds_them(
        queue, make_consultation, make_submitted_comments, monkeypatch, plan, filters):
    consultation = queue["consultation"]
    later = make_submitted_comments(consultation, 6, body="Patients say the cost is fair")
    make_submitted_comments(make_consultation(), 3, body="Cost and patients elsewhere")
    db.session.commit()
    _use_search_plan(monkeypatch, plan)
    listed = numbers(consultation, **filters)
    for number in range(0, later[-1].number + 2):
        expected = (max((n for n in listed if n < number), default=None),
                    min((n for n in listed if n > number), default=None))
        assert queries.neighbours(consultation.id, QueueFilters(**filters), number) == expected, number


@pytest.mark.parametrize("few", [True, False], ids=["members read first", "comments walked"])
@pytest.mark.parametrize("filters", [dict(flagged=True), dict(flagged=True, state=ModerationState.NEW),
                                     dict(campaign="small"), dict(campaign="small", flagged=True),
                                     dict(campaign="empty"), dict(flagged=False)])
def test_a_queue_narrowed_to_flags_or_a_campaign_pages_the_same_whichever_is_read_first(
        queue, make_consultation, make_submitted_comments, monkeypatch, few, filters):
    from consult.analysis.models import Campaign, CampaignMember, MembershipMethod

    consultation, staff = queue["consultation"], queue["staff"]
    later = make_submitted_comments(consultation, 5, body="More comments")
    elsewhere = make_submitted_comments(make_consultation(), 2, body="Another consultation's")
    comments = queue["comments"] + later
    for comment in (comments[4], comments[1], later[3], elsewhere[0]):
        services.set_flag(comment, True, staff, utcnow())
    small, empty = Campaign(consultation_id=consultation.id), Campaign(consultation_id=consultation.id)
    db.session.add_all([small, empty])
    db.session.flush()
    db.session.add_all([CampaignMember(comment_id=c.id, campaign_id=small.id, method=MembershipMethod.IDENTICAL,
                                       score={"jaccard": 1.0}) for c in (later[4], comments[1], later[0])])
    # Numbers out of the order of ids, as when drafts are submitted in another order than written.
    first, last = comments[1], later[-1]
    first.number, last.number = -1, first.number
    db.session.flush()
    first.number = later[-2].number + 1
    db.session.commit()
    if "campaign" in filters:
        filters["campaign_id"] = {"small": small, "empty": empty}[filters.pop("campaign")].id
    if not few:
        monkeypatch.setattr(queries, "FEW_MEMBERS", 0)
    listed = numbers(consultation, **filters)
    assert pages_of_two(consultation.id, filters, len(listed)) == listed


@pytest.mark.parametrize("text", ["%", "_", "\\", "-", '""', "OR", 'cost" OR "', "NEAR(cost research)", "cost*",
                                  "shown : cost", "{original}: cost", "cost AND", "\x00"])
def test_search_syntax_of_the_index_cannot_be_typed_in(queue, text):
    # Nothing a person types is read as FTS5 or tsquery syntax: at worst it finds nothing, never an error.
    found = numbers(queue["consultation"], text=text)
    assert set(found) <= {1, 5}


def test_search_finds_a_redacted_comment_by_its_redacted_words_and_only_admins_by_the_original(queue):
    consultation, staff = queue["consultation"], queue["staff"]
    researcher = queue["comments"][4]
    services.decide_comment(researcher, services.Decision(
        ModerationState.REDACTED, reason=RejectionReason.PERSONAL_DATA, redacted_body="More [removed] please"),
        staff, researcher.version, utcnow())
    db.session.commit()
    assert numbers(consultation, text='"research on cost"') == []
    assert numbers(consultation, text="[removed]") == [5]
    assert numbers(consultation, text='"research on cost"', search_original=True) == [5]


@pytest.fixture
def answered(make_consultation, make_submitted_comments, make_staff):
    """A comment for each response state, in each moderation state that publishing reads or leaves out.

    1 accepted, no response   2 accepted, draft   3 accepted, agreed   4 accepted, no response needed
    5 redacted, no response   6 redacted, agreed  7 new, draft         8 rejected, agreed
    2, 5 and 7 are flagged for a second look.
    """
    consultation = make_consultation()
    comments = make_submitted_comments(consultation, 8, body="Comment {i} on cost")
    make_submitted_comments(make_consultation(), 2, body="Another consultation's")  # never counted here
    staff, now = make_staff(), utcnow()
    decisions = {ModerationState.ACCEPTED: (0, 1, 2, 3), ModerationState.REDACTED: (4, 5),
                 ModerationState.REJECTED: (7,)}
    for state, indexes in decisions.items():
        for index in indexes:
            comment = comments[index]
            decision = services.Decision(
                state, reason=RejectionReason.PERSONAL_DATA if state is not ModerationState.ACCEPTED else None,
                redacted_body="[redacted]" if state is ModerationState.REDACTED else None)
            services.decide_comment(comment, decision, staff, comment.version, now)
    for index in (1, 6):
        services.save_response(comments[index], f"Draft {index}", ResponseState.DRAFT, staff, None, now)
    for index in (2, 5, 7):
        services.save_response(comments[index], f"Agreed {index}", ResponseState.AGREED, staff, None, now)
    services.mark_no_response_needed(comments[3], "Repeats comment 3", staff, None, now)
    for index in (1, 4, 6):
        services.set_flag(comments[index], True, staff, now)
    db.session.commit()
    return consultation


def test_filter_by_response(answered):
    assert numbers(answered, response=ResponseFilter.NONE) == [1, 5]
    assert numbers(answered, response=ResponseFilter.DRAFT) == [2, 7]
    assert numbers(answered, response=ResponseFilter.AGREED) == [3, 6, 8]
    assert numbers(answered, response=ResponseFilter.NOT_NEEDED) == [4]
    # What the public would read as an empty response: none, a draft, or no response needed.
    assert numbers(answered, response=ResponseFilter.NOT_AGREED) == [1, 2, 4, 5, 7]
    assert numbers(answered, public=True) == [1, 2, 3, 4, 5, 6]
    assert numbers(answered, public=True, response=ResponseFilter.AGREED) == [3, 6]
    assert numbers(answered, state=ModerationState.ACCEPTED, response=ResponseFilter.NOT_AGREED) == [1, 2, 4]


def test_the_public_comments_without_an_agreed_response_are_those_the_publication_check_counts(
        answered, monkeypatch):
    filters = QueueFilters(public=True, response=ResponseFilter.NOT_AGREED)
    counted = publication_counts(answered).no_agreed_response
    assert numbers(answered, public=True, response=ResponseFilter.NOT_AGREED) == [1, 2, 4, 5]
    assert queries.queue_page(answered.id, filters).total == counted == 4
    # However many there are, the queue says the same number as the check, without counting past its limit.
    monkeypatch.setattr(queries, "COUNT_LIMIT", 1)
    with counted_queries() as statements:
        page = queries.queue_page(answered.id, filters, per_page=2)
    assert (page.total, page.total_is_a_floor) == (counted, False)
    assert not [s for s in statements if "count(" in s.lower()]
    agreed = queries.queue_page(answered.id, QueueFilters(public=True, response=ResponseFilter.AGREED))
    assert (agreed.total, agreed.total_is_a_floor) == (2, False)


@pytest.mark.parametrize("filters", [
    dict(response="none"), dict(response="draft"), dict(response="agreed"), dict(response="not_needed"),
    dict(response="not_agreed"), dict(public=True), dict(public=True, response="not_agreed"),
    dict(public=True, response="agreed"), dict(state=ModerationState.NEW, response="not_agreed"),
    dict(response="not_agreed", text="cost"), dict(response="not_agreed", flagged=True),
])
def test_a_queue_narrowed_by_response_pages_and_links_neighbours_as_it_lists(answered, filters):
    if "response" in filters:
        filters["response"] = ResponseFilter(filters["response"])
    listed = numbers(answered, **filters)
    assert pages_of_two(answered.id, filters, len(listed)) == listed
    for number in range(0, 10):
        expected = (max((n for n in listed if n < number), default=None),
                    min((n for n in listed if n > number), default=None))
        assert queries.neighbours(answered.id, QueueFilters(**filters), number) == expected, number


def test_filters_combine(queue):
    consultation, cost = queue["consultation"], queue["cost"]
    individual = ParticipantType(ParticipantKind.INDIVIDUAL)
    assert numbers(consultation, theme_id=cost.id, state=ModerationState.NEW, text="cost") == [1, 5]
    assert numbers(consultation, theme_id=cost.id, participant_type=ParticipantType(
        ParticipantKind.INDIVIDUAL, individual_type=IndividualType.PATIENT_OR_CARER)) == [1]
    assert numbers(consultation, participant_type=individual, state=ModerationState.NEW,
                   chapter_id=sections_of(consultation)["1.1"].chapter_id, text="research") == [1, 5]
    assert numbers(consultation, has_tobacco_links=True, state=ModerationState.ACCEPTED) == []
    assert numbers(consultation, organisation_name="o", submitted_from=queue["now"] - timedelta(hours=30)) == [4]


def test_pages_hold_per_page_rows_and_a_page_past_the_end_shows_the_last(queue, make_submitted_comments):
    consultation = queue["consultation"]
    make_submitted_comments(consultation, 25)  # 30 in all
    first = queries.queue_page(consultation.id, QueueFilters(), page=1, per_page=25)
    second = queries.queue_page(consultation.id, QueueFilters(), page=2, per_page=25)
    beyond = queries.queue_page(consultation.id, QueueFilters(), page=9, per_page=25)
    assert (first.total, first.pages, len(first.rows)) == (30, 2, 25)
    assert [r.comment.number for r in second.rows] == [26, 27, 28, 29, 30]
    assert (second.first_number, second.last_number) == (26, 30)
    assert beyond.page == 2 and len(beyond.rows) == 5
    filtered = queries.queue_page(consultation.id, QueueFilters(theme_id=queue["cost"].id), page=1, per_page=25)
    assert (filtered.total, filtered.pages) == (2, 1)


def test_rows_carry_their_themes_and_response(queue):
    consultation, staff = queue["consultation"], queue["staff"]
    patient = queue["comments"][0]
    services.save_response(patient, "Thanks", ResponseState.AGREED, staff, None, utcnow())
    db.session.commit()
    rows = {r.comment.number: r for r in queries.queue_page(consultation.id, QueueFilters()).rows}
    assert [t.theme.name for t in rows[1].tags] == ["Cost"] and rows[1].response.text == "Thanks"
    assert rows[2].tags == [] and rows[2].response is None


# --- UK dates through the page ------------------------------------------------------------


@pytest.fixture
def summer_consultation(app_context):
    """Open in British Summer Time, when a UK day starts at 23:00 UTC the day before."""
    consultation = create_consultation("SUM0001", "Summer consultation", "",
                                       datetime(2026, 5, 1, tzinfo=timezone.utc),
                                       datetime(2026, 7, 1, tzinfo=timezone.utc))
    import_document(consultation, parse_document(SAMPLE_DRAFT))
    db.session.commit()
    return consultation


def test_date_filters_are_uk_calendar_days(client, login_as, summer_consultation, make_submitted_comments):
    make_submitted_comments(summer_consultation, body="Late on the 31st",
                            submitted_at=datetime(2026, 5, 31, 22, 30, tzinfo=timezone.utc))  # 23:30 BST
    make_submitted_comments(summer_consultation, body="Just into June",
                            submitted_at=datetime(2026, 5, 31, 23, 30, tzinfo=timezone.utc))  # 00:30 BST
    login_as(Role.STAFF)
    path = "/staff/consultations/SUM0001/comments"
    june = client.get(path, query_string={"submitted_from": "1/6/2026"}).get_data(as_text=True)
    may = client.get(path, query_string={"submitted_to": "31/05/2026"}).get_data(as_text=True)
    both = client.get(path, query_string={"submitted_from": "31-5-2026", "submitted_to": "1.6.2026"})
    assert "Just into June" in june and "Late on the 31st" not in june
    assert "Late on the 31st" in may and "Just into June" not in may
    assert "Showing 1 to 2 of 2 comments" in both.get_data(as_text=True)
    # As a link or a date picker writes it.
    iso = client.get(path, query_string={"submitted_from": "2026-06-01"}).get_data(as_text=True)
    assert "Just into June" in iso and "Late on the 31st" not in iso


# --- Statements per page ----------------------------------------------------------------------


@pytest.fixture
def busy_queue(make_consultation, make_submitted_comments, make_staff):
    """`size` comments with everything a row can show: every kind of participant and target, several
    themes tagged by different people, responses by different people, decisions and redactions."""

    def build(size: int):
        consultation = make_consultation()
        alice, bob = make_staff("Alice Staff"), make_staff("Bob Staff")
        themes = [services.create_theme(consultation.id, name, "", alice) for name in ("Cost", "Safety", "Access")]
        shapes = [
            {"quote": "only be used in research"},
            {"kind": "organisation", "has_tobacco_links": True, "tobacco_details": "Grant", "target": "chapter"},
            {"individual_type": IndividualType.RESEARCHER, "target": "document"},
            {"kind": "organisation", "organisation_type": OrganisationType.PROFESSIONAL_BODY, "section": "2.1"},
            {"individual_type": IndividualType.HEALTH_PROFESSIONAL, "section": "1.2"},
        ]
        comments = []
        for start in range(0, size, 10):
            comments += make_submitted_comments(consultation, min(10, size - start), **shapes[(start // 10) % 5])
        for index, comment in enumerate(comments):
            who = alice if index % 2 else bob
            services.tag_comment(comment, themes[index % 3], who, utcnow())
            if index % 4 == 0:
                services.tag_comment(comment, themes[(index + 1) % 3], alice, utcnow())
            if index % 3 == 0:
                services.save_response(comment, f"Response {index}", ResponseState.DRAFT, who, None, utcnow())
            if index % 5 == 1:
                services.decide_comment(comment, services.Decision(ModerationState.ACCEPTED), who,
                                        comment.version, utcnow())
            if index % 5 == 2:
                services.decide_comment(comment, services.Decision(
                    ModerationState.REDACTED, reason=RejectionReason.PERSONAL_DATA,
                    redacted_body=f"Redacted {index}"), who, comment.version, utcnow())
        db.session.commit()
        return consultation

    return build


def test_the_queue_runs_the_same_statements_for_10_rows_as_for_100(app, client, login_as, busy_queue):
    login_as(Role.STAFF)
    counts, built = {}, {}
    for size in (10, 100):
        consultation = built[size] = busy_queue(size)
        with app.app_context(), counted_queries() as statements:
            response = client.get(f"/staff/consultations/{consultation.reference}/comments?per_page=100")
            assert response.status_code == 200
            body = response.get_data(as_text=True)
        assert body.count("data-comment=") == size
        assert f"of {size} comments" in body
        counts[size] = statements
    small, large = counts[10], counts[100]
    grown = Counter(map(statement_shape, large)) - Counter(map(statement_shape, small))
    assert len(small) == len(large), f"{len(small)} statements for 10 rows, {len(large)} for 100: {grown}"

    # The counter is sharp enough to see the N+1 it guards against: rows read without eager loading.
    naive = {}
    for size, consultation in built.items():
        with app.app_context(), counted_queries() as statements:
            for comment in db.session.scalars(queries.submitted_comments(consultation.id)):
                _ = comment.participation.kind, comment.section and comment.section.number
        naive[size] = len(statements)
    assert naive[100] > naive[10]


def test_a_filtered_count_stops_at_its_limit_and_the_page_says_more_than(queue, client, login_as, monkeypatch):
    """A search matching most of 100,000 comments must not count them all on every page view."""
    consultation = queue["consultation"]
    monkeypatch.setattr(queries, "COUNT_LIMIT", 2)
    no_links = QueueFilters(has_tobacco_links=False)  # four of the five
    with counted_queries() as statements:
        page = queries.queue_page(consultation.id, no_links, per_page=10)
    assert page.total == 3 and page.total_is_a_floor
    assert [row.comment.number for row in page.rows] == numbers(consultation, has_tobacco_links=False)
    assert any("LIMIT" in s and "count(" in s.lower() for s in statements)
    assert queries.count_matching(consultation.id, no_links) == 4  # exact where a rule needs it
    whole = queries.queue_page(consultation.id, QueueFilters(), per_page=10)
    assert whole.total == 5 and not whole.total_is_a_floor  # the running counts are exact however many

    login_as(Role.STAFF)
    html = client.get(f"/staff/consultations/{consultation.reference}/comments?tobacco=no").get_data(as_text=True)
    assert "of more than 2 comments matching these filters" in html
    assert "All comments matching these filters (more than 2" in html


def test_a_consultation_without_campaigns_pages_its_queue_without_grouping_every_comment(queue):
    consultation = queue["consultation"]
    with counted_queries() as statements:
        collapsed = queries.collapsed_queue_page(consultation.id, QueueFilters())
    assert not [s for s in statements if "GROUP BY" in s.upper()]
    assert [row.comment.number for row in collapsed.rows] == numbers(consultation)


def test_a_search_can_list_the_best_matches_first(make_consultation, make_submitted_comments, client, login_as):
    consultation = make_consultation()
    [once] = make_submitted_comments(consultation, body="The pain came back after a year of walking", quote=None)
    [often] = make_submitted_comments(consultation, body="Pain, pain and more pain: the pain clinic helped",
                                      quote=None)
    [neither] = make_submitted_comments(consultation, body="Insoles were enough for me", quote=None)
    db.session.commit()

    def order(text: str, best: bool) -> list[int]:
        page = queries.queue_page(consultation.id, QueueFilters(text=text, best_match_first=best))
        return [row.comment.number for row in page.rows]

    assert order("pain", best=False) == [once.number, often.number]
    assert order("pain", best=True) == [often.number, once.number]
    assert sorted(order("insoles OR pain", best=True)) == sorted([once.number, often.number, neither.number])
    assert order("-pain", best=True) == [neither.number]  # nothing to rank by: number order
    staff = new_user(name="Flagging Staff", role=Role.STAFF)
    for comment in (once, often):
        services.set_flag(comment, True, staff, utcnow())
    db.session.commit()
    flagged = queries.queue_page(consultation.id, QueueFilters(text="pain", best_match_first=True, flagged=True))
    assert [row.comment.number for row in flagged.rows] == [often.number, once.number]  # a few flags: still ranked

    login_as(Role.STAFF)
    html = client.get(f"/staff/consultations/{consultation.reference}/comments?q=pain&order=match&members=show")
    text = html.get_data(as_text=True)
    assert html.status_code == 200
    assert text.index(often.reference) < text.index(once.reference)
    assert '<option value="match" selected>Best match first</option>' in text


def _collapsed_by_hand(consultation, filters: QueueFilters) -> list[tuple]:
    """The rows a collapsed queue must show, worked out here from every matching comment."""
    from consult.analysis.models import CampaignMember, MembershipMethod

    members = {m.comment_id: m for m in db.session.scalars(select(CampaignMember))}
    units, seen = [], {}
    for comment in db.session.scalars(queries.matching_comments(consultation.id, filters)):
        member = members.get(comment.id)
        if member is None:
            units.append([comment.number, None, 1, 0])
        elif member.campaign_id in seen:
            seen[member.campaign_id][2] += 1
            seen[member.campaign_id][3] += member.method is MembershipMethod.IDENTICAL
        else:
            units.append([comment.number, member.campaign_id, 1, int(member.method is MembershipMethod.IDENTICAL)])
            seen[member.campaign_id] = units[-1]
    return [(number, (campaign_id, comments, identical) if campaign_id and comments > 1 else None)
            for number, campaign_id, comments, identical in units]


def _collapsed_pages(consultation, filters: QueueFilters, per_page: int) -> list[tuple]:
    rows, page = [], 1
    while True:
        result = queries.collapsed_queue_page(consultation.id, filters, page=page, per_page=per_page)
        rows += [(row.comment.number, row.campaign and (row.campaign.id, row.campaign.comments,
                                                         row.campaign.identical)) for row in result.rows]
        if page >= result.pages:
            return rows, result.row_total
        page += 1


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("few", [True, False])
def test_a_collapsed_queue_lists_each_campaign_once_at_its_first_matching_comment(
        make_consultation, make_submitted_comments, make_staff, monkeypatch, seed, few):
    """Whatever the campaigns, the filters and the page size, every page together lists the rows worked out
    from every matching comment, in order, each campaign once with its matching members counted."""
    import random

    from consult.analysis.models import Campaign, CampaignMember, MembershipMethod

    rng = random.Random(seed)
    consultation = make_consultation()
    staff = make_staff()
    comments = make_submitted_comments(consultation, rng.randint(3, 14), body="A comment")
    make_submitted_comments(make_consultation(), 2, body="Another consultation's")
    campaigns = [Campaign(consultation_id=consultation.id) for _ in range(rng.randint(1, 4))]
    db.session.add_all(campaigns)
    db.session.flush()
    for comment in rng.sample(comments, rng.randint(1, len(comments))):
        db.session.add(CampaignMember(comment_id=comment.id, campaign_id=rng.choice(campaigns).id,
                                      method=rng.choice(list(MembershipMethod))))
    for comment in rng.sample(comments, rng.randint(0, len(comments))):
        services.decide_comment(comment, services.Decision(ModerationState.ACCEPTED), staff, comment.version,
                                utcnow())
    for comment in rng.sample(comments, rng.randint(0, 3)):
        services.set_flag(comment, True, staff, utcnow())
    # Numbers out of the order of ids, as when drafts are submitted in another order than written.
    numbers_now = [c.number for c in comments]
    rng.shuffle(numbers_now)
    for offset, comment in enumerate(comments):
        comment.number = -1 - offset
    db.session.flush()
    for comment, number in zip(comments, numbers_now):
        comment.number = number
    db.session.commit()
    if not few:
        monkeypatch.setattr(queries, "FEW_IN_CAMPAIGN", 0)
    every_filter = (QueueFilters(), QueueFilters(state=ModerationState.ACCEPTED), QueueFilters(flagged=True),
                    QueueFilters(state=ModerationState.NEW, flagged=False), QueueFilters(text="comment"),
                    QueueFilters(text="comment", state=ModerationState.ACCEPTED))
    for filters in every_filter:
        expected = _collapsed_by_hand(consultation, filters)
        for per_page in (1, 2, 3, 5):
            assert _collapsed_pages(consultation, filters, per_page) == (expected, len(expected)), (filters, per_page)
    # Counting stopped after two: the first page still lists the same rows in the same order, and no campaign
    # claims more matching members than it has.
    monkeypatch.setattr(queries, "COUNT_LIMIT", 1)
    for filters in every_filter[1:]:
        expected = _collapsed_by_hand(consultation, filters)
        page = queries.collapsed_queue_page(consultation.id, filters, per_page=5)
        assert [row.comment.number for row in page.rows] == [number for number, _ in expected][:len(page.rows)]
        assert len(page.rows) == min(5, len(expected))
        for row, (_, campaign) in zip(page.rows, expected):
            if campaign is not None:
                assert row.campaign.id == campaign[0] and row.campaign.comments <= campaign[1], filters


def test_a_filtered_collapsed_queue_counts_a_large_campaign_no_further_than_the_limit(
        make_consultation, make_submitted_comments, monkeypatch, client, login_as):
    from consult.analysis.models import Campaign, CampaignMember, MembershipMethod

    consultation = make_consultation()
    comments = make_submitted_comments(consultation, 8, body="A comment")
    campaign = Campaign(consultation_id=consultation.id, name="Letter")
    db.session.add(campaign)
    db.session.flush()
    db.session.add_all([CampaignMember(comment_id=c.id, campaign_id=campaign.id, method=MembershipMethod.IDENTICAL)
                        for c in comments[:5]])
    db.session.commit()
    monkeypatch.setattr(queries, "COUNT_LIMIT", 2)
    with counted_queries() as statements:
        page = queries.collapsed_queue_page(consultation.id, QueueFilters(state=ModerationState.NEW), per_page=10)
    [row] = [row for row in page.rows if row.campaign]
    # Eight match, more than the limit of two: three were counted, and the campaign's share of them is a floor.
    assert row.campaign.comments_is_a_floor and 1 <= row.campaign.comments <= 3
    assert row.comment.number == comments[0].number  # still at its first matching comment
    assert page.total_is_a_floor and page.total == 3
    assert [row.comment.number for row in page.rows] == [c.number for c in comments[:1] + comments[5:]]
    assert not [s for s in statements if "count(" in s.lower() and "LIMIT" not in s]  # every count stopped
    whole = queries.collapsed_queue_page(consultation.id, QueueFilters(), per_page=10)
    assert [r.campaign.comments for r in whole.rows if r.campaign] == [5] and not whole.total_is_a_floor

    login_as(Role.STAFF)
    html = client.get(f"/staff/consultations/{consultation.reference}/comments?state=new").get_data(as_text=True)
    assert f"Campaign: at least {row.campaign.comments} comment" in html
    assert "Show its matching comments in the list" in html and "identical" not in html
