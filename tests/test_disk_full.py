"""A full disk stops the run cleanly: one line, a non-zero exit, no partial file, and the archive
as it was before still verifies; the same command continues once there is room.

The archive lives on a real 8 MB tmpfs that the test mounts (root only; skipped otherwise), and
the post's video, served by ``faultserver.py``, is bigger than the space left: the body is
written twice while it streams (the media temp file, the spool for its WARC record), then a
third time into the WARC. SQLite's own full-disk error (``SQLITE_FULL``, produced here with a
page limit) is recognised as one too.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from embedarchive.capture.context import FetchContext
from embedarchive.capture.http import Http
from embedarchive.errors import DiskFullError, write_error
from embedarchive.models import Target
from embedarchive.platforms.generic import GenericVideo
from embedarchive.settings import load_settings
from embedarchive.store.files import FileStore

from .fakemedia import FakeMedia
from .fakeplatform import DATA_DIR, SEED_ID
from .faultserver import FaultServer
from .helpers import SEED, cli_env, run

BIG = 16_000_000
#: An X post id the fake has a syndication token for (``data/README.md``, per-test posts).
POST_ID = "1987852739408887809"


def video_post(url: str) -> str:
    """An X post (the seed's JSON under another id) with one video, at ``url``."""
    tweet = json.loads((DATA_DIR / "syndication" / f"{SEED_ID}.json").read_text("utf-8"))
    tweet["id_str"] = POST_ID
    video = tweet["mediaDetails"][0]
    video["video_info"]["variants"] = [{"bitrate": 1, "content_type": "video/mp4", "url": url}]
    video.pop("media_url_https")
    return json.dumps(tweet, ensure_ascii=False)


def stored_files(archive: Path) -> set[str]:
    return {
        p.relative_to(archive).as_posix() for p in (archive / "media").rglob("*") if p.is_file()
    }


@pytest.mark.parametrize(
    ("video", "failed_write"),
    [
        (f"/bytes?n={BIG}", "media "),  # while it downloads (file and spool: 2 × 16 MB)
        ("/ranged?n=3000000&cut=3000000", "a WARC record "),  # fits twice, not three times
    ],
)
def test_disk_full_stops_the_run_and_the_archive_still_verifies(
    fake_platform: Any, small_disk: Path, tmp_path: Path, video: str, failed_write: str
) -> None:
    archive = small_disk / "archive"
    env = cli_env(fake_platform, archive)
    assert run(["archive", str(SEED)], env).exit_code == 0

    embeds = tmp_path / "embeds.html"
    embeds.write_text(
        '<html><body><p>Reporting.</p><blockquote class="twitter-tweet"><a href="https://'
        f'twitter.com/trhaber_com/status/{POST_ID}">Nov 14, 2025</a></blockquote></body></html>',
        encoding="utf-8",
    )
    plain = tmp_path / "plain.html"
    plain.write_text("<html><body><p>No embeds here.</p></body></html>", encoding="utf-8")
    batch = ["archive", "--jobs", "1", str(embeds), str(plain)]
    with FaultServer() as server:
        fake_platform.tweets[POST_ID] = video_post(server.url(video))
        full = run(batch, env)

        assert full.exit_code == 2, full.output
        (line,) = full.stderr.strip().splitlines()
        assert line.startswith(f"error: disk full: cannot write {failed_write}")
        assert "run the same command again" in line and "Traceback" not in full.output
        del full  # its exception keeps the failed capture's spooled bodies; a process ends
        gc.collect()
        assert list((archive / "tmp").iterdir()) == []
        assert list((archive / "warc" / "open").iterdir()) == []  # cut back and sealed
        db = Database(archive / "archive.db")
        named = {r["path"] for r in db.query("select path from media")}
        named |= {r["raw_path"] for r in db.query("select raw_path from articles")}
        assert stored_files(archive) == named  # no partial or unreferenced file
        sources = [r["source"] for r in db.query("select source from articles order by id")]
        assert sources == [str(SEED), str(embeds)]  # the batch stopped at the full disk
        assert db.execute("select count(*) from captures").fetchone()[0] == 1
        db.close()
        verified = run(["verify"], env)
        assert verified.exit_code == 0, verified.output

        fake_platform.tweets[POST_ID] = video_post(server.url("/bytes?n=1000"))  # it fits now
        resumed = run(batch, env)
    assert resumed.exit_code == 0, resumed.output
    db = Database(archive / "archive.db")
    assert db.execute("select count(*) from articles").fetchone()[0] == 3
    assert db.execute("select count(*) from captures").fetchone()[0] == 2
    db.close()
    assert run(["verify"], env).exit_code == 0


def test_write_errors_that_mean_a_full_disk(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "small.db")
    db.execute("create table t (x blob)")
    db.execute("pragma max_page_count = 8")
    with pytest.raises(sqlite3.OperationalError) as full:
        for _ in range(100):
            db.execute("insert into t values (?)", [bytes(4096)])
    db.close()
    assert isinstance(write_error(full.value, "the archive database"), DiskFullError)
    enospc = OSError(errno.ENOSPC, "No space left on device")
    assert isinstance(write_error(enospc, "media/ab/x.jpg"), DiskFullError)
    denied = write_error(OSError(errno.EACCES, "Permission denied"), "media/ab/x.jpg")
    assert not isinstance(denied, DiskFullError)
    assert str(denied) == "cannot write media/ab/x.jpg: Permission denied"


def test_disk_full_while_ytdlp_downloads_stops_the_capture_as_a_full_disk(
    small_disk: Path,
) -> None:
    archive = small_disk / "archive"
    settings = load_settings(
        {"archive_dir": archive, "allow_private_network": True}, environ={}
    ).settings
    files = FileStore(archive)
    files.open()
    filler = small_disk / "filler"
    with open(filler, "wb") as fh, pytest.raises(OSError) as full:
        while True:
            fh.write(bytes(65536))
            fh.flush()
    assert full.value.errno == errno.ENOSPC
    with FakeMedia() as site, Http(settings) as http:
        url = site.url("/media/video-best.mp4")
        with pytest.raises(DiskFullError, match="^disk full: cannot write a file yt-dlp downloads"):
            GenericVideo().fetch(
                Target("video", "generic:video-best", url, "video"),
                FetchContext(settings=settings, http=http, files=files),
            )
    assert list((archive / "tmp").iterdir()) == []  # yt-dlp's work folder is gone
    assert stored_files(archive) == set()


def test_export_to_a_full_disk_is_one_line_and_leaves_nothing(
    fake_platform: Any, tmp_path: Path, small_disk: Path
) -> None:
    """The bundle's zip was left open on the error: its ``__del__`` then printed a traceback
    while trying to write the central directory to the full disk."""
    env = cli_env(fake_platform, tmp_path / "archive")
    assert run(["archive", str(SEED)], env).exit_code == 0
    with (small_disk / "filler").open("wb", buffering=0) as filler:  # full, but for 40 kB
        try:
            while True:
                filler.write(b"x" * 65536)
        except OSError:
            pass
        filler.truncate(max(0, filler.tell() - 40_000))
    done = subprocess.run(
        [sys.executable, "-m", "embedarchive", "export", str(SEED), "--out",
         str(small_disk / "seed.wacz")],
        env={**os.environ, **env}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "disk" in done.stderr, done.stderr
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


@pytest.mark.parametrize("free", [0, 16_384, 65_536])
def test_running_again_on_a_disk_still_full_is_one_line_and_leaves_nothing_half_written(
    fake_platform: Any, small_disk: Path, free: int
) -> None:
    archive = small_disk / "archive"
    env = cli_env(fake_platform, archive)
    assert run(["archive", str(SEED)], env).exit_code == 0
    filler = small_disk / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(bytes(4096))
        except OSError:
            pass
    os.truncate(filler, max(0, filler.stat().st_size - free))  # what a run may still find
    again = run(["archive", str(SEED)], env)
    assert again.exit_code == 2, again.output
    (line,) = again.stderr.strip().splitlines()
    assert "disk full" in line and "Traceback" not in again.output, line
    assert [p.name for p in (archive / "manifests").rglob("*.part")] == []
    filler.unlink()
    verified = run(["verify"], env)
    assert verified.exit_code == 0, verified.output
