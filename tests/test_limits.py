"""Manners per host (capture/limits.py): Retry-After, connection and rate limits, backoff."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from embedarchive.capture.http import Http, Recorder
from embedarchive.capture.limits import HostLimiter, retry_after
from embedarchive.capture.ytdlp import fetch_with_ytdlp
from embedarchive.errors import EmbedArchiveError
from embedarchive.settings import Settings, load_settings
from embedarchive.store.files import FileStore

from .fakemedia import FakeMedia
from .helpers import settings_for


def _limited(settings: Settings) -> Http:
    """The client every command uses: the per-host limiter is its outermost transport."""
    http = Http(settings)
    assert isinstance(http.client._transport, HostLimiter)
    return http


def _get_all(http: Http, urls: list[str]) -> list[int]:
    statuses: list[int] = []

    def one(url: str) -> None:
        statuses.append(http.get(url, Recorder(), "test", max_bytes=1_000_000).status)

    threads = [threading.Thread(target=one, args=(u,)) for u in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after("7") == 7.0
    assert retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0
    assert retry_after("soon") is None and retry_after(None) is None


def test_429_is_sent_again_after_its_retry_after(fake_platform, archive_dir: Path) -> None:
    settings = settings_for(fake_platform, archive_dir, http_retries=2)
    fake_platform.throttle("/oembed", times=1, retry_after="1")
    recorder = Recorder()
    t0 = time.monotonic()
    with _limited(settings) as http:
        got = http.get(fake_platform.url("/oembed?url=x"), recorder, "test", max_bytes=100_000)
    assert got.status != 429
    assert time.monotonic() - t0 >= 0.9
    assert [e.status for e in recorder.exchanges()][0] == 429  # the refusal is evidence too
    assert len(fake_platform.requests_to("/oembed")) == 2


def test_a_retry_after_beyond_the_longest_wait_is_not_waited_for(
    fake_platform, archive_dir: Path
) -> None:
    settings = settings_for(fake_platform, archive_dir, http_retries=2, http_backoff_max=5)
    fake_platform.throttle("/oembed", times=5, retry_after="3600")
    with _limited(settings) as http:
        got = http.get(fake_platform.url("/oembed?url=x"), Recorder(), "t", max_bytes=100_000)
    assert got.status == 429
    assert len(fake_platform.requests_to("/oembed")) == 1


def test_connections_per_host_are_limited(fake_platform, archive_dir: Path) -> None:
    settings = settings_for(fake_platform, archive_dir, per_host_connections=2)
    fake_platform.delay = 0.2
    with _limited(settings) as http:
        _get_all(http, [fake_platform.url(f"/oembed?url={i}") for i in range(6)])
    assert fake_platform.max_active == 2


def test_requests_per_second_per_host_are_limited(fake_platform, archive_dir: Path) -> None:
    settings = settings_for(fake_platform, archive_dir, per_host_rate=10.0)
    t0 = time.monotonic()
    with _limited(settings) as http:
        _get_all(http, [fake_platform.url(f"/oembed?url={i}") for i in range(6)])
    assert time.monotonic() - t0 >= 0.45  # six starts, 0.1 s apart


def test_a_host_that_keeps_failing_is_paused() -> None:
    settings = Settings(
        host_failure_threshold=2, http_retries=0, http_backoff_base=4.0, per_host_rate=0
    )
    waits: list[float] = []
    limiter = HostLimiter(
        httpx.MockTransport(lambda request: httpx.Response(500)), settings, sleep=waits.append
    )
    with httpx.Client(transport=limiter) as client:
        for _ in range(3):
            assert client.get("https://down.example/").status_code == 500
        assert client.get("https://other.example/").status_code == 500
    assert len(waits) == 1 and 2.0 <= waits[0] <= 4.0  # only the third request to down.example


@pytest.fixture
def site() -> Iterator[FakeMedia]:
    with FakeMedia() as media:
        yield media


def _ytdlp(http: Http, url: str, settings: Settings) -> None:
    files = FileStore(settings.archive_dir)
    files.open()
    fetch_with_ytdlp(url, settings, files, recorder=Recorder(), limiter=http.limiter)


def test_ytdlp_requests_wait_their_hosts_turn(site: FakeMedia, archive_dir: Path) -> None:
    settings = settings_for_media(archive_dir, per_host_rate=1.0)
    t0 = time.monotonic()
    with Http(settings) as http:
        _ytdlp(http, site.url("/page/video.html"), settings)
    sent = len(site.requests)
    assert sent >= 2
    assert time.monotonic() - t0 >= (sent - 1) * 1.0 - 0.01, (sent, time.monotonic() - t0)


def test_a_429_to_ytdlp_pauses_the_host_for_every_client(
    site: FakeMedia, archive_dir: Path
) -> None:
    settings = settings_for_media(archive_dir, per_host_rate=0)
    with Http(settings) as http:
        with pytest.raises(EmbedArchiveError):
            _ytdlp(http, site.url("/busy"), settings)
        t0 = time.monotonic()
        got = http.get(site.url("/media/video-low.mp4"), Recorder(), "t", max_bytes=10**7)
    assert got.status == 200
    assert time.monotonic() - t0 >= 0.8  # the rest of the Retry-After: 1 that yt-dlp was given


def settings_for_media(archive_dir: Path, **extra: object) -> Settings:
    overrides = {"archive_dir": archive_dir, "allow_private_network": True, **extra}
    return load_settings(overrides, environ={}).settings
