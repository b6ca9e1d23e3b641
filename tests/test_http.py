"""The client's guard and recorder, over real HTTP to the local fake platform."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from embedarchive.capture.http import Http, PinnedTransport, Recorder, check_public_host
from embedarchive.capture.media import download
from embedarchive.errors import BlockedAddressError, TooLargeError
from embedarchive.store.files import FileStore

from .helpers import MEDIA, settings_for, sha256_file


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ],
)
def test_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddressError, match="non-public"):
        check_public_host(url, allow_private=False)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://x/"])
def test_only_http_is_fetched(url: str) -> None:
    with pytest.raises(BlockedAddressError, match="only http"):
        check_public_host(url, allow_private=True)


def test_guard_applies_to_real_requests(fake_platform, archive_dir: Path) -> None:
    settings = settings_for(fake_platform, archive_dir, allow_private_network=False)
    recorder = Recorder()
    with Http(settings) as http, pytest.raises(BlockedAddressError):
        http.get(fake_platform.base_url + "/oembed", recorder, "test", max_bytes=1000)
    assert fake_platform.requests == []
    (refused,) = recorder.exchanges()  # the refusal itself is part of the provenance
    assert refused.status is None and "non-public" in (refused.error or "")


def test_json_size_cap(fake_platform, archive_dir: Path) -> None:
    settings = settings_for(fake_platform, archive_dir)
    with Http(settings) as http, pytest.raises(TooLargeError):
        http.get(
            fake_platform.base_url
            + "/video/amplify_video/1684020091854225408/vid/886x546/_Mb5SBNFpaVehGMW.mp4",
            Recorder(),
            "test",
            max_bytes=100,
        )


def test_media_cap_leaves_no_file(fake_platform, archive_dir: Path) -> None:
    settings = settings_for(fake_platform, archive_dir, max_media_bytes=100)
    files = FileStore(archive_dir)
    files.open()
    with Http(settings) as http, pytest.raises(TooLargeError):
        download(
            http,
            fake_platform.base_url + "/media/FsZNOgcWAAEQtrd.jpg?name=orig",
            files,
            Recorder(),
            kind="photo",
        )
    assert not any(p.is_file() for p in (archive_dir / "media").rglob("*"))
    assert not any((archive_dir / "tmp").iterdir())


def test_download_sniffs_mime_and_records_the_exchange(fake_platform, archive_dir: Path) -> None:
    settings = settings_for(fake_platform, archive_dir)
    files = FileStore(archive_dir)
    files.open()
    recorder = Recorder()
    url = (
        fake_platform.base_url + "/amplify_video_thumb/1684020091854225408/img/xtWb477NwDzZ1VvG.jpg"
    )
    with Http(settings) as http:
        got = download(http, url, files, recorder, kind="thumbnail")
    assert got.mime == "image/jpeg"
    assert got.info["declared_content_type"] != "image/jpeg"  # the server lied; the bytes did not
    (exchange,) = recorder.exchanges()
    assert exchange.body_sha256 == got.sha256 and exchange.body_size == got.size
    assert exchange.request_headers and exchange.response_headers
    assert got.sha256 in {sha256_file(p) for p in MEDIA.glob("*.jpg")}


def test_connect_time_check_cannot_be_bypassed(fake_platform) -> None:
    """Even without the URL check, the socket layer only connects to addresses it checked."""
    port = fake_platform.base_url.rsplit(":", 1)[1]
    with httpx.Client(transport=PinnedTransport(allow_private=False)) as client:
        with pytest.raises(BlockedAddressError, match="non-public address 127.0.0.1"):
            client.get(f"http://localhost:{port}/oembed")
    with httpx.Client(transport=PinnedTransport(allow_private=True)) as client:
        assert client.get(f"http://localhost:{port}/oembed").status_code == 400  # no url= given
