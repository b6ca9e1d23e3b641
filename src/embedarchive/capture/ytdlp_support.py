"""The parts of the yt-dlp adapter that are not the fetch itself: the request guard, the
progress bridge, error mapping and the provenance form of yt-dlp's info dict.

Kept apart from ``ytdlp.py`` so that file reads as the fetch flow; nothing here is used
elsewhere. ``yt_dlp`` is imported only when a fetch runs, so importing embedarchive stays fast.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import (
    BlockedAddressError,
    ConfigError,
    EmbedArchiveError,
    FetchError,
    TooLargeError,
    UnavailableError,
    is_disk_full,
    write_error,
)
from ..models import BodyFile, HttpExchange
from ..settings import Settings
from .http import Recorder, Spool, check_public_host, utcnow
from .limits import HostLimiter
from .media import ProgressSink

#: Headers never written to the record: the user's own session (``Set-Cookie`` too when a
#: cookies file is in use, as sites renew the session they were handed).
_SECRET_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})

#: What a site says when the post exists but is not for us to see (yt-dlp's wording and the
#: sites' own, e.g. Instagram's "rate-limit reached or login required").
_UNAVAILABLE = re.compile(
    r"\b(?:private|log ?in|logged[- ]in|sign ?in|rate[- ]?limit\w*|age[- ]restricted|"
    r"confirm your age|age verification|inappropriate|members?[- ]only|subscribers?[- ]only|"
    r"premium|geo[- ]?restrict\w*|not available in your country|blocked|removed|deleted|"
    r"unavailable|not available|does not exist|no longer|terminated|suspended|copyright|"
    r"registered users|use --cookies|no video|unsupported url)\b",
    re.IGNORECASE,
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Guard:
    """Limits and records shared by every request of one yt-dlp run (one per fetch, no globals).

    The byte budget is what pages, APIs and manifests may add up to (``max_json_bytes``) plus
    one media file (``max_media_bytes``); each finished file (``allow()``) adds another file's
    worth. yt-dlp's own ``max_filesize`` only sees single HTTP responses; this also caps the
    sum of an HLS/DASH download's fragments.
    """

    def __init__(
        self,
        settings: Settings,
        recorder: Recorder,
        *,
        spool: bool = True,
        limiter: HostLimiter | None = None,
    ) -> None:
        self.allow_private = settings.allow_private_network
        #: The run's per-host limiter: yt-dlp's requests wait their host's turn like ours.
        self.limiter = limiter
        self.recorder = recorder
        #: Bodies are kept for WARC records only when someone will store the exchanges.
        self.spool_dir = settings.archive_dir / "tmp" if spool else None
        self.timeout = settings.ytdlp_timeout
        self.deadline = time.monotonic() + settings.ytdlp_timeout
        self._file_cap = settings.max_media_bytes
        self._limit = settings.max_json_bytes + settings.max_media_bytes
        self._spent = 0
        self.secret_headers = _SECRET_HEADERS | ({"set-cookie"} if settings.cookies_file else set())
        self._public: set[tuple[str, str]] = set()
        self._open: set[Any] = set()
        self._lock = threading.Lock()
        #: A redirect hop the guard refused inside yt-dlp's handler, for ``urlopen`` to raise.
        self.refused: BlockedAddressError | None = None

    def check_url(self, url: str) -> None:
        """The private-network guard, once per scheme and host of this run (``data:`` is local)."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return
        key = (scheme, parts.hostname or "")
        if key in self._public:
            return
        http_url = "http" + url[2:] if scheme in ("ws", "wss") else url
        check_public_host(http_url, self.allow_private)
        self._public.add(key)

    def outcome(self, url: str, status: int | None, response: Any) -> None:
        if self.limiter is not None:
            headers = getattr(response, "headers", None)
            asked = headers.get("Retry-After") if headers is not None else None
            self.limiter.outcome(url, status, asked)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise FetchError(f"yt-dlp: gave up after {self.timeout:g}s (ytdlp_timeout)")

    def allow(self) -> None:
        with self._lock:
            self._limit += self._file_cap

    def spend(self, size: int) -> None:
        with self._lock:
            self._spent += size
            if self._spent > self._limit:
                raise TooLargeError(
                    f"yt-dlp read more than {self._limit} bytes (max_media_bytes / max_json_bytes)"
                )

    def opened(self, response: Any) -> None:
        with self._lock:
            self._open.add(response)

    def closed(self, response: Any) -> None:
        with self._lock:
            self._open.discard(response)

    def close_all(self) -> None:
        """Record responses yt-dlp left open, so every exchange is in the capture."""
        with self._lock:
            left = list(self._open)
        for response in left:
            response.close()


