"""Plain dataclasses that cross stages: article → detections → targets → captures → records.

They are frozen so a stage can never alter what an earlier stage observed; that is
the in-memory half of "nothing is altered after capture".
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import IO, Any, Literal

Markup = Literal["blockquote", "iframe", "script", "amp", "link", "text", "other"]
Kind = Literal["post", "video"]
CaptureStatus = Literal["archived", "unavailable", "failed"]


@dataclass(frozen=True)
class Article:
    """An article exactly as it reached us, plus the text we decoded from it."""

    source: str
    source_kind: Literal["url", "file", "stdin"]
    raw: bytes
    sha256: str
    encoding: str
    text: str
    is_html: bool
    retrieved_at: str
    url: str | None = None
    final_url: str | None = None
    http_status: int | None = None
    http_headers: tuple[tuple[str, str], ...] = ()
    title: str | None = None


@dataclass(frozen=True)
class Detection:
    """One embed as the article showed it; evidence in its own right, kept even if fetching fails.

    ``offset`` is a character offset into ``Article.text`` (the decoded document).
    ``url``/``id`` are canonical when the article carried them, otherwise None
    (e.g. a copied tweet whose status link was reduced to a pic.twitter.com link).
    """

    platform: str
    kind: Kind
    markup: Markup
    offset: int
    url: str | None = None
    id: str | None = None
    author: str | None = None
    handle: str | None = None
    date: str | None = None
    text: str | None = None
    links: tuple[str, ...] = ()
    snippet: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "kind": self.kind,
            "url": self.url,
            "id": self.id,
            "markup": self.markup,
            "offset": self.offset,
            "author": self.author,
            "handle": self.handle,
            "date": self.date,
            "text": self.text,
            "links": list(self.links),
        }


@dataclass(frozen=True)
class Target:
    """A single post or video that can be fetched: platform plus its stable id."""

    platform: str
    id: str
    url: str
    kind: Kind = "post"


@dataclass(frozen=True)
class Resolution:
    """How a detection became a target; ``hops`` lists every URL visited to expand short links."""

    #: ``recovered``: found later from the article's rendering alone (``embedarchive recover``).
    status: Literal["direct", "resolved", "recovered", "unresolved", "failed"]
    target: Target | None = None
    hops: tuple[str, ...] = ()
    error: str | None = None
    retryable: bool = False
    #: Captures of posts that came inside this one's response (a quoted post).
    related: tuple[Capture, ...] = ()


class BodyFile:
    """A complete response body exactly as received, kept until the store writes it into a WARC
    record: spooled to a temp file (``path``), or, when small, held in memory
    (:meth:`in_memory`). Either is let go once nothing refers to it (or by ``discard``): a
    body that is never stored leaves nothing behind. ``decoded``: the client had already
    undone the Content-Encoding (yt-dlp does), so the bytes are not the compressed ones.
    """

    def __init__(self, path: Path | None, *, decoded: bool = False) -> None:
        self.path = path
        self.decoded = decoded
        self._data: bytes | None = None
        self._finalizer: weakref.finalize[..., object] | None = None
        if path is not None:
            self._finalizer = weakref.finalize(self, _unlink, str(path))

    @classmethod
    def in_memory(
        cls, data: bytes, *, decoded: bool = False, release: Callable[[], None] | None = None
    ) -> BodyFile:
        """A body held as bytes; ``release`` runs once they are let go (a memory budget)."""
        body = cls(None, decoded=decoded)
        body._data = data
        if release is not None:
            body._finalizer = weakref.finalize(body, release)
        return body

    def open(self) -> IO[bytes]:
        """The bytes, from the start (``ValueError`` once discarded)."""
        if self.path is not None:
            return open(self.path, "rb")
        if self._data is None:
            raise ValueError("the body was discarded")
        return BytesIO(self._data)  # shares the bytes, no copy

    def discard(self) -> None:
        self._data = None
        if self._finalizer is not None:
            self._finalizer()


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


@dataclass(frozen=True)
class HttpExchange:
    """One request/response pair on the wire; redirects are separate exchanges linked by URL."""

    method: str
    url: str
    started_at: str
    elapsed_ms: float
    status: int | None = None
    request_headers: tuple[tuple[str, str], ...] = ()
    response_headers: tuple[tuple[str, str], ...] = ()
    http_version: str | None = None
    remote_address: str | None = None
    body_sha256: str | None = None
    body_size: int = 0
    complete: bool = True
    error: str | None = None
    purpose: str = ""
    #: The raw body for the WARC record (None when not spooled: no archive, or no response).
    body: BodyFile | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class MediaRef:
    """A media item a platform said belongs to a post, before download."""

    kind: Literal["photo", "video", "gif", "thumbnail", "audio"]
    url: str
    via_ytdlp: bool = False
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.url, str):
            raise _unexpected(f"a {self.kind} URL that is not text ({type(self.url).__name__})")


@dataclass(frozen=True)
class MediaFile:
    """A downloaded file, content-addressed by sha256 (same bytes twice are stored once)."""

    sha256: str
    size: int
    mime: str
    kind: str
    source_url: str
    final_url: str
    path: str
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PostData:
    """A post as a platform returned it, with yt-dlp-style field names."""

    platform: str
    id: str
    url: str
    uploader: str | None = None
    uploader_id: str | None = None
    user_id: str | None = None
    created_at: str | None = None
    text: str | None = None
    lang: str | None = None
    reply_to_id: str | None = None
    quoted: PostData | None = None
    counts: dict[str, int] = field(default_factory=dict)
    media: tuple[MediaRef, ...] = ()
    raw: str = ""

    def __post_init__(self) -> None:
        """Whatever a platform answered, each field is text SQLite can store: a number where
        text was promised is kept as its digits (an id of 2**70 does not fit an INTEGER), a
        lone UTF-16 surrogate (a broken emoji) becomes U+FFFD (``raw`` and the WARC keep the
        bytes as sent), and anything else (an object for the text) is an answer we do not
        understand."""
        for name in _POST_TEXT_FIELDS:
            value = getattr(self, name)
            if value is None and name not in ("platform", "id", "url"):
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str):
                raise _unexpected(f"a post's {name} that is not text ({type(value).__name__})")
            object.__setattr__(self, name, _storable(value))


_POST_TEXT_FIELDS = (
    "platform",
    "id",
    "url",
    "uploader",
    "uploader_id",
    "user_id",
    "created_at",
    "text",
    "lang",
    "reply_to_id",
    "raw",
)


def _storable(text: str) -> str:
    """``text`` with lone surrogates replaced (pairs are joined), so it encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _unexpected(what: str) -> Exception:
    from .errors import UnexpectedResponseError

    return UnexpectedResponseError(f"the platform answered {what}")


@dataclass(frozen=True)
class Attempt:
    """One method tried while fetching a target, successful or not."""

    method: str
    outcome: Literal["ok", "unavailable", "failed", "skipped"]
    detail: str = ""


@dataclass(frozen=True)
class Capture:
    """The result of fetching one target: always produced, even when everything failed."""

    target: Target
    status: CaptureStatus
    started_at: str
    finished_at: str
    method: str | None = None
    post: PostData | None = None
    media: tuple[MediaFile, ...] = ()
    media_errors: tuple[str, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    exchanges: tuple[HttpExchange, ...] = ()
    error: str | None = None
    retryable: bool = False
    #: Captures of posts that came inside this one's response (a quoted post).
    related: tuple[Capture, ...] = ()
