"""The faulty X/Twitter of ``faults.py``: generated posts and articles, and a server that fails.

The server (run in its own process by ``faults.py``) answers on 127.0.0.1 like X's key-less
endpoints: the syndication API, oEmbed, ``pic.twitter.com`` short links (301 to the status
URL) and the media hosts (photos; MP4 videos, with Range support, and their thumbnails).
Posts are photo posts (1–4 photos), video posts, text posts, quote posts (the quoted post has
a photo) and posts that are gone (404, or a tombstone).

A share ``rate`` of the answers is a fault, chosen by a random generator seeded with (seed,
the request's path and query, how many times that path was asked before), so the same
request meets the same fate in every run whatever the thread timing:

``reset``      the connection is reset (RST) once the request is read
``truncated``  the Content-Length of the whole body, half of it sent, then the connection closes
``429``        ``Retry-After: 1``
``5xx``        500, or 503 with ``Retry-After: 1``
``slow``       the body trickles in ten pieces over 0.5–6 s
``malformed``  (APIs) JSON that does not parse
``html``       (APIs) an HTML error page, as 200 text/html or 502; (media) a 502 HTML page
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIRST_ID = 1_700_000_000_000_000_000
QUOTED_OFFSET = 10**6
KINDS = ("reset", "truncated", "429", "5xx", "slow", "malformed", "html")
API_FAULTS = KINDS
REDIRECT_FAULTS = ("reset", "truncated", "429", "5xx", "slow")
MEDIA_FAULTS = ("reset", "truncated", "429", "5xx", "slow", "html")
MP4 = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "media" / "video-best.mp4"
HTML_ERROR = b"<!DOCTYPE html><html><head><title>X</title></head><body><h1>Something went wrong, but don't fret</h1></body></html>"


# --- the posts and articles ------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    id: str
    kind: str  # photo, video, text, quote, gone, tombstone
    photos: int = 0

    @property
    def handle(self) -> str:
        return f"bench{int(self.id) % 1000}"

    @property
    def media(self) -> int:
        return self.photos + (2 if self.kind == "video" else 0)  # video + thumbnail

    @property
    def live(self) -> bool:
        return self.kind not in ("gone", "tombstone")

    @property
    def quoted(self) -> Post | None:
        if self.kind != "quote":
            return None
        return Post(str(int(self.id) + QUOTED_OFFSET), "photo", 1)


def make_posts(n: int, seed: int) -> list[Post]:
    rng = random.Random(seed)
    kinds = ["photo"] * 10 + ["video"] * 3 + ["text"] * 3 + ["quote"] * 2 + ["gone", "tombstone"]
    posts = []
    for i in range(n):
        kind = rng.choice(kinds)
        photos = (1 if rng.random() < 0.75 else rng.randint(2, 4)) if kind == "photo" else 0
        posts.append(Post(str(FIRST_ID + i), kind, photos))
    return posts


def all_posts(posts: list[Post]) -> dict[str, Post]:
    """Every post the server knows: the pool and the posts quoted by it."""
    known = {p.id: p for p in posts}
    known.update({q.id: q for p in posts if (q := p.quoted) is not None})
    return known


def pic_code(post: Post) -> str:
    return f"fb{int(post.id) - FIRST_ID:08d}"


def write_articles(folder: Path, posts: list[Post], articles: int, seed: int) -> int:
    """Article files in which every post appears at least once; returns the number of embeds."""
    rng = random.Random(seed + 1)
    folder.mkdir(parents=True)
    sizes = [rng.choice((2, 3)) for _ in range(articles)]
    is_text = [rng.random() < 0.25 for _ in range(articles)]
    with_media = [p for p in posts if p.kind in ("photo", "video")]
    unplaced = list(posts)
    rng.shuffle(unplaced)
    embeds = 0
    for a in range(articles):
        chosen: list[Post] = []
        while len(chosen) < sizes[a]:
            pool = with_media if is_text[a] else posts
            first = next((p for p in unplaced if p in pool), None)
            post = first if first is not None else rng.choice(pool)
            if post in chosen:
                continue
            if first is not None:
                unplaced.remove(first)
            chosen.append(post)
        embeds += len(chosen)
        if is_text[a]:
            body = "\n\n".join(
                f"Reporting paragraph {i} of article {a}.\n\nPost {p.id} says something. "
                f"pic.twitter.com/{pic_code(p)} — Bench {p.handle} (@{p.handle}) May 1, 2024"
                for i, p in enumerate(chosen)
            )
            (folder / f"article-{a:04d}.txt").write_text(body + "\n\nThe end.\n", "utf-8")
        else:
            quotes = "".join(
                f'<p>Paragraph {i}.</p><blockquote class="twitter-tweet"><p>post {p.id}</p>'
                f'&mdash; Bench (@{p.handle}) <a href="https://twitter.com/{p.handle}/status/'
                f'{p.id}">May 1, 2024</a></blockquote>'
                for i, p in enumerate(chosen)
            )
            (folder / f"article-{a:04d}.html").write_text(
                f"<html><head><title>Article {a}</title></head><body><h1>Article {a}</h1>"
                f"{quotes}</body></html>",
                "utf-8",
            )
    assert not unplaced, "more posts than embeds: raise --articles"
    return embeds


# --- the server ---------------------------------------------------------------------------


def photo_bytes(name: str) -> bytes:
    """A JPEG-looking body (sniffed as image/jpeg), distinct per name, ~20 kB."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + (name.encode() + b"|") * 700 + b"\xff\xd9"


