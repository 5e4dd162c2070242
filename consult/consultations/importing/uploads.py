"""Uploaded drafts: what a file really is, and whether it is safe to open.

A draft is judged by its bytes, never by its name or the browser's content type. The name only has
to agree with what the bytes turned out to be, so that "report.docx" that is really text, or a
picture renamed "draft.txt", is refused with a message saying what the file actually is.

Once checked and parsed, the draft waits on the server for confirmation (see ``staging``).
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from lxml import etree

from consult.consultations.importing.docx import parse_docx
from consult.consultations.importing.text import DocumentFormatError, ParsedDocument, parse_document

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_LABEL = "10MB"

# A real .docx holds a few dozen parts; guidance with pictures rarely expands past tens of MB.
MAX_ZIP_ENTRIES = 1000
MAX_ZIP_MEMBER_BYTES = 50 * 1024 * 1024
MAX_ZIP_TOTAL_BYTES = 100 * 1024 * 1024
# XML compresses around 5 to 20 times; a run of zeros, about a thousand times.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_ABOVE_BYTES = 1024 * 1024
MAX_CONTENT_TYPES_BYTES = 256 * 1024

DOCX_MAIN_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"

TEXT_EXTENSIONS = {".txt", ".md", ".markdown"}
DOCX_EXTENSIONS = {".docx"}
ACCEPTED_EXTENSIONS = ".txt,.md,.markdown,.docx"

_WHAT_TO_UPLOAD = "Upload a Word document (.docx), a plain-text file (.txt) or a Markdown file (.md)."

_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

# Signatures of files people are likely to pick by mistake, so the message can name them.
_KNOWN_SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an older Word or Office file (.doc)"),
    (b"{\\rtf", "a Rich Text Format (.rtf) file"),
]


class UploadRefused(DocumentFormatError):
    """The file cannot be imported; the message says why and what to do instead."""


@dataclass(frozen=True)
class CheckedUpload:
    """An upload whose kind was established from its content."""

    filename: str
    kind: str  # "docx" or "text"
    data: bytes


def read_limited(stream: BinaryIO, limit: int = MAX_UPLOAD_BYTES) -> bytes:
    """Read at most `limit` bytes, refusing a larger file without reading the rest of it."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(f"The selected file must be smaller than {MAX_UPLOAD_LABEL}.")
    return data


def check_upload(filename: str, stream: BinaryIO) -> CheckedUpload:
    """Establish what the uploaded bytes are and refuse anything that is not a draft we can read safely."""
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    extension = os.path.splitext(name)[1].lower()
    if extension not in TEXT_EXTENSIONS | DOCX_EXTENSIONS:
        raise UploadRefused(f"The selected file must be a .docx, .txt or .md file. {_WHAT_TO_UPLOAD}")
    data = read_limited(stream)
    if not data:
        raise UploadRefused(f"The selected file is empty. {_WHAT_TO_UPLOAD}")

    if data.startswith(_ZIP_SIGNATURES):
        if extension not in DOCX_EXTENSIONS:
            raise UploadRefused(
                f"The selected file is called {extension} but it is a compressed (zip) file, such as a Word "
                f"document, not text. {_WHAT_TO_UPLOAD} Keep the name and the kind of file the same."
            )
        check_docx_package(data)
        return CheckedUpload(name, "docx", data)

    for signature, description in _KNOWN_SIGNATURES:
        if data.startswith(signature):
            raise UploadRefused(
                f"The selected file is {description}, not a draft document. {_WHAT_TO_UPLOAD}"
            )
    if extension in DOCX_EXTENSIONS:
        raise UploadRefused(
            "The selected file is called .docx but it is not a Word document. Save the draft from Word "
            "as a Word document (.docx), or give a plain-text file the name .txt, and upload it again."
        )
    decode_text(data)
    return CheckedUpload(name, "text", data)


