"""WARC/1.1 files (warcio): every HTTP exchange as request + response records, what embedarchive
derived as ``metadata`` records, yt-dlp's files and file-based articles as ``resource`` records.

How a WARC becomes content-addressed: records are appended (one gzip member each) to
``warc/open/<name>.warc.gz``, a file only this process writes (an exclusive ``flock``). It is
sealed when it passes ``warc_max_bytes`` (checked between store transactions, so one capture's
records stay in one file) or when the store closes: it is hashed, linked to
``warc/<sha[:2]>/<sha256>.warc.gz``, given its ``warc_files`` row, and only then loses its open
name and is made read-only. Records are linked (``warc_records``) by the file's *name*, which
never changes; the row maps the name to the sealed path. A file left open by a crash (or whose
row did not commit) is recovered by the next writer: cut back to its last complete record, then
sealed like any other.

The response record holds the body exactly as received: still compressed when the server sent
``Content-Encoding`` (httpx decodes later, above the transport). Two headers are renamed with
the ``X-Archive-Orig-`` prefix so replay tools read the bytes right: ``Transfer-Encoding``
(the chunking was undone by the HTTP library), and, for yt-dlp, whose client decompresses,
``Content-Encoding`` and ``Content-Length``. A large body is streamed from its spool file,
never held in memory; a small one was kept in memory by the client (``capture.http.Spool``).

The open file is written unbuffered, so a record that fails halfway (a full disk) is cut off
again at once: the file only ever holds complete records, and the error is a one-line
``StoreError`` (``DiskFullError`` when the disk is full).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from sqlite_utils import Database
from warcio.recordbuilder import RecordBuilder
from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from ..errors import write_error
from ..models import HttpExchange
from ..untrusted import dump_json
from .warc_seal import recover_open_files, seal_file

CHUNK = 1024 * 1024
WARC_CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"


@dataclass(frozen=True)
class WarcRef:
    """Where one record is: the WARC's name, the gzip member's offset and length."""

    warc_file: str
    offset: int
    length: int
    record_id: str
    record_type: str
    target_uri: str
    digest: str | None


class _Sha256WARCWriter(WARCWriter):  # type: ignore[misc]
    """warcio's writer with sha256 digests, so a payload digest equals the exchange's sha256."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


