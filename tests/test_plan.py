"""Short links expanded hop by hop against the fake t.co / pic.twitter.com."""

from __future__ import annotations

from pathlib import Path

from embedarchive.capture.http import Http, Recorder
from embedarchive.models import Detection
from embedarchive.plan import resolve
from embedarchive.platforms import REGISTRY

from .helpers import settings_for

SEED_ID = "1989257861291196183"


def text_detection(*links: str, post_id: str | None = None) -> Detection:
    url = f"https://twitter.com/x/status/{post_id}" if post_id else None
    return Detection(
        "twitter", "post", "text", 0, url=url, id=post_id, handle="trhaber_com", links=links
    )


def resolve_with(fake, archive_dir: Path, detection: Detection, **extra):
    recorder = Recorder()
    with Http(settings_for(fake, archive_dir, **extra)) as http:
        return resolve(detection, http, recorder, REGISTRY), recorder.exchanges()


def test_pic_link_resolves_to_the_status(fake_platform, archive_dir: Path) -> None:
    resolution, exchanges = resolve_with(
        fake_platform, archive_dir, text_detection("pic.twitter.com/sto5JNQDWw")
    )
    assert resolution.status == "resolved"
    assert resolution.target is not None and resolution.target.id == SEED_ID
    assert resolution.target.url == f"https://twitter.com/trhaber_com/status/{SEED_ID}"
    assert len(exchanges) == 1 and exchanges[0].status in (301, 302)
    assert dict(exchanges[0].response_headers)["location"].endswith("/video/1")


def test_two_hop_tco_records_every_hop(fake_platform, archive_dir: Path) -> None:
    resolution, exchanges = resolve_with(
        fake_platform, archive_dir, text_detection("https://t.co/TwoHopSeed")
    )
    assert resolution.status == "resolved" and resolution.target is not None
    assert resolution.target.id == SEED_ID
    assert len(resolution.hops) == 2 and len(exchanges) == 2


def test_browser_user_agent_gets_meta_refresh_and_still_resolves(
    fake_platform, archive_dir: Path
) -> None:
    resolution, exchanges = resolve_with(
        fake_platform,
        archive_dir,
        text_detection("t.co/sto5JNQDWw"),
        user_agent="Mozilla/5.0 (X11; Linux x86_64)",
    )
    assert exchanges[0].status == 200
    assert resolution.target is not None and resolution.target.id == SEED_ID


def test_redirect_loop_fails_without_retry(fake_platform, archive_dir: Path) -> None:
    resolution, _ = resolve_with(fake_platform, archive_dir, text_detection("t.co/LoopAaaaaa"))
    assert resolution.status == "failed"
    assert "loop" in (resolution.error or "")
    assert not resolution.retryable


def test_no_link_stays_unresolved_and_invents_nothing(fake_platform, archive_dir: Path) -> None:
    resolution, exchanges = resolve_with(fake_platform, archive_dir, text_detection())
    assert resolution.status == "unresolved" and resolution.target is None
    assert exchanges == ()


def test_direct_detection_needs_no_request(fake_platform, archive_dir: Path) -> None:
    resolution, exchanges = resolve_with(fake_platform, archive_dir, text_detection(post_id="20"))
    assert resolution.status == "direct" and exchanges == ()


def test_network_down_is_a_retryable_failure(fake_platform, archive_dir: Path) -> None:
    resolution, exchanges = resolve_with(
        fake_platform,
        archive_dir,
        text_detection("pic.twitter.com/sto5JNQDWw"),
        twitter_pic_url="http://127.0.0.1:9/pic",
    )
    assert resolution.status == "failed" and resolution.retryable
    assert exchanges and exchanges[0].error  # the failed attempt is recorded too
