"""Uploaded drafts are judged by their content, size-capped, and staged on the server between preview and confirm."""

import io
import json
import os
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from consult.accounts.models import Role
from consult.consultations.importing import (
    MAX_UPLOAD_BYTES,
    DocumentFormatError,
    ImportStaging,
    ParsedChapter,
    ParsedDocument,
    ParsedSection,
    PreviewNotFound,
    UploadRefused,
    check_upload,
    parse_upload,
    read_limited,
)
from consult.consultations.models import Chapter, Document, Section
from consult.consultations.services import create_consultation
from consult.database import utcnow
from consult.extensions import db
from tests.consultations.importing.test_docx import guidance_docx

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + bytes(64)
CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="%s"/></Types>'
)
DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def zip_bomb(megabytes: int = 200) -> bytes:
    """A .docx-shaped zip whose document.xml inflates to `megabytes` of zeros, written in 1MB chunks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES % DOCX_MAIN)
        with archive.open("word/document.xml", "w") as member:
            chunk = bytes(1024 * 1024)
            for _ in range(megabytes):
                member.write(chunk)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return zip_bomb()


def random_zip() -> bytes:
    """A zip archive of random bytes: a .docx in name only."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES % DOCX_MAIN)
        archive.writestr("word/document.xml", os.urandom(4096))
    return buffer.getvalue()


def refused(name: str, data: bytes) -> str:
    with pytest.raises(UploadRefused) as error:
        check_upload(name, io.BytesIO(data))
    return str(error.value)


# --- What the file is ----------------------------------------------------------

def test_a_word_document_and_text_files_are_accepted_by_content():
    assert check_upload("draft.docx", io.BytesIO(guidance_docx())).kind == "docx"
    assert check_upload("draft.txt", io.BytesIO("1 Recommendations\n\n1.1 Text.".encode())).kind == "text"
    assert check_upload("draft.md", io.BytesIO(b"# Title\n\n## 1 Chapter\n\n1.1 Text.")).kind == "text"


def test_only_the_base_name_of_the_upload_is_kept():
    upload = check_upload("C:\\Users\\sam\\..\\draft.docx", io.BytesIO(guidance_docx()))
    assert upload.filename == "draft.docx"


@pytest.mark.parametrize("name", ["picture.docx", "picture.txt", "picture.md"])
def test_a_png_is_refused_whatever_it_is_called(name):
    assert "is a PNG image, not a draft document" in refused(name, PNG)


def test_text_named_docx_is_refused():
    message = refused("draft.docx", b"1 Recommendations\n\n1.1 Use it.\n")
    assert "called .docx but it is not a Word document" in message


def test_a_word_document_named_txt_is_refused():
    assert "called .txt but it is a compressed (zip) file" in refused("draft.txt", guidance_docx())


def test_an_unsupported_extension_is_refused():
    assert "must be a .docx, .txt or .md file" in refused("draft.pdf", b"%PDF-1.7")


def test_an_empty_file_is_refused():
    assert "The selected file is empty" in refused("draft.txt", b"")


def test_text_that_is_not_utf8_is_refused():
    assert "is not UTF-8 text (byte 3 cannot be read)" in refused("draft.txt", b"Caf\xe9 \xff")


def test_text_with_nul_bytes_is_refused():
    assert "contains binary data (NUL bytes)" in refused("draft.txt", b"1 Chapter\x00\n1.1 Text")


def test_random_bytes_in_a_zip_are_refused_as_damaged():
    upload = check_upload("draft.docx", io.BytesIO(random_zip()))
    with pytest.raises(DocumentFormatError, match="could not be read: it may be damaged"):
        parse_upload(upload)


def test_a_truncated_zip_is_refused_as_damaged():
    assert "damaged or is not a Word document" in refused("draft.docx", guidance_docx()[:2000])


def test_a_zip_without_a_word_document_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES % DOCX_MAIN)
        archive.writestr("notes.txt", "hello")
    assert "not a Word document (it has no word/document.xml)" in refused("draft.docx", buffer.getvalue())


