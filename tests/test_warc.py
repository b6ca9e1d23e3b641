"""WARC records: every exchange as request + response, derived data as metadata, yt-dlp's files as
resources; files rotated by size and named by their sha256 once sealed."""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database
from warcio.archiveiterator import ArchiveIterator

from embedarchive.capture.context import FetchContext
from embedarchive.capture.http import Http, utcnow
from embedarchive.models import BodyFile, HttpExchange, Target
from embedarchive.platforms.generic import GenericVideo
from embedarchive.settings import load_settings
from embedarchive.store.files import FileStore
from embedarchive.store.records import Store
from embedarchive.store.warc_seal import recover_open_files, seal_file

from .fakemedia import MEDIA, FakeMedia
from .helpers import SEED, cli_env, run


def record_at(archive: Path, db: Database, link: dict[str, Any]) -> Any:
    path = db.execute("select path from warc_files where name = ?", [link["warc_file"]]).fetchone()
    fh = open(archive / path[0], "rb")
    fh.seek(link["offset"])
    return fh, ArchiveIterator(fh)


def test_every_exchange_is_a_response_and_request_record(fake_platform, archive_dir: Path) -> None:
    assert run(["archive", str(SEED)], cli_env(fake_platform, archive_dir)).exit_code == 0
    db = Database(archive_dir / "archive.db")
    exchanges = list(db["http_exchanges"].rows)
    assert exchanges
    for exchange in exchanges:
        (link,) = db["warc_records"].rows_where("exchange_id = ?", [exchange["id"]])
        fh, records = record_at(archive_dir, db, link)
        with fh:
            response = next(records)
            assert response.rec_type == "response"
            assert response.rec_headers.get_header("WARC-Target-URI") == exchange["url"]
            assert response.rec_headers.get_header("WARC-Record-ID") == link["record_id"]
            assert response.http_headers.get_statuscode() == str(exchange["status"])
            body = response.content_stream().read()
            assert hashlib.sha256(body).hexdigest() == exchange["body_sha256"] == link["digest"]
            request = next(records)
            assert request.rec_type == "request"
            assert request.rec_headers.get_header("WARC-Concurrent-To") == link["record_id"]
            assert request.http_headers.protocol == "GET"
            assert request.http_headers.statusline.endswith(" HTTP/1.1")
    roles = {r["role"] for r in db["warc_records"].rows}
    assert {"exchange", "media", "capture", "detections", "article"} <= roles
    video = next(db["media"].rows_where("kind = 'video'"))
    media_link = next(db["warc_records"].rows_where("media_id = ?", [video["id"]]))
    assert media_link["record_type"] == "response" and media_link["digest"] == video["sha256"]


def test_sealed_warc_is_named_by_its_sha256_and_read_only(fake_platform, archive_dir: Path) -> None:
    assert run(["archive", str(SEED)], cli_env(fake_platform, archive_dir)).exit_code == 0
    db = Database(archive_dir / "archive.db")
    (warc,) = db["warc_files"].rows
    path = archive_dir / warc["path"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == warc["sha256"]
    assert warc["path"] == f"warc/{warc['sha256'][:2]}/{warc['sha256']}.warc.gz"
    assert not path.stat().st_mode & 0o222
    assert not list((archive_dir / "warc" / "open").iterdir())
    with open(path, "rb") as fh:
        first = next(ArchiveIterator(fh))
        assert first.rec_type == "warcinfo"
        assert b"embedarchive" in first.content_stream().read()
    assert warc["records"] == sum(1 for _ in ArchiveIterator(open(path, "rb")))
    assert not list((archive_dir / "tmp").iterdir())  # spooled bodies are gone


def test_warc_files_rotate_by_size(fake_platform, archive_dir: Path) -> None:
    env = cli_env(fake_platform, archive_dir, EMBEDARCHIVE_WARC_MAX_BYTES="1")
    assert run(["archive", str(SEED)], env).exit_code == 0
    db = Database(archive_dir / "archive.db")
    files = list(db["warc_files"].rows)
    assert len(files) > 2
    names = {f["name"] for f in files}
    assert {r["warc_file"] for r in db["warc_records"].rows} <= names
    capture = next(db["captures"].rows)
    in_capture = {
        r["warc_file"] for r in db["warc_records"].rows_where("capture_id = ?", [capture["id"]])
    }
    assert len(in_capture) == 1  # one capture's records stay together


class _Gzipped(BaseHTTPRequestHandler):
    page = "<html><head><title>Gzip</title></head><body><p>Hello, gzip.</p></body></html>"

    def do_GET(self) -> None:
        body = gzip.compress(self.page.encode())
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def gzip_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gzipped)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/article.html"
    server.shutdown()
    server.server_close()


