"""Single requests against a misbehaving server (``faultserver.py``), through the real ``Http``,
``download`` and platform code: every fault ends in a one-line ``EmbedArchiveError`` and a
recorded exchange that says what happened, never in a crash, a hang or a file left behind.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from embedarchive.capture.context import FetchContext
from embedarchive.capture.http import Http, Recorder
from embedarchive.capture.media import download
from embedarchive.errors import FetchError, TooLargeError, UnexpectedResponseError
from embedarchive.models import HttpExchange, Target
from embedarchive.platforms import mastodon, twitter
from embedarchive.settings import Settings, load_settings
from embedarchive.store.files import FileStore

from .faultserver import FaultServer, Unanswered

READ_TIMEOUT = 0.5
TOTAL_TIMEOUT = 2.0
TWEET = Target("twitter", "1590000000000000001", "https://twitter.com/i/status/1590000000000000001")


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def make_settings(archive_dir: Path, **extra: Any) -> Settings:
    """Short timeouts, the loopback server allowed, no automatic re-sending of 429/503."""
    known = {f.name for f in dataclasses.fields(Settings)}
    overrides: dict[str, Any] = {
        "archive_dir": archive_dir,
        "allow_private_network": True,
        "connect_timeout": READ_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
        "total_timeout": TOTAL_TIMEOUT,
        "max_redirects": 4,
        "http_retries": 0,
        **extra,
    }
    return load_settings({k: v for k, v in overrides.items() if k in known}, environ={}).settings


@pytest.fixture
def files(tmp_path: Path) -> FileStore:
    store = FileStore(tmp_path / "archive")
    store.open()
    return store


def leftovers(store: FileStore) -> list[Path]:
    gc.collect()  # spooled bodies of unstored exchanges go with their last reference
    return [p for p in (*store.media.rglob("*"), *store.tmp.rglob("*")) if p.is_file()]


def one_line(err: BaseException) -> str:
    message = str(err)
    assert message and "\n" not in message
    return message


def only(recorder: Recorder) -> HttpExchange:
    (exchange,) = recorder.exchanges()
    return exchange


def get(settings: Settings, url: str, max_bytes: int = 1_000_000) -> tuple[Recorder, Exception]:
    recorder = Recorder()
    with Http(settings) as http, pytest.raises(FetchError) as caught:
        http.get(url, recorder, "test", max_bytes=max_bytes)
    return recorder, caught.value


# --- timeouts -------------------------------------------------------------------------------


def test_connect_timeout_is_a_retryable_fetch_error(files: FileStore) -> None:
    with Unanswered() as nobody:
        t0 = time.monotonic()
        recorder, err = get(make_settings(files.root), nobody.url("/x"))
    assert time.monotonic() - t0 < READ_TIMEOUT + 2
    assert err.retryable and "timed out" in one_line(err)
    assert "Timeout" in (only(recorder).error or "")


def test_no_answer_at_all_is_a_read_timeout(server: FaultServer, files: FileStore) -> None:
    recorder, err = get(make_settings(files.root), server.url("/silent"))
    assert err.retryable and "timed out" in one_line(err)
    exchange = only(recorder)
    assert exchange.status is None and "ReadTimeout" in (exchange.error or "")


def test_body_that_stops_is_a_read_timeout_recorded_incomplete(
    server: FaultServer, files: FileStore
) -> None:
    recorder, err = get(make_settings(files.root), server.url("/stall"))
    assert err.retryable and "ReadTimeout" in one_line(err)
    exchange = only(recorder)
    assert exchange.status == 200 and not exchange.complete and exchange.body_sha256 is None


def test_trickling_server_is_cut_off_at_the_total_timeout(
    server: FaultServer, files: FileStore
) -> None:
    """One byte every 0.2 s never trips the read timeout; the whole-response deadline does."""
    t0 = time.monotonic()
    recorder, err = get(make_settings(files.root), server.url("/trickle"))
    assert TOTAL_TIMEOUT <= time.monotonic() - t0 < TOTAL_TIMEOUT + READ_TIMEOUT + 2
    assert "total timeout" in one_line(err)
    assert not only(recorder).complete


def test_trickling_media_download_leaves_no_file(server: FaultServer, files: FileStore) -> None:
    recorder = Recorder()
    with Http(make_settings(files.root)) as http, pytest.raises(FetchError, match="total timeout"):
        download(http, server.url("/trickle"), files, recorder, kind="photo")
    assert not only(recorder).complete
    assert leftovers(files) == []


# --- broken connections -----------------------------------------------------------------------


def test_connection_reset_is_a_retryable_fetch_error(server: FaultServer, files: FileStore) -> None:
    recorder, err = get(make_settings(files.root), server.url("/reset"))
    assert err.retryable and "reset" in one_line(err).lower()
    exchange = only(recorder)
    assert exchange.status is None and "reset" in (exchange.error or "").lower()


def test_truncated_body_is_a_fetch_error(server: FaultServer, files: FileStore) -> None:
    recorder, err = get(make_settings(files.root), server.url("/truncated"))
    assert err.retryable and "expected 100000" in one_line(err)
    exchange = only(recorder)
    assert exchange.status == 200 and not exchange.complete and exchange.body_sha256 is None
    assert exchange.body_size == 1000 and exchange.body is None


def test_truncated_download_leaves_nothing_in_media_or_tmp(
    server: FaultServer, files: FileStore
) -> None:
    recorder = Recorder()
    with Http(make_settings(files.root)) as http, pytest.raises(FetchError) as caught:
        download(http, server.url("/truncated"), files, recorder, kind="video")
    assert caught.value.retryable and "broke off" in one_line(caught.value)
    assert not only(recorder).complete
    del recorder
    assert leftovers(files) == []


def test_redirect_loop_is_a_final_error_with_every_hop_recorded(
    server: FaultServer, files: FileStore
) -> None:
    recorder, err = get(make_settings(files.root, max_redirects=4), server.url("/loop/a"))
    assert not err.retryable and "too many redirects" in one_line(err)
    hops = recorder.exchanges()
    assert len(hops) == 5 and all(e.status == 302 for e in hops)
    assert {e.url.rsplit("/", 1)[-1] for e in hops} == {"a", "b"}


# --- answers of the wrong shape -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/html", "not JSON"),
        ("/html-as-json", "malformed JSON"),  # labelled JSON, but an HTML error page
        ("/malformed-json", "malformed JSON"),
    ],
)
def test_wrong_shape_from_an_api_is_a_retryable_unexpected_response(
    server: FaultServer, files: FileStore, path: str, says: str
) -> None:
    settings = make_settings(files.root, twitter_syndication_url=server.url(path))
    recorder = Recorder()
    with Http(settings) as http, pytest.raises(UnexpectedResponseError) as caught:
        twitter.fetch_syndication(TWEET, FetchContext(settings, http, files), recorder)
    assert caught.value.retryable and says in one_line(caught.value)
    assert only(recorder).complete  # the answer itself arrived whole and is evidence


def test_html_error_page_from_a_mastodon_instance(server: FaultServer, files: FileStore) -> None:
    settings = make_settings(files.root, mastodon_api_url=server.url("/html-as-json"))
    target = mastodon.Mastodon().match("https://mastodon.social/@a/109439745302574877")
    assert target is not None
    with Http(settings) as http:
        capture = mastodon.Mastodon().fetch(target, FetchContext(settings, http, files))
    assert capture.status == "failed" and capture.retryable
    assert capture.error == "mastodon status answered malformed JSON"


@pytest.mark.parametrize("path", ["/429", "/503"])
def test_rate_limit_and_unavailable_are_retryable(
    server: FaultServer, files: FileStore, path: str
) -> None:
    settings = make_settings(files.root, twitter_syndication_url=server.url(path))
    recorder = Recorder()
    with Http(settings) as http, pytest.raises(FetchError) as caught:
        twitter.fetch_syndication(TWEET, FetchContext(settings, http, files), recorder)
    assert caught.value.retryable and path[1:] in one_line(caught.value)
    exchange = recorder.exchanges()[-1]
    assert ("retry-after", "1") in [(k.lower(), v) for k, v in exchange.response_headers]


# --- size caps ----------------------------------------------------------------------------------


def test_gzip_bomb_is_capped_on_the_decoded_size(server: FaultServer, files: FileStore) -> None:
    """20 kB on the wire, 20 MB decoded: the cap of 1 MB applies to what was decoded."""
    recorder, err = get(make_settings(files.root), server.url("/gzip-bomb?n=20000000"))
    assert isinstance(err, TooLargeError) and not err.retryable
    assert "cap of 1000000" in one_line(err)
    exchange = only(recorder)
    assert not exchange.complete and exchange.body_size < 1_000_000  # wire bytes, not decoded
    assert ("content-encoding", "gzip") in [(k.lower(), v) for k, v in exchange.response_headers]


def test_stacked_gzip_is_refused_before_decoding(server: FaultServer, files: FileStore) -> None:
    """Two layers turn one 64 kB network chunk into gigabytes in a single decode call."""
    recorder, err = get(make_settings(files.root), server.url("/gzip-bomb?n=50000000&layers=2"))
    assert isinstance(err, TooLargeError) and "stacked content encodings" in one_line(err)
    assert not only(recorder).complete


def test_gzip_bomb_media_leaves_no_file(server: FaultServer, files: FileStore) -> None:
    settings = make_settings(files.root, max_media_bytes=1_000_000)
    with Http(settings) as http, pytest.raises(TooLargeError):
        download(http, server.url("/gzip-bomb?n=20000000"), files, Recorder(), kind="photo")
    assert leftovers(files) == []


def test_endless_body_stops_at_the_cap(server: FaultServer, files: FileStore) -> None:
    recorder, err = get(make_settings(files.root), server.url("/endless"), max_bytes=300_000)
    assert isinstance(err, TooLargeError) and "cap of 300000" in one_line(err)
    assert not only(recorder).complete


def test_endless_media_stops_at_the_cap_and_leaves_no_file(
    server: FaultServer, files: FileStore
) -> None:
    settings = make_settings(files.root, max_media_bytes=2_000_000)
    recorder = Recorder()
    with Http(settings) as http, pytest.raises(TooLargeError):
        download(http, server.url("/endless"), files, recorder, kind="video")
    exchange = only(recorder)
    assert not exchange.complete and exchange.body_size >= 2_000_000
    del recorder, exchange
    assert leftovers(files) == []


def test_a_healthy_answer_still_works(server: FaultServer, files: FileStore) -> None:
    """The fault paths above are faults of the server, not of the client setup."""
    recorder = Recorder()
    with Http(make_settings(files.root)) as http:
        got = http.get(server.url("/bytes?n=5000"), recorder, "test", max_bytes=10_000)
    assert got.status == 200 and len(got.body) == 5000 and only(recorder).complete
