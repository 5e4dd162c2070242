"""Building and reading consultations: references, dates, drafts held back, imported documents."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consult.consultations import services
from consult.consultations.importing import (
    DocumentFormatError,
    ParsedChapter,
    ParsedDocument,
    ParsedSection,
    parse_document,
)
from consult.consultations.models import Chapter, ConsultationStatus, Document, Section
from consult.database import utcnow
from consult.extensions import db
from tests.conftest import SAMPLE_DRAFT

TICK = timedelta(microseconds=1)


def new_consultation(reference: str, opens_in_days: float, closes_in_days: float, now=None, **kwargs):
    now = now or utcnow()
    return services.create_consultation(reference, f"Consultation {reference}", "Summary.",
                                        now + timedelta(days=opens_in_days), now + timedelta(days=closes_in_days),
                                        **kwargs)


def rows(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_status_follows_the_dates_with_closes_at_counting_as_closed(make_consultation):
    consultation = make_consultation()
    opens_at, closes_at = consultation.opens_at, consultation.closes_at
    assert consultation.status_at(opens_at - TICK) is ConsultationStatus.UPCOMING
    assert consultation.status_at(opens_at) is ConsultationStatus.OPEN
    assert consultation.status_at(closes_at - TICK) is ConsultationStatus.OPEN
    assert consultation.status_at(closes_at) is ConsultationStatus.CLOSED
    consultation.is_draft = True
    assert consultation.status_at(opens_at) is ConsultationStatus.DRAFT


def test_public_list_groups_by_status_at_the_given_moment_and_leaves_out_drafts(app_context):
    now = utcnow()
    closes_later = new_consultation("OPEN2", -3, 10, now)
    closes_sooner = new_consultation("OPEN1", -3, 2, now)
    upcoming = new_consultation("SOON1", 1, 12, now)
    closed_long_ago = new_consultation("SHUT1", -30, -20, now)
    closed_recently = new_consultation("SHUT2", -30, -1, now)
    new_consultation("HELD1", -3, 10, now, is_draft=True)
    grouped = services.list_public_consultations(now)
    assert grouped[ConsultationStatus.OPEN] == [closes_sooner, closes_later]
    assert grouped[ConsultationStatus.UPCOMING] == [upcoming]
    assert grouped[ConsultationStatus.CLOSED] == [closed_recently, closed_long_ago]
    assert ConsultationStatus.DRAFT not in grouped
    later = services.list_public_consultations(now + timedelta(days=5))
    assert later[ConsultationStatus.OPEN] == [closes_later, upcoming]
    assert closes_sooner in later[ConsultationStatus.CLOSED]


def test_drafts_are_found_by_staff_tools_but_not_publicly(app_context):
    held = new_consultation("held1", -1, 10, is_draft=True)
    assert services.find_public_consultation("HELD1") is None
    assert services.find_consultation(" held1 ") is held
    visible = new_consultation("SHOWN1", -1, 10)
    assert services.find_public_consultation("shown1") is visible


def test_reference_is_unique_whatever_its_case(app_context):
    new_consultation("UNIQ1", -1, 10)
    with pytest.raises(services.DuplicateReference, match="UNIQ1 already exists"):
        new_consultation("uniq1", -1, 10)
    assert services.find_consultation("UNIQ1").title == "Consultation UNIQ1"


def test_closing_before_opening_is_refused_by_the_database_not_reported_as_a_duplicate(app_context):
    with pytest.raises(IntegrityError):
        new_consultation("BACK1", 5, 1)
    assert services.find_consultation("BACK1") is None


def test_import_stores_chapters_and_sections_in_order_with_anchors(app_context):
    consultation = new_consultation("IMP1", -1, 10)
    document = services.import_document(consultation, parse_document(SAMPLE_DRAFT))
    db.session.expire_all()
    loaded = services.load_document(consultation, document.id)
    assert (loaded.title, loaded.position) == ("Sample draft guidance", 1)
    assert [(c.number, c.title, c.anchor) for c in loaded.chapters] == [
        ("1", "Recommendations", "chapter-1"), ("2", "The procedure", "chapter-2")]
    sections = [s for c in loaded.chapters for s in c.sections]
    assert [(s.number, s.anchor, s.position) for s in sections] == [
        ("1.1", "section-1-1", 1), ("1.2", "section-1-2", 2), ("2.1", "section-2-1", 3), ("2.2", "section-2-2", 4)]
    assert sections[0].heading == "What we recommend"
    assert sections[2].text == "A thin probe is passed through the skin and cooled with gas."


def test_a_second_import_becomes_the_next_document(make_consultation):
    consultation = make_consultation()
    second = services.import_document(consultation, parse_document("# Costing report\n\n## 1 Costs\n\n1.1 Cheap.\n"))
    db.session.expire_all()
    assert [(d.title, d.position) for d in consultation.documents] == [
        ("Sample draft guidance", 1), ("Costing report", 2)]
    assert services.load_document(consultation, second.id).chapters[0].sections[0].anchor == "section-1-1"


def test_a_document_is_loaded_only_through_its_own_consultation(make_consultation):
    first, second = make_consultation(), make_consultation()
    assert services.load_document(first, first.documents[0].id) is not None
    assert services.load_document(first, second.documents[0].id) is None


def test_a_draft_the_database_refuses_is_not_half_imported(make_consultation):
    consultation = make_consultation()
    # Built by hand: the parser itself would refuse the repeated number.
    repeated = ParsedDocument("Repeated", (
        ParsedChapter("1", "First", "", (ParsedSection("1.1", None, "One."),)),
        ParsedChapter("2", "Again", "", (ParsedSection("1.1", None, "Two."),)),
    ), numbers_generated=False)
    with pytest.raises(DocumentFormatError, match="nothing was imported"):
        services.import_document(consultation, repeated)
    assert [d.title for d in consultation.documents] == ["Sample draft guidance"]
    db.session.expire_all()
    assert rows(Document, Document.title == "Repeated") == 0
    assert rows(Chapter, Chapter.title.in_(["First", "Again"])) == 0
    document_ids = select(Document.id).where(Document.consultation_id == consultation.id)
    assert rows(Section, Section.document_id.in_(document_ids)) == 4


def test_two_unnumbered_chapters_with_one_title_get_distinct_anchors(make_consultation):
    text = "# Draft\n\n## 1 Main\n\n1.1 Text.\n\n## Appendix\n\nFirst.\n\n## Appendix\n\nSecond.\n"
    consultation = make_consultation(text=text)
    anchors = [chapter.anchor for chapter in consultation.documents[0].chapters]
    assert len(set(anchors)) == 3