def test_compressed_response_keeps_its_bytes_and_content_encoding(
    fake_platform, archive_dir: Path, gzip_server: str
) -> None:
    assert run(["archive", gzip_server], cli_env(fake_platform, archive_dir)).exit_code == 0
    db = Database(archive_dir / "archive.db")
    exchange = next(db["http_exchanges"].rows_where("url = ?", [gzip_server]))
    (link,) = db["warc_records"].rows_where("exchange_id = ?", [exchange["id"]])
    fh, records = record_at(archive_dir, db, link)
    with fh:
        response = next(records)
        assert response.http_headers.get_header("Content-Encoding") == "gzip"
        raw = response.raw_stream.read()
    assert gzip.decompress(raw).decode() == _Gzipped.page  # replay decodes it as a browser would
    assert hashlib.sha256(raw).hexdigest() == exchange["body_sha256"]


@pytest.fixture(scope="module")
def site() -> Iterator[FakeMedia]:
    with FakeMedia() as server:
        yield server


def _capture_and_store(site: FakeMedia, archive_dir: Path, path: str) -> Database:
    settings = load_settings(
        {"archive_dir": archive_dir, "allow_private_network": True}, environ={}
    ).settings
    files = FileStore(archive_dir)
    files.open()
    store = Store.open(settings.db_path)
    run_id = store.begin_run({"started_at": utcnow(), "command": "test", "software": "{}"})
    with Http(settings) as http:
        capture = GenericVideo().fetch(
            Target("video", f"generic:{path}", site.url(path), "video"),
            FetchContext(settings=settings, http=http, files=files),
        )
    assert capture.status == "archived", capture.error
    store.save_capture(capture, run_id)
    store.close()
    return Database(settings.db_path)


def test_ytdlp_merged_file_is_a_resource_record_with_its_info_json(
    site: FakeMedia, tmp_path: Path
) -> None:
    db = _capture_and_store(site, tmp_path, "/hls/index.m3u8")
    video = next(db["media"].rows)
    media_link = next(
        db["warc_records"].rows_where("media_id = ? and role = 'media'", [video["id"]])
    )
    assert media_link["record_type"] == "resource"  # no single response carried the merged file
    assert media_link["digest"] == video["sha256"]
    info_link = next(db["warc_records"].rows_where("role = 'ytdlp-info'"))
    fh, records = record_at(tmp_path, db, info_link)
    with fh:
        info = next(records)
        assert info.rec_type == "metadata"
        assert info.rec_headers.get_header("WARC-Refers-To") == media_link["record_id"]
        assert b'"extractor"' in info.content_stream().read()
    segments = [e for e in db["http_exchanges"].rows if e["url"].endswith(".ts")]
    assert segments and all(
        db["warc_records"].count_where("exchange_id = ?", [e["id"]]) == 1 for e in segments
    )


def test_ytdlp_direct_download_links_the_file_to_its_response(
    site: FakeMedia, tmp_path: Path
) -> None:
    db = _capture_and_store(site, tmp_path, "/media/video-best.mp4")
    video = next(db["media"].rows)
    assert video["sha256"] == hashlib.sha256((MEDIA / "video-best.mp4").read_bytes()).hexdigest()
    link = next(db["warc_records"].rows_where("media_id = ? and role = 'media'", [video["id"]]))
    assert link["record_type"] == "response"  # stored once in the WARC, not twice


