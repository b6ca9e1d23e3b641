"""Web UI benchmark: build a synthetic archive of 100,000 posts and time every page.

    .venv/bin/python benchmarks/web.py [--posts N] [--repeat N] [--archive DIR] [--keep]

The archive goes through the real schema (``Store.open`` applies every migration, so the
search triggers run for every row, as they do for ``embedarchive archive``) and is filled
with sqlite-utils bulk inserts: runs, articles, detections (what the article showed, some
edited or attributed to another account), posts, captures (10% captured twice, some edited in
between), media rows pointing at the small real fixture files, and HTTP exchanges. Pages are
requested in-process through Datasette's ASGI client, so the timings are the server's work
(routing, SQL, templates), not the network's; each page is requested ``--repeat`` times and the
median and worst are shown. The target is < 200 ms for every page.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from embedarchive.store.files import FileStore
from embedarchive.store.records import Store
from embedarchive.store.schema import migrations
from embedarchive.web.app import make_datasette

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO / "tests" / "fixtures" / "media"
PLATFORMS = ["twitter"] * 12 + ["telegram", "bluesky", "youtube", "mastodon", "tiktok"] * 2
TOPICS = "missile embassy election flood ceasefire drone protest wildfire vaccine strike".split()
TARGET_MS = 200.0
SEARCH_MIGRATION = "m003_search_index"


def words(rng: random.Random, n: int) -> Iterator[str]:
    """Zipf-like synthetic vocabulary: a few very common words, a long tail of rare ones."""
    for _ in range(n):
        rank = int(rng.paretovariate(1.1))
        yield TOPICS[rank % len(TOPICS)] if rank < 40 else f"w{rank % 60000:x}"


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(words(rng, n)).capitalize() + "."


def stamp(rng: random.Random, base: float = 1.70e9, span: float = 6.3e7) -> str:
    t = time.gmtime(base + rng.random() * span)
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", t)


def build(archive: Path, posts: int, seed: int = 7) -> dict[str, Any]:
    """Create ``archive`` with ``posts`` posts; returns ids worth requesting."""
    rng = random.Random(seed)
    files = FileStore(archive)
    files.open()
    stored = []
    for name, mime in [
        ("photo-orig.jpg", "image/jpeg"),
        ("video-best.mp4", "video/mp4"),
        ("video-low.mp4", "video/mp4"),
    ]:
        data = (MEDIA / name).read_bytes()
        sha, rel = files.put_bytes(data, mime)
        stored.append((sha, rel, mime, len(data), "photo" if mime.startswith("image") else "video"))
    db = Database(archive / "archive.db")
    db.enable_wal()
    migrations.apply(db, stop_before=SEARCH_MIGRATION)
    runs = [{"id": i, "started_at": stamp(rng), "command": "archive", "argv": "[]",
             "software": json.dumps({"embedarchive": "0.1.0", "yt-dlp": "2025.10.22",
                                     "httpx": "0.28.1", "python": "3.11.7"})}
            for i in range(1, 51)]  # fmt: skip
    handles = [f"user{i}" for i in range(max(50, posts // 7))]
    n_articles = max(1, posts // 5)
    articles = [
        {"id": i, "source": f"https://news.example/{i}", "source_kind": "url",
         "url": f"https://news.example/{i}", "sha256": f"{i:064x}", "size": 1000,
         "raw_path": stored[0][1], "encoding": "utf-8", "is_html": 1,
         "title": sentence(rng, 8), "retrieved_at": stamp(rng), "http_status": 200,
         "run_id": rng.randint(1, 50)}
        for i in range(1, n_articles + 1)
    ]  # fmt: skip
    post_rows, detections, captures, media, exchanges = [], [], [], [], []
    for pk in range(1, posts + 1):
        handle = handles[int(rng.paretovariate(1.2)) % len(handles)]
        text = sentence(rng, rng.randint(8, 40))
        status = rng.choices(["archived", "unavailable", "failed"], [90, 6, 4])[0]
        when = stamp(rng)
        post_rows.append(
            {"id": pk, "platform": rng.choice(PLATFORMS), "post_id": str(10**17 + pk),
             "url": f"https://x.example/{handle}/status/{pk}", "uploader": handle.title(),
             "uploader_id": handle, "created_at": stamp(rng, 1.6e9), "status": status,
             "text": text if status == "archived" else None, "lang": "en",
             "first_captured_at": when, "last_captured_at": when, "last_capture_id": pk}
        )  # fmt: skip
        for _ in range(rng.choice([1, 1, 1, 1, 2, 3])):
            shown = text if rng.random() > 0.05 else text.replace(".", ", edited.")
            detections.append(
                {"article_id": rng.randint(1, n_articles), "platform": "twitter",
                 "kind": "post", "markup": "blockquote", "offset": len(detections),
                 "author": handle.title(), "handle": handle if rng.random() > 0.01 else "other",
                 "text": shown, "links": "[]", "snippet": "", "resolution": "direct",
                 "post_pk": pk}
            )  # fmt: skip
        for again in range(2 if rng.random() < 0.1 else 1):
            cid = len(captures) + 1
            data = {"text": text if not again or rng.random() > 0.3 else text + " (edited)"}
            captures.append(
                {"id": cid, "post_pk": pk, "run_id": rng.randint(1, 50), "platform": "twitter",
                 "post_id": str(10**17 + pk), "target_url": f"https://x.example/s/{pk}",
                 "started_at": when, "finished_at": when, "method": "syndication",
                 "status": status, "retryable": 0, "attempts": "[]", "data": json.dumps(data),
                 "raw": json.dumps({"id_str": str(pk), **data})}
            )  # fmt: skip
            for url in ("syndication", "media"):
                exchanges.append(
                    {"run_id": 1, "capture_id": cid, "purpose": url, "method": "GET",
                     "url": f"https://x.example/{url}/{pk}", "status": 200,
                     "request_headers": "[]", "response_headers": "[]",
                     "body_sha256": stored[0][0], "body_size": 1000, "complete": 1,
                     "started_at": when, "elapsed_ms": 12.5}
                )  # fmt: skip
            if status == "archived":
                sha, rel, mime, size, kind = rng.choice(stored)
                media.append(
                    {"capture_id": cid, "post_pk": pk, "position": 0, "kind": kind,
                     "sha256": sha, "size": size, "mime": mime, "path": rel,
                     "source_url": "https://x.example/m", "final_url": "https://x.example/m",
                     "info": "{}"}
                )  # fmt: skip
    orphans = [
        {"article_id": rng.randint(1, n_articles), "platform": "twitter", "kind": "post",
         "markup": "text", "offset": 10**6 + i, "author": "Someone", "handle": "someone",
         "text": sentence(rng, 12), "links": "[]", "snippet": "", "resolution": "failed",
         "resolution_error": "connect timeout"}
        for i in range(posts // 50)
    ]  # fmt: skip
    with db.conn:
        db["runs"].insert_all(runs, batch_size=1000)
        db["articles"].insert_all(articles, batch_size=1000)
        db["posts"].insert_all(post_rows, batch_size=1000)
        db["detections"].insert_all(detections + orphans, batch_size=1000)
        db["captures"].insert_all(captures, batch_size=1000)
        db["media"].insert_all(media, batch_size=1000)
        db["http_exchanges"].insert_all(exchanges, batch_size=1000)
    names = [m.name for m in migrations.pending(Database(memory=True))]
    later = names[names.index(SEARCH_MIGRATION) + 1 :]
    start = time.perf_counter()
    migrations.apply(db, stop_before=later[0] if later else None)  # the search index backfill
    backfill = time.perf_counter() - start
    db.close()
    Store.open(archive / "archive.db").close()  # any later migration
    changed = next(p for p in post_rows if p["status"] == "archived")
    return {"post": changed["id"], "article": detections[0]["article_id"], "sha": stored[1][0],
            "handle": handles[0], "rare": rare_word(post_rows), "backfill": backfill}  # fmt: skip


def write_cost(archive: Path, posts: int = 1000) -> float:
    """Milliseconds to write one more post, its detection and its capture, triggers included."""
    store = Store.open(archive / "archive.db")
    db, start = store.db, time.perf_counter()
    first = db.execute("select max(id) from posts").fetchone()[0] + 1
    for pk in range(first, first + posts):
        with db.conn:
            db["posts"].insert(
                {
                    "id": pk,
                    "platform": "twitter",
                    "post_id": f"x{pk}",
                    "status": "archived",
                    "uploader_id": "late",
                    "text": "late post",
                }
            )
            db["detections"].insert(
                {
                    "article_id": 1,
                    "platform": "twitter",
                    "kind": "post",
                    "markup": "link",
                    "offset": 10**7 + pk,
                    "handle": "late",
                    "text": "late post",
                    "post_pk": pk,
                }
            )
            db["captures"].insert(
                {
                    "post_pk": pk,
                    "run_id": 1,
                    "status": "archived",
                    "data": json.dumps({"text": "late post, edited"}),
                }
            )
    store.close()
    return (time.perf_counter() - start) * 1000 / posts  # fmt: skip


def rare_word(post_rows: list[dict[str, Any]]) -> str:
    for row in reversed(post_rows):
        for word in (row["text"] or "").rstrip(".").split():
            if word[0] == "w" and word[1:].isalnum() and word not in TOPICS and len(word) > 3:
                return word
    return "missile"


def pages(ids: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    rng = {"range": "bytes=1000-4999"}
    return [
        ("home", "/", {}),
        ("search: common word", "/search?q=missile", {}),
        ("search: two words", "/search?q=embassy+drone", {}),
        ("search: prefix", "/search?q=cease", {}),
        ("search: rare word", f"/search?q={ids['rare']}", {}),
        ("search: no match", "/search?q=zzzzzz", {}),
        ("search: word + platform", "/search?q=flood&platform=telegram", {}),
        ("search: status=changed", "/search?status=changed", {}),
        ("search: author facet", f"/search?handle={ids['handle']}", {}),
        ("search: browse all", "/search", {}),
        ("search: page 40", "/search?q=missile&page=40", {}),
        ("article", f"/articles/{ids['article']}", {}),
        ("post", f"/posts/{ids['post']}", {}),
        ("media (range)", f"/media/{ids['sha']}", rng),
        ("datasette: posts table", "/archive/posts", {}),
        ("datasette: posts.json", "/archive/posts.json?_size=100", {}),
    ]


async def measure(archive: Path, ids: dict[str, Any], repeat: int) -> list[list[Any]]:
    ds = make_datasette(archive / "archive.db")
    rows = []
    for name, path, headers in pages(ids):
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = await ds.client.get(path, headers=headers)
            times.append((time.perf_counter() - start) * 1000)
            if response.status_code not in (200, 206):
                raise SystemExit(f"{path}: HTTP {response.status_code}")
        rows.append([name, path, statistics.median(times), max(times)])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15, help="requests per page")
    parser.add_argument("--archive", type=Path, help="build here (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the archive afterwards")
    args = parser.parse_args(argv)
    archive = args.archive or Path(tempfile.mkdtemp(prefix="embedarchive-bench-"))
    try:
        start = time.perf_counter()
        ids = build(archive, args.posts)
        built = time.perf_counter() - start
        db_mb = (archive / "archive.db").stat().st_size / 1e6
        print(
            f"built {args.posts:,} posts in {built:.1f} s ({db_mb:.0f} MB database), "
            f"of which {ids['backfill']:.1f} s building the search index (migration m003)\n"
        )
        rows = asyncio.run(measure(archive, ids, args.repeat))
        per_post = write_cost(archive)
    finally:
        if not args.keep:
            shutil.rmtree(archive, ignore_errors=True)
    print("| page | request | median ms | worst ms |")
    print("| --- | --- | ---: | ---: |")
    for name, path, median, worst in rows:
        print(f"| {name} | `{path}` | {median:.1f} | {worst:.1f} |")
    print(f"\nwriting a post with its detection and capture: {per_post:.2f} ms (triggers included)")
    slow = [r for r in rows if r[3] >= TARGET_MS]
    print(f"{'every page under' if not slow else 'NOT every page under'} {TARGET_MS:.0f} ms")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
