"""`flask consultations import FILE --consultation REF`, as an operator runs it."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consult.consultations.models import Chapter, Document, Section
from consult.consultations.services import create_consultation
from consult.database import utcnow
from consult.extensions import db
from tests.conftest import GUIDANCE_SEED

SEED_SECTIONS = ["1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "3.2", "3.3", "3.4", "3.5"]


@pytest.fixture
def empty_consultation(app_context):
    now = utcnow()
    consultation = create_consultation("CLI1001", "Cryoablation", "Summary.", now - timedelta(days=1),
                                       now + timedelta(days=30))
    db.session.commit()
    return consultation


@pytest.fixture
def run_import(app):
    def run(file, reference: str):
        return app.test_cli_runner().invoke(args=["consultations", "import", str(file), "--consultation", reference])

    return run


def stored_rows(consultation) -> tuple[int, int, int]:
    """How many documents, chapters and sections the consultation has in the database."""
    db.session.expire_all()
    documents = select(Document.id).where(Document.consultation_id == consultation.id)

    def count(model, condition) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(condition))

    return (count(Document, Document.consultation_id == consultation.id),
            count(Chapter, Chapter.document_id.in_(documents)),
            count(Section, Section.document_id.in_(documents)))


def test_importing_the_guidance_reports_its_chapters_and_sections(run_import, empty_consultation):
    result = run_import(GUIDANCE_SEED, "cli1001")
    assert result.exit_code == 0, result.output
    assert "Imported 'Percutaneous image-guided cryoablation of peripheral neuroma for chronic pain' " \
           "into CLI1001: 4 chapters, 13 sections." in result.output
    assert stored_rows(empty_consultation) == (1, 4, 13)
    [document] = empty_consultation.documents
    assert [s.number for c in document.chapters for s in c.sections] == SEED_SECTIONS
    assert [c.title for c in document.chapters][-1] == "Update information"


def test_an_import_by_command_is_in_the_audit_trail_as_the_services(run_import, empty_consultation):
    """The command wrote the document and no event: the audit trail said nothing of it."""
    from consult.audit.models import AuditEvent

    assert run_import(GUIDANCE_SEED, "cli1001").exit_code == 0
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "consultation.import_document"))
    assert event.actor_id is None and event.object_id == str(empty_consultation.id)
    assert event.after["filename"] == GUIDANCE_SEED.name
    assert (event.after["chapters"], event.after["sections"]) == (4, 13)


def test_unknown_reference_is_refused(run_import, empty_consultation):
    result = run_import(GUIDANCE_SEED, "NOPE999")
    assert result.exit_code != 0
    assert "No consultation has the reference NOPE999." in result.output
    assert stored_rows(empty_consultation) == (0, 0, 0)


@pytest.mark.parametrize("content, message", [
    ("1 Recommendations\n\n1.1 Café au lait.\n".encode("latin-1"), "is not UTF-8 text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20, "is not UTF-8 text"),
    (b"\x00\x01\x02\x03 binary 1.1 data " * 20, "NUL bytes"),
    (bytes(range(1, 9)) * 40 + b"\n1 Recommendations\n\n1.1 Text.\n", "not a text document"),
], ids=["latin-1", "png", "nul-bytes", "control-characters"])
def test_a_file_that_is_not_utf8_text_is_refused_and_nothing_is_imported(run_import, empty_consultation,
                                                                          tmp_path, content, message):
    draft = tmp_path / "draft.txt"
    draft.write_bytes(content)
    result = run_import(draft, "CLI1001")
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert stored_rows(empty_consultation) == (0, 0, 0)


def test_a_draft_the_database_refuses_is_reported_and_nothing_is_imported(run_import, empty_consultation, tmp_path):
    draft = tmp_path / "repeated.md"
    draft.write_text("# Repeated chapter\n\n## 1 First\n\n1.1 One.\n\n## 1 Again\n\n1.2 Two.\n", encoding="utf-8")
    result = run_import(draft, "CLI1001")
    assert result.exit_code != 0
    assert "Chapter 1 appears twice" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert stored_rows(empty_consultation) == (0, 0, 0)
