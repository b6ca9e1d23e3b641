"""Shared test helpers: the CLI in-process, settings pointed at the fake platform, row counts,
file hashes."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from embedarchive.capture.context import FetchContext
from embedarchive.capture.http import Http
from embedarchive.cli import cli
from embedarchive.models import Capture
from embedarchive.platforms.base import Platform
from embedarchive.settings import Settings, load_settings
from embedarchive.store.files import FileStore
from embedarchive.store.records import Store

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed-article-hu.txt"
MEDIA = Path(__file__).resolve().parent / "fixtures" / "media"
ARTICLES = Path(__file__).resolve().parent / "fixtures" / "articles"
TABLES = ("articles", "detections", "posts", "captures", "media", "http_exchanges")


def run(args: list[str], env: dict[str, str] | None = None) -> Result:
    """The CLI in-process, as a user runs it; an unexpected exception fails the test."""
    return CliRunner().invoke(cli, args, env=env or {}, catch_exceptions=False)


@contextmanager
def writer_running(archive_dir: Path) -> Iterator[int]:
    """Another embedarchive process in the middle of a run: it holds the archive's writer lock
    until the block ends. Yields its pid."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from embedarchive.store.lock import writer_lock\n"
            "with writer_lock(Path(sys.argv[1])):\n"
            "    print('locked', flush=True); time.sleep(60)",
            str(archive_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()


def settings_for(fake: Any, archive_dir: Path, **extra: Any) -> Settings:
    overrides = {
        **fake.settings_overrides(),
        "archive_dir": archive_dir,
        "twitter_methods": "syndication,oembed",
    }
    overrides.update(extra)
    return load_settings(overrides, environ={}).settings


def cli_env(fake: Any, archive_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        **fake.env(),
        "EMBEDARCHIVE_ARCHIVE_DIR": str(archive_dir),
        "EMBEDARCHIVE_TWITTER_METHODS": "syndication,oembed",
    }
    env.update(extra)
    return env


def counts(archive_dir: Path) -> dict[str, int]:
    store = Store.open(archive_dir / "archive.db", create=False)
    try:
        return {t: store.db[t].count for t in TABLES}
    finally:
        store.close()


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def media_files(archive_dir: Path) -> list[Path]:
    return sorted(p for p in (archive_dir / "media").rglob("*") if p.is_file())


def fetch(platform: Platform, url: str, fake: Any, archive_dir: Path, **extra: Any) -> Capture:
    """Capture the post ``url`` names with ``platform``, against the fake."""
    settings = settings_for(fake, archive_dir, **extra)
    target = platform.match(url)
    assert target is not None, url
    files = FileStore(settings.archive_dir)
    files.open()
    with Http(settings) as http:
        return platform.fetch(target, FetchContext(settings=settings, http=http, files=files))
