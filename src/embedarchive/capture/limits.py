"""Manners per host: at most N requests open and M started per second, 429/503 sent again
after their ``Retry-After`` (else exponential backoff with jitter), and a host that keeps
failing is paused before its next request.

A transport wrapping the recording one, so every attempt — each 429 too — is recorded, and
all requests of the client (articles, APIs, media) from every worker thread share the limits.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from ..settings import Settings

RETRY_STATUSES = (429, 503)


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Host:
    def __init__(self, connections: int) -> None:
        self.slots = threading.BoundedSemaphore(max(connections, 1))
        self.lock = threading.Lock()
        self.next_start = 0.0
        self.paused_until = 0.0
        self.failures = 0


class _Releasing(httpx.SyncByteStream):
    """Gives the host's connection slot back when the body is closed (once)."""

    def __init__(self, inner: httpx.SyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        yield from self._inner

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


class HostLimiter(httpx.BaseTransport):
    """Per-host limits and polite retries around ``inner`` (thread-safe)."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._inner = inner
        self._settings = settings
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def _host(self, url: httpx.URL) -> _Host:
        key = f"{url.scheme}://{url.host}:{url.port or ''}"
        with self._lock:
            host = self._hosts.get(key)
            if host is None:
                host = self._hosts[key] = _Host(self._settings.per_host_connections)
            return host

    def backoff(self, attempt: int) -> float:
        s = self._settings
        delay = min(s.http_backoff_max, s.http_backoff_base * 2**attempt)
        return delay * (0.5 + 0.5 * self._rng.random())

    def _wait_turn(self, host: _Host) -> None:
        rate = self._settings.per_host_rate
        with host.lock:
            now = time.monotonic()
            start = max(now, host.next_start, host.paused_until)
            if rate > 0:
                host.next_start = start + 1.0 / rate
        if start > now:
            self._sleep(start - now)

    def _failed(self, host: _Host, pause: float = 0.0) -> None:
        with host.lock:
            host.failures += 1
            over = host.failures - self._settings.host_failure_threshold
            if over >= 0:
                pause = max(pause, self.backoff(over))
            if pause > 0:
                host.paused_until = max(host.paused_until, time.monotonic() + pause)

    def _succeeded(self, host: _Host) -> None:
        with host.lock:
            host.failures = 0

    def pace(self, url: str) -> None:
        """Wait for the host's turn for a request another client sends (yt-dlp's own): the
        rate limit and any pause (Retry-After, failing host) apply; connection slots do not,
        since yt-dlp may leave responses open until its run ends."""
        self._wait_turn(self._host(httpx.URL(url)))

    def outcome(self, url: str, status: int | None, retry_after_value: str | None = None) -> None:
        """Count the answer to a paced request (``None``: no answer) toward the host's state."""
        host = self._host(httpx.URL(url))
        if status is None or status in RETRY_STATUSES or status >= 500:
            asked = retry_after(retry_after_value) if status in RETRY_STATUSES else None
            self._failed(host, min(asked or 0.0, self._settings.http_backoff_max))
        else:
            self._succeeded(host)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = self._host(request.url)
        attempt = 0
        while True:
            host.slots.acquire()
            try:
                self._wait_turn(host)
                response = self._inner.handle_request(request)
            except BaseException:
                host.slots.release()
                self._failed(host)
                raise
            status = response.status_code
            if status in RETRY_STATUSES and attempt < self._settings.http_retries:
                asked = retry_after(response.headers.get("retry-after"))
                wait = self.backoff(attempt) if asked is None else asked
                if wait <= self._settings.http_backoff_max:
                    try:
                        response.read()
                    except httpx.HTTPError:
                        pass
                    finally:
                        response.close()
                        host.slots.release()
                    self._failed(host, wait)
                    attempt += 1
                    continue
            if status in RETRY_STATUSES or status >= 500:
                self._failed(host)
            else:
                self._succeeded(host)
            assert isinstance(response.stream, httpx.SyncByteStream)
            response.stream = _Releasing(response.stream, host.slots.release)
            return response

    def close(self) -> None:
        self._inner.close()


__all__ = ["HostLimiter", "retry_after"]