#: A DASH manifest is read whole before yt-dlp lists its segments: one that would list more
#: than this many (a 466-byte MPD can claim 10^20) is refused before yt-dlp builds the list
#: in memory, where neither the deadline nor the byte budget can stop it.
MAX_DASH_SEGMENTS = 200_000
_MAX_MANIFEST_BYTES = 8 * 1024 * 1024


def _looks_like_dash(headers: Any, url: str, head: bytes) -> bool:
    kind = str(headers.get("Content-Type") or "").lower()
    return "dash" in kind or urlsplit(url).path.lower().endswith(".mpd") or b"<MPD" in head[:4096]


def dash_segments(body: bytes) -> float:
    """How many segments a DASH manifest makes yt-dlp list (``inf`` for a template of zero
    length): each ``SegmentTemplate`` over the presentation's duration, times the
    representations it serves, plus every ``SegmentTimeline`` entry and its repeats."""
    from lxml import etree
    from yt_dlp.utils import parse_duration

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return 0.0  # not a manifest yt-dlp can read either
    if root is None:
        return 0.0
    periods = [parse_duration(p.get("duration")) or 0 for p in root.iter("{*}Period")]
    total = parse_duration(root.get("mediaPresentationDuration")) or sum(periods) or 0
    count = 0.0
    for template in root.iter("{*}SegmentTemplate"):
        served = max(1, sum(1 for _ in template.getparent().iter("{*}Representation")))
        timeline = template.find("{*}SegmentTimeline")
        if timeline is not None:
            for s in timeline.iter("{*}S"):
                repeat = _number(s.get("r"))
                count += served * (1 + max(repeat, 0))
                if repeat < 0:  # "until the end": the presentation over this segment's length
                    d = _number(s.get("d")) / max(_number(template.get("timescale")) or 1, 1)
                    count += served * (total / d if d > 0 else float("inf"))
            continue
        length = _number(template.get("duration")) / max(_number(template.get("timescale")) or 1, 1)
        if template.get("duration") is not None:
            count += served * (total / length if length > 0 else float("inf"))
    return count


def _number(text: str | None) -> float:
    try:
        value = float(text) if text is not None else 0.0
    except ValueError:
        return 0.0
    return value if value == value else 0.0  # NaN is no number


def _headers(items: Any, secret: frozenset[str] | set[str]) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in items if str(k).lower() not in secret)


