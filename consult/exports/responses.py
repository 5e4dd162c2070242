"""Download responses: a built workbook streamed from its temporary file, CSV streamed as it is made."""

from collections.abc import Callable, Iterable, Iterator
from typing import IO

from flask import Response, stream_with_context

from consult.exports.services import spooled_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _attachment(filename: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}


def file_download(build: Callable[[IO[bytes]], object], filename: str, mimetype: str) -> Response:
    """Build into a spooled temporary file, then stream it out in chunks and discard it."""
    handle = spooled_file()
    build(handle)
    size = handle.tell()
    handle.seek(0)

    def chunks() -> Iterator[bytes]:
        try:
            while chunk := handle.read(64 * 1024):
                yield chunk
        finally:
            handle.close()

    headers = {**_attachment(filename), "Content-Length": str(size)}
    return Response(chunks(), mimetype=mimetype, headers=headers, direct_passthrough=True)


def csv_download(lines: Iterable[str], filename: str) -> Response:
    """Stream CSV while the database is still being read, within the request's context."""
    encoded = (line.encode("utf-8") for line in lines)
    return Response(stream_with_context(encoded), mimetype="text/csv", headers=_attachment(filename),
                    content_type="text/csv; charset=utf-8")