class _CountingFile:
    """The open WARC, unbuffered (warcio's gzip wrapper already hands over compressed blocks),
    so what was written is known exactly and can be cut back."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.pos = fh.seek(0, os.SEEK_END)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = self.fh.write(view) or 0  # a raw file may take less than it is given
            self.pos += written
            view = view[written:]

    def flush(self) -> None:
        self.fh.flush()

    def cut(self, offset: int) -> None:
        """Drop everything after ``offset`` (a record that failed halfway)."""
        os.ftruncate(self.fh.fileno(), offset)
        self.fh.seek(offset)
        self.pos = offset


def hex_digest(warc_digest: str | None) -> str | None:
    """``sha256:BASE32`` (as warcio writes) → lowercase hex, as the database stores hashes."""
    if not warc_digest or not warc_digest.startswith("sha256:"):
        return None
    return base64.b32decode(warc_digest.split(":", 1)[1]).hex()


class WarcWriter:
    """The one open WARC of a store; every method writes complete records or raises."""

    def __init__(
        self,
        root: Path,
        db: Database,
        max_bytes: int,
        info: Callable[[], dict[str, Any]],
        on_sealed: Callable[[int], None],
    ) -> None:
        self.root = root
        self.db = db
        self.max_bytes = max_bytes
        self._info = info
        self._on_sealed = on_sealed
        self._fh: IO[bytes] | None = None
        self._out: _CountingFile | None = None
        self._writer: _Sha256WARCWriter | None = None
        self._name = ""
        self._records = 0
        self._torn = False
        self.open_dir = root / "warc" / "open"
        recover_open_files(root, db, on_sealed)

    # -- file lifecycle -----------------------------------------------------
    def _ensure_open(self) -> tuple[_Sha256WARCWriter, _CountingFile]:
        if self._writer is not None and self._out is not None:
            return self._writer, self._out
        stamp = _now().replace("-", "").replace(":", "").replace(".", "")
        self._name = f"embedarchive-{stamp}-{uuid.uuid4().hex[:12]}.warc.gz"
        try:
            self.open_dir.mkdir(parents=True, exist_ok=True)
            fh = open(self.open_dir / self._name, "xb", buffering=0)
        except OSError as err:
            raise write_error(err, f"a new WARC file in {self.open_dir}") from None
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fh, self._out = fh, _CountingFile(fh)
        self._writer = _Sha256WARCWriter(self._out, gzip=True, warc_version="1.1")
        self._records = 0
        info = self._info()
        fields = {
            "software": f"embedarchive {info.get('software', {}).get('embedarchive', '')}",
            "format": "WARC File Format 1.1",
            "conformsTo": WARC_CONFORMS_TO,
            "embedarchive-run": info.get("run_id"),
            "embedarchive-software": json.dumps(info.get("software", {}), sort_keys=True),
        }
        self._write(self._writer.create_warcinfo_record(self._name, fields))
        if info.get("run"):
            self.metadata(f"urn:embedarchive:run:{info['run_id']}", info["run"])
        return self._writer, self._out

    def rotate_if_needed(self) -> None:
        """Seal the open file once it is big enough (call between transactions)."""
        if self._out is not None and self._out.pos >= self.max_bytes:
            self.close()

    def close(self) -> None:
        """Seal the open WARC, if any: hash, link into place, record its row. A file whose
        only record could not be written is removed instead."""
        if self._fh is None:
            return
        self._fh.close()  # releases the lock
        self._fh = self._out = self._writer = None
        path = self.open_dir / self._name
        if self._torn:
            return
        if self._records == 0:
            path.unlink(missing_ok=True)
            return
        try:
            seal_file(self.root, self.db, path, self._records, self._on_sealed)
        except (OSError, sqlite3.Error) as err:
            raise write_error(err, f"the sealed WARC {self._name}") from None

    # -- records ------------------------------------------------------------
    def _write(self, record: Any) -> WarcRef:
        writer, out = self._ensure_open() if self._writer is None else (self._writer, self._out)
        assert out is not None
        offset = out.pos
        try:
            writer.write_record(record)
        except OSError as err:
            try:
                out.cut(offset)
            except OSError:
                self._torn = True  # left open: the next run cuts it back, then seals it
            raise write_error(err, f"a WARC record to {self._name}") from None
        self._records += 1
        headers = record.rec_headers
        return WarcRef(
            warc_file=self._name,
            offset=offset,
            length=out.pos - offset,
            record_id=headers.get_header("WARC-Record-ID"),
            record_type=headers.get_header("WARC-Type"),
            target_uri=headers.get_header("WARC-Target-URI") or "",
            digest=hex_digest(
                headers.get_header("WARC-Payload-Digest") or headers.get_header("WARC-Block-Digest")
            ),
        )

    def _builder(self) -> RecordBuilder:
        writer, _ = self._ensure_open()
        return writer

    def exchange(self, e: HttpExchange) -> WarcRef:
        """Request and response records (or one metadata record when nothing came back).

        Returns the record that holds the answer: the response, else the metadata record.
        """
        builder = self._builder()
        if e.status is None:
            data = {
                "method": e.method,
                "url": e.url,
                "started_at": e.started_at,
                "error": e.error,
                "request_headers": list(e.request_headers),
                "note": "no response was received (refused, failed or timed out)",
            }
            return self.metadata(e.url, data, kind="embedarchive-failed-exchange")
        target = _final_url(e)
        body = e.body.open() if e.body is not None else None
        try:
            ref = self._write(_response_record(builder, e, target, body))
        finally:
            if body is not None:
                body.close()
        request = builder.create_warc_record(
            target,
            "request",
            payload=BytesIO(b""),
            length=0,
            http_headers=_request_headers(e, target),
            warc_headers_dict={
                "WARC-Date": e.started_at,
                "WARC-Concurrent-To": ref.record_id,
            },
        )
        self._write(request)
        if e.body is not None:
            e.body.discard()
        return ref

    def metadata(
        self,
        uri: str,
        data: Any,
        *,
        kind: str = "embedarchive",
        refers_to: str | None = None,
    ) -> WarcRef:
        """A ``metadata`` record of JSON that embedarchive derived (detections, post data…)."""
        payload = dump_json(data, sort_keys=True, default=str).encode()
        headers = {"WARC-Date": _now(), "WARC-Embedarchive-Kind": kind}
        if refers_to:
            headers["WARC-Refers-To"] = refers_to
        record = self._builder().create_warc_record(
            uri,
            "metadata",
            payload=BytesIO(payload),
            length=len(payload),
            warc_content_type="application/json",
            warc_headers_dict=headers,
        )
        return self._write(record)

    def resource(self, uri: str, path: Path, mime: str, date: str | None = None) -> WarcRef:
        """A ``resource`` record streamed from a stored file (yt-dlp's output, an article file)."""
        size = path.stat().st_size
        with open(path, "rb") as fh:
            record = self._builder().create_warc_record(
                uri,
                "resource",
                payload=fh,
                length=size,
                warc_content_type=mime,
                warc_headers_dict={"WARC-Date": date or _now()},
            )
            return self._write(record)


def _now() -> str:
    from ..capture.http import utcnow

    return utcnow()


def _final_url(e: HttpExchange) -> str:
    """yt-dlp follows redirects inside one exchange; its bytes came from the final URL."""
    marker = "final URL "
    if marker in e.purpose:
        return e.purpose.split(marker, 1)[1].rstrip(")")
    return e.url


def _response_record(
    builder: RecordBuilder, e: HttpExchange, target: str, body: IO[bytes] | None
) -> Any:
    decoded = e.body is not None and e.body.decoded
    encoded = any(k.lower() == "content-encoding" for k, _ in e.response_headers)
    renamed = {"transfer-encoding"} | (
        {"content-encoding", "content-length"} if decoded and encoded else set()
    )
    headers = [
        (f"X-Archive-Orig-{k}" if k.lower() in renamed else k, v) for k, v in e.response_headers
    ]
    try:
        phrase = HTTPStatus(e.status or 0).phrase
    except ValueError:
        phrase = ""
    http_headers = StatusAndHeaders(
        f"{e.status} {phrase}".strip(), headers, protocol=e.http_version or "HTTP/1.1"
    )
    warc_headers = {"WARC-Date": e.started_at}
    if e.remote_address:
        warc_headers["WARC-IP-Address"] = e.remote_address
    if not e.complete:
        warc_headers["WARC-Truncated"] = "disconnect" if e.error else "length"
    if body is None:
        return builder.create_warc_record(
            target,
            "response",
            payload=BytesIO(b""),
            length=0,
            http_headers=http_headers,
            warc_headers_dict={**warc_headers, "WARC-Truncated": "unspecified"},
        )
    if e.complete and e.body_sha256:  # hashed while streaming: spares warcio a pass
        digest = base64.b32encode(bytes.fromhex(e.body_sha256)).decode("ascii")
        warc_headers["WARC-Payload-Digest"] = f"sha256:{digest}"
    length = body.seek(0, os.SEEK_END)
    body.seek(0)
    return builder.create_warc_record(
        target,
        "response",
        payload=body,
        length=length,
        http_headers=http_headers,
        warc_headers_dict=warc_headers,
    )


def _request_headers(e: HttpExchange, target: str) -> StatusAndHeaders:
    parts = urlsplit(target)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = list(e.request_headers)
    if not any(k.lower() == "host" for k, _ in headers):
        headers.insert(0, ("Host", parts.netloc))
    return StatusAndHeaders(f"{e.method} {path} HTTP/1.1", headers, is_http_request=True)