def video_bytes(post_id: str) -> bytes:
    """A real MP4 followed by a ``free`` box that makes it distinct and ~150 kB."""
    pad = (post_id.encode() + b"-") * 7000
    return MP4.read_bytes() + struct.pack(">I", len(pad) + 8) + b"free" + pad


def tweet(post: Post, base: str) -> dict[str, Any]:
    media: list[dict[str, Any]] = [
        {
            "type": "photo",
            "media_url_https": f"{base}/media/{post.id}-{n}.jpg",
            "original_info": {"width": 10, "height": 10},
        }
        for n in range(post.photos)
    ]
    if post.kind == "video":
        media.append(
            {
                "type": "video",
                "media_url_https": f"{base}/thumb/{post.id}.jpg",
                "video_info": {
                    "variants": [
                        {
                            "bitrate": 832000,
                            "content_type": "video/mp4",
                            "url": f"{base}/video/{post.id}.mp4",
                        }
                    ]
                },
            }
        )
    data: dict[str, Any] = {
        "__typename": "Tweet",
        "id_str": post.id,
        "text": f"post {post.id}",
        "lang": "en",
        "created_at": "2024-05-01T10:00:00.000Z",
        "favorite_count": 1,
        "user": {"name": f"Bench {post.handle}", "screen_name": post.handle, "id_str": "42"},
        "mediaDetails": media,
    }
    if (quoted := post.quoted) is not None:
        data["quoted_tweet"] = tweet(quoted, base)
    return data


def answer(
    path: str, params: dict[str, str], known: dict[str, Post], base: str
) -> tuple[str, int, dict[str, str], bytes]:
    """(route kind, status, headers, body) of a healthy platform."""
    as_json = {"content-type": "application/json; charset=utf-8"}
    if path == "/syndication/tweet-result":
        post = known.get(params.get("id", ""))
        if post is None or post.kind == "gone":
            return "api", 404, {}, b""
        if post.kind == "tombstone":
            body = {"__typename": "TweetTombstone", "tombstone": {"text": {"text": "withheld"}}}
            return "api", 200, as_json, json.dumps(body).encode()
        return "api", 200, as_json, json.dumps(tweet(post, base)).encode()
    if path == "/oembed":
        post = known.get(params.get("url", "").split("/status/")[-1])
        if post is None or not post.live:
            return "api", 404, {}, b""
        html = (
            f'<blockquote class="twitter-tweet"><p lang="en">post {post.id}</p>&mdash; Bench '
            f'(@{post.handle}) <a href="https://twitter.com/{post.handle}/status/{post.id}">'
            "May 1, 2024</a></blockquote>"
        )
        body = {
            "author_name": f"Bench {post.handle}",
            "author_url": f"https://twitter.com/{post.handle}",
            "html": html,
        }
        return "api", 200, as_json, json.dumps(body).encode()
    name = path.rsplit("/", 1)[-1]
    if path.startswith("/pic/"):
        post = known.get(str(FIRST_ID + int(name[2:]))) if name[2:].isdigit() else None
        if post is None:
            return "redirect", 404, {}, b""
        where = f"https://twitter.com/{post.handle}/status/{post.id}/{'video' if post.kind == 'video' else 'photo'}/1"
        return "redirect", 301, {"location": where}, b""
    if path.startswith(("/media/", "/thumb/")):
        return "media", 200, {"content-type": "image/jpeg"}, photo_bytes(name)
    if path.startswith("/video/"):
        return (
            "media",
            200,
            {"content-type": "video/mp4", "accept-ranges": "bytes"},
            video_bytes(name.split(".")[0]),
        )
    return "other", 404, {}, b""


