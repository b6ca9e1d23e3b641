"""The resumable work queue: kill -9 mid-batch then resume, re-running continues, retry backoff."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from sqlite_utils import Database

from embedarchive.batch import BatchSpec
from embedarchive.cli import cli
from embedarchive.models import Target
from embedarchive.queue import Queue, backoff
from embedarchive.settings import Settings
from embedarchive.store.records import Store
from embedarchive.tracker import QueueTracker

from .helpers import ARTICLES, SEED, cli_env

SOCIAL = ARTICLES / "social-telegram-bluesky-mastodon.html"


def _articles(tmp_path: Path, n: int) -> list[Path]:
    """``n`` distinct articles: the seed text and the social page, each reprinted with a footer."""
    paths = []
    for i in range(n):
        source = SOCIAL if i % 2 else SEED
        path = tmp_path / f"article-{i:02d}{source.suffix}"
        path.write_bytes(source.read_bytes() + f"\n<!-- reprint {i} -->\n".encode())
        paths.append(path)
    return paths


def _done_articles(db_path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute(
                "select count(*) from queue where kind = 'article' and state = 'done'"
            ).fetchone()
            return int(row[0])
    except sqlite3.Error:
        return 0


def test_kill_9_mid_batch_then_resume(fake_platform, archive_dir: Path, tmp_path: Path) -> None:
    sources = _articles(tmp_path, 24)  # enough that the kill lands before the end
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(map(str, sources)) + "\n", encoding="utf-8")
    fake_platform.delay = 0.1
    env = {**os.environ, **cli_env(fake_platform, archive_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "embedarchive", "archive", "--from", str(listing)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while _done_articles(archive_dir / "archive.db") < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, "the batch finished before it could be killed"
        time.sleep(0.05)
    time.sleep(random.uniform(0, 0.3))  # somewhere inside the next article
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert _done_articles(archive_dir / "archive.db") < len(sources)

    fake_platform.delay = 0.0
    resumed = CliRunner().invoke(
        cli, ["archive", "--resume"], env=cli_env(fake_platform, archive_dir)
    )
    assert resumed.exit_code == 0, resumed.output

    db = Database(archive_dir / "archive.db")
    per_source = {
        r["source"]: r["n"]
        for r in db.query("select source, count(*) as n from articles group by source")
    }
    assert per_source == {str(p): 1 for p in sources}
    assert db["queue_batches"].count == 1
    assert {r["state"] for r in db["queue"].rows_where("kind = 'article'")} == {"done"}
    assert db["posts"].count == 4  # the seed's X post, and the social page's three
    archived = db.execute(
        "select post_pk, count(*) from captures where status = 'archived' and "
        "parent_capture_id is null group by post_pk having count(*) > 1"
    ).fetchall()
    assert archived == []  # every post captured once, kill or not
    duplicates = db.execute(
        "select article_id, platform, offset from detections group by 1, 2, 3 having count(*) > 1"
    ).fetchall()
    assert duplicates == []
    assert not [p for p in (archive_dir / "media").rglob("*") if p.suffix == ".part"]
    assert list((archive_dir / "tmp").iterdir()) == []
    verified = CliRunner().invoke(cli, ["verify"], env=cli_env(fake_platform, archive_dir))
    assert verified.exit_code == 0, verified.output


def test_rerunning_the_same_command_continues_the_batch(
    fake_platform, archive_dir: Path, tmp_path: Path
) -> None:
    sources = [str(p) for p in _articles(tmp_path, 2)]
    settings = Settings(archive_dir=archive_dir)
    store = Store.open(settings.db_path)
    queue = Queue(store, settings)
    spec = BatchSpec(tuple(sources))
    batch = queue.create_batch(spec.key, "archive", spec.to_json(), sources, 0)
    first = queue.articles(batch)[0]
    queue.start(first.id)  # as a killed run leaves it
    store.close()

    result = CliRunner().invoke(cli, ["archive", *sources], env=cli_env(fake_platform, archive_dir))
    assert result.exit_code == 0, result.output
    db = Database(archive_dir / "archive.db")
    assert db["queue_batches"].count == 1
    assert [r["state"] for r in db["queue"].rows_where("kind = 'article'")] == ["done", "done"]
    assert db["articles"].count == 2

    again = CliRunner().invoke(cli, ["archive", *sources], env=cli_env(fake_platform, archive_dir))
    assert again.exit_code == 0  # a finished batch: the same command starts a new one
    assert db["queue_batches"].count == 2 and db["articles"].count == 2


def _resolution(db_path: Path, detection_id: int) -> str | None:
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute(
                "select resolution from detections where id = ?", [detection_id]
            ).fetchone()
            return str(row[0]) if row else None
    except sqlite3.Error:
        return None


def test_a_short_link_followed_before_a_kill_is_not_followed_again(
    fake_platform, archive_dir: Path, tmp_path: Path
) -> None:
    """Two copied posts: the first one's pic.twitter.com link is followed, then the second
    one's t.co link waits out a 429; a kill -9 there keeps the first resolution."""
    article = tmp_path / "two-copies.txt"
    article.write_text(
        SEED.read_text(encoding="utf-8") + "\n\nA second copy https://t.co/TwoHopSeed\n"
        "— TRHaber (@trhaber_com) November 14, 2025\n",
        encoding="utf-8",
    )
    fake_platform.throttle("/tco/", times=1, retry_after="30")
    env = cli_env(
        fake_platform,
        archive_dir,
        EMBEDARCHIVE_HTTP_RETRIES="1",
        EMBEDARCHIVE_HTTP_BACKOFF_MAX="60",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "embedarchive", "archive", str(article)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    try:
        while not fake_platform.requests_to("/tco/"):  # the first link is followed by then
            assert proc.poll() is None and time.monotonic() < deadline, "t.co never asked"
            time.sleep(0.02)
        while _resolution(archive_dir / "archive.db", 1) != "resolved":
            assert time.monotonic() < deadline, "the first resolution was never stored"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    fake_platform.reset()
    again = CliRunner().invoke(cli, ["archive", str(article)], env=env)
    assert again.exit_code == 0, again.output
    assert fake_platform.requests_to("/pic/") == []  # not followed twice
    assert fake_platform.requests_to("/tco/")
    resolutions = [d["resolution"] for d in Database(archive_dir / "archive.db")["detections"].rows]
    assert resolutions == ["resolved", "resolved"]


def test_backoff_doubles_with_jitter_and_a_cap() -> None:
    settings = Settings(retry_base_delay=10, retry_max_delay=100)
    rng = random.Random(1)
    delays = [backoff(n, settings, rng) for n in (1, 2, 3, 10)]
    assert 5 <= delays[0] <= 10 and 10 <= delays[1] <= 20 and 20 <= delays[2] <= 40
    assert 50 <= delays[3] <= 100


def test_retry_honours_next_attempt_at(fake_platform, archive_dir: Path) -> None:
    env = cli_env(fake_platform, archive_dir, EMBEDARCHIVE_RETRY_BASE_DELAY="3600")
    fake_platform.fail("/syndication/", 503)
    fake_platform.fail("/oembed", 503)
    first = CliRunner().invoke(cli, ["archive", str(SEED)], env=env)
    assert first.exit_code == 1, first.output
    db = Database(archive_dir / "archive.db")
    (item,) = db["queue"].rows_where("kind = 'target' and state = 'failed'")
    assert item["retryable"] == 1 and item["next_attempt_at"] > item["updated_at"]

    fake_platform.reset()
    early = CliRunner().invoke(cli, ["retry"], env=env)
    assert early.exit_code == 1, early.output  # not due yet: nothing fetched
    assert fake_platform.requests == []
    assert early.stdout.startswith("1 item(s) failed and will be retryable from ")

    db.execute("update queue set next_attempt_at = '2000-01-01T00:00:00.000Z'")
    db.conn.commit()
    due = CliRunner().invoke(cli, ["retry"], env=env)
    assert due.exit_code == 0, due.output
    assert fake_platform.requests_to("/syndication/")
    (post,) = db["posts"].rows
    assert post["status"] == "archived"
    assert db["queue"].get(item["id"])["state"] == "done"
    done = CliRunner().invoke(cli, ["retry"], env=env)
    assert (done.exit_code, done.stdout) == (
        0,
        "Nothing to retry: no failure recorded in this archive can be retried.\n",
    )


def test_failures_a_later_run_mended_are_not_left_for_retry(
    fake_platform, archive_dir: Path
) -> None:
    """Offline, then the same command online (a new batch): the first batch's failed short
    link and post are settled, not kept 'retryable' for hours only to be found done."""
    env = cli_env(fake_platform, archive_dir, EMBEDARCHIVE_RETRY_BASE_DELAY="3600")
    with fake_platform.offline():
        assert CliRunner().invoke(cli, ["archive", str(SEED)], env=env).exit_code == 1
    db = Database(archive_dir / "archive.db")
    failed = [(r["kind"], r["id"]) for r in db["queue"].rows_where("state = 'failed'")]
    assert failed
    assert CliRunner().invoke(cli, ["archive", str(SEED)], env=env).exit_code == 0
    fake_platform.reset()
    result = CliRunner().invoke(cli, ["retry"], env=env)
    assert (result.exit_code, result.stdout) == (
        0,
        "Nothing to retry: no failure recorded in this archive can be retried.\n",
    )
    assert fake_platform.requests == []
    assert {db["queue"].get(i)["state"] for _, i in failed} == {"done"}


def test_each_retry_counts_one_attempt(fake_platform, archive_dir: Path) -> None:
    """The backoff doubles per attempt: a retry counted twice made it grow four-fold."""
    env = cli_env(fake_platform, archive_dir, EMBEDARCHIVE_RETRY_BASE_DELAY="100")
    fake_platform.fail("/syndication/", 503)
    fake_platform.fail("/oembed", 503)
    assert CliRunner().invoke(cli, ["archive", str(SEED)], env=env).exit_code == 1
    db = Database(archive_dir / "archive.db")
    (item,) = db["queue"].rows_where("kind = 'target'")
    seen = [item["attempts"]]
    for _ in range(3):
        db.execute("update queue set next_attempt_at = '2000-01-01T00:00:00.000Z'")
        db.conn.commit()
        assert CliRunner().invoke(cli, ["retry"], env=env).exit_code == 1
        seen.append(db["queue"].get(item["id"])["attempts"])
    assert seen == [1, 2, 3, 4]


def test_retry_picks_up_failures_of_earlier_runs(fake_platform, archive_dir: Path) -> None:
    env = cli_env(fake_platform, archive_dir, EMBEDARCHIVE_RETRY_BASE_DELAY="0")
    fake_platform.fail("/syndication/", 503)
    fake_platform.fail("/oembed", 503)
    assert CliRunner().invoke(cli, ["archive", str(SEED)], env=env).exit_code == 1
    db = Database(archive_dir / "archive.db")
    db.execute("delete from queue")  # as an archive made before the queue existed
    db.conn.commit()
    fake_platform.reset()
    result = CliRunner().invoke(cli, ["retry", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert '"kind": "target"' in result.stdout and '"state": "done"' in result.stdout
    assert next(db["posts"].rows)["status"] == "archived"


def test_retry_fetches_a_failure_once_however_many_batches_recorded_it(
    fake_platform, archive_dir: Path
) -> None:
    env = cli_env(fake_platform, archive_dir, EMBEDARCHIVE_RETRY_BASE_DELAY="0")
    fake_platform.fail("/syndication/", 503)
    fake_platform.fail("/oembed", 503)
    for _ in range(3):  # three runs of the same article while X is down: three batches
        assert CliRunner().invoke(cli, ["archive", str(SEED)], env=env).exit_code == 1
    db = Database(archive_dir / "archive.db")
    failed = list(db["queue"].rows_where("kind = 'target' and state = 'failed'"))
    assert len(failed) == 3 and len({r["key"] for r in failed}) == 1

    fake_platform.reset()
    result = CliRunner().invoke(cli, ["retry", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["kind"] for line in result.stdout.splitlines()] == ["target"]
    assert len(fake_platform.requests_to("/syndication/")) == 1
    assert {db["queue"].get(r["id"])["state"] for r in failed} == {"done"}


def _failed_target(fake_platform, archive_dir: Path, env: dict[str, str]) -> dict:
    """Archive the seed while X answers 503: its one target ends failed and retryable."""
    fake_platform.fail("/syndication/", 503)
    fake_platform.fail("/oembed", 503)
    assert CliRunner().invoke(cli, ["archive", str(SEED)], env=env).exit_code == 1
    (item,) = Database(archive_dir / "archive.db")["queue"].rows_where(
        "kind = 'target' and state = 'failed'"
    )
    fake_platform.reset()
    return dict(item)


def _state(db_path: Path, item_id: int) -> str | None:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1) as db:
        row = db.execute("select state from queue where id = ?", [item_id]).fetchone()
        return str(row[0]) if row else None


def test_kill_9_during_retry_then_retry_again(
    fake_platform, archive_dir: Path, tmp_path: Path
) -> None:
    """A retry killed while capturing leaves its item ``running``; the next retry takes it up."""
    env = cli_env(fake_platform, archive_dir, EMBEDARCHIVE_RETRY_BASE_DELAY="0")
    item = _failed_target(fake_platform, archive_dir, env)
    fake_platform.delay = 2.0  # the capture is under way for a while
    proc = subprocess.Popen(
        [sys.executable, "-m", "embedarchive", "retry"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while _state(archive_dir / "archive.db", item["id"]) != "running":
        assert proc.poll() is None and time.monotonic() < deadline, "retry never started the item"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _state(archive_dir / "archive.db", item["id"]) == "running"

    fake_platform.delay = 0.0
    again = CliRunner().invoke(cli, ["retry"], env=env)
    assert again.exit_code == 0, again.output
    db = Database(archive_dir / "archive.db")
    assert db["queue"].get(item["id"])["state"] == "done"
    assert [p["status"] for p in db["posts"].rows] == ["archived"]
    assert db["queue"].count_where("state in ('pending', 'running')") == 0


def test_same_command_after_a_killed_retry_starts_a_new_batch(
    fake_platform, archive_dir: Path
) -> None:
    """A finished batch whose target a killed retry left ``running`` is not continued for ever
    (it has no article left to run): the same command archives the post in a new batch."""
    env = cli_env(fake_platform, archive_dir, EMBEDARCHIVE_RETRY_BASE_DELAY="3600")
    item = _failed_target(fake_platform, archive_dir, env)
    store = Store.open(archive_dir / "archive.db")
    Queue(store, Settings(archive_dir=archive_dir)).start(item["id"])  # as a killed retry leaves it
    store.close()

    again = CliRunner().invoke(cli, ["archive", str(SEED)], env=env)
    assert again.exit_code == 0, again.output
    db = Database(archive_dir / "archive.db")
    assert db["queue_batches"].count == 2
    assert [p["status"] for p in db["posts"].rows] == ["archived"]
    interrupted = db["queue"].get(item["id"])
    assert interrupted["state"] == "failed" and interrupted["retryable"] == 1
    assert interrupted["last_error"].startswith("interrupted")

    fetched = len(fake_platform.requests_to("/syndication/"))
    assert CliRunner().invoke(cli, ["retry"], env=env).exit_code == 0  # due at once
    assert db["queue"].get(item["id"])["state"] == "done"
    assert len(fake_platform.requests_to("/syndication/")) == fetched  # already archived


def test_an_articles_targets_are_added_in_one_transaction_and_keep_their_ids(
    tmp_path: Path,
) -> None:
    settings = Settings(archive_dir=tmp_path)
    store = Store.open(settings.db_path)
    queue = Queue(store, settings)
    batch = queue.create_batch("key", "archive", {}, ["a.html"], 0)
    (article,) = queue.articles(batch)
    tracker = QueueTracker(queue, batch, article.id)
    one, two, three = (Target("twitter", str(n), f"https://x.com/a/status/{n}") for n in (1, 2, 3))
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)

    tracker.planned([one, two, one])
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN"]  # one commit
    statements.clear()
    tracker.planned([two, three])  # only the new one is added
    tracker.started(three)
    tracker.finished(three, "archived", None, False)
    assert sum("insert or ignore into queue" in s for s in statements) == 1
    store.db.conn.set_trace_callback(None)

    rows = {r["key"]: r for r in store.db.query("select * from queue where kind = 'target'")}
    assert set(rows) == {"twitter:1", "twitter:2", "twitter:3"}
    assert all(r["parent_id"] == article.id for r in rows.values())
    assert rows["twitter:3"]["state"] == "done" and rows["twitter:1"]["state"] == "pending"
    again = QueueTracker(queue, batch, article.id)  # another article with the same post
    again.planned([one])
    assert queue.item(batch, "target", "twitter:1") == rows["twitter:1"]  # kept, not re-added
    store.close()


def test_ctrl_c_stops_at_once_while_fetches_hang(
    fake_platform, archive_dir: Path, tmp_path: Path
) -> None:
    """Ctrl-C with every worker stuck on a server that sent its headers and then nothing: the
    run stops now, says so, and the archive verifies; a re-run takes the same sources up
    again. It used to wait for each fetch to time out (here: two minutes)."""
    from .faultserver import FaultServer

    with FaultServer() as server:
        listing = tmp_path / "list.txt"
        listing.write_text("".join(server.url(f"/stall?a={i}") + "\n" for i in range(4)), "utf-8")
        env = {
            **os.environ,
            **cli_env(fake_platform, archive_dir),
            "EMBEDARCHIVE_READ_TIMEOUT": "120",
            "EMBEDARCHIVE_TOTAL_TIMEOUT": "300",
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "embedarchive",
                "archive",
                "--jobs",
                "4",
                "--from",
                str(listing),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while len(server.requests) < 4 and time.monotonic() < deadline:
            assert proc.poll() is None
            time.sleep(0.05)
        assert len(server.requests) == 4  # every worker is waiting on the stalled server
        proc.send_signal(signal.SIGINT)
        try:
            _, stderr = proc.communicate(timeout=30)  # far less than the 120 s read timeout
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("Ctrl-C did not stop the run within 30 s") from None
    assert proc.returncode == 130 and "interrupted" in stderr, stderr
    assert "Traceback" not in stderr
    verified = CliRunner().invoke(cli, ["verify"], env=cli_env(fake_platform, archive_dir))
    assert verified.exit_code == 0, verified.output
