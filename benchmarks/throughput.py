"""Throughput benchmark: a batch of articles against a platform that answers after 200 ms.

    .venv/bin/python benchmarks/throughput.py [--articles 200] [--embeds 5] [--jobs 32]
        [--latency 0.2] [--errors] [--serial-sample 0.1] [--keep DIR]

A local server (in its own process, so it does not share the client's GIL) plays X/Twitter:
``/syndication/tweet-result`` answers a post with one photo, ``/media/<id>.jpg`` the photo
(distinct bytes per post). Every answer waits ``--latency`` first. With ``--errors`` 5% of the
answers are HTTP 500 and 1% are 429 with ``Retry-After: 1``.

The articles are HTML files in a temp folder, each with ``--embeds`` X blockquotes of distinct
posts (200 × 5 = 1,000 embeds and 1,000 photos). The batch is archived in-process through the
real CLI (``embedarchive archive FOLDER --jobs N``), with the per-host limit at N and no
per-host rate limit (one local host plays every platform). Reported:

* wall time; ideal time = requests the server answered × latency / N; their ratio (≤ 1.5×);
  with ``--errors`` also the time the server asked every client to stay away (the union of
  the ``Retry-After`` seconds of its 429s), and the ratio to the ideal plus that time;
* the same batch with ``--jobs 1`` — on a ``--serial-sample`` of the articles (default 10%),
  extrapolated to the full batch, since a full serial run takes ~400 s; (≥ 20× slower);
* idempotency: the same command again on the finished archive: media downloads (0) and its
  time as a share of the first run's (< 5%).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIRST_ID = 1_700_000_000_000_000_000


def _photo(post_id: str) -> bytes:
    """A small JPEG-looking body, distinct per post (sniffed as image/jpeg)."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + post_id.encode() * 200 + b"\xff\xd9"


def _tweet(post_id: str, base: str) -> bytes:
    return json.dumps(
        {
            "__typename": "Tweet",
            "id_str": post_id,
            "text": f"post {post_id}",
            "lang": "en",
            "created_at": "2024-05-01T10:00:00.000Z",
            "favorite_count": 1,
            "user": {"name": "Bench", "screen_name": "bench", "id_str": "42"},
            "mediaDetails": [
                {
                    "type": "photo",
                    "media_url_https": f"{base}/media/{post_id}.jpg",
                    "original_info": {"width": 10, "height": 10},
                }
            ],
        }
    ).encode()


#: At most this many 429 answers have their time noted (``--errors`` sends about 20).
MAX_NOTED = 4096
RETRY_AFTER = 1.0


def serve(port_out: Any, latency: float, errors: bool, counts: Any, refusals: Any) -> None:
    """The slow platform; runs in a child process until terminated. ``counts``: requests,
    photos, 429s; ``refusals``: when each 429 was sent (``time.time()``)."""
    rng = random.Random(7)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16  # headers and body in one write (no Nagle/delayed-ACK stall)
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            time.sleep(latency)
            with lock:
                roll = rng.random() if errors else 1.0
                counts[0] += 1
            parts = urlsplit(self.path)
            status, body, headers = 200, b"", {"content-type": "application/json"}
            if roll < 0.01:
                status, headers = 429, {"retry-after": f"{RETRY_AFTER:g}"}
                with lock:
                    if counts[2] < MAX_NOTED:
                        refusals[counts[2]] = time.time()
                    counts[2] += 1
            elif roll < 0.06:
                status = 500
            elif parts.path == "/syndication/tweet-result":
                post_id = parse_qs(parts.query).get("id", [""])[0]
                body = _tweet(post_id, f"http://127.0.0.1:{self.server.server_address[1]}")
            elif parts.path.startswith("/media/"):
                body = _photo(parts.path.rsplit("/", 1)[-1].split(".")[0])
                headers = {"content-type": "image/jpeg"}
                with lock:
                    counts[1] += 1
            else:
                status = 404
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    serve_forever(Handler, port_out)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a batch's 32 connections at once, and room to spare


def serve_forever(handler: type[BaseHTTPRequestHandler], port_out: Any) -> None:
    """Serve ``handler`` on a free local port, told through ``port_out``, until terminated."""
    server = _Server(("127.0.0.1", 0), handler)
    port_out.put(server.server_address[1])
    server.serve_forever()


def write_articles(folder: Path, articles: int, embeds: int, base: str) -> None:
    folder.mkdir(parents=True)
    for a in range(articles):
        quotes = "\n".join(
            f'<blockquote class="twitter-tweet"><p>post</p>&mdash; Bench (@bench) '
            f'<a href="https://twitter.com/bench/status/{FIRST_ID + a * embeds + e}">May 1, 2024'
            "</a></blockquote>"
            for e in range(embeds)
        )
        (folder / f"article-{a:04d}.html").write_text(
            f"<html><head><title>Article {a}</title></head><body><h1>Article {a}</h1>"
            f"<p>Reporting.</p>{quotes}</body></html>",
            encoding="utf-8",
        )