@functools.lru_cache(maxsize=1)
def guarded_ytdlp_class() -> Callable[..., Any]:
    """``YoutubeDL`` whose public ``urlopen`` checks, limits and records every request.

    Built on first use (so yt-dlp is imported only when needed) and cached: the class is
    immutable, all per-run state lives in the ``Guard`` each instance is given.
    """
    import yt_dlp
    from yt_dlp.networking import Request, Response
    from yt_dlp.networking._urllib import RedirectHandler, UrllibRH
    from yt_dlp.networking.exceptions import HTTPError, TransportError

    class GuardedRedirects(RedirectHandler):  # type: ignore[misc]
        """Each redirect hop passes the guard before it is followed: yt-dlp's handler
        follows redirects inside one request, where ``urlopen`` sees only the last URL."""

        handler_order = RedirectHandler.handler_order - 1  # asked before yt-dlp's own

        def __init__(self, guard: Guard) -> None:
            super().__init__()
            self.guard = guard

        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:  # fmt: skip
            new = super().redirect_request(req, fp, code, msg, headers, newurl)
            try:
                self.guard.check_url(new.full_url)
            except BlockedAddressError as err:
                self.guard.refused = err  # yt-dlp hides other errors behind its own
                raise TransportError(str(err)) from None
            return new

    def guarded_handler(guard: Guard) -> type:
        class GuardedUrllibRH(UrllibRH):  # type: ignore[misc,valid-type]
            def _create_instance(self, *args: Any, **kwargs: Any) -> Any:
                opener = super()._create_instance(*args, **kwargs)
                opener.add_handler(GuardedRedirects(guard))
                return opener

        return GuardedUrllibRH

    class GuardedResponse(Response):  # type: ignore[misc]
        """Wraps yt-dlp's response: deadline and budget on each read, hashed as read."""

        def __init__(self, inner: Any, guard: Guard, request: Any, started: str, t0: float):
            super().__init__(
                inner, inner.url, inner.headers, inner.status, inner.reason, inner.extensions
            )
            self._guard, self._request, self._started, self._t0 = guard, request, started, t0
            self._sha = hashlib.sha256()
            self._size = 0
            length = str(inner.headers.get("Content-Length") or "")
            self._length = int(length) if length.isdigit() else None
            self._complete = False
            self._recorded = False
            self._spool = Spool(guard.spool_dir, decoded=True)  # yt-dlp undoes Content-Encoding
            self._manifest: bytearray | None = None  # a DASH manifest's bytes, checked whole
            guard.opened(self)

        def read(self, amt: int | None = None) -> bytes:
            self._guard.check_time()
            data: bytes = self.fp.read(amt)
            if self._size == 0 and data and _looks_like_dash(self.headers, self.url, data):
                self._manifest = bytearray()
            self._sha.update(data)
            self._spool.write(data)
            self._size += len(data)
            if (not data and amt != 0) or amt is None or amt < 0 or self._size == self._length:
                self._complete = True
            self._guard.spend(len(data))
            if self._manifest is not None:
                self._check_manifest(data)
            if self.fp.closed:
                self.close()
            return data

        def _check_manifest(self, data: bytes) -> None:
            manifest = self._manifest
            assert manifest is not None
            manifest += data
            if len(manifest) > _MAX_MANIFEST_BYTES:
                raise TooLargeError(f"yt-dlp: the DASH manifest {self.url} is over 8 MiB")
            if self._complete:
                self._manifest = None
                segments = dash_segments(bytes(manifest))
                if segments > MAX_DASH_SEGMENTS:
                    raise TooLargeError(
                        f"yt-dlp: the DASH manifest {self.url} lists about {segments:.3g} "
                        f"segments, more than {MAX_DASH_SEGMENTS:,}"
                    )

        def close(self) -> None:
            if not self._recorded:
                self._recorded = True
                self._guard.closed(self)
                redirected = self.url != self._request.url
                _record(
                    self._guard,
                    self._request,
                    self._started,
                    self._t0,
                    status=self.status,
                    response_headers=_headers(self.headers.items(), self._guard.secret_headers),
                    body_sha256=self._sha.hexdigest() if self._complete else None,
                    body_size=self._size,
                    complete=self._complete,
                    note=f"final URL {self.url}" if redirected else "",
                    body=self._spool.close(self._complete),
                )
            super().close()

    class GuardedYoutubeDL(yt_dlp.YoutubeDL):  # type: ignore[misc]
        def __init__(self, params: dict[str, Any], guard: Guard) -> None:
            self.embedarchive_guard = guard
            super().__init__(params)

        def build_request_director(self, handlers: Any, preferences: Any = None) -> Any:
            """Only urllib, with every redirect hop guarded (no handler of yt-dlp's own that
            would follow redirects unseen)."""
            return super().build_request_director(
                [guarded_handler(self.embedarchive_guard)], preferences
            )

        def urlopen(self, req: Any) -> Any:
            guard: Guard = self.embedarchive_guard
            if isinstance(req, str):
                req = Request(req)
            guard.check_time()
            guard.check_url(getattr(req, "url", None) or req.full_url)
            url = getattr(req, "url", None) or req.full_url
            if guard.limiter is not None:
                guard.limiter.pace(url)
            started, t0 = utcnow(), time.monotonic()
            try:
                response = super().urlopen(req)
            except HTTPError as err:
                _record(guard, req, started, t0, status=err.status, error=f"HTTP {err.status}")
                guard.outcome(url, err.status, getattr(err, "response", None))
                raise
            except Exception as err:
                refused, guard.refused = guard.refused, None
                _record(guard, req, started, t0, error=str(refused or f"{type(err).__name__}: {err}"))  # fmt: skip
                guard.outcome(url, None, None)
                if refused is not None:
                    raise BlockedAddressError(f"redirected: {refused}") from None
                raise
            guard.outcome(url, response.status, response)
            if response.url != req.url:
                try:
                    guard.check_url(response.url)
                except BlockedAddressError as err:
                    response.close()
                    _record(guard, req, started, t0, status=response.status, error=str(err))
                    raise BlockedAddressError(f"redirected: {err}") from None
            return GuardedResponse(response, guard, req, started, t0)

    return GuardedYoutubeDL


