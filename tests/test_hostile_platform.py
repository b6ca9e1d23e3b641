"""A platform that answers what no real one should: values of the wrong type or size, a broken
emoji, another post than the one asked for. Each run over real HTTP against a local server
that answers X's syndication endpoint with the JSON a test gives it; each ends in a stored,
explained outcome, never a traceback, a stuck queue or an archive that fails ``verify``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlite_utils import Database

from embedarchive.findings import date_window
from embedarchive.models import MediaRef, PostData

from .helpers import run


class Hostile:
    """``answers[key]``: the body for a request whose ``id`` or ``uri`` parameter (X, Bluesky)
    or path (Telegram) is ``key``: a dict (JSON), JSON text, or (content type, text)."""

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                asked = (query.get("id") or query.get("uri") or [parts.path])[0]
                answer = owner.answers.get(asked)
                kind, text = answer if isinstance(answer, tuple) else ("application/json", answer)
                body = (text if isinstance(text, str) else json.dumps(text)).encode()
                self.send_response(200 if answer is not None else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def env(self, archive: Path) -> dict[str, str]:
        return {
            "EMBEDARCHIVE_ARCHIVE_DIR": str(archive),
            "EMBEDARCHIVE_ALLOW_PRIVATE_NETWORK": "1",
            "EMBEDARCHIVE_TWITTER_METHODS": "syndication",
            "EMBEDARCHIVE_TWITTER_SYNDICATION_URL": self.url,
            "EMBEDARCHIVE_BLUESKY_APPVIEW_URL": self.url,
            "EMBEDARCHIVE_TELEGRAM_URL": self.url,
            "EMBEDARCHIVE_HTTP_RETRIES": "0",
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/"


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    server = Hostile()
    yield server
    server.server.shutdown()
    server.server.server_close()


def tweet(post_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "__typename": "Tweet",
        "id_str": post_id,
        "text": "Words of the post",
        "created_at": "2025-11-14T09:03:30.000Z",
        "user": {"name": "Someone", "screen_name": "someone", "id_str": "42"},
        **fields,
    }


def archive(hostile: Hostile, tmp_path: Path, *ids: str) -> tuple[Any, Database]:
    """Archive an article linking these X post ids (or whole URLs), then verify."""
    article = tmp_path / "article.txt"
    urls = [i if "/" in i else f"https://twitter.com/someone/status/{i}" for i in ids]
    article.write_text("".join(f"See {url}\n" for url in urls))
    env = hostile.env(tmp_path / "archive")
    result = run(["archive", str(article)], env)
    assert "Traceback" not in result.output
    verified = run(["verify", "--json"], env)
    assert verified.exit_code == 0, verified.stdout
    return result, Database(tmp_path / "archive" / "archive.db")


def test_numbers_past_sqlites_integers_are_kept_as_their_digits(
    hostile: Hostile, tmp_path: Path
) -> None:
    big = 2**70
    hostile.answers["1001"] = tweet(
        "1001", in_reply_to_status_id_str=big, user={"name": 2**80, "screen_name": "someone"}
    )
    result, db = archive(hostile, tmp_path, "1001")
    assert result.exit_code == 0, result.output
    (post,) = db["posts"].rows
    assert (post["reply_to_id"], post["uploader"]) == (str(big), str(2**80))


def test_a_broken_emoji_is_stored_as_a_replacement_and_kept_exactly_in_the_raw_answer(
    hostile: Hostile, tmp_path: Path
) -> None:
    hostile.answers["1002"] = '{"__typename": "Tweet", "id_str": "1002", "text": "a \\ud800 b", "user": {"screen_name": "someone"}}'  # fmt: skip
    result, db = archive(hostile, tmp_path, "1002")
    assert result.exit_code == 0, result.output
    (post,) = db["posts"].rows
    assert post["text"] == "a \ufffd b"
    (capture,) = db["captures"].rows
    assert "\\ud800" in capture["raw"]


def test_an_answer_about_another_post_is_not_stored_as_the_one_asked_for(
    hostile: Hostile, tmp_path: Path
) -> None:
    hostile.answers["1003"] = tweet("9999", text="I am another post")
    result, db = archive(hostile, tmp_path, "1003")
    assert result.exit_code == 1
    (capture,) = db["captures"].rows
    assert capture["status"] == "failed" and capture["data"] is None
    assert "answered with another post ('9999')" in capture["error"]
    assert [p["text"] for p in db["posts"].rows] == [None]


def test_bluesky_and_telegram_answering_with_another_post_are_not_stored_as_it(
    hostile: Hostile, tmp_path: Path
) -> None:
    other = {
        "uri": "at://did:plc:other/app.bsky.feed.post/3zzzzzzzzzzz2",
        "author": {"did": "did:plc:other", "handle": "other.bsky.social"},
        "record": {"text": "I am another post", "createdAt": "2025-11-14T09:00:00Z"},
    }
    hostile.answers["at://did:plc:4tan3ugu55i2u3hmtblu7wf5/app.bsky.feed.post/3aaaaaaaaaaa1"] = {
        "thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": other}
    }
    widget = '<div class="tgme_widget_message" data-post="otherchan/777"><div class="tgme_widget_message_text">I am another post</div></div>'  # fmt: skip
    hostile.answers["/durov/1"] = ("text/html; charset=utf-8", widget)
    result, db = archive(
        hostile,
        tmp_path,
        "https://bsky.app/profile/did:plc:4tan3ugu55i2u3hmtblu7wf5/post/3aaaaaaaaaaa1",
        "https://t.me/durov/1",
    )
    assert result.exit_code == 1
    errors = sorted(c["error"] for c in db["captures"].rows)
    assert len(errors) == 2 and all("another post" in e for e in errors), errors
    assert [p["text"] for p in db["posts"].rows] == [None, None]


def test_quoted_posts_that_are_the_post_itself_or_no_post_id_are_left_out(
    hostile: Hostile, tmp_path: Path
) -> None:
    hostile.answers["1004"] = tweet("1004", quoted_tweet=tweet("1004", text="self quote"))
    hostile.answers["1005"] = tweet("1005", quoted_tweet=tweet("1005/../x", text="not an id"))
    result, db = archive(hostile, tmp_path, "1004", "1005")
    assert result.exit_code == 0, result.output
    posts = {p["post_id"]: p for p in db["posts"].rows}
    assert set(posts) == {"1004", "1005"}
    assert {p["text"] for p in posts.values()} == {"Words of the post"}
    assert db["captures"].count == 2


def test_a_media_url_that_is_not_text_is_an_answer_not_understood(
    hostile: Hostile, tmp_path: Path
) -> None:
    video = {"type": "video", "video_info": {"variants": [{"url": 5}]}}
    hostile.answers["1006"] = tweet("1006", mediaDetails=[video])
    result, db = archive(hostile, tmp_path, "1006")
    assert result.exit_code == 1
    (capture,) = db["captures"].rows
    assert capture["status"] == "failed"
    assert capture["error"] == "the platform answered a video URL that is not text (int)"


def test_post_fields_are_text_whatever_the_platform_sent() -> None:
    post = PostData("x", "1", "u", text="ok \ud83d\ude00", lang=3.5, created_at=None)
    assert (post.text, post.lang, post.created_at) == ("ok 😀", "3.5", None)
    for wrong in ({"x": 1}, ["a"], True):
        with pytest.raises(Exception, match="text that is not text"):
            PostData("x", "1", "u", text=wrong)
    with pytest.raises(Exception, match="URL that is not text"):
        MediaRef("photo", 5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "created", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31"]
)
def test_a_clients_date_at_the_edge_of_the_calendar_is_no_date_window(created: str) -> None:
    assert date_window(created) is None
