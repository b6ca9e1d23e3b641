"""A local stand-in for the platforms' key-less endpoints, served over real HTTP on 127.0.0.1.

X/Twitter, Telegram, Bluesky (AppView, PLC directory, PDSes) and Mastodon share one server,
each under its own path prefix, so one set of settings points embedarchive at all of them.

The routes live in :mod:`.routes`; this module only runs them in a thread and records what
was asked. Two ways to simulate "no network", pick the one the test means:

* ``platform.outage = True`` (or ``with platform.offline():``) — the server accepts each
  connection and hangs up without answering (httpx raises ``RemoteProtocolError``).
* ``platform.delay = 0.2`` — every answer waits that many seconds first (a slow platform, so a
  test can interrupt a run midway); ``reset()`` sets it back to 0.
* ``platform.throttle("/syndication/", times=2, retry_after="1")`` — the next ``times``
  requests under the prefix are answered 429 with that ``Retry-After`` (rate limiting).
* ``platform.active`` / ``platform.max_active`` — requests being answered now, and the most
  at once since ``reset()`` (per-host connection limits).
* ``platform.stop()`` then ``platform.start()`` — while stopped nothing listens, so
  connecting is refused (httpx raises ``ConnectError``); ``start()`` binds the same port
  again, so ``base_url`` and settings built from it stay valid.

Responses are HTTP/1.0 (one request per connection), so a stopped server leaves no
keep-alive connection that could still answer. Header names are sent in lower case, as X's
servers do (see the captured ``*.headers.json``), apart from the ``Server``/``Date`` lines
that ``http.server`` writes itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypedDict
from urllib.parse import parse_qsl, urlsplit

from . import bluesky, mastodon, telegram
from .routes import respond


class RecordedRequest(TypedDict):
    """One request as the fake received it (a plain dict at run time)."""

    method: str
    path: str
    """Path with its query string, as sent."""
    route: str
    """Path without the query string."""
    params: dict[str, str]
    headers: dict[str, str]
    """Header names in lower case."""
    user_agent: str


def _record_of(method: str, path: str, headers: dict[str, str]) -> RecordedRequest:
    url = urlsplit(path)
    return RecordedRequest(
        method=method,
        path=path,
        route=url.path,
        params=dict(parse_qsl(url.query, keep_blank_values=True)),
        headers=headers,
        user_agent=headers.get("user-agent", ""),
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    platform: FakePlatform


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "fakeplatform"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr lines; the request log is the record."""

    def _answer(self, send_body: bool) -> None:
        platform = self.server.platform
        headers = {name.lower(): value for name, value in self.headers.items()}
        platform._record(_record_of(self.command, self.path, headers))
        if platform.outage:
            self.close_connection = True
            return
        with platform._busy():
            if platform.delay:
                time.sleep(platform.delay)
            throttled = platform._throttled(self.path)
        if throttled is not None:
            status, retry_after = throttled
            self.send_response(status)
            self.send_header("retry-after", retry_after)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        reply = respond(
            self.path, headers, platform.base_url, dict(platform.failures), dict(platform.tweets)
        )
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("content-type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(reply.body)))
        self.end_headers()
        if send_body:
            self.wfile.write(reply.body)


class FakePlatform:
    """X/Twitter on ``http://127.0.0.1:<port>``; see the module docstring and data/README.md.

    ``requests`` is a snapshot of every request received, oldest first. ``reset()`` clears it
    and every toggle (``outage``, ``failures``, ``tweets``), so one server can be shared by a
    session.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.outage = False
        self.delay = 0.0
        self.failures: dict[str, int] = {}
        #: Per-test X posts, id → syndication JSON text, or None for "deleted" (see
        #: ``routes.overridden``): lets a post change or disappear between two captures.
        self.tweets: dict[str, str | None] = {}
        self._log: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._throttles: dict[str, list[Any]] = {}
        self.active = 0
        self.max_active = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakePlatform:
        """Listen (on the port of the previous run, if any) and serve in a daemon thread."""
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.platform = self
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fakeplatform-{self.port}",
            daemon=True,
        )
        self._server = server
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening; connecting is then refused until ``start()``."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> FakePlatform:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if not self.port:
            raise RuntimeError("FakePlatform has no port yet: call start() first")
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._log)

    def requests_to(self, prefix: str) -> list[RecordedRequest]:
        """Requests whose path starts with ``prefix``, e.g. ``"/syndication/"`` or ``"/video/"``."""
        return [r for r in self.requests if r["path"].startswith(prefix)]

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._log.append(request)

    @contextmanager
    def _busy(self) -> Iterator[None]:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            yield
        finally:
            with self._lock:
                self.active -= 1

    def throttle(self, prefix: str, times: int, retry_after: str, status: int = 429) -> None:
        """Answer the next ``times`` requests under ``prefix`` with ``status`` and Retry-After."""
        with self._lock:
            self._throttles[prefix] = [times, retry_after, status]

    def _throttled(self, path: str) -> tuple[int, str] | None:
        with self._lock:
            for prefix, rule in self._throttles.items():
                if path.startswith(prefix) and rule[0] > 0:
                    rule[0] -= 1
                    return int(rule[2]), str(rule[1])
        return None

    def fail(self, prefix: str, status: int) -> None:
        """Answer every path starting with ``prefix`` with ``status`` and a JSON error body."""
        self.failures[prefix] = status

    @contextmanager
    def offline(self) -> Iterator[None]:
        """Within the block every connection is dropped without an answer."""
        self.outage = True
        try:
            yield
        finally:
            self.outage = False

    def reset(self) -> None:
        with self._lock:
            self._log.clear()
            self._throttles.clear()
            self.max_active = self.active
        self.outage = False
        self.delay = 0.0
        self.failures.clear()
        self.tweets.clear()

    def settings_overrides(self) -> dict[str, Any]:
        """embedarchive settings that point every endpoint of every fake platform at this server."""
        base = self.base_url
        return {
            "twitter_syndication_url": f"{base}/syndication/tweet-result",
            "twitter_oembed_url": f"{base}/oembed",
            "fxtwitter_url": f"{base}/fx",
            "twitter_pic_url": f"{base}/pic",
            "twitter_tco_url": f"{base}/tco",
            **telegram.settings_overrides(base),
            **bluesky.settings_overrides(base),
            **mastodon.settings_overrides(base),
            "allow_private_network": True,
            # one local host serves every platform: no per-host pacing, a 429/503 from
            # ``fail()`` is final at once and the host is never paused (tests of these
            # manners set them themselves)
            "per_host_rate": 0,
            "per_host_connections": 16,
            "http_retries": 0,
            "host_failure_threshold": 1000,
        }

    def env(self) -> dict[str, str]:
        """The same settings as ``EMBEDARCHIVE_*`` environment variables (booleans as "1"/"0")."""

        def text(value: Any) -> str:
            return ("1" if value else "0") if isinstance(value, bool) else str(value)

        return {f"EMBEDARCHIVE_{k.upper()}": text(v) for k, v in self.settings_overrides().items()}
