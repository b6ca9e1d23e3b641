"""Media downloads that break mid-body, over real HTTP to ``faultserver.py``'s ``/ranged``: the
rest is asked for with ``Range`` and appended, the stored file is the server's file byte for
byte, and every request (the broken one too) is a recorded exchange; a server that takes no
ranges ends in a retryable failure with nothing left behind. The last test runs the same
through the CLI, the fake X platform and the WARC, and ``verify``.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from embedarchive.capture.http import Http, Recorder
from embedarchive.capture.media import RESUMES, download
from embedarchive.cli import cli
from embedarchive.errors import FetchError
from embedarchive.settings import Settings, load_settings
from embedarchive.store.files import FileStore

from .fakeplatform import DATA_DIR, SEED_ID
from .faultserver import FaultServer, ranged_body
from .helpers import SEED, cli_env

SIZE = 300_000
CUT = 100_000


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.fixture
def files(tmp_path: Path) -> FileStore:
    store = FileStore(tmp_path / "archive")
    store.open()
    return store


def settings(root: Path) -> Settings:
    overrides = {"archive_dir": root, "allow_private_network": True, "http_retries": 0}
    return load_settings(overrides, environ={}).settings


def fetch(server: FaultServer, files: FileStore, query: str) -> tuple[Any, Recorder]:
    recorder = Recorder()
    with Http(settings(files.root)) as http:
        media = download(http, server.url(f"/ranged?{query}"), files, recorder, kind="video")
    return media, recorder


def fails(server: FaultServer, files: FileStore, query: str) -> tuple[FetchError, Recorder]:
    recorder = Recorder()
    with Http(settings(files.root)) as http, pytest.raises(FetchError) as caught:
        download(http, server.url(f"/ranged?{query}"), files, recorder, kind="video")
    return caught.value, recorder


def leftovers(store: FileStore) -> list[Path]:
    gc.collect()  # spooled bodies of exchanges nobody stored go with their last reference
    return [p for p in (*store.media.rglob("*"), *store.tmp.rglob("*")) if p.is_file()]


def header(exchange: Any, name: str) -> str | None:
    return next((v for k, v in exchange.request_headers if k.lower() == name), None)


def test_a_gzip_encoded_file_is_stored_decoded_and_its_length_is_not_the_files(
    server: FaultServer, files: FileStore
) -> None:
    """Content-Length of a gzip-encoded answer counts the bytes sent: the file arrives whole
    (it was reported 'truncated' and retried for ever); a cut is still a broken download."""
    recorder = Recorder()
    with Http(settings(files.root)) as http:
        media = download(http, server.url(f"/gzipped?n={SIZE}"), files, recorder, kind="photo")
        assert media.sha256 == hashlib.sha256(ranged_body(SIZE)).hexdigest()
        assert media.size == SIZE
        with pytest.raises(FetchError) as caught:
            download(http, server.url(f"/gzipped?n={SIZE}&cut=5000"), files, recorder, kind="photo")  # fmt: skip
    assert caught.value.retryable


def test_broken_download_is_resumed_with_range(server: FaultServer, files: FileStore) -> None:
    media, recorder = fetch(server, files, f"n={SIZE}&cut={CUT}")
    expected = hashlib.sha256(ranged_body(SIZE)).hexdigest()
    assert media.sha256 == expected and media.size == SIZE
    stored = files.path(media.path).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == expected
    broken, rest = recorder.exchanges()
    assert (broken.status, broken.complete, broken.body_size) == (200, False, CUT)
    assert broken.error and header(broken, "range") is None
    assert (rest.status, rest.complete, rest.body_size) == (206, True, SIZE - CUT)
    assert header(rest, "range") == f"bytes={CUT}-"
    assert header(rest, "if-range") == '"ranged-v1"'
    assert media.info["resumed"] == [{"from": CUT, "status": 206}]
    del recorder, broken, rest
    assert leftovers(files) == [files.path(media.path)]


def test_server_without_ranges_is_a_retryable_failure(
    server: FaultServer, files: FileStore
) -> None:
    err, recorder = fails(server, files, f"n={SIZE}&cut={CUT}&ranges=0")
    assert err.retryable and "broke off" in str(err)
    (only,) = recorder.exchanges()
    assert only.status == 200 and not only.complete
    del recorder, only
    assert leftovers(files) == []


def test_resuming_gives_up_after_a_few_breaks(server: FaultServer, files: FileStore) -> None:
    err, recorder = fails(server, files, f"n={SIZE}&cut=1000&cut206=1")
    assert err.retryable and "broke off" in str(err)
    exchanges = recorder.exchanges()
    assert len(exchanges) == RESUMES + 1 and not any(e.complete for e in exchanges)
    assert [header(e, "range") for e in exchanges] == [None, "bytes=1000-", "bytes=2000-", "bytes=3000-"]  # fmt: skip
    del recorder, exchanges
    assert leftovers(files) == []


def test_range_answered_with_the_whole_file_starts_over(
    server: FaultServer, files: FileStore, tmp_path: Path
) -> None:
    media, recorder = fetch(server, files, f"n={SIZE}&cut={CUT}&range=ignore&once={tmp_path}")
    assert media.sha256 == hashlib.sha256(ranged_body(SIZE)).hexdigest()
    assert [e.status for e in recorder.exchanges()] == [200, 200]
    assert media.info["resumed"] == [{"from": CUT, "status": 200}]


def test_range_that_does_not_continue_is_refused(server: FaultServer, files: FileStore) -> None:
    err, recorder = fails(server, files, f"n={SIZE}&cut={CUT}&range=wrong")
    assert err.retryable and "206 bytes 0-" in str(err)
    assert [e.status for e in recorder.exchanges()] == [200, 206]
    del recorder
    assert leftovers(files) == []


def test_resumed_video_is_archived_with_both_exchanges_and_verifies(
    server: FaultServer, fake_platform: Any, archive_dir: Path
) -> None:
    tweet = json.loads((DATA_DIR / "syndication" / f"{SEED_ID}.json").read_text("utf-8"))
    video = tweet["mediaDetails"][0]
    url = server.url(f"/ranged/clip.mp4?n={SIZE}&cut={CUT}")
    video["video_info"]["variants"] = [{"bitrate": 1, "content_type": "video/mp4", "url": url}]
    video.pop("media_url_https")
    fake_platform.tweets[SEED_ID] = json.dumps(tweet, ensure_ascii=False)
    env = cli_env(fake_platform, archive_dir)

    result = CliRunner().invoke(cli, ["archive", str(SEED)], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    db = Database(archive_dir / "archive.db")
    (media,) = db["media"].rows
    assert media["sha256"] == hashlib.sha256(ranged_body(SIZE)).hexdigest()
    assert json.loads(media["info"])["resumed"] == [{"from": CUT, "status": 206}]
    exchanges = list(
        db.query("select * from http_exchanges where url like '%/ranged/%' order by id")
    )
    assert [(e["status"], e["complete"]) for e in exchanges] == [(200, 0), (206, 1)]
    assert f"bytes={CUT}-" in exchanges[1]["request_headers"]
    verified = CliRunner().invoke(cli, ["verify"], env=env, catch_exceptions=False)
    assert verified.exit_code == 0, verified.output


@pytest.mark.parametrize(
    ("declared", "body", "recorded"),
    [
        ("image/png", "html", "application/octet-stream"),  # a page is no picture to show
        ("video/mp4", "html", "application/octet-stream"),
        ("audio/wav", "html", "application/octet-stream"),  # a browser's name for a type
        ("text/html", "png", "image/png"),  # the bytes say what the file is
        ("IMAGE/SVG+XML; charset=utf-8", "svg", "image/svg+xml"),  # no bytes to tell it by
        ("image/png", "svg", "application/octet-stream"),  # text is no picture either
        ("video/mp4", "fmp4", "video/mp4"),  # beyond filetype's signatures: as declared
        ("audio/mpeg", "mp3crc", "audio/mpeg"),
        ("image/avif", "avis", "image/avif"),
    ],
)
def test_the_stored_type_is_what_the_bytes_are_not_what_the_server_said(
    server: FaultServer, files: FileStore, declared: str, body: str, recorded: str
) -> None:
    recorder = Recorder()
    url = server.url(f"/typed?{urlencode({'type': declared, 'body': body})}")
    with Http(settings(files.root)) as http:
        media = download(http, url, files, recorder, kind="photo")
    assert media.mime == recorded
    assert media.info["declared_content_type"] == declared  # what the server said is kept