def _record(
    guard: Guard,
    request: Any,
    started: str,
    t0: float,
    *,
    status: int | None = None,
    response_headers: tuple[tuple[str, str], ...] = (),
    body_sha256: str | None = None,
    body_size: int = 0,
    complete: bool = False,
    error: str | None = None,
    note: str = "",
    body: BodyFile | None = None,
) -> None:
    guard.recorder.add(
        HttpExchange(
            method=str(getattr(request, "method", None) or "GET"),
            url=str(getattr(request, "url", None) or request.full_url),
            started_at=started,
            elapsed_ms=round((time.monotonic() - t0) * 1000, 1),
            status=status,
            request_headers=_headers(request.headers.items(), guard.secret_headers),
            response_headers=response_headers,
            body_sha256=body_sha256,
            body_size=body_size,
            complete=complete,
            error=error,
            purpose="ytdlp" + (f" ({note})" if note else ""),
            body=body,
        )
    )


class Logger:
    """yt-dlp's messages, kept to explain a refusal; nothing is printed."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def _keep(self, msg: str) -> None:
        self.messages.append(_ANSI.sub("", msg))
        del self.messages[:-50]

    def debug(self, msg: str) -> None:
        if not msg.startswith("[debug] "):
            self._keep(msg)

    def info(self, msg: str) -> None:
        self._keep(msg)

    def warning(self, msg: str) -> None:
        self._keep(msg)

    def error(self, msg: str) -> None:
        self._keep(msg)

    def last(self, *needles: str) -> str | None:
        for msg in reversed(self.messages):
            if any(n.lower() in msg.lower() for n in needles):
                return _one_line(msg)
        return None


class ProgressBridge:
    """yt-dlp progress hook → ProgressSink: one bar per file, advanced by the bytes written."""

    def __init__(self, sink: ProgressSink, on_file_done: Callable[[], None]) -> None:
        self._sink = sink
        self._on_file_done = on_file_done
        self._tasks: dict[str, list[Any]] = {}

    def __call__(self, status: dict[str, Any]) -> None:
        name = str(status.get("filename") or status.get("tmpfilename") or "")
        state = status.get("status")
        if state == "downloading":
            task = self._tasks.get(name)
            if task is None:
                total = status.get("total_bytes") or status.get("total_bytes_estimate")
                handle = self._sink.start(Path(name).name[:40], int(total) if total else None)
                task = self._tasks[name] = [handle, 0]
            done = int(status.get("downloaded_bytes") or 0)
            if done > task[1]:
                self._sink.advance(task[0], done - task[1])
                task[1] = done
        elif state in ("finished", "error"):
            task = self._tasks.pop(name, None)
            if task is not None:
                self._sink.finish(task[0])
            if state == "finished":
                self._on_file_done()

    def close(self) -> None:
        for task in self._tasks.values():
            self._sink.finish(task[0])
        self._tasks.clear()


def _one_line(message: str) -> str:
    text = _ANSI.sub("", message).strip()
    text = text.removeprefix("ERROR: ").removeprefix("WARNING: ")
    line = text.splitlines()[0] if text else ""
    return re.sub(r" \(caused by .*\)\.?$", "", line).strip()


def _causes(err: BaseException, *, implicit: bool = False) -> list[Any]:
    """``err`` and what it wraps, following yt-dlp's public ``exc_info``/``cause`` (and, when
    ``implicit``, the exception being handled when one was raised)."""
    chain: list[Any] = [err]
    for _ in range(6):
        seen = chain[-1]
        exc_info = getattr(seen, "exc_info", None)
        nxt = getattr(seen, "cause", None) or (exc_info[1] if exc_info else None)
        if nxt is None and implicit and isinstance(seen, BaseException):
            nxt = seen.__cause__ or seen.__context__
        if nxt is None or any(nxt is c for c in chain):
            break
        chain.append(nxt)
    return chain


def _http_status(err: BaseException) -> int | None:
    """The HTTP status behind a yt-dlp error."""
    for seen in _causes(err):
        status = getattr(seen, "status", None)
        if isinstance(status, int):
            return status
    return None


def _disk_full(err: BaseException) -> OSError | None:
    """The full-disk error behind a yt-dlp one (it reports a failed write as a download
    error, with the ``OSError`` as its ``exc_info`` or the context of what it raised)."""
    return next(
        (c for c in _causes(err, implicit=True) if isinstance(c, OSError) and is_disk_full(c)), None
    )


def _expected(err: BaseException) -> bool:
    exc_info = getattr(err, "exc_info", None)
    inner = exc_info[1] if exc_info else err
    return bool(getattr(inner, "expected", False))


def error_from(err: Exception, logger: Logger) -> EmbedArchiveError:
    """A yt-dlp error as ours: the site saying no is ``UnavailableError``, with its words."""
    from yt_dlp.cookies import CookieLoadError

    if isinstance(err, CookieLoadError):
        return ConfigError(f"cannot read the cookies file: {_one_line(str(err))}")
    full = _disk_full(err)
    if full is not None:
        return write_error(full, "a file yt-dlp downloads")
    message = _one_line(str(err)) or logger.last("error") or type(err).__name__
    status = _http_status(err)
    if "requested format is not available" in message.lower():
        return TooLargeError(
            "yt-dlp: no format fits under the size cap (max_media_bytes) "
            "over a protocol the guard can check"
        )
    if status in (404, 410):
        return FetchError(f"yt-dlp: {message}", retryable=False)
    if status == 429 or "too many requests" in message.lower():
        return FetchError(f"yt-dlp: {message}")  # being throttled is not the post being gone
    if _UNAVAILABLE.search(message):
        return UnavailableError(f"yt-dlp: {message}")
    if status is not None and 400 <= status < 500 and status != 429:
        return FetchError(f"yt-dlp: {message}", retryable=False)
    return FetchError(f"yt-dlp: {message}", retryable=not _expected(err))


#: Keys that are local paths of the temporary download, or the user's session.
_DROP = {"filepath", "_filename", "filename", "infojson_filename", "cookies"}


def provenance_info(info: dict[str, Any]) -> dict[str, Any]:
    """yt-dlp's sanitized info dict as kept in the archive.

    Everything yt-dlp reported is kept (format lists with their signed URLs included: they show
    what was on offer) except: temp file paths and yt-dlp's ``__`` internals; cookies and the
    ``Cookie``/``Authorization`` headers (the user's session must not end up in an archive);
    HLS/DASH ``fragments`` lists, replaced by their count (thousands of entries per format);
    and ``automatic_captions``, replaced by its language list (hundreds of URLs on YouTube).
    """

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if key.startswith("__") or key in _DROP:
                    continue
                if key == "fragments" and isinstance(item, list):
                    out["fragment_count"] = len(item)
                elif key == "automatic_captions" and isinstance(item, dict):
                    out["automatic_caption_languages"] = sorted(item)
                elif key == "http_headers" and isinstance(item, dict):
                    out[key] = {k: v for k, v in item.items() if k.lower() not in _SECRET_HEADERS}
                else:
                    out[key] = clean(item)
            return out
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value

    cleaned: dict[str, Any] = clean(info)
    return cleaned