def _crashed_open_warc(tmp_path: Path) -> Path:
    """A WARC with two records that a run left in ``warc/open`` (its process gone)."""
    store = Store.open(tmp_path / "archive.db")
    assert store.evidence is not None
    writer = store.evidence.warc
    writer.metadata("urn:test:one", {"n": 1})
    writer.metadata("urn:test:two", {"n": 2})
    open_file = next((tmp_path / "warc" / "open").iterdir())
    writer._fh.close()  # the process dies: the lock goes, nothing is sealed
    return open_file


def test_warc_left_open_by_a_crash_is_cut_back_and_sealed(tmp_path: Path) -> None:
    open_file = _crashed_open_warc(tmp_path)
    with open(open_file, "ab") as fh:
        fh.write(b"\x1f\x8b\x08\x00torn record")
    db = Database(tmp_path / "archive.db")
    sealed = recover_open_files(tmp_path, db, lambda row_id: None)
    assert len(sealed) == 1 and not open_file.exists()
    with open(tmp_path / sealed[0], "rb") as fh:
        kinds = [r.rec_type for r in ArchiveIterator(fh)]
    assert kinds == ["warcinfo", "metadata", "metadata"]


def test_big_bodies_are_streamed_not_held_in_memory(tmp_path: Path) -> None:
    import tracemalloc

    store = Store.open(tmp_path / "archive.db")
    assert store.evidence is not None
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        for _ in range(40):
            fh.write(os.urandom(1024 * 1024))
    spool = tmp_path / "tmp.body.part"
    shutil.copyfile(big, spool)
    exchange = HttpExchange(
        method="GET",
        url="http://example.test/big.bin",
        started_at=utcnow(),
        elapsed_ms=1.0,
        status=200,
        response_headers=(("Content-Type", "application/octet-stream"),),
        body_size=big.stat().st_size,
        body=BodyFile(spool),
    )
    tracemalloc.start()
    response = store.evidence.warc.exchange(exchange)
    resource = store.evidence.warc.resource("urn:test:big", big, "application/octet-stream")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, peak  # 40 MB went through, a few MB at most were held
    assert response.length > 40 * 1024 * 1024 and resource.length > 40 * 1024 * 1024
    assert not spool.exists()  # the spooled body is gone once written
    store.close()


def test_warc_whose_row_does_not_commit_stays_open_and_is_sealed_next_time(
    tmp_path: Path,
) -> None:
    open_file = _crashed_open_warc(tmp_path)
    db = Database(tmp_path / "archive.db")

    def disk_full(row_id: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        seal_file(tmp_path, db, open_file, 3, disk_full)
    assert db["warc_files"].count == 0
    assert open_file.exists() and open_file.stat().st_mode & 0o200
    assert list((tmp_path / "warc").glob("??/*.warc.gz")) == []  # no sealed file without a row
    (sealed,) = recover_open_files(tmp_path, db, lambda row_id: None)
    (row,) = db["warc_files"].rows
    assert row["name"] == open_file.name and row["path"] == sealed
    assert not open_file.exists() and not (tmp_path / sealed).stat().st_mode & 0o222


def test_warc_sealed_but_killed_before_its_open_name_went_is_not_sealed_twice(
    tmp_path: Path,
) -> None:
    open_file = _crashed_open_warc(tmp_path)
    db = Database(tmp_path / "archive.db")
    sealed = seal_file(tmp_path, db, open_file, 3, lambda row_id: None)
    os.link(tmp_path / sealed, open_file)  # the state a kill right after the commit leaves
    assert recover_open_files(tmp_path, db, lambda row_id: None) == []
    assert not open_file.exists() and db["warc_files"].count == 1
    assert (tmp_path / sealed).exists()


def test_warc_is_sealed_by_a_copy_where_the_file_system_has_no_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_file = _crashed_open_warc(tmp_path)
    original = open_file.read_bytes()
    db = Database(tmp_path / "archive.db")

    def no_hard_links(src: object, dst: object) -> None:  # what FAT answers
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_hard_links)
    sealed = seal_file(tmp_path, db, open_file, 3, lambda row_id: None)
    assert (tmp_path / sealed).read_bytes() == original and not open_file.exists()
    assert list((tmp_path / "warc" / "open").iterdir()) == []
    assert db["warc_files"].count == 1
