"""Archived files by sha256: types, nosniff, downloads, HTTP Range, and nothing outside media/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from embedarchive.store.files import FileStore
from embedarchive.store.records import Store
from embedarchive.web.files import byte_range

from .helpers import MEDIA, SEED
from .test_web import Client, build_archive


@pytest.fixture(scope="module")
def archive(fake_platform: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_archive(fake_platform, tmp_path_factory.mktemp("files") / "archive")


@pytest.fixture(scope="module")
def client(archive: Path) -> Iterator[Client]:
    c = Client(archive / "archive.db")
    yield c
    c.close()


@pytest.fixture(scope="module")
def video(archive: Path) -> dict[str, Any]:
    row = next(Database(archive / "archive.db")["media"].rows_where("kind = 'video'"))
    return {"url": f"/media/{row['sha256']}", "bytes": (MEDIA / "video-best.mp4").read_bytes()}


def test_video_is_served_inline_with_its_type_and_nosniff(client: Client, video: dict) -> None:
    response = client.get(video["url"])
    assert response.status_code == 200
    assert response.content == video["bytes"]
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-disposition"].startswith("inline; filename=")
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"


def test_download_link_asks_for_an_attachment(client: Client, video: dict) -> None:
    disposition = client.get(video["url"] + "?download=1").headers["content-disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith('.mp4"')


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=100-199", 100, 199), ("bytes=8000-", 8000, 8215), ("bytes=-16", 8200, 8215),
     ("bytes=8100-99999", 8100, 8215)],
)  # fmt: skip
def test_ranges_are_answered_with_206(
    client: Client, video: dict, header: str, start: int, end: int
) -> None:
    response = client.get(video["url"], headers={"range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(video['bytes'])}"
    assert response.content == video["bytes"][start : end + 1]


def test_unsatisfiable_range_is_416_and_multiple_ranges_get_the_whole_file(
    client: Client, video: dict
) -> None:
    bad = client.get(video["url"], headers={"range": "bytes=99999-"})
    assert bad.status_code == 416 and bad.headers["content-range"] == "bytes */8216"
    whole = client.get(video["url"], headers={"range": "bytes=0-1,5-6"})
    assert whole.status_code == 200 and whole.content == video["bytes"]


def test_head_and_conditional_requests(client: Client, video: dict) -> None:
    head = client.run(client.datasette.client.request("HEAD", video["url"]))
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(video["bytes"]))
    etag = head.headers["etag"]
    again = client.get(video["url"], headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""


def test_article_bytes_are_shown_as_plain_text_source(client: Client, archive: Path) -> None:
    article = next(Database(archive / "archive.db")["articles"].rows)
    response = client.get(f"/media/{article['sha256']}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == SEED.read_bytes()


def test_photo_is_an_image(client: Client, archive: Path) -> None:
    photo = next(Database(archive / "archive.db")["media"].rows_where("kind = 'photo'"))
    response = client.get(f"/media/{photo['sha256']}")
    assert response.headers["content-type"] == "image/jpeg"


def test_html_is_source_unknown_types_download_and_paths_stay_in_media(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    store = Store.open(folder / "archive.db")
    files = FileStore(folder)
    files.open()
    html_sha, html_rel = files.put_bytes(b"<script>alert(1)</script>", "text/html")
    bin_sha, bin_rel = files.put_bytes(b"\x00\x01binary", "application/x-thing")
    (tmp_path / "secret.txt").write_text("outside the archive")
    rows = [(html_sha, html_rel, "text/html"), (bin_sha, bin_rel, "application/x-thing"),
            ("e" * 64, "media/../../secret.txt", "text/plain"), ("d" * 64, "/etc/hostname", "text/plain")]  # fmt: skip
    store.db["media"].insert_all(
        {"capture_id": None, "sha256": sha, "path": path, "mime": mime, "kind": "photo"}
        for sha, path, mime in rows
    )
    store.close()
    client = Client(folder / "archive.db")
    try:
        html = client.get(f"/media/{html_sha}")
        assert html.headers["content-type"] == "text/plain; charset=utf-8"
        other = client.get(f"/media/{bin_sha}")
        assert other.headers["content-type"] == "application/octet-stream"
        assert other.headers["content-disposition"].startswith("attachment;")
        assert client.get("/media/" + "e" * 64).status_code == 404
        assert client.get("/media/" + "d" * 64).status_code == 404
        assert client.get("/media/" + "E" * 64).status_code == 404
    finally:
        client.close()


def test_byte_range_parsing() -> None:
    assert byte_range(None, 10) is None
    assert byte_range("bytes=0-0", 10) == (0, 0)
    assert byte_range("bytes=-100", 10) == (0, 9)
    assert byte_range("items=0-1", 10) is None
    assert byte_range("bytes=-", 10) is None
    with pytest.raises(ValueError):
        byte_range("bytes=10-", 10)
    with pytest.raises(ValueError):
        byte_range("bytes=5-2", 10)


def test_warc_files_and_single_records_are_downloads(client: Client, archive: Path) -> None:
    import gzip

    db = Database(archive / "archive.db")
    [record] = db.query(
        """select r.id, r."offset", r.length, r.record_id, w.sha256, w.path from warc_records r
           join warc_files w on w.name = r.warc_file where r.record_type = 'response' limit 1"""
    )
    data = (archive / record["path"]).read_bytes()
    whole = client.get(f"/warc/{record['sha256']}")
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "application/octet-stream"
    assert whole.headers["content-disposition"].startswith("attachment")
    assert whole.headers["x-content-type-options"] == "nosniff"
    one = client.get(f"/warc-records/{record['id']}")
    start, end = record["offset"], record["offset"] + record["length"]
    assert one.status_code == 200 and one.content == data[start:end]
    assert gzip.decompress(one.content).startswith(b"WARC/1.1")
    assert record["record_id"].encode() in gzip.decompress(one.content)
    part = client.get(f"/warc-records/{record['id']}", headers={"range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == data[start : start + 10]
    assert client.get("/warc/" + "0" * 64).status_code == 404
    assert client.get("/warc-records/999999").status_code == 404
