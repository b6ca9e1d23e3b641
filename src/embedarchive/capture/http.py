"""The one httpx client factory: private-network guard and provenance recording as transports.

The transport is the seam (as in httpx itself): the recorder wraps the guard which wraps the
real transport, so every hop of every request — redirects included — is both checked and
recorded, whichever module made the request.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpcore
import httpx

from ..errors import BlockedAddressError, FetchError, TooLargeError
from ..models import BodyFile, HttpExchange
from ..settings import Settings
from .limits import HostLimiter

RECORDER_KEY = "embedarchive.recorder"
PURPOSE_KEY = "embedarchive.purpose"
DEADLINE_KEY = "embedarchive.deadline"


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Recorder:
    """Collects the exchanges of one unit of work (an article, a capture). Thread-safe."""

    def __init__(self) -> None:
        self._items: list[HttpExchange] = []
        self._lock = threading.Lock()

    def add(self, exchange: HttpExchange) -> None:
        with self._lock:
            self._items.append(exchange)

    def exchanges(self) -> tuple[HttpExchange, ...]:
        with self._lock:
            return tuple(sorted(self._items, key=lambda e: e.started_at))


def _refuse(host: str, address: str) -> None:
    ip = ipaddress.ip_address(address.split("%")[0])
    if not ip.is_global or ip.is_multicast:
        raise BlockedAddressError(
            f"refused {host}: it resolves to non-public address {ip} "
            "(set EMBEDARCHIVE_ALLOW_PRIVATE_NETWORK=1 to allow)"
        )


def public_addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """Resolve ``host`` and refuse it if ANY address is not public (a mixed answer is an attack)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise FetchError(f"cannot resolve {host}: {err}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        for address in addresses:
            _refuse(host, address)
    return addresses


def check_public_host(url: str, allow_private: bool) -> None:
    """Refuse non-http(s) URLs and hosts with any non-public address (articles are untrusted)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedAddressError(f"refused {url!r}: only http and https URLs are fetched")
    host = parts.hostname
    if not host:
        raise BlockedAddressError(f"refused {url!r}: no host")
    if not allow_private:
        public_addresses(host, parts.port or 443, allow_private)


class PinnedBackend(httpcore.SyncBackend):
    """Checks the addresses at connect time and connects to exactly the one it checked.

    Checking a URL and then letting the socket layer resolve the name again would leave a
    window for DNS rebinding; here the check and the connection use the same answer.
    """

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        address = public_addresses(host, port, self._allow_private)[0]
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport with the pinned, checked network backend (TLS still verifies the name)."""

    def __init__(self, allow_private: bool) -> None:
        super().__init__(retries=0, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=PinnedBackend(allow_private),
        )


class GuardTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, allow_private: bool) -> None:
        self._inner = inner
        self._allow_private = allow_private

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_public_host(str(request.url), self._allow_private)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


#: A body is held in memory for its WARC record up to this size, as long as all the bodies so
#: held stay within ``SPOOL_MEMORY``; past either it goes on in a temp file. Most answers (API
#: JSON, photos) are far smaller: a temp file each cost a create, a write and an unlink.
SPOOL_IN_MEMORY = 1024 * 1024


class MemoryBudget:
    """Bytes that bodies may hold in memory at once, shared by every thread: memory stays
    bounded however many downloads run and however long their bodies wait for the writer."""

    def __init__(self, limit: int) -> None:
        self._left = limit
        self._lock = threading.Lock()

    def take(self, size: int) -> bool:
        with self._lock:
            if size > self._left:
                return False
            self._left -= size
            return True

    def give(self, size: int) -> None:
        with self._lock:
            self._left += size


#: Room for a batch's API answers and photos at once, far below the memory targets (the
#: whole process under 150 MB while it downloads a 2 GB file).
SPOOL_MEMORY = MemoryBudget(64 * 1024 * 1024)


