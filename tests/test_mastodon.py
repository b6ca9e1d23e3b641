"""Mastodon: the any-host URL rule, the embed markers, and capture from the fake's REST API.

Status bodies are real samples (mastodon.social, the documentation's examples) or synthesised in
their shape; see ``tests/fakeplatform/data/mastodon/README.md``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from embedarchive.detect import detect_html, detect_text
from embedarchive.platforms.mastodon import Mastodon

from .fakeplatform import mastodon as fake_mastodon
from .helpers import ARTICLES, MEDIA, fetch, sha256_file

STATUSES = fake_mastodon.STATUSES
BLOCKQUOTE = (
    ARTICLES / "embed-snippet-mastodon-embed-blockquote-v4.3-raymondcamden-116205264348332986.html"
).read_text()
LEGACY_IFRAME = (
    ARTICLES / "embed-snippet-legacy-iframe-botsin-space-superjoycat-109439745302574877.html"
).read_text()


def capture(fake, archive_dir: Path, status_id: str, **extra):
    url = f"https://mastodon.social/@someone/{status_id}"
    return fetch(Mastodon(), url, fake, archive_dir, **extra)


def article(body: str) -> str:
    return f"<html><body><article><p>Intro.</p>{body}<p>After.</p></article></body></html>"


def test_blockquote_embed_is_detected() -> None:
    (found,) = detect_html(article(BLOCKQUOTE))
    assert (found.platform, found.id, found.markup) == (
        "mastodon",
        "mastodon.social/116205264348332986",
        "blockquote",
    )
    assert found.url == "https://mastodon.social/@raymondcamden/116205264348332986"


def test_blockquote_names_a_short_id_through_its_embed_url() -> None:
    """The explicit marker is trusted even for ids too short for the any-host URL rule."""
    html = article(
        '<blockquote class="mastodon-embed" data-embed-url="https://mastodon.social/@Gargron/1/embed">'
        "Post by @Gargron@mastodon.social</blockquote>"
    )
    (found,) = detect_html(html)
    assert (found.platform, found.id) == ("mastodon", "mastodon.social/1")


def test_legacy_iframe_embed_is_detected() -> None:
    (found,) = detect_html(article(LEGACY_IFRAME))
    assert (found.platform, found.id) == ("mastodon", "botsin.space/109439745302574877")


def test_truth_social_is_not_read_as_an_instance() -> None:
    frame = (
        '<iframe class="truthsocial-embed lazyLoad" data-src='
        '"https://truthsocial.com/@realDonaldTrump/116431297579272777/embed"></iframe>'
    )
    assert all(d.platform != "mastodon" for d in detect_html(article(frame)))


def test_plain_text_status_links_are_found() -> None:
    found = detect_text(
        "She posted:\n\nhttps://fosstodon.org/@someone/109439745302574877\n\nYesterday."
    )
    assert [(d.platform, d.id) for d in found] == [("mastodon", "fosstodon.org/109439745302574877")]


def test_image_status(fake_platform, archive_dir: Path) -> None:
    result = capture(fake_platform, archive_dir, STATUSES["image"])
    assert result.status == "archived", result.error
    post = result.post
    assert post is not None
    assert post.id == "mastodon.social/107751441476337212"
    assert post.url == "https://mastodon.social/@thislight/107751441476337212"
    assert (post.uploader, post.uploader_id, post.user_id) == (
        "thislight",
        "thislight@mastodon.social",
        "150831",
    )
    assert (post.text, post.lang) == ("简单触发一个编译器bug……", "zh")
    assert post.created_at == "2022-02-06T14:08:36.668Z"
    (photo,) = result.media
    assert (photo.kind, photo.sha256) == ("photo", sha256_file(MEDIA / "photo-orig.jpg"))
    assert photo.info["meta"]["original"]["width"] == 822
    (request,) = fake_platform.requests_to("/mastodon/")
    assert request["route"] == "/mastodon/api/v1/statuses/107751441476337212"


def test_html_content_becomes_plain_text_and_raw_is_verbatim(
    fake_platform, archive_dir: Path
) -> None:
    result = capture(fake_platform, archive_dir, STATUSES["quote"])
    assert result.post is not None
    assert (
        result.post.text == "Quoting a post: https://mastodon.social/@thislight/107751441476337212"
    )
    assert result.post.raw == fake_mastodon.BODIES[STATUSES["quote"]].replace(
        "{BASE}", fake_platform.base_url
    )
    assert "<p>" in result.post.raw


def test_video_gifv_and_audio_attachments(fake_platform, archive_dir: Path) -> None:
    video = capture(fake_platform, archive_dir, STATUSES["video"])
    assert video.status == "archived", video.error
    assert [(m.kind, m.mime) for m in video.media] == [
        ("video", "video/mp4"),
        ("thumbnail", "image/jpeg"),
    ]
    assert video.media[0].sha256 == sha256_file(MEDIA / "video-best.mp4")
    mixed = capture(fake_platform, archive_dir, STATUSES["gifv_audio"])
    assert mixed.status == "archived", mixed.error
    assert mixed.post is not None and mixed.post.text == (
        "A gifv and an audio attachment\n(synthesised status)."
    )
    assert [(m.kind, m.mime) for m in mixed.media] == [
        ("gif", "video/mp4"),
        ("thumbnail", "image/jpeg"),
        ("audio", "audio/mpeg"),
    ]
    assert mixed.media[2].sha256 == sha256_file(MEDIA / "audio.mp3")


@pytest.mark.parametrize("kind", ["quote", "reblog"])
def test_quoted_and_reblogged_statuses_are_archived_too(
    fake_platform, archive_dir: Path, kind: str
) -> None:
    result = capture(fake_platform, archive_dir, STATUSES[kind])
    assert result.status == "archived", result.error
    (inner,) = result.related
    assert inner.target.id == "mastodon.social/107751441476337212"
    assert inner.post is not None and inner.post.text == "简单触发一个编译器bug……"
    assert [m.kind for m in inner.media] == ["photo"]


@pytest.mark.parametrize(
    ("case", "reason"),
    [("not_found", "Record not found"), ("authorized_fetch", "requires a login")],
)
def test_gone_or_login_walled_statuses_are_unavailable(
    fake_platform, archive_dir: Path, case: str, reason: str
) -> None:
    result = capture(fake_platform, archive_dir, fake_mastodon.ERROR_CASES[case])
    assert result.status == "unavailable"
    assert reason in (result.error or "")
    assert not result.retryable
    assert result.exchanges


def test_server_error_fails_retryably(fake_platform, archive_dir: Path) -> None:
    fake_platform.fail("/mastodon/api/", 500)
    result = capture(fake_platform, archive_dir, STATUSES["image"])
    assert (result.status, result.retryable) == ("failed", True)
    assert "HTTP 500" in (result.error or "")


def test_without_a_mirror_the_status_is_asked_of_its_own_instance(
    fake_platform, archive_dir: Path
) -> None:
    """``mastodon_api_url`` unset: the request goes to the post's instance (here refused)."""
    result = fetch(
        Mastodon(),
        "https://127.0.0.1.invalid/@someone/107751441476337212",
        fake_platform,
        archive_dir,
        mastodon_api_url="",
    )
    assert result.status == "failed"
    (exchange,) = result.exchanges
    assert exchange.url == "https://127.0.0.1.invalid/api/v1/statuses/107751441476337212"
