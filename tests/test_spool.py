"""Bodies kept for their WARC records: in memory while small, in a temp file past the size
limit or once the memory budget is spent; the WARC record is the same bytes either way."""

from __future__ import annotations

import gc
import gzip
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from embedarchive.capture.http import SPOOL_IN_MEMORY, Http, MemoryBudget, Recorder, Spool
from embedarchive.capture.media import download
from embedarchive.models import BodyFile, HttpExchange
from embedarchive.store.files import FileStore
from embedarchive.store.records import Store

from .faultserver import FaultServer
from .test_faults import make_settings


def spooled(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.body.part"))


def test_a_small_body_is_held_in_memory_and_gives_its_budget_back(tmp_path: Path) -> None:
    budget = MemoryBudget(1000)
    spool = Spool(tmp_path, in_memory=100, budget=budget)
    spool.write(b"abc")
    spool.write(b"def")
    body = spool.close(complete=True)
    assert body is not None and body.path is None
    with body.open() as fh:
        assert fh.read() == b"abcdef"
    assert spooled(tmp_path) == []
    assert not budget.take(995)  # 6 of its 1000 bytes are held
    body.discard()
    assert budget.take(1000)
    with pytest.raises(ValueError):
        body.open()


def test_a_body_of_exactly_the_limit_is_still_held(tmp_path: Path) -> None:
    spool = Spool(tmp_path, in_memory=8, budget=MemoryBudget(100))
    spool.write(b"0123")
    spool.write(b"4567")
    body = spool.close(complete=True)
    assert body is not None and body.path is None and spooled(tmp_path) == []


def test_past_the_limit_what_was_held_and_the_rest_go_to_a_temp_file(tmp_path: Path) -> None:
    budget = MemoryBudget(1000)
    spool = Spool(tmp_path, in_memory=10, budget=budget)
    chunks = [b"0123", b"4567", b"89ab", b"cdef"]
    for chunk in chunks:
        spool.write(chunk)
    (path,) = spooled(tmp_path)
    body = spool.close(complete=True)
    assert body is not None and body.path == path
    assert path.read_bytes() == b"".join(chunks)  # every byte, in order
    assert budget.take(1000)  # what was held before the roll-over was given back
    budget.give(1000)
    body.discard()
    assert not path.exists()


def test_once_the_budget_is_spent_bodies_go_to_disk_until_it_is_given_back(
    tmp_path: Path,
) -> None:
    budget = MemoryBudget(10)
    first, second = (Spool(tmp_path, in_memory=100, budget=budget) for _ in range(2))
    first.write(b"x" * 8)
    second.write(b"y" * 8)  # 16 bytes would be over the budget of 10
    held, on_disk = first.close(complete=True), second.close(complete=True)
    assert held is not None and held.path is None
    assert on_disk is not None and on_disk.path is not None
    assert on_disk.path.read_bytes() == b"y" * 8
    del held  # a body nobody stores gives its memory back when it goes
    gc.collect()
    third = Spool(tmp_path, in_memory=100, budget=budget)
    third.write(b"z" * 8)
    again = third.close(complete=True)
    assert again is not None and again.path is None


def test_an_incomplete_body_is_not_kept_in_memory_or_on_disk(tmp_path: Path) -> None:
    budget = MemoryBudget(100)
    small = Spool(tmp_path, in_memory=50, budget=budget)
    small.write(b"x" * 20)
    big = Spool(tmp_path, in_memory=10, budget=budget)
    big.write(b"y" * 20)
    assert small.close(complete=False) is None and big.close(complete=False) is None
    assert spooled(tmp_path) == []
    assert budget.take(100)


def test_without_an_archive_nothing_is_spooled() -> None:
    spool = Spool(None)
    spool.write(b"abc")
    assert spool.close(complete=True) is None


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def test_downloads_are_held_in_memory_up_to_the_limit(server: FaultServer, tmp_path: Path) -> None:
    files = FileStore(tmp_path / "archive")
    files.open()
    small, big = Recorder(), Recorder()
    with Http(make_settings(files.root)) as http:
        photo = download(http, server.url("/bytes?n=3000"), files, small, kind="photo")
        video = download(
            http, server.url(f"/bytes?n={SPOOL_IN_MEMORY + 1}"), files, big, kind="video"
        )
    (held,), (rolled,) = small.exchanges(), big.exchanges()
    assert held.body is not None and held.body.path is None
    with held.body.open() as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == held.body_sha256 == photo.sha256
    assert rolled.body is not None and rolled.body.path is not None
    assert rolled.body.path.parent == files.tmp
    assert hashlib.sha256(rolled.body.path.read_bytes()).hexdigest() == video.sha256
    assert spooled(files.tmp) == [rolled.body.path]  # the small one never touched the disk


def _record_bytes(archive: Path, offset: int, length: int) -> bytes:
    """One record as written (its gzip member undone), without its random WARC-Record-ID."""
    (warc,) = (archive / "warc" / "open").iterdir()
    with open(warc, "rb") as fh:
        fh.seek(offset)
        raw = gzip.decompress(fh.read(length))
    return b"\r\n".join(
        line for line in raw.split(b"\r\n") if not line.startswith(b"WARC-Record-ID:")
    )


def test_the_warc_record_is_the_same_from_memory_or_from_a_file(tmp_path: Path) -> None:
    payload = os.urandom(5000)
    spool_file = tmp_path / "tmp.body.part"
    spool_file.write_bytes(payload)

    def exchange(body: BodyFile) -> HttpExchange:
        return HttpExchange(
            method="GET",
            url="http://example.test/photo.jpg",
            started_at="2024-05-01T10:00:00.000Z",
            elapsed_ms=1.0,
            status=200,
            response_headers=(("Content-Type", "image/jpeg"), ("Content-Length", "5000")),
            body_sha256=hashlib.sha256(payload).hexdigest(),
            body_size=len(payload),
            body=body,
        )

    store = Store.open(tmp_path / "archive.db")
    assert store.evidence is not None
    warc = store.evidence.warc
    in_memory = warc.exchange(exchange(BodyFile.in_memory(payload)))
    from_file = warc.exchange(exchange(BodyFile(spool_file)))
    first = _record_bytes(tmp_path, in_memory.offset, in_memory.length)
    assert first == _record_bytes(tmp_path, from_file.offset, from_file.length)
    assert first.endswith(b"\r\n\r\n" + payload + b"\r\n\r\n")
    assert in_memory.digest == from_file.digest == hashlib.sha256(payload).hexdigest()
    assert not spool_file.exists()  # written, then let go
    store.close()