def test_a_macro_enabled_document_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        macro_enabled = b"application/vnd.ms-word.document.macroEnabled.main+xml"
        archive.writestr("[Content_Types].xml", CONTENT_TYPES % macro_enabled)
        archive.writestr("word/document.xml", "<document/>")
    assert "template or has macros" in refused("draft.docx", buffer.getvalue())


def test_a_zip_bomb_is_refused_before_anything_is_inflated(bomb, monkeypatch):
    assert len(bomb) < MAX_UPLOAD_BYTES  # small on the wire: only the declared size gives it away
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: opened.append(name) or real_open(
        self, name, *a, **k))

    message = refused("draft.docx", bomb)

    assert "cannot be opened safely: its part word/document.xml would expand to 200MB" in message
    assert "word/document.xml" not in opened


def test_a_small_part_compressed_a_thousand_times_is_refused():
    message = refused("draft.docx", zip_bomb(megabytes=20))
    assert "its part word/document.xml is compressed" in message


def test_an_oversized_file_is_refused_without_reading_it_all():
    class CountingStream(io.BytesIO):
        read_sizes: list[int] = []

        def read(self, size=-1):
            self.read_sizes.append(size)
            return super().read(size)

    stream = CountingStream(b"a" * (MAX_UPLOAD_BYTES + 5000))
    with pytest.raises(UploadRefused, match="The selected file must be smaller than 10MB"):
        read_limited(stream)
    assert stream.read_sizes == [MAX_UPLOAD_BYTES + 1]


def test_a_file_of_exactly_the_limit_is_read():
    assert len(read_limited(io.BytesIO(b"a" * MAX_UPLOAD_BYTES))) == MAX_UPLOAD_BYTES


# --- Staging between preview and confirm ---------------------------------------

PARSED = ParsedDocument(
    title="Staged", numbers_generated=False,
    chapters=(ParsedChapter("1", "Recommendations", "", (ParsedSection("1.1", "Heading", "Text."),)),),
)


@pytest.fixture
def staging(tmp_path):
    return ImportStaging(tmp_path / "staging", lifetime=timedelta(hours=1))


def stage(staging, **overrides):
    values = {"user_id": 1, "consultation_id": 2, "filename": "draft.docx", "replace_document_id": None,
              "parsed": PARSED, "now": utcnow(), **overrides}
    return staging.stage(**values)


def test_a_staged_draft_comes_back_exactly(staging):
    pending = stage(staging, replace_document_id=7)
    loaded = staging.load(pending.token, user_id=1, consultation_id=2, now=utcnow())
    assert loaded == pending
    assert loaded.parsed == PARSED


def test_a_staged_file_is_data_not_code(staging):
    pending = stage(staging)
    stored = json.loads((staging.directory / f"{pending.token}.json").read_text())
    assert stored["parsed"]["chapters"][0]["sections"][0]["number"] == "1.1"
    assert (staging.directory / f"{pending.token}.json").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("user_id,consultation_id", [(99, 2), (1, 99)])
def test_another_user_or_consultation_cannot_use_the_token(staging, user_id, consultation_id):
    pending = stage(staging)
    with pytest.raises(PreviewNotFound):
        staging.load(pending.token, user_id=user_id, consultation_id=consultation_id, now=utcnow())
    with pytest.raises(PreviewNotFound):
        staging.claim(pending.token, user_id=user_id, consultation_id=consultation_id, now=utcnow())
    # Its owner can still use it.
    assert staging.claim(pending.token, user_id=1, consultation_id=2, now=utcnow()).parsed == PARSED


def test_an_expired_preview_is_gone(staging):
    pending = stage(staging)
    later = utcnow() + timedelta(hours=1, seconds=1)
    with pytest.raises(PreviewNotFound):
        staging.load(pending.token, user_id=1, consultation_id=2, now=later)
    assert not (staging.directory / f"{pending.token}.json").exists()