def decode_text(data: bytes) -> str:
    """UTF-8 text with no NUL bytes, or a refusal saying which byte could not be read."""
    if b"\x00" in data:
        raise UploadRefused(
            "The selected file contains binary data (NUL bytes), so it is not a text document. "
            f"{_WHAT_TO_UPLOAD}"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UploadRefused(
            f"The selected file is not UTF-8 text (byte {error.start} cannot be read). Save it as plain "
            "text or Markdown in UTF-8, or as a Word document (.docx), and upload it again."
        ) from None


def check_docx_package(data: bytes) -> None:
    """Refuse a zip that is damaged, encrypted, a zip bomb, or not a Word document.

    Only the central directory is read to judge sizes, before any member is
    decompressed. zipfile never returns more than a member's declared size,
    so once the declared sizes pass, nothing that later opens the package
    can be made to inflate more than these limits allow.
    """
    damaged = UploadRefused(
        "The selected file is damaged or is not a Word document, so it cannot be read. Open it in Word, "
        "save it again as a Word document (.docx) and upload it again."
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise damaged from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise _bomb(f"it holds {len(entries):,} files")
        total = 0
        for info in entries:
            if info.flag_bits & 0x1:
                raise UploadRefused(
                    "The selected file is password-protected. Remove the password in Word, save it, "
                    "and upload it again."
                )
            if info.file_size > MAX_ZIP_MEMBER_BYTES:
                raise _bomb(f"its part {info.filename} would expand to {_megabytes(info.file_size)}")
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_CHECK_ABOVE_BYTES and ratio > MAX_COMPRESSION_RATIO:
                raise _bomb(f"its part {info.filename} is compressed {ratio:,.0f} times")
            total += info.file_size
            if total > MAX_ZIP_TOTAL_BYTES:
                raise _bomb(f"it would expand to more than {_megabytes(MAX_ZIP_TOTAL_BYTES)}")

        names = {info.filename for info in entries}
        if "[Content_Types].xml" not in names or "word/document.xml" not in names:
            raise UploadRefused(
                "The selected file is a zip file but not a Word document (it has no word/document.xml). "
                f"{_WHAT_TO_UPLOAD}"
            )
        try:
            content_types = read_member(archive, "[Content_Types].xml", MAX_CONTENT_TYPES_BYTES)
            main_type = _content_type_of(content_types, "/word/document.xml")
        except (zipfile.BadZipFile, etree.XMLSyntaxError, OSError, EOFError, ValueError, NotImplementedError):
            raise damaged from None
    if main_type != DOCX_MAIN_CONTENT_TYPE:
        raise UploadRefused(
            "The selected file is not a plain Word document: it is a template or has macros. Save it in "
            "Word as a Word document (.docx) and upload it again."
        )


def read_member(archive: zipfile.ZipFile, name: str, cap: int) -> bytes:
    """A member's bytes, reading no more than `cap` whatever its header claims."""
    chunks = []
    size = 0
    with archive.open(name) as member:
        while chunk := member.read(64 * 1024):
            size += len(chunk)
            if size > cap:
                raise _bomb(f"its part {name} is larger than {_megabytes(cap)}")
            chunks.append(chunk)
    return b"".join(chunks)


def _content_type_of(content_types: bytes, part_name: str) -> str | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(content_types, parser)
    for override in root.iterfind(f"{{{_CONTENT_TYPES_NS}}}Override"):
        if (override.get("PartName") or "").lower() == part_name:
            return override.get("ContentType")
    return None


def _bomb(detail: str) -> UploadRefused:
    return UploadRefused(
        f"The selected file cannot be opened safely: {detail}, far more than a Word document needs. "
        "Save the draft again from Word as a Word document (.docx) and upload it again."
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f}MB"


def parse_upload(upload: CheckedUpload) -> ParsedDocument:
    """Parse a checked upload with the importer that fits its content."""
    if upload.kind == "docx":
        return parse_docx(upload.data, fallback_title=os.path.splitext(upload.filename)[0])
    return parse_document(decode_text(upload.data), fallback_title=os.path.splitext(upload.filename)[0])