def archive(folder: Path, archive_dir: Path, base: str, jobs: int) -> float:
    """One run of the real CLI, in-process; returns the wall time."""
    from click.testing import CliRunner

    from embedarchive.cli import cli

    env = {
        "EMBEDARCHIVE_ARCHIVE_DIR": str(archive_dir),
        "EMBEDARCHIVE_ALLOW_PRIVATE_NETWORK": "1",
        "EMBEDARCHIVE_TWITTER_SYNDICATION_URL": f"{base}/syndication/tweet-result",
        "EMBEDARCHIVE_TWITTER_METHODS": "syndication",
        "EMBEDARCHIVE_PER_HOST_CONNECTIONS": str(jobs),
        "EMBEDARCHIVE_PER_HOST_RATE": "0",
        "EMBEDARCHIVE_HTTP_BACKOFF_BASE": "0.5",
    }
    t0 = time.monotonic()
    result = CliRunner().invoke(cli, ["archive", str(folder), "--jobs", str(jobs)], env=env)
    elapsed = time.monotonic() - t0
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return elapsed


def asked_pause(refusals: list[float], start: float, end: float) -> float:
    """Seconds inside [start, end] covered by some 429's ``Retry-After`` window: the time a
    client that honours them cannot use the host, which no concurrency shortens."""
    total, reach = 0.0, start
    for sent in sorted(t for t in refusals if start <= t <= end):
        begin, stop = max(sent, reach), min(sent + RETRY_AFTER, end)
        if stop > begin:
            total += stop - begin
            reach = stop
    return total


def rows(archive_dir: Path) -> dict[str, int]:
    from sqlite_utils import Database

    db = Database(archive_dir / "archive.db")
    return {
        "posts archived": db.execute(
            "select count(*) from posts where status = 'archived'"
        ).fetchone()[0],
        "posts failed": db.execute("select count(*) from posts where status = 'failed'").fetchone()[
            0
        ],
        "media": db["media"].count,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--embeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--errors", action="store_true", help="5%% HTTP 500, 1%% 429")
    parser.add_argument("--serial-sample", type=float, default=0.1)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()

    import embedarchive.cli  # noqa: F401  (imports are not part of any timing)

    ctx = multiprocessing.get_context("spawn")
    port_q = ctx.Queue()
    counts = ctx.Array("l", 3)
    refusals = ctx.Array("d", MAX_NOTED)
    server = ctx.Process(
        target=serve, args=(port_q, args.latency, args.errors, counts, refusals), daemon=True
    )
    server.start()
    base = f"http://127.0.0.1:{port_q.get(timeout=30)}"
    work = args.keep or Path(tempfile.mkdtemp(prefix="embedarchive-throughput-"))
    try:
        full, sample = work / "articles", work / "sample"
        write_articles(full, args.articles, args.embeds, base)
        n_sample = max(1, round(args.articles * args.serial_sample))
        sample.mkdir()
        for path in sorted(full.iterdir())[:n_sample]:
            shutil.copy(path, sample / path.name)

        cpu: list[float] = []
        paused: list[float] = []

        def measured(folder: Path, archive_dir: Path, jobs: int) -> tuple[float, int, int]:
            before, t0, started = list(counts), os.times(), time.time()
            took = archive(folder, archive_dir, base, jobs)
            t1 = os.times()
            cpu.append(t1.user - t0.user + t1.system - t0.system)
            paused.append(asked_pause(list(refusals[: counts[2]]), started, time.time()))
            return took, counts[0] - before[0], counts[1] - before[1]

        wall, requests, media = measured(full, work / "archive", args.jobs)
        got = rows(work / "archive")
        again, again_requests, again_media = measured(full, work / "archive", args.jobs)
        serial, serial_requests, _ = measured(sample, work / "serial", 1)
    finally:
        server.terminate()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    ideal = requests * args.latency / args.jobs
    scale = args.articles / n_sample
    serial_full = serial * scale
    print(
        f"{args.articles} articles × {args.embeds} embeds, one photo each; latency "
        f"{args.latency * 1000:.0f} ms; errors: {'5% 500 + 1% 429' if args.errors else 'none'}; "
        f"--jobs {args.jobs} (per-host connections {args.jobs}); {os.cpu_count()} cores"
    )
    print()
    print("| run | requests | media downloads | wall time | client CPU | ideal | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| --jobs {args.jobs} | {requests} | {media} | {wall:.1f} s | {cpu[0]:.1f} s | "
        f"{ideal:.1f} s | {wall / ideal:.2f}× |"
    )
    if paused[0]:
        polite = ideal + paused[0]
        print(
            f"| --jobs {args.jobs}, against the ideal plus {paused[0]:.1f} s of asked-for pauses "
            f"| | | | | {polite:.1f} s | {wall / polite:.2f}× |"
        )
    print(
        f"| --jobs 1, {n_sample} articles (×{scale:g} = full batch) | {serial_requests} | | "
        f"{serial:.1f} s (≈ {serial_full:.0f} s) | {cpu[2]:.1f} s | "
        f"{serial_requests * args.latency:.1f} s | {serial / (serial_requests * args.latency):.2f}× |"
    )
    print(
        f"| re-run of the finished batch | {again_requests} | {again_media} | {again:.2f} s | "
        f"{cpu[1]:.1f} s | | {again / wall:.1%} of the first |"
    )
    print()
    print(f"--jobs {args.jobs} is {serial_full / wall:.1f}× faster than --jobs 1 (extrapolated)")
    print(", ".join(f"{k}: {v}" for k, v in got.items()))
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
