"""Memory benchmark: peak RSS of the real CLI (``embedarchive archive``) in a child process.

    .venv/bin/python benchmarks/memory.py [--big-size 2GiB] [--batches 1000,10000]
        [--embed-share 0.1] [--jobs 4] [--skip-big] [--skip-batches] [--keep DIR]

Each run is one ``embedarchive archive ...`` process; its peak RSS is the ``ru_maxrss`` that
``os.wait4`` reports for exactly that child when it exits (Linux: the largest resident set the
process — or a child it waited for, such as the ffmpeg probe — ever had).

A local server in its own process plays X/Twitter on 127.0.0.1:

* ``/syndication/tweet-result?id=`` answers a post: the big-file post has one video whose mp4
  variant is ``/big.mp4``; every other post has one photo ``/media/<id>.jpg`` (distinct bytes);
* ``/big.mp4`` is ``--big-size`` bytes generated on the fly (a 1 MiB pseudo-random block,
  seeded, with the block number in its first 8 bytes, so nothing compresses and no two blocks
  are equal): never held on disk or in memory by the server, and its sha256 is computed the
  same way here to check the stored file.

Runs, each on a fresh archive:

1. baseline: one small article without embeds (imports, schema, one WARC) — the floor;
2. big file: one article embedding the big-file post: the video is streamed to the store,
   hashed, spooled for its WARC record, probed by ffmpeg and written into the WARC (gzip);
   target: peak RSS < 150 MB;
3. batches: ``--batches`` sizes of generated HTML articles in one folder
   (``embedarchive archive FOLDER --jobs N``), ``--embed-share`` of them with one X embed
   (one photo each), the rest plain; target: peak RSS < 500 MB at 10,000 articles, and
   not growing in proportion to the batch;
4. ``embedarchive verify`` of the big-file archive and of the last batch's (it streams too).

The script exits non-zero when a target is missed, a run does not exit 0 (a verify that
finds a problem exits 1) or the big file is stored wrong.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from throughput import _photo, serve_forever
from throughput import _tweet as throughput_tweet

BIG_ID = "1600000000000000000"
FIRST_ID = 1_700_000_000_000_000_000
BLOCK = 1 << 20
SEED = 2024
BIG_TARGET_MB = 150
BATCH_TARGET_MB = 500


def big_chunks(size: int) -> Iterator[bytes]:
    """The big file, block by block: deterministic, incompressible, never all in memory."""
    base = random.Random(SEED).randbytes(BLOCK)
    for number, offset in enumerate(range(0, size, BLOCK)):
        block = number.to_bytes(8, "big") + base[8:]
        yield block[: size - offset]


def big_sha256(size: int) -> str:
    sha = hashlib.sha256()
    for chunk in big_chunks(size):
        sha.update(chunk)
    return sha.hexdigest()


def _tweet(post_id: str, base: str) -> bytes:
    """The throughput benchmark's photo post, but a post with the big video for ``BIG_ID``."""
    if post_id != BIG_ID:
        return throughput_tweet(post_id, base)
    variant = {"bitrate": 2176000, "content_type": "video/mp4", "url": f"{base}/big.mp4"}
    return json.dumps(
        {
            "__typename": "Tweet",
            "id_str": post_id,
            "text": f"post {post_id}",
            "lang": "en",
            "created_at": "2024-05-01T10:00:00.000Z",
            "user": {"name": "Bench", "screen_name": "bench", "id_str": "42"},
            "mediaDetails": [{"type": "video", "video_info": {"variants": [variant]}}],
        }
    ).encode()