def serve(
    port_out: Any, posts: list[Post], seed: int, rate: float, faults_on: Any, counts: Any
) -> None:
    """The faulty platform; runs in a child process until terminated."""
    known = all_posts(posts)
    lock = threading.Lock()
    seen: Counter[str] = Counter()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            with lock:
                nth = seen[self.path]
                seen[self.path] += 1
                counts[0] += 1
            parts = urlsplit(self.path)
            base = f"http://127.0.0.1:{self.connection.getsockname()[1]}"
            route, status, headers, body = answer(
                parts.path, dict(parse_qsl(parts.query)), known, base
            )
            rng = random.Random(f"{seed}|{self.path}|{nth}")
            applicable = {
                "api": API_FAULTS,
                "redirect": REDIRECT_FAULTS,
                "media": MEDIA_FAULTS,
            }.get(route, ())
            fault = (
                rng.choice(applicable)
                if applicable and faults_on.value and rng.random() < rate
                else None
            )
            if fault is not None:
                with lock:
                    counts[1 + KINDS.index(fault)] += 1
            try:
                self.respond(fault, rng, status, headers, body)
            except OSError:
                self.close_connection = True  # the client gave up (timeouts): part of the test

        def respond(
            self,
            fault: str | None,
            rng: random.Random,
            status: int,
            headers: dict[str, str],
            body: bytes,
        ) -> None:
            if fault == "reset":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                self.connection.close()
                return
            if fault == "429":
                status, headers, body = (
                    429,
                    {"retry-after": "1", "content-type": "application/json"},
                    b'{"errors":[{"code":88}]}',
                )
            elif fault == "5xx":
                status = rng.choice((500, 503))
                headers = {"content-type": "application/json"} | (
                    {"retry-after": "1"} if status == 503 else {}
                )
                body = b'{"error":"Internal Server Error"}'
            elif fault == "malformed":
                body = body[: len(body) // 2] or b'{"id_str": '
                status, headers = 200, {"content-type": "application/json"}
            elif fault == "html":
                status = (
                    502
                    if rng.random() < 0.5
                    or "video" in headers.get("content-type", "")
                    or "image" in headers.get("content-type", "")
                    else 200
                )
                headers, body = {"content-type": "text/html; charset=utf-8"}, HTML_ERROR
            range_header = self.headers.get("range", "")
            if (
                status == 200
                and range_header.startswith("bytes=")
                and range_header[6:].split("-")[0].isdigit()
            ):
                start = int(range_header[6:].split("-")[0])
                if start < len(body):
                    headers = headers | {
                        "content-range": f"bytes {start}-{len(body) - 1}/{len(body)}"
                    }
                    status, body = 206, body[start:]
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            if fault == "truncated":
                self.send_header("connection", "close")
            self.end_headers()
            if fault == "truncated":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
            elif fault == "slow":
                duration = rng.uniform(0.5, 6.0)
                step = max(1, len(body) // 10)
                for i in range(0, len(body), step):
                    self.wfile.write(body[i : i + step])
                    self.wfile.flush()
                    time.sleep(duration / 10)
            else:
                self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

        def handle_error(self, request: Any, client_address: Any) -> None:
            return None  # resets and broken pipes are the point

    server = Server(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    server.serve_forever()