def test_a_preview_can_be_claimed_only_once(staging):
    pending = stage(staging)
    staging.claim(pending.token, user_id=1, consultation_id=2, now=utcnow())
    with pytest.raises(PreviewNotFound):
        staging.claim(pending.token, user_id=1, consultation_id=2, now=utcnow())
    assert list(staging.directory.iterdir()) == []


@pytest.mark.parametrize("token", [None, "", "../../etc/passwd", "a" * 42, "a" * 43 + "/", "a" * 44])
def test_only_well_formed_tokens_are_looked_up(staging, token):
    stage(staging)
    with pytest.raises(PreviewNotFound):
        staging.load(token, user_id=1, consultation_id=2, now=utcnow())


def test_a_tampered_staged_file_is_discarded(staging):
    pending = stage(staging)
    path = staging.directory / f"{pending.token}.json"
    path.write_text('{"token": "x"}')
    with pytest.raises(PreviewNotFound):
        staging.load(pending.token, user_id=1, consultation_id=2, now=utcnow())
    assert not path.exists()


def test_staging_clears_out_old_previews(staging):
    old = stage(staging)
    stale_time = (utcnow() - timedelta(hours=2)).timestamp()
    os.utime(staging.directory / f"{old.token}.json", (stale_time, stale_time))
    fresh = stage(staging)
    assert sorted(p.name for p in staging.directory.iterdir()) == [f"{fresh.token}.json"]


# --- Through the upload page ----------------------------------------------------

@pytest.fixture
def staged_dir(app, tmp_path, monkeypatch):
    directory = tmp_path / "previews"
    monkeypatch.setitem(app.config, "IMPORT_STAGING_DIR", str(directory))
    return directory


@pytest.fixture
def staff_consultation(app_context, login_as):
    login_as(Role.STAFF)
    now = utcnow()
    consultation = create_consultation("UPL1001", "Upload target", "", now, now + timedelta(days=30))
    db.session.commit()
    return consultation


def post_upload(client, csrf, url: str, data: bytes, name: str):
    """POST a file as a browser would, with the body built in memory.

    The test client spools large bodies to a temporary file it never closes,
    which the suite's warnings-as-errors would report.
    """
    fields = {"csrf_token": csrf(), "draft": FileStorage(io.BytesIO(data), filename=name,
                                                         content_type="application/octet-stream")}
    stream, _length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return client.post(url, data=stream.getvalue(), content_type=f"multipart/form-data; boundary={boundary}")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("name,data,message", [
    ("picture.docx", PNG, "The selected file is a PNG image, not a draft document"),
    ("draft.docx", b"1 Recommendations\n\n1.1 Text.\n", "called .docx but it is not a Word document"),
    ("draft.docx", random_zip(), "could not be read: it may be damaged"),
    ("draft.txt", b"a" * (MAX_UPLOAD_BYTES + 1), "The selected file must be smaller than 10MB"),
])
def test_refused_uploads_say_why_and_stage_nothing(client, csrf, staff_consultation, staged_dir, name, data, message):
    response = post_upload(client, csrf, f"/staff/consultations/{staff_consultation.reference}/import", data, name)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and message in page
    assert not staged_dir.exists() or list(staged_dir.iterdir()) == []
    assert count(Document) == count(Chapter) == count(Section) == 0


def test_a_zip_bomb_upload_is_refused(client, csrf, staff_consultation, staged_dir, bomb):
    response = post_upload(client, csrf, f"/staff/consultations/{staff_consultation.reference}/import", bomb,
                           "draft.docx")
    assert response.status_code == 400
    assert "cannot be opened safely" in response.get_data(as_text=True)
    assert not staged_dir.exists() or list(staged_dir.iterdir()) == []


def test_a_request_over_the_app_wide_limit_gets_the_too_large_page(client, csrf, staff_consultation, staged_dir):
    response = post_upload(client, csrf, f"/staff/consultations/{staff_consultation.reference}/import",
                           b"a" * (13 * 1024 * 1024), "draft.txt")
    assert response.status_code == 413
    assert "The file or text you sent is too large" in response.get_data(as_text=True)
    assert "The service takes at most 12MB at once, and a draft to import at most 10MB." in (
        response.get_data(as_text=True))