class Spool:
    """A body copied as it streams, for its WARC record: in memory while it is small (at most
    ``in_memory`` bytes, within ``budget``), else in a temp file in the archive's ``tmp/``
    (what was held first goes there too, so either way the record gets every byte in order).

    Without an archive folder (``detect`` on a fresh machine) nothing is spooled.
    """

    def __init__(
        self,
        spool_dir: Path | None,
        *,
        decoded: bool = False,
        in_memory: int = SPOOL_IN_MEMORY,
        budget: MemoryBudget = SPOOL_MEMORY,
    ) -> None:
        self._dir = spool_dir
        self._decoded = decoded
        self._in_memory = in_memory
        self._budget = budget
        self._chunks: list[bytes] | None = [] if spool_dir is not None else None
        self._held = 0
        self._file: IO[bytes] | None = None
        self._path: Path | None = None

    def write(self, chunk: bytes) -> None:
        if self._file is not None:
            self._file.write(chunk)
        elif self._chunks is not None:
            if self._held + len(chunk) <= self._in_memory and self._budget.take(len(chunk)):
                self._chunks.append(chunk)
                self._held += len(chunk)
            else:
                self._to_disk(chunk)

    def _to_disk(self, chunk: bytes) -> None:
        """Too big to hold: what is held and ``chunk`` go to a temp file, the rest follows."""
        held = self._chunks or []
        self._let_go()
        try:
            fd, name = tempfile.mkstemp(dir=self._dir, suffix=".body.part")
        except OSError:  # no temp folder: the body is not spooled (as without an archive)
            return
        self._path = Path(name)
        self._file = os.fdopen(fd, "wb")
        for part in (*held, chunk):
            self._file.write(part)

    def _let_go(self) -> None:
        self._chunks = None
        self._budget.give(self._held)
        self._held = 0

    def close(self, complete: bool) -> BodyFile | None:
        """The spooled body; an incomplete one (cap, broken connection) is not kept."""
        if self._file is None:
            if self._chunks is None:
                return None
            if not complete:
                self._let_go()
                return None
            data, size = b"".join(self._chunks), self._held
            self._chunks, self._held = None, 0
            release = functools.partial(self._budget.give, size)
            return BodyFile.in_memory(data, decoded=self._decoded, release=release)
        try:
            self._file.close()
        except OSError:  # a full disk: what is on disk is not the whole body
            complete = False
        self._file = None
        assert self._path is not None
        body = BodyFile(self._path, decoded=self._decoded)
        if complete:
            return body
        body.discard()
        return None


class _HashingStream(httpx.SyncByteStream):
    """Hashes (and spools) the bytes exactly as received on the wire; records when closed.

    Past ``deadline`` (``Http``'s ``total_timeout``) the transfer is given up: the read timeout
    only bounds the wait for each chunk, so a server trickling bytes would never be cut off.
    """

    def __init__(
        self,
        inner: httpx.SyncByteStream,
        on_close: Any,
        spool: Spool,
        url: str,
        deadline: float | None,
    ) -> None:
        self._inner = inner
        self._on_close = on_close
        self._spool = spool
        self._url = url
        self._deadline = deadline
        self._sha = hashlib.sha256()
        self._size = 0
        self._done = False
        self._error: str | None = None

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                if self._deadline is not None and time.monotonic() > self._deadline:
                    raise FetchError(f"reading {self._url} took longer than the total timeout")
                self._sha.update(chunk)
                self._size += len(chunk)
                self._spool.write(chunk)
                yield chunk
            self._done = True
        except Exception as err:
            self._error = f"{type(err).__name__}: {err}"
            raise

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            body = self._spool.close(self._done)
            self._on_close(self._sha.hexdigest(), self._size, self._done, self._error, body)


class RecordingTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, spool_dir: Path | None = None) -> None:
        self._inner = inner
        self._spool_dir = spool_dir

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        recorder: Recorder | None = request.extensions.get(RECORDER_KEY)
        purpose = str(request.extensions.get(PURPOSE_KEY, ""))
        started = utcnow()
        t0 = time.monotonic()
        req_headers = tuple((k, v) for k, v in request.headers.items())
        try:
            response = self._inner.handle_request(request)
        except Exception as err:
            if recorder is not None:
                recorder.add(
                    HttpExchange(
                        method=request.method,
                        url=str(request.url),
                        started_at=started,
                        elapsed_ms=round((time.monotonic() - t0) * 1000, 1),
                        request_headers=req_headers,
                        complete=False,
                        error=f"{type(err).__name__}: {err}",
                        purpose=purpose,
                    )
                )
            raise
        if recorder is None:
            return response

        def on_close(
            sha: str, size: int, done: bool, error: str | None, body: BodyFile | None
        ) -> None:
            version = response.extensions.get("http_version", b"")
            recorder.add(
                HttpExchange(
                    method=request.method,
                    url=str(request.url),
                    started_at=started,
                    elapsed_ms=round((time.monotonic() - t0) * 1000, 1),
                    status=response.status_code,
                    request_headers=req_headers,
                    response_headers=tuple(
                        (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw
                    ),
                    http_version=version.decode("ascii", "replace")
                    if isinstance(version, bytes)
                    else str(version),
                    body_sha256=sha if done else None,
                    body_size=size,
                    complete=done,
                    error=error,
                    purpose=purpose,
                    body=body,
                )
            )

        assert isinstance(response.stream, httpx.SyncByteStream)
        deadline = request.extensions.get(DEADLINE_KEY)
        response.stream = _HashingStream(
            response.stream, on_close, Spool(self._spool_dir), str(request.url), deadline
        )
        return response

    def close(self) -> None:
        self._inner.close()


@dataclass(frozen=True)
class Fetched:
    """A fully read (size-capped) response."""

    url: str
    final_url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    history: tuple[str, ...]

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")


class Http:
    """A configured client; every call names the recorder its exchanges belong to."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        inner = transport or PinnedTransport(settings.allow_private_network)
        recording = RecordingTransport(
            GuardTransport(inner, settings.allow_private_network),
            spool_dir=settings.archive_dir / "tmp",
        )
        #: Outermost, so every attempt (each refused 429 too) is recorded and every thread
        #: sharing this client shares the per-host limits (yt-dlp's requests are paced by it).
        self.limiter = HostLimiter(recording, settings)
        self.client = httpx.Client(
            transport=self.limiter,
            timeout=httpx.Timeout(
                settings.read_timeout,
                connect=settings.connect_timeout,
                pool=settings.connect_timeout,
            ),
            headers={"User-Agent": settings.user_agent},
            max_redirects=settings.max_redirects,
            trust_env=False,  # a proxy from the environment would bypass the address check
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def stream(
        self,
        url: str,
        recorder: Recorder,
        purpose: str,
        *,
        follow_redirects: bool = True,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Iterator[httpx.Response]:
        """Open a streamed GET; network failures become ``FetchError`` with a one-line reason.

        The whole response, redirects included, must arrive within ``total_timeout``. Stacked content codings (``gzip, gzip``) are refused before any byte is decoded: httpx
        decodes a whole network chunk at once, which for one layer is bounded (about 1000 ×
        64 KiB) but for two is not, so no size cap could stop them in time.
        """
        extensions = {
            RECORDER_KEY: recorder,
            PURPOSE_KEY: purpose,
            DEADLINE_KEY: time.monotonic() + self.settings.total_timeout,
        }
        try:
            with self.client.stream(
                "GET",
                url,
                params=params,
                headers=headers,
                follow_redirects=follow_redirects,
                extensions=extensions,
            ) as response:
                codings = [
                    c.lower()
                    for c in response.headers.get_list("content-encoding", split_commas=True)
                    if c and c.lower() != "identity"
                ]
                if len(codings) > 1:
                    raise TooLargeError(
                        f"{url}: stacked content encodings ({', '.join(codings)}) are refused"
                    )
                yield response
        except httpx.TooManyRedirects:
            raise FetchError(f"too many redirects fetching {url}", retryable=False) from None
        except httpx.TimeoutException:
            raise FetchError(f"timed out fetching {url}") from None
        except httpx.ConnectError as err:
            raise FetchError(f"cannot connect for {url}: {err}") from None
        except httpx.InvalidURL as err:
            raise FetchError(f"invalid URL {url!r}: {err}", retryable=False) from None
        except httpx.HTTPError as err:
            raise FetchError(f"request for {url} failed: {type(err).__name__}: {err}") from None

    def get(
        self,
        url: str,
        recorder: Recorder,
        purpose: str,
        *,
        max_bytes: int,
        follow_redirects: bool = True,
        params: dict[str, str] | None = None,
    ) -> Fetched:
        """GET and read the (decoded) body, refusing more than ``max_bytes``."""
        with self.stream(
            url, recorder, purpose, follow_redirects=follow_redirects, params=params
        ) as response:
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise TooLargeError(f"{url} is {declared} bytes, over the cap of {max_bytes}")
            chunks: list[bytes] = []
            size = 0
            try:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLargeError(f"{url} is over the cap of {max_bytes} bytes")
                    chunks.append(chunk)
            except httpx.HTTPError as err:
                raise FetchError(f"reading {url} failed: {type(err).__name__}: {err}") from None
            return Fetched(
                url=url,
                final_url=str(response.url),
                status=response.status_code,
                headers=tuple((k, v) for k, v in response.headers.multi_items()),
                body=b"".join(chunks),
                history=tuple(str(r.url) for r in response.history),
            )
