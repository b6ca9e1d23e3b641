"""Telegram: URL forms and widget markup, and capture from the widget page of the fake.

The fake's widget pages are SYNTHESISED, not captured: no real ``t.me/<channel>/<id>?embed=1``
page exists in ``/work/shared/real-samples/`` (see SOURCES.md, "Not found"). They are built from
the documented facts (``tests/fakeplatform/data/telegram/README.md``); the error page's exact
wording and HTTP status are assumptions.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from embedarchive.detect import detect_html, detect_text
from embedarchive.platforms.telegram import Telegram

from .fakeplatform import telegram as fake_telegram
from .helpers import ARTICLES, MEDIA, fetch, sha256_file

POSTS = fake_telegram.POSTS
#: The official widget snippet, a verbatim copy of real-samples/telegram.
WIDGET_SCRIPT = (ARTICLES / "embed-snippet-widget-script-official-docs-durov-68.html").read_text()


def capture(fake, archive_dir: Path, post: str, **extra):
    return fetch(Telegram(), f"https://t.me/{post}", fake, archive_dir, **extra)


@pytest.mark.parametrize(("url", "expected"), [(u, i) for u, i in Telegram.examples if i])
def test_canonical_url_is_on_t_me(url: str, expected: str) -> None:
    """The ids themselves are checked with every platform's examples (test_detect_platforms)."""
    target = Telegram().match(url)
    assert target is not None and target.url == f"https://t.me/{expected}"


def article(body: str) -> str:
    return f"<html><body><article><h1>News</h1><p>Some text.</p>{body}<p>More.</p></article></body></html>"


def test_official_widget_script_is_detected() -> None:
    (found,) = detect_html(article(WIDGET_SCRIPT))
    assert (found.platform, found.id, found.url) == (
        "telegram",
        "durov/68",
        "https://t.me/durov/68",
    )


def test_rendered_widget_iframe_is_detected() -> None:
    frame = (
        '<iframe id="telegram-post-durov-68" src="https://t.me/durov/68?embed=1&amp;userpic=true"'
        ' width="100%" height="" frameborder="0" scrolling="no"></iframe>'
    )
    (found,) = detect_html(article(WIDGET_SCRIPT + frame))
    assert (found.platform, found.id) == ("telegram", "durov/68")


def test_channel_links_are_not_posts() -> None:
    html = article('<p>Follow us on <a href="https://t.me/durov">Telegram</a>.</p>')
    assert detect_html(html) == []


def test_plain_text_post_links_are_found() -> None:
    found = detect_text("The channel wrote:\n\nhttps://t.me/s/durov/68\n\nand t.me/durov/69.")
    assert [(d.platform, d.id) for d in found] == [
        ("telegram", "durov/68"),
        ("telegram", "durov/69"),
    ]


def test_photo_post(fake_platform, archive_dir: Path) -> None:
    result = capture(fake_platform, archive_dir, POSTS["photo"])
    assert result.status == "archived", result.error
    post = result.post
    assert post is not None
    assert (post.uploader, post.uploader_id) == ("Du Rove's Channel", "durov")
    assert post.created_at == "2015-10-14T17:18:33Z"
    assert post.text == (
        "Synthesised test post for the widget example durov/68 — not the real post.\n\n"
        "Second paragraph with a link & an emoji 👉 here."
    )
    assert post.counts == {"view_count": 1_200_000}
    (photo,) = result.media
    assert (photo.kind, photo.mime) == ("photo", "image/jpeg")
    assert photo.sha256 == sha256_file(MEDIA / "photo-orig.jpg")
    (page,) = fake_platform.requests_to("/telegram/")
    assert page["params"] == {"embed": "1"}
    assert post.raw == fake_telegram.PAGES["durov/68"].replace("{BASE}", fake_platform.base_url)


def test_album_keeps_every_item(fake_platform, archive_dir: Path) -> None:
    result = capture(fake_platform, archive_dir, POSTS["album"])
    assert result.status == "archived", result.error
    assert result.post is not None
    items = [(m.kind, m.info.get("item")) for m in result.post.media]
    assert items == [
        ("photo", "embedarchive_test/201"),
        ("photo", "embedarchive_test/202"),
        ("thumbnail", "embedarchive_test/203"),
        ("video", "embedarchive_test/203"),
    ]
    video = next(m for m in result.media if m.kind == "video")
    assert video.sha256 == sha256_file(MEDIA / "video-low.mp4")
    assert {m.sha256 for m in result.media if m.kind == "photo"} == {
        sha256_file(MEDIA / "photo-orig.jpg"),
        sha256_file(MEDIA / "photo-small.jpg"),
    }
    assert result.post.created_at == "2025-11-14T07:15:02Z"
    assert result.post.counts == {"view_count": 12_500}


def test_video_reply_is_not_confused_with_what_it_replies_to(
    fake_platform, archive_dir: Path
) -> None:
    result = capture(fake_platform, archive_dir, POSTS["video"])
    assert result.status == "archived", result.error
    post = result.post
    assert post is not None
    assert post.text == "A video, in reply to the album."
    assert post.reply_to_id == "embedarchive_test/201"
    assert [m.kind for m in post.media] == ["thumbnail", "video"]
    video = next(m for m in result.media if m.kind == "video")
    assert video.sha256 == sha256_file(MEDIA / "video-best.mp4")
    assert video.info["probe"]["size"]


@pytest.mark.parametrize(
    ("case", "reason"),
    [("not_found", "Post not found"), ("restricted", "Terms of Service")],
)
def test_error_widget_is_unavailable(
    fake_platform, archive_dir: Path, case: str, reason: str
) -> None:
    result = capture(fake_platform, archive_dir, fake_telegram.ERROR_CASES[case])
    assert result.status == "unavailable"
    assert reason in (result.error or "")
    assert not result.retryable
    assert result.exchanges and result.exchanges[0].status == 200


def test_server_error_fails_retryably(fake_platform, archive_dir: Path) -> None:
    fake_platform.fail("/telegram/", 502)
    result = capture(fake_platform, archive_dir, POSTS["photo"])
    assert result.status == "failed"
    assert "HTTP 502" in (result.error or "")
    assert result.retryable
