"""X/Twitter capture methods against the fake platform: data, media, and every failure shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedarchive.capture.context import FetchContext
from embedarchive.capture.http import Http
from embedarchive.models import Capture, Target
from embedarchive.platforms.twitter import Twitter, canonical_status_url
from embedarchive.store.files import FileStore

from .helpers import MEDIA, settings_for, sha256_file

CASES = json.loads((Path(__file__).parent / "fakeplatform" / "data" / "cases.json").read_text())
TWEETS = CASES["tweets"]
ERRORS = CASES["syndication_cases"]


def capture(fake, archive_dir: Path, post_id: str, **extra) -> Capture:
    settings = settings_for(fake, archive_dir, **extra)
    files = FileStore(settings.archive_dir)
    files.open()
    with Http(settings) as http:
        ctx = FetchContext(settings=settings, http=http, files=files)
        return Twitter().fetch(Target("twitter", post_id, canonical_status_url(post_id)), ctx)


def test_photo_post_is_fetched_at_original_size(fake_platform, archive_dir: Path) -> None:
    result = capture(fake_platform, archive_dir, TWEETS["photo"])
    assert result.status == "archived" and result.method == "syndication"
    assert result.post is not None and result.post.uploader_id
    photo = next(m for m in result.media if m.kind == "photo")
    assert photo.sha256 == sha256_file(MEDIA / "photo-orig.jpg")
    assert photo.mime == "image/jpeg"
    assert "name=orig" in photo.source_url
    assert (archive_dir / photo.path).is_file()


def test_video_post_takes_the_highest_bitrate_mp4(fake_platform, archive_dir: Path) -> None:
    result = capture(fake_platform, archive_dir, TWEETS["video"])
    assert result.status == "archived", result.error
    video = next(m for m in result.media if m.kind == "video")
    assert video.sha256 == sha256_file(MEDIA / "video-best.mp4")
    assert video.info["bitrate"] == max(
        v.get("bitrate", 0) for v in video.info["video_info"]["variants"]
    )
    assert any(m.kind == "thumbnail" for m in result.media)
    assert result.post is not None and result.post.counts["like_count"] > 0


def test_text_has_expanded_links(fake_platform, archive_dir: Path) -> None:
    result = capture(fake_platform, archive_dir, TWEETS["video"])
    assert result.post is not None and result.post.text is not None
    assert "https://buff.ly/450N0Px" in result.post.text
    assert "t.co/1kNB4GT8ut" not in result.post.text


def test_quoted_post_is_archived_too(fake_platform, archive_dir: Path) -> None:
    result = capture(fake_platform, archive_dir, TWEETS["quote"])
    assert result.status == "archived"
    assert result.post is not None and result.post.quoted is not None
    (quoted,) = result.related
    assert quoted.target.id == result.post.quoted.id != result.post.id
    assert quoted.status == "archived"
    assert quoted.media and all(m.mime.startswith("image/") for m in quoted.media)


def test_text_only_post_has_no_media(fake_platform, archive_dir: Path) -> None:
    result = capture(fake_platform, archive_dir, TWEETS["text"])
    assert result.status == "archived" and result.media == ()
    assert result.post is not None and result.post.text


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("tombstone_deleted", "deleted"),
        ("tombstone_age_restricted", "tombstone"),
        ("not_found_empty", "empty"),
        ("not_found_404", "404"),
    ],
)
def test_gone_posts_are_unavailable_not_errors(
    fake_platform, archive_dir: Path, case: str, reason: str
) -> None:
    result = capture(fake_platform, archive_dir, ERRORS[case])
    assert result.status == "unavailable"
    assert reason in result.error
    assert not result.retryable
    assert [a.method for a in result.attempts] == ["syndication", "oembed"]
    assert result.exchanges  # the evidence of the platform's answer is kept


@pytest.mark.parametrize(
    ("case", "reason"), [("html_error", "not JSON"), ("server_error", "HTTP 500")]
)
def test_broken_answers_fail_retryably(
    fake_platform, archive_dir: Path, case: str, reason: str
) -> None:
    result = capture(fake_platform, archive_dir, ERRORS[case], twitter_methods="syndication")
    assert result.status == "failed"
    assert reason in result.error
    assert result.retryable


def test_oembed_keeps_the_text_when_syndication_is_down_and_the_capture_stays_retryable(
    fake_platform, archive_dir: Path
) -> None:
    """oEmbed has the text but not the video: a partial capture, kept, and retried later."""
    result = capture(
        fake_platform,
        archive_dir,
        TWEETS["seed"],
        twitter_syndication_url="http://127.0.0.1:9/tweet-result",
    )
    assert result.method == "oembed"
    assert [a.outcome for a in result.attempts] == ["failed", "ok"]
    assert result.post is not None and result.post.uploader_id == "trhaber_com"
    assert result.post.text and "Rus ordusunun" in result.post.text
    assert (result.status, result.retryable) == ("failed", True)
    assert result.error and result.error.startswith("captured by oembed only; syndication failed")


def test_oembed_after_a_final_refusal_is_a_complete_capture(
    fake_platform, archive_dir: Path
) -> None:
    """A tombstone on syndication (age-restricted) is no transient failure: oEmbed's answer is
    all there is to get, and the capture is archived."""
    fake_platform.fail("/syndication", 404)
    result = capture(fake_platform, archive_dir, TWEETS["seed"])
    assert [a.outcome for a in result.attempts] == ["unavailable", "ok"]
    assert (result.status, result.method) == ("archived", "oembed")


def test_fxtwitter_is_opt_in_and_works(fake_platform, archive_dir: Path) -> None:
    result = capture(fake_platform, archive_dir, TWEETS["photo"], twitter_methods="fxtwitter")
    assert result.status == "archived" and result.method == "fxtwitter"
    assert any(m.kind == "photo" for m in result.media)
    fake_platform.reset()
    default = capture(fake_platform, archive_dir, TWEETS["photo"])
    assert default.method == "syndication"
    assert not any("/fx/" in r["path"] for r in fake_platform.requests)


def test_token_is_sent_and_accepted(fake_platform, archive_dir: Path) -> None:
    capture(fake_platform, archive_dir, TWEETS["seed"])
    request = next(r for r in fake_platform.requests if "tweet-result" in r["path"])
    assert "token=" in request["path"]


def test_same_media_in_two_posts_is_stored_once(fake_platform, archive_dir: Path) -> None:
    first = capture(fake_platform, archive_dir, TWEETS["video"])
    second = capture(fake_platform, archive_dir, TWEETS["video"])
    assert {m.path for m in first.media} == {m.path for m in second.media}
    files = [p for p in (archive_dir / "media").rglob("*") if p.is_file()]
    assert len(files) == len({m.sha256 for m in first.media})