def serve(port_out: Any, big_size: int) -> None:
    """The platform; runs in a child process until terminated."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if parts.path == "/big.mp4":
                self.send_response(200)
                self.send_header("content-type", "video/mp4")
                self.send_header("content-length", str(big_size))
                self.send_header("accept-ranges", "bytes")
                self.end_headers()
                try:
                    for chunk in big_chunks(big_size):
                        self.wfile.write(chunk)
                except OSError:
                    pass
                return
            status, body, kind = 200, b"", "application/json"
            if parts.path == "/syndication/tweet-result":
                body = _tweet(parse_qs(parts.query).get("id", [""])[0], base)
            elif parts.path.startswith("/media/"):
                body, kind = _photo(parts.path.rsplit("/", 1)[-1].split(".")[0]), "image/jpeg"
            else:
                status = 404
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    serve_forever(Handler, port_out)


def _blockquote(post_id: str | int) -> str:
    return (
        '<blockquote class="twitter-tweet"><p>post</p>&mdash; Bench (@bench) '
        f'<a href="https://twitter.com/bench/status/{post_id}">May 1, 2024</a></blockquote>'
    )


def write_article(path: Path, number: int, embed: str = "") -> None:
    path.write_text(
        f"<html><head><title>Article {number}</title></head><body><h1>Article {number}</h1>"
        f"<p>Reporting number {number}, with a paragraph or two of text.</p>{embed}"
        "</body></html>",
        encoding="utf-8",
    )


def write_batch(folder: Path, articles: int, embed_share: float) -> int:
    """``articles`` files, every ``1 / embed_share``-th with one X embed; returns the embeds."""
    folder.mkdir(parents=True)
    every = max(1, round(1 / embed_share)) if embed_share > 0 else 0
    embeds = 0
    for number in range(articles):
        embed = ""
        if every and number % every == 0:
            embed, embeds = _blockquote(FIRST_ID + number), embeds + 1
        write_article(folder / f"article-{number:05d}.html", number, embed)
    return embeds


@dataclass(frozen=True)
class Run:
    name: str
    exit_code: int
    wall: float
    peak_mb: float
    cpu: float


def embedarchive_command() -> list[str]:
    script = Path(sys.executable).with_name("embedarchive")
    return [str(script)] if script.exists() else [sys.executable, "-m", "embedarchive"]


def run_cli(name: str, args: list[str], env: dict[str, str], log: Path) -> Run:
    """One ``embedarchive`` process; its own peak RSS from ``wait4`` (not any other child's)."""
    with open(log, "wb") as out:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [*embedarchive_command(), *args],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    peak_mb = usage.ru_maxrss / 1024  # Linux: kilobytes
    return Run(name, proc.returncode, wall, peak_mb, usage.ru_utime + usage.ru_stime)


def settings_env(archive_dir: Path, base: str, jobs: int, big_size: int) -> dict[str, str]:
    return {
        "EMBEDARCHIVE_ARCHIVE_DIR": str(archive_dir),
        "EMBEDARCHIVE_ALLOW_PRIVATE_NETWORK": "1",
        "EMBEDARCHIVE_TWITTER_SYNDICATION_URL": f"{base}/syndication/tweet-result",
        "EMBEDARCHIVE_TWITTER_METHODS": "syndication",
        "EMBEDARCHIVE_MAX_MEDIA_BYTES": str(max(big_size * 2, 2_000_000_000)),
        "EMBEDARCHIVE_TOTAL_TIMEOUT": "3600",
        "EMBEDARCHIVE_JOBS": str(jobs),
        "EMBEDARCHIVE_PER_HOST_CONNECTIONS": str(jobs),
        "EMBEDARCHIVE_PER_HOST_RATE": "0",
        "COLUMNS": "120",
    }


def rows(archive_dir: Path) -> dict[str, int]:
    db = sqlite3.connect(archive_dir / "archive.db")
    try:
        return {
            table: int(db.execute(f"select count(*) from {table}").fetchone()[0])
            for table in ("articles", "posts", "media", "http_exchanges")
        }
    finally:
        db.close()


def parse_size(text: str) -> int:
    units = {"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "kb": 10**3, "mb": 10**6, "gb": 10**9}
    lowered = text.strip().lower()
    for unit, factor in units.items():
        if lowered.endswith(unit):
            return int(float(lowered[: -len(unit)]) * factor)
    return int(lowered)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-size", type=parse_size, default=2 << 30, help="default 2GiB")
    parser.add_argument("--batches", default="1000,10000", help="batch sizes, comma-separated")
    parser.add_argument("--embed-share", type=float, default=0.1)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--skip-batches", action="store_true")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    sizes = [] if args.skip_batches else [int(n) for n in args.batches.split(",") if n]

    ctx = multiprocessing.get_context("spawn")
    port_q = ctx.Queue()
    server = ctx.Process(target=serve, args=(port_q, args.big_size), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{port_q.get(timeout=30)}"
    work = args.keep or Path(tempfile.mkdtemp(prefix="embedarchive-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    results: list[tuple[Run, str, str]] = []  # run, details, target
    try:

        def verify(name: str, archive_dir: Path) -> tuple[Run, str, str]:
            env = settings_env(archive_dir, base, args.jobs, args.big_size)
            run = run_cli(name, ["verify"], env, work / f"{archive_dir.name}-verify.log")
            print(f"  {name}: exit {run.exit_code}, {run.wall:.1f} s, {run.peak_mb:.0f} MB")
            passed = (
                "passed" if run.exit_code == 0 else f"FAILED, see {archive_dir.name}-verify.log"
            )
            return run, f"{passed}: re-hashes every file, WARC record and manifest", ""

        def archive(name: str, sources: list[str], archive_dir: Path) -> Run:
            env = settings_env(archive_dir, base, args.jobs, args.big_size)
            run = run_cli(name, ["archive", *sources], env, work / f"{archive_dir.name}.log")
            print(f"  {name}: exit {run.exit_code}, {run.wall:.1f} s, {run.peak_mb:.0f} MB")
            return run

        plain = work / "plain.html"
        write_article(plain, 0)
        run = archive("baseline: 1 article, no embed", [str(plain)], work / "archive-baseline")
        results.append((run, "imports, schema, one WARC", ""))

        if not args.skip_big:
            article = work / "big.html"
            write_article(article, 1, _blockquote(BIG_ID))
            archive_dir = work / "archive-big"
            run = archive(f"1 post, {args.big_size:,} B video", [str(article)], archive_dir)
            expected = big_sha256(args.big_size)
            db = sqlite3.connect(archive_dir / "archive.db")
            stored = db.execute(
                "select sha256, size from media where kind = 'video'"
            ).fetchone() or ("", 0)
            db.close()
            ok = stored == (expected, args.big_size)
            detail = f"stored sha256 {'matches' if ok else 'DIFFERS'} ({expected[:12]}…)"
            results.append((run, detail, f"< {BIG_TARGET_MB} MB"))
            results.append(verify("verify of that archive", archive_dir))
            shutil.rmtree(archive_dir, ignore_errors=True)  # ~2 × the file on disk

        for size in sizes:
            folder = work / f"articles-{size}"
            if not folder.exists():
                write_batch(folder, size, args.embed_share)
            archive_dir = work / f"archive-{size}"
            shutil.rmtree(archive_dir, ignore_errors=True)
            run = archive(f"batch of {size:,} articles", [str(folder)], archive_dir)
            got = rows(archive_dir)
            detail = ", ".join(f"{v:,} {k}" for k, v in got.items())
            target = f"< {BATCH_TARGET_MB} MB" if size >= 10_000 else ""
            results.append((run, detail, target))
        if sizes:
            results.append(verify(f"verify of the {size:,}-article archive", archive_dir))
    finally:
        server.terminate()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    print()
    print(
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, --jobs {args.jobs}, "
        f"{args.embed_share:.0%} of batch articles with one X embed (one photo each)"
    )
    print()
    print("| run | exit | wall time | CPU | peak RSS | target | stored |")
    print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
    for run, detail, target in results:
        print(
            f"| {run.name} | {run.exit_code} | {run.wall:.1f} s | {run.cpu:.1f} s | "
            f"{run.peak_mb:.0f} MB | {target} | {detail} |"
        )
    batches = [r for r, _, _ in results if r.name.startswith("batch")]
    batch_runs = sorted(zip(sizes, batches, strict=True), key=lambda pair: pair[0])
    if len(batch_runs) >= 2:
        (small, first), (large, last) = batch_runs[0], batch_runs[-1]
        grew = (last.peak_mb - first.peak_mb) / (large - small) * 1024
        print()
        print(f"peak RSS growth from {small:,} to {large:,} articles: {grew:.1f} kB per article")
    missed = [r for r, _, target in results if target and r.peak_mb >= float(target.split()[1])]
    wrong = [r for r, detail, _ in results if r.exit_code or "DIFFERS" in detail]
    return 1 if missed or wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
