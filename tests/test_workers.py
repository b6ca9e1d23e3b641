"""Concurrent batches (workers.py): the same archive as one job, one writer, no lost errors."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from embedarchive.cli import cli
from embedarchive.workers import Serialized, Writer, run_concurrently

from .helpers import ARTICLES, SEED, cli_env

SOCIAL = ARTICLES / "social-telegram-bluesky-mastodon.html"


def _articles(tmp_path: Path, n: int) -> Path:
    """A list of ``n`` articles, reprints of two pages sharing their posts."""
    paths = []
    for i in range(n):
        source = SOCIAL if i % 2 else SEED
        path = tmp_path / f"article-{i:02d}{source.suffix}"
        path.write_bytes(source.read_bytes() + f"\n<!-- reprint {i} -->\n".encode())
        paths.append(str(path))
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(paths) + "\n", encoding="utf-8")
    return listing


def _rows(archive: Path) -> dict[str, object]:
    db = Database(archive / "archive.db")
    return {
        "articles": sorted(r["source"] for r in db["articles"].rows),
        "posts": sorted((r["platform"], r["post_id"], r["status"]) for r in db["posts"].rows),
        "captures": sorted(
            (r["platform"], r["post_id"], r["status"])
            for r in db.query("select * from captures where parent_capture_id is null")
        ),
        "media": sorted(r["sha256"] for r in db["media"].rows),
        "detections": db["detections"].count,
        "linked": db.execute("select count(*) from detections where post_pk is null").fetchone(),
        "queue": sorted((r["kind"], r["key"], r["state"]) for r in db["queue"].rows),
    }


def test_a_concurrent_batch_stores_what_one_job_stores(fake_platform, tmp_path: Path) -> None:
    listing = _articles(tmp_path, 10)
    fake_platform.delay = 0.05
    one, many = tmp_path / "one", tmp_path / "many"
    env = cli_env(fake_platform, one)
    first = CliRunner().invoke(cli, ["archive", "--from", str(listing), "--jobs", "1"], env=env)
    assert first.exit_code == 0, first.output
    assert fake_platform.max_active == 1

    fake_platform.reset()
    fake_platform.delay = 0.05
    env = cli_env(fake_platform, many)
    second = CliRunner().invoke(cli, ["archive", "--from", str(listing), "--jobs", "6"], env=env)
    assert second.exit_code == 0, second.output
    assert fake_platform.max_active >= 2  # concurrent

    assert _rows(many) == _rows(one)  # same rows, each post captured once
    assert not list((many / "tmp").iterdir())
    verified = CliRunner().invoke(cli, ["verify"], env=env)
    assert verified.exit_code == 0, verified.output


def test_store_calls_run_on_the_writer_thread() -> None:
    owner = threading.get_ident()
    seen: list[int] = []

    class Recorder:
        def note(self, value: int) -> int:
            seen.append(threading.get_ident())
            return value * 2

    writer = Writer()
    shared = Serialized(Recorder(), writer)
    done: list[int] = []
    results = run_concurrently(4, lambda i: shared.note(i), range(20), writer, done.append)
    assert sorted(results) == sorted(done) == [i * 2 for i in range(20)]
    assert set(seen) == {owner}


def test_a_worker_bug_stops_the_batch_without_hanging() -> None:
    writer = Writer()

    def work(i: int) -> int:
        if i == 3:
            raise RuntimeError("bug")
        return i

    with pytest.raises(RuntimeError, match="bug"):
        run_concurrently(2, work, range(50), writer, lambda _: None)
    assert os.getpid()  # reached without a hang
