"""Archived files by sha256: the right type, never rendered as a page, with HTTP Range support.

Images, audio and video are served with their sniffed type so they show inline (``<video>``
seeks with Range requests). Text-like files (an article's HTML, a JSON response) are served as
``text/plain``: the reader sees the source, the browser never runs it. Anything else is an
``application/octet-stream`` download, as are sealed WARC files and single WARC records (each
record is its own gzip member, so the bytes from its offset are a ``.warc.gz`` by themselves).
Every file carries ``nosniff`` and a CSP that forbids everything, and may only come from the
archive's ``media/`` or ``warc/`` folder.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasette.utils.asgi import Response

from ..display import INLINE_TYPES
from ..store.files import extension_for
from .queries import one
from .security import FILE_CSP

TEXT_TYPES = frozenset(
    "text/html text/plain text/csv text/xml application/json application/xml".split()
)
CHUNK = 256 * 1024
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHARSET_RE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


@dataclass(frozen=True)
class StoredFile:
    path: Path
    sha256: str
    content_type: str
    filename: str
    inline: bool
    #: (offset, length) of the part served, for one WARC record inside its file.
    window: tuple[int, int] | None = None


def locate(conn: sqlite3.Connection, archive_dir: Path, sha256: str) -> StoredFile | None:
    """The stored file with this sha256 (a media file or an article's bytes), if it is present."""
    row = one(conn, "select path, mime from media where sha256 = ? limit 1", [sha256])
    charset = "utf-8"
    if row is None:
        row = one(
            conn,
            "select raw_path as path, case is_html when 1 then 'text/html' else 'text/plain' end "
            "as mime, encoding from articles where sha256 = ? limit 1",
            [sha256],
        )
        if row and row["encoding"] and _CHARSET_RE.match(row["encoding"]):
            charset = row["encoding"]
    if row is None or not row["path"]:
        return None
    media_root = (archive_dir / "media").resolve()
    path = (archive_dir / row["path"]).resolve()
    if not path.is_relative_to(media_root) or not path.is_file():
        return None
    mime = (row["mime"] or "application/octet-stream").split(";")[0].strip().lower()
    filename = f"{sha256}.{extension_for(mime)}"
    if mime in INLINE_TYPES:
        return StoredFile(path, sha256, mime, filename, True)
    if mime in TEXT_TYPES:
        return StoredFile(path, sha256, f"text/plain; charset={charset}", filename, True)
    return StoredFile(path, sha256, "application/octet-stream", filename, False)


def _under(archive_dir: Path, folder: str, rel: str | None) -> Path | None:
    if not rel:
        return None
    root = (archive_dir / folder).resolve()
    path = (archive_dir / rel).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def locate_warc(conn: sqlite3.Connection, archive_dir: Path, sha256: str) -> StoredFile | None:
    """A sealed WARC file by its sha256, as a download (from the archive's ``warc/`` only)."""
    row = one(conn, "select path from warc_files where sha256 = ? limit 1", [sha256])
    path = _under(archive_dir, "warc", row["path"] if row else None)
    if path is None:
        return None
    return StoredFile(path, sha256, "application/octet-stream", f"{sha256}.warc.gz", False)


def locate_record(conn: sqlite3.Connection, archive_dir: Path, record: int) -> StoredFile | None:
    """One WARC record (its own gzip member, a valid ``.warc.gz`` by itself) of a sealed file."""
    row = one(
        conn,
        """select w.path, w.sha256, r."offset", r.length from warc_records r
           join warc_files w on w.name = r.warc_file where r.id = ?""",
        [record],
    )
    path = _under(archive_dir, "warc", row["path"] if row else None)
    if row is None or path is None or row["offset"] is None or not row["length"]:
        return None
    return StoredFile(
        path,
        f"{row['sha256']}-{row['offset']}",
        "application/octet-stream",
        f"record-{record}.warc.gz",
        False,
        (int(row["offset"]), int(row["length"])),
    )


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The single range asked for, as inclusive (start, end); None for the whole file.

    Raises ``ValueError`` when the range cannot be satisfied. Several ranges at once are
    answered with the whole file, which HTTP allows.
    """
    if not header:
        return None
    m = _RANGE_RE.match(header.strip())
    if m is None:
        return None
    first, last = m.groups()
    if not first and not last:
        return None
    if not first:
        start, end = max(size - int(last), 0), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise ValueError(header)
    return start, end


class FileResponse(Response):  # type: ignore[misc]
    """Streams (part of) a file from disk without loading it into memory."""

    def __init__(self, file: StoredFile, request: Any, download: bool) -> None:
        self.base, size = file.window or (0, file.path.stat().st_size)
        disposition = "inline" if file.inline and not download else "attachment"
        headers = {
            "accept-ranges": "bytes",
            "etag": f'"{file.sha256}"',
            "cache-control": "private, max-age=31536000, immutable",
            "content-disposition": f'{disposition}; filename="{file.filename}"',
            "content-security-policy": FILE_CSP,
            "x-content-type-options": "nosniff",
        }
        status, self.start, self.end = 200, 0, size - 1
        if request.headers.get("if-none-match") == headers["etag"]:
            status, self.end = 304, -1
        else:
            try:
                wanted = byte_range(request.headers.get("range"), size)
            except ValueError:
                status, self.end = 416, -1
                headers["content-range"] = f"bytes */{size}"
            else:
                if wanted is not None:
                    status, (self.start, self.end) = 206, wanted
                    headers["content-range"] = f"bytes {self.start}-{self.end}/{size}"
        headers["content-length"] = str(self.end - self.start + 1)
        super().__init__(b"", status=status, headers=headers, content_type=file.content_type)
        self.path = file.path
        self.head = request.method == "HEAD"

    async def asgi_send(self, send: Any) -> None:
        raw = [[k.encode(), v.encode()] for k, v in self.headers.items()]
        raw.append([b"content-type", self.content_type.encode()])
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        remaining = self.end - self.start + 1
        if self.head or remaining <= 0:
            await send({"type": "http.response.body", "body": b""})
            return
        with open(self.path, "rb") as fh:
            fh.seek(self.base + self.start)
            while remaining > 0:
                chunk = await asyncio.to_thread(fh.read, min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                await send(
                    {"type": "http.response.body", "body": chunk, "more_body": remaining > 0}
                )
        if remaining > 0:
            await send({"type": "http.response.body", "body": b""})
