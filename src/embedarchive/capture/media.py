"""Streaming media download: hashed while streaming, size-capped, MIME sniffed, stored atomically.

A transfer that breaks mid-body (connection reset, body shorter than its Content-Length, a
stalled read) is continued where it stopped with ``Range: bytes=N-`` — at most ``RESUMES``
times, and only when the server said it takes byte ranges (``Accept-Ranges: bytes``) and
the body was not content-encoded (ranges count the encoded bytes, the file gets the decoded
ones). ``If-Range`` carries the strong ETag or Last-Modified, so a file that changed in
between comes back whole (200) and the download starts over; so does a server that ignores
the range. A 206 is taken only when its Content-Range starts exactly where the file ends and
names the same total. The bytes go on into the same temp file and the same sha256, so the
stored file is the one file the server holds, never a splice of two versions. Every request,
the broken one included, is an exchange in the recorder like any other.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

import filetype
import httpx

from ..display import INLINE_TYPES
from ..errors import FetchError, TooLargeError, write_error
from ..models import MediaFile
from ..store.files import FileStore
from .http import Http, Recorder

CHUNK = 256 * 1024
#: Requests for the rest of a body after a break, per download.
RESUMES = 3
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)


class ProgressSink(Protocol):
    def start(self, label: str, total: int | None) -> object: ...
    def advance(self, handle: object, size: int) -> None: ...
    def finish(self, handle: object) -> None: ...


class NullProgress:
    def start(self, label: str, total: int | None) -> object:
        return None

    def advance(self, handle: object, size: int) -> None:
        return None

    def finish(self, handle: object) -> None:
        return None


UNKNOWN_TYPE = "application/octet-stream"


def sniff_mime(head: bytes, fallback: str = UNKNOWN_TYPE) -> str:
    """Trust the bytes, not the server's Content-Type: platforms and proxies mislabel files.

    ``filetype`` names what its signatures know; many real files are beyond them (fragmented
    MP4, CMAF, MP3 frames with a CRC, animated AVIF), so otherwise the declared type
    (``fallback``) is kept, except that text (a page, JSON, an SVG) is never recorded as a
    type pages play or show: an HTML page served as ``image/png`` is an unknown file.
    """
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    declared = fallback.split(";")[0].strip().lower() or UNKNOWN_TYPE
    if declared in INLINE_TYPES and _is_text(head):
        return UNKNOWN_TYPE
    return declared


def _is_text(head: bytes) -> bool:
    """Markup or data as text: no NUL in the first bytes, and the first thing after a BOM and
    white space is ``<``, ``{`` or ``[`` (every media format starts otherwise)."""
    start = head[:1024].removeprefix(b"\xef\xbb\xbf").lstrip()
    return b"\0" not in head[:1024] and start[:1] in (b"<", b"{", b"[")


class _Broken(Exception):
    """The body stopped short of its end; the message says how."""


@dataclass
class _Body:
    """What the server said about the file (from its last full answer) and what has arrived."""

    url: str
    final_url: str = ""
    declared_type: str = "application/octet-stream"
    total: int | None = None
    ranges: bool = False
    validator: str | None = None
    size: int = 0
    head: bytes = b""
    sha: Any = field(default_factory=hashlib.sha256)
    resumed: list[dict[str, int]] = field(default_factory=list)

    def fresh(self, response: httpx.Response, out: IO[bytes], cap: int) -> None:
        """A full (200) answer: the file starts over from its first byte."""
        headers = response.headers
        declared = headers.get("content-length")
        length = int(declared) if declared and declared.isdigit() else None
        if length is not None and length > cap:
            raise TooLargeError(f"media {self.url} is {length} bytes, over the cap of {cap}")
        # Of a gzip-encoded answer, Content-Length counts the bytes sent, not the file's (which
        # is what arrives here): httpx checks the bytes sent, the file has no size to meet.
        self.total = None if _encoded(response) else length
        self.final_url = str(response.url)
        self.declared_type = headers.get("content-type", "application/octet-stream")
        units = headers.get("accept-ranges", "").lower().split(",")
        self.ranges = "bytes" in (u.strip() for u in units) and not _encoded(response)
        etag = headers.get("etag")
        strong = etag if etag and not etag.startswith("W/") else None
        self.validator = strong or headers.get("last-modified")
        self.size, self.head, self.sha = 0, b"", hashlib.sha256()
        out.seek(0)
        out.truncate()

    def continues(self, response: httpx.Response) -> bool:
        """Whether a 206 answer's Content-Range picks up exactly where the file ends."""
        m = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", "").strip())
        if m is None or int(m[1]) != self.size or int(m[2]) < int(m[1]) or _encoded(response):
            return False
        return m[3] == "*" or self.total is None or int(m[3]) == self.total

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if len(self.head) < 512:
            self.head += chunk[: 512 - len(self.head)]
        self.sha.update(chunk)

    def range_headers(self) -> dict[str, str]:
        headers = {"Range": f"bytes={self.size}-"}
        if self.validator:
            headers["If-Range"] = self.validator
        return headers


def _encoded(response: httpx.Response) -> bool:
    codings = response.headers.get_list("content-encoding", split_commas=True)
    return any(c.strip().lower() not in ("", "identity") for c in codings)


def download(
    http: Http,
    url: str,
    store: FileStore,
    recorder: Recorder,
    *,
    kind: str,
    progress: ProgressSink | None = None,
    info: dict[str, Any] | None = None,
) -> MediaFile:
    """Stream ``url`` to the store. Raises ``FetchError`` (or ``TooLargeError``) on failure,
    ``StoreError`` (``DiskFullError``) when the file cannot be written; nothing is left behind."""
    temp = store.temp_file()
    body = _Body(url)
    try:
        try:
            with open(temp, "wb") as out:
                _transfer(http, body, out, recorder, kind, progress or NullProgress())
        except OSError as err:  # the temp file, or the body's spool beside it
            raise write_error(err, f"media {url} to {store.tmp}") from None
        mime = sniff_mime(body.head, body.declared_type)
        digest = body.sha.hexdigest()
        rel = store.put(temp, digest, mime)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    details = dict(info or {})
    details.setdefault("declared_content_type", body.declared_type)
    if body.resumed:  # each request after a break: the offset asked for and the answer
        details["resumed"] = body.resumed
    if mime.startswith("video/"):
        details["probe"] = probe_video(str(store.path(rel)))
    return MediaFile(
        sha256=digest,
        size=body.size,
        mime=mime,
        kind=kind,
        source_url=url,
        final_url=body.final_url,
        path=rel,
        info=details,
    )


def _transfer(
    http: Http,
    body: _Body,
    out: IO[bytes],
    recorder: Recorder,
    kind: str,
    progress: ProgressSink,
) -> None:
    """The whole body into ``out``: one request, then one per resumption after a break."""
    cap = http.settings.max_media_bytes
    headers: dict[str, str] | None = None
    handle: object = None
    started = False
    label = body.url.rsplit("/", 1)[-1][:40]
    try:
        for attempt in range(RESUMES + 1):
            try:
                with http.stream(
                    body.final_url or body.url, recorder, f"media:{kind}", headers=headers
                ) as response:
                    status = response.status_code
                    if headers is not None:
                        body.resumed.append({"from": body.size, "status": status})
                    if headers is None or status == 200:  # a full answer: (re)start
                        _check_status(response, body.url)
                        body.fresh(response, out, cap)
                        if started:
                            progress.finish(handle)
                        handle, started = progress.start(label, body.total), True
                    elif status != 206 or not body.continues(response):
                        answer = f"{status} {response.headers.get('content-range', '')}"
                        raise FetchError(
                            f"media {body.url} answered a resumed download with HTTP "
                            + answer.strip(),
                            retryable=True,
                        )
                    _copy(response, body, out, cap, progress, handle)
                if body.total is not None and body.size != body.total:
                    raise _Broken(f"truncated: {body.size} of {body.total} bytes")
                return
            except _Broken as broken:
                if not body.ranges or attempt == RESUMES:
                    raise FetchError(f"download of {body.url} broke off: {broken}") from None
                headers = body.range_headers()
    finally:
        if started:
            progress.finish(handle)


def _check_status(response: httpx.Response, url: str) -> None:
    if response.status_code != 200:
        raise FetchError(
            f"media {url} answered HTTP {response.status_code}",
            retryable=response.status_code >= 500 or response.status_code == 429,
        )


def _copy(
    response: httpx.Response,
    body: _Body,
    out: IO[bytes],
    cap: int,
    progress: ProgressSink,
    handle: object,
) -> None:
    try:
        for chunk in response.iter_bytes():  # as they arrive: a break loses nothing received
            if body.size + len(chunk) > cap:
                raise TooLargeError(f"media {body.url} is over the cap of {cap} bytes")
            body.add(chunk)
            out.write(chunk)
            progress.advance(handle, len(chunk))
    except httpx.HTTPError as err:
        raise _Broken(type(err).__name__) from None


def probe_video(path: str) -> dict[str, Any]:
    """Duration, resolution and codec as ffmpeg reads them from the stored bytes."""
    import imageio_ffmpeg

    try:
        frames = imageio_ffmpeg.read_frames(path)
        meta = next(frames)
        frames.close()
    except Exception as err:  # a broken file is still evidence; record why probing failed
        return {"error": f"{type(err).__name__}: {err}"}
    keys = ("codec", "pix_fmt", "fps", "size", "duration", "rotate")
    return {k: meta[k] for k in keys if k in meta}
