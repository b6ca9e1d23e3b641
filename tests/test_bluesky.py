"""Bluesky: URL forms, the official blockquote, and capture from the fake AppView, PLC and PDSes.

The AppView answers are real samples (real-samples/bluesky), wrapped in a thread where they
were feed or search items; the DID documents, PDS names and one post are synthesised
(``tests/fakeplatform/data/bluesky/README.md``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from embedarchive.detect import detect_html, detect_text
from embedarchive.platforms._common import iso_utc
from embedarchive.platforms.bluesky import Bluesky, did_document_url
from embedarchive.settings import Settings

from .fakeplatform import bluesky as fake_bluesky
from .helpers import ARTICLES, MEDIA, fetch, sha256_file

POSTS = fake_bluesky.POSTS
CASES = fake_bluesky.ERROR_CASES
BLOCKQUOTE = (
    ARTICLES / "embed-snippet-bluesky-embed-blockquote-raymondcamden-3mgpk65ei7d2u.html"
).read_text()
RAYMOND = "did:plc:4tan3ugu55i2u3hmtblu7wf5"


def capture(fake, archive_dir: Path, post: str, **extra):
    actor, rkey = post.rsplit("/", 1)
    return fetch(
        Bluesky(), f"https://bsky.app/profile/{actor}/post/{rkey}", fake, archive_dir, **extra
    )


def test_at_uri_of_the_blockquote_is_an_id() -> None:
    target = Bluesky().target_for_id(f"at://{RAYMOND}/app.bsky.feed.post/3mgpk65ei7d2u")
    assert target is not None
    assert target.id == f"{RAYMOND}/3mgpk65ei7d2u"
    assert target.url == f"https://bsky.app/profile/{RAYMOND}/post/3mgpk65ei7d2u"


def test_official_blockquote_is_detected_with_its_attribution() -> None:
    html = f"<html><body><article><p>Intro.</p>{BLOCKQUOTE}<p>After.</p></article></body></html>"
    (found,) = detect_html(html)
    assert (found.platform, found.id, found.markup) == (
        "bluesky",
        f"{RAYMOND}/3mgpk65ei7d2u",
        "blockquote",
    )
    assert (found.author, found.handle, found.date) == (
        "Raymond Camden",
        "raymondcamden.com",
        "2026-03-10",
    )
    assert found.text and found.text.startswith("Good morning good people")


def test_textified_blockquote_is_found_in_plain_text() -> None:
    text = (
        "The developer tested it first.\n\n"
        "Good morning good people - just a quick test from my Astro app.\n"
        "— Raymond Camden (@raymondcamden.com) March 10, 2026 at 9:06 AM\n\n"
        "The article goes on."
    )
    (found,) = detect_text(text)
    assert (found.platform, found.handle, found.date) == (
        "bluesky",
        "raymondcamden.com",
        "2026-03-10",
    )
    assert found.text and "quick test" in found.text


def test_did_web_documents_are_on_their_own_host() -> None:
    settings = Settings()
    assert did_document_url("did:web:pds.example.org", settings) == (
        "https://pds.example.org/.well-known/did.json"
    )
    assert did_document_url("did:web:localhost%3A8443", settings) == (
        "https://localhost:8443/.well-known/did.json"
    )
    assert did_document_url(RAYMOND, settings) == f"https://plc.directory/{RAYMOND}"


def test_images_come_from_the_authors_pds(fake_platform, archive_dir: Path) -> None:
    result = capture(fake_platform, archive_dir, POSTS["images"])
    assert result.status == "archived", result.error
    post = result.post
    assert post is not None
    assert post.id == "soubhikbarari.bsky.social/3k7qmjev5lr2s"
    assert (post.uploader, post.uploader_id, post.user_id) == (
        "Soubhik Barari",
        "soubhikbarari.bsky.social",
        "did:plc:ic6zqvuw5ulmfpjiwnhsr2ns",
    )
    assert post.created_at == "2023-09-19T11:32:54.574Z"
    assert post.lang == "en"
    assert post.text and post.text.startswith("Excited to be a speaker")
    assert post.counts == {"like_count": 4, "repost_count": 0, "reply_count": 0, "quote_count": 0}
    (photo,) = result.media
    assert photo.sha256 == sha256_file(MEDIA / "photo-orig.jpg")
    assert photo.info["cid"] == "bafkreictkyws7qbruuupes52t6k5o5o5qfggf7pm6urzz7dyty53gzu3h4"
    assert "/pds/amanita/xrpc/com.atproto.sync.getBlob?" in photo.source_url
    routes = [r["route"] for r in fake_platform.requests]
    assert routes == [
        "/bsky/xrpc/com.atproto.identity.resolveHandle",
        "/bsky/xrpc/app.bsky.feed.getPostThread",
        "/plc/did:plc:ic6zqvuw5ulmfpjiwnhsr2ns",
        "/pds/amanita/xrpc/com.atproto.sync.getBlob",
    ]
    thread = fake_platform.requests[1]["params"]
    assert thread["uri"] == "at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s"
    assert post.raw == fake_bluesky.THREADS["3k7qmjev5lr2s"]


def test_video_blob_is_downloaded_whole(fake_platform, archive_dir: Path) -> None:
    result = capture(fake_platform, archive_dir, POSTS["video"])
    assert result.status == "archived", result.error
    (video,) = result.media
    assert (video.kind, video.mime) == ("video", "video/mp4")
    assert video.sha256 == sha256_file(MEDIA / "video-best.mp4")
    assert "/pds/porcini/" in video.source_url
    assert not fake_platform.requests_to("/bsky/xrpc/com.atproto.identity")  # a DID needs none


def test_quoted_post_is_archived_from_its_own_authors_pds(fake_platform, archive_dir: Path) -> None:
    result = capture(fake_platform, archive_dir, POSTS["quote"])
    assert result.status == "archived", result.error
    assert result.post is not None and result.post.text
    assert result.post.text.startswith("And videos are live!")
    assert result.media == ()
    (quoted,) = result.related
    assert quoted.status == "archived"
    assert quoted.post is not None
    assert quoted.target.id == "did:plc:5c2r73erhng4bszmxlfdtscf/3lc7pjcxyz22c"
    assert quoted.post.uploader_id == "bskyr.bsky.social"
    assert quoted.post.text == "testing sending videos from R"
    (video,) = quoted.media
    assert video.sha256 == sha256_file(MEDIA / "video-low.mp4")
    assert "/pds/porcini/" in video.source_url
    assert video.info["alt"] == "a carousel of package logos, all hexagonal"


def test_record_with_media_keeps_both(fake_platform, archive_dir: Path) -> None:
    result = capture(fake_platform, archive_dir, POSTS["quote_with_media"])
    assert result.status == "archived", result.error
    (photo,) = result.media
    assert photo.sha256 == sha256_file(MEDIA / "photo-small.jpg")
    (quoted,) = result.related
    assert quoted.post is not None and quoted.post.uploader == "CRAN Updates"
    assert quoted.post.created_at == "2025-05-03T02:37:59.976340Z"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("not_found", "not found"),
        ("not_found_post", "not found"),
        ("blocked", "blocked"),
        ("unknown_handle", "does not resolve"),
    ],
)
def test_gone_posts_are_unavailable(
    fake_platform, archive_dir: Path, case: str, reason: str
) -> None:
    result = capture(fake_platform, archive_dir, CASES[case])
    assert result.status == "unavailable"
    assert reason in (result.error or "")
    assert not result.retryable
    assert result.exchanges


def test_appview_error_fails_retryably(fake_platform, archive_dir: Path) -> None:
    fake_platform.fail("/bsky/xrpc/app.bsky.feed.getPostThread", 503)
    result = capture(fake_platform, archive_dir, POSTS["video"])
    assert (result.status, result.retryable) == ("failed", True)
    assert "HTTP 503" in (result.error or "")


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (404, False)])
def test_missing_did_document_fails_the_capture(
    fake_platform, archive_dir: Path, status: int, retryable: bool
) -> None:
    fake_platform.fail("/plc/", status)
    result = capture(fake_platform, archive_dir, POSTS["video"])
    assert (result.status, result.retryable) == ("failed", retryable)
    assert "DID document" in (result.error or "")


def test_rendered_embed_iframe_is_detected() -> None:
    """What embed.js leaves in a saved page: an iframe on embed.bsky.app instead of the quote."""
    frame = (
        '<iframe data-bluesky-id="4421" src="https://embed.bsky.app/embed/'
        f'{RAYMOND}/app.bsky.feed.post/3mgpk65ei7d2u?id=4421" width="100%"></iframe>'
    )
    html = f"<html><body><article><p>Intro.</p>{frame}<p>After.</p></article></body></html>"
    (found,) = detect_html(html)
    assert (found.platform, found.id, found.markup) == (
        "bluesky",
        f"{RAYMOND}/3mgpk65ei7d2u",
        "iframe",
    )


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("2025-11-14T10:00:00.123+03:00", "2025-11-14T07:00:00.123Z"),
        ("2025-11-14T10:00:00", "2025-11-14T10:00:00Z"),
        # A record's createdAt is whatever the posting client wrote; one that cannot be put in
        # UTC (year 1 ahead of it, year 9999 behind it) is kept as written, not a crash.
        ("0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00+01:00"),
        ("9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59-01:00"),
        ("yesterday", "yesterday"),
    ],
)
def test_post_times_are_utc_or_kept_as_written(written: str, stored: str) -> None:
    assert iso_utc(written) == stored
