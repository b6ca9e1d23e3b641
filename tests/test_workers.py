"""Concurrent batches (workers.py): the same archive as one job, one writer, no lost errors."""

from __future__ import annotations

import functools
import os
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from embedarchive.cli import cli
from embedarchive.workers import Crew, Serialized, Writer, run_concurrently

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


class _Gauge:
    """How many calls run at the same moment, at most."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = self.most = 0

    def call(self, seconds: float, value: int) -> int:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        time.sleep(seconds)
        with self.lock:
            self.active -= 1
        return value


def test_an_articles_targets_are_shared_out_to_idle_threads() -> None:
    gauge, crew = _Gauge(), Crew(4)

    def article(i: int) -> list[int]:
        return crew.map([functools.partial(gauge.call, 0.2, i * 10 + t) for t in range(4)])

    t0 = time.monotonic()
    results = run_concurrently(4, article, [1], Writer(), lambda _: None, crew)
    assert results == [[10, 11, 12, 13]]  # in order
    assert time.monotonic() - t0 < 0.6  # four 0.2 s targets at once, not one after another
    assert gauge.most == 4


def test_the_crew_never_runs_more_than_jobs_at_once() -> None:
    gauge, crew = _Gauge(), Crew(3)

    def article(i: int) -> int:
        return sum(crew.map([functools.partial(gauge.call, 0.01, 1) for _ in range(i % 5)]))

    results = run_concurrently(3, article, range(40), Writer(), lambda _: None, crew)
    assert sorted(results) == sorted(i % 5 for i in range(40))
    assert gauge.most <= 3


def test_a_target_error_reaches_its_article_and_stops_the_batch() -> None:
    crew = Crew(2)

    def target(i: int) -> int:
        if i == 7:
            raise RuntimeError("bug in a target")
        return i

    def article(i: int) -> list[int]:
        return crew.map([functools.partial(target, i), functools.partial(target, i + 100)])

    with pytest.raises(RuntimeError, match="bug in a target"):
        run_concurrently(2, article, range(30), Writer(), lambda _: None, crew)


def test_outside_a_crew_map_runs_one_call_after_another() -> None:
    order: list[int] = []
    assert Crew(4).map([functools.partial(order.append, i) for i in range(3)]) == [None] * 3
    assert order == [0, 1, 2]


def test_ctrl_c_landing_as_a_store_call_finishes_is_an_interruption(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The signal arrives inside ``Future.set_result``, after the call's future finished: the
    writer set an exception on it too (InvalidStateError, a traceback and exit 1)."""
    from concurrent.futures import Future

    real = Future.set_result
    hits: list[int] = []

    def interrupted(self: Future, result: object) -> None:
        real(self, result)
        if not hits and threading.current_thread() is threading.main_thread():
            hits.append(1)
            raise KeyboardInterrupt

    class Store:
        def save(self, value: int) -> int:
            return value

    writer = Writer()
    shared = Serialized(Store(), writer)
    monkeypatch.setattr(Future, "set_result", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_concurrently(2, lambda i: shared.save(i), range(10), writer, lambda _: None)
    assert hits == [1]
