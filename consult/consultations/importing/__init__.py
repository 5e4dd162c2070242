"""Turning a draft guidance document into chapters and numbered sections, from upload to confirmation.

* ``text``: plain text and Markdown;
* ``docx``: Word documents, read from their styles and lists;
* ``uploads``: what an uploaded file really is, and whether it is safe to open;
* ``staging``: parsed drafts kept on the server between the preview and the confirmation.

Nothing here touches the database, so a draft can be parsed and checked anywhere.
"""

from consult.consultations.importing.docx import parse_docx
from consult.consultations.importing.staging import ImportStaging, PendingImport, PreviewNotFound
from consult.consultations.importing.text import (
    INTRODUCTION_TITLE,
    DocumentFormatError,
    ParsedChapter,
    ParsedDocument,
    ParsedSection,
    SkippedBlock,
    parse_document,
    with_introduction,
)
from consult.consultations.importing.uploads import (
    ACCEPTED_EXTENSIONS,
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_LABEL,
    CheckedUpload,
    UploadRefused,
    check_docx_package,
    check_upload,
    decode_text,
    parse_upload,
    read_limited,
)

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "INTRODUCTION_TITLE",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_LABEL",
    "CheckedUpload",
    "DocumentFormatError",
    "ImportStaging",
    "ParsedChapter",
    "ParsedDocument",
    "SkippedBlock",
    "ParsedSection",
    "PendingImport",
    "PreviewNotFound",
    "UploadRefused",
    "check_docx_package",
    "check_upload",
    "decode_text",
    "parse_docx",
    "parse_document",
    "with_introduction",
    "parse_upload",
    "read_limited",
]
