"""yt-dlp for real, against a local video site: downloads, guards, provenance, errors, matching.

Nothing is mocked on the yt-dlp side: its ``generic`` extractor reads the pages, manifests and
media of ``tests/fakemedia.py`` on 127.0.0.1 and its native downloaders fetch them. The guard
tests replace only embedarchive's own host check, to block one host name of the same server.
"""

from __future__ import annotations

import gc
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import imageio_ffmpeg
import pytest
from click.testing import CliRunner

from embedarchive.capture import ytdlp_support
from embedarchive.capture.context import FetchContext
from embedarchive.capture.http import Http, Recorder
from embedarchive.capture.ytdlp import fetch_with_ytdlp, format_selector, refusal
from embedarchive.cli import cli
from embedarchive.errors import (
    BlockedAddressError,
    ConfigError,
    FetchError,
    TooLargeError,
    UnavailableError,
)
from embedarchive.models import MediaFile, Target
from embedarchive.platforms import REGISTRY, match_url
from embedarchive.platforms.generic import GenericVideo, brand_label
from embedarchive.settings import Settings, load_settings
from embedarchive.store.files import FileStore

from .fakemedia import MEDIA, FakeMedia


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def site() -> Iterator[FakeMedia]:
    with FakeMedia() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_log(request: pytest.FixtureRequest) -> None:
    if "site" in request.fixturenames:
        request.getfixturevalue("site").reset()


def make_settings(archive_dir: Path, **extra: Any) -> Settings:
    overrides = {"archive_dir": archive_dir, "allow_private_network": True, **extra}
    return load_settings(overrides, environ={}).settings


def fetch(
    url: str, archive_dir: Path, recorder: Recorder | None = None, **extra: Any
) -> tuple[dict[str, Any], tuple[MediaFile, ...]]:
    settings = make_settings(archive_dir, **extra)
    store = FileStore(settings.archive_dir)
    store.open()
    return fetch_with_ytdlp(url, settings, store, recorder=recorder)


def probe(path: Path) -> dict[str, Any]:
    frames = imageio_ffmpeg.read_frames(str(path))
    meta: dict[str, Any] = next(frames)
    frames.close()
    return meta


def stored(archive_dir: Path) -> list[Path]:
    return sorted(p for p in (archive_dir / "media").rglob("*") if p.is_file())


def leftovers(archive_dir: Path) -> list[Path]:
    return sorted((archive_dir / "tmp").rglob("*"))


# --- downloads -----------------------------------------------------------------------------


def test_direct_mp4_is_stored_byte_for_byte_with_info_json(site: FakeMedia, tmp_path: Path) -> None:
    recorder = Recorder()
    info, files = fetch(site.url("/media/video-best.mp4"), tmp_path, recorder)
    (video,) = files
    assert video.sha256 == sha256(MEDIA / "video-best.mp4")
    assert video.mime == "video/mp4" and video.kind == "video"
    assert sha256(tmp_path / video.path) == video.sha256
    assert video.final_url == site.url("/media/video-best.mp4")
    assert video.info["ytdlp"]["extractor"] == "generic"
    assert video.info["ytdlp"]["webpage_url"] == site.url("/media/video-best.mp4")
    assert video.info["probe"]["codec"] == "h264"
    assert info["extractor_key"] == "Generic" and "filepath" not in json.dumps(info)
    body = [e for e in recorder.exchanges() if e.complete and e.url.endswith("video-best.mp4")]
    assert body and body[-1].body_sha256 == video.sha256 and body[-1].purpose == "ytdlp"
    del recorder, body  # spooled bodies (for WARC records) go with the exchanges
    gc.collect()  # yt-dlp's objects hold the recorder in reference cycles
    assert leftovers(tmp_path) == []


def test_hls_stream_is_downloaded_as_a_valid_mp4(site: FakeMedia, tmp_path: Path) -> None:
    recorder = Recorder()
    info, files = fetch(site.url("/hls/index.m3u8"), tmp_path, recorder)
    (video,) = files
    assert video.mime == "video/mp4"
    meta = probe(tmp_path / video.path)
    assert meta["codec"] == "h264" and meta["size"] == (160, 120)
    assert 1.5 < meta["duration"] < 2.5
    segments = {e.url.rsplit("/", 1)[-1]: e.body_sha256 for e in recorder.exchanges()}
    assert segments["seg0.ts"] == sha256(MEDIA / "hls" / "seg0.ts")
    assert segments["seg1.ts"] == sha256(MEDIA / "hls" / "seg1.ts")
    assert info["protocol"].startswith("m3u8")


def test_generic_platform_fetch_archives_the_video_with_provenance(
    site: FakeMedia, tmp_path: Path
) -> None:
    # match() never offers 127.0.0.1 (only yt-dlp's catch-all takes it), so the target is built.
    settings = make_settings(tmp_path)
    store = FileStore(settings.archive_dir)
    store.open()
    url = site.url("/page/video.html?duration=PT1S")
    with Http(settings) as http:
        capture = GenericVideo().fetch(
            Target("video", "generic:page", url, "video"),
            FetchContext(settings=settings, http=http, files=store),
        )
    assert capture.status == "archived" and capture.method == "ytdlp", capture.error
    assert capture.post is not None and capture.post.text is not None
    assert "A test clip" in capture.post.text and capture.post.created_at == "2024-05-01T10:00:00Z"
    assert json.loads(capture.post.raw)["duration"] == 1
    (video,) = capture.media
    assert video.sha256 == sha256(MEDIA / "video-best.mp4")
    assert {e.url for e in capture.exchanges} >= {url, site.url("/media/video-best.mp4")}


def test_one_post_with_two_videos_keeps_both(site: FakeMedia, tmp_path: Path) -> None:
    info, files = fetch(site.url("/page/two-videos.html"), tmp_path)
    assert info["_type"] == "playlist" and len(info["entries"]) == 2
    assert {f.sha256 for f in files} == {
        sha256(MEDIA / "video-best.mp4"),
        sha256(MEDIA / "video-low.mp4"),
    }


def test_progress_of_the_download_reaches_the_sink(site: FakeMedia, tmp_path: Path) -> None:
    events: list[tuple[str, Any]] = []

    class Sink:
        def start(self, label: str, total: int | None) -> object:
            events.append(("start", total))
            return label

        def advance(self, handle: object, size: int) -> None:
            events.append(("advance", size))

        def finish(self, handle: object) -> None:
            events.append(("finish", handle))

    settings = make_settings(tmp_path)
    store = FileStore(settings.archive_dir)
    store.open()
    fetch_with_ytdlp(site.url("/media/video-best.mp4"), settings, store, progress=Sink())
    size = (MEDIA / "video-best.mp4").stat().st_size
    assert events[0] == ("start", size)
    assert sum(n for kind, n in events if kind == "advance") == size
    assert events[-1][0] == "finish"


# --- guards --------------------------------------------------------------------------------


def test_size_cap_picks_the_smaller_format(site: FakeMedia, tmp_path: Path) -> None:
    cap = (MEDIA / "video-best.mp4").stat().st_size - 1
    recorder = Recorder()
    info, files = fetch(site.url("/smil/sizes.smil"), tmp_path, recorder, max_media_bytes=cap)
    assert [f.sha256 for f in files] == [sha256(MEDIA / "video-low.mp4")]
    assert files[0].final_url == site.url("/media/video-low.mp4")
    assert info["format_id"] == files[0].info["format_id"] == "http-50"
    best = [e for e in recorder.exchanges() if e.url.endswith("video-best.mp4")]
    assert best and not any(e.body_size for e in best)  # probed by yt-dlp, never downloaded


def test_size_cap_below_every_format_refuses_without_downloading(
    site: FakeMedia, tmp_path: Path
) -> None:
    with pytest.raises(TooLargeError, match="size cap"):
        fetch(site.url("/smil/sizes.smil"), tmp_path, max_media_bytes=1000)
    assert stored(tmp_path) == [] and leftovers(tmp_path) == []


def test_size_cap_stops_a_file_of_unknown_size(site: FakeMedia, tmp_path: Path) -> None:
    with pytest.raises(TooLargeError):
        fetch(site.url("/media/video-best.mp4"), tmp_path, max_media_bytes=4000)
    assert stored(tmp_path) == [] and leftovers(tmp_path) == []


def test_format_selector_prefers_known_sizes_and_guardable_protocols() -> None:
    selector = format_selector(1000)
    assert selector.index("[filesize<900]") < selector.index("[filesize_approx<900]")
    assert "[filesize<?1000]" in selector and "[protocol!^=rtmp]" in selector


def test_duration_cap_refuses_before_downloading(site: FakeMedia, tmp_path: Path) -> None:
    recorder = Recorder()
    url = site.url("/page/video.html?duration=PT30S")
    with pytest.raises(FetchError, match="30s long, over the cap of 10s") as err:
        fetch(url, tmp_path, recorder, ytdlp_max_duration=10)
    assert not err.value.retryable
    assert not any(e.body_size for e in recorder.exchanges() if e.url.endswith(".mp4"))
    assert stored(tmp_path) == []


def test_live_streams_are_refused_and_may_be_tried_again() -> None:
    settings = Settings()
    assert refusal({"is_live": True}, settings) == (
        "live streams are not archived (try again once it is a recording)",
        True,
    )
    assert refusal({"live_status": "is_upcoming"}, settings) is not None
    assert refusal({"live_status": "was_live", "duration": 60}, settings) is None


def test_playlist_is_refused_without_downloading_its_videos(
    site: FakeMedia, tmp_path: Path
) -> None:
    with pytest.raises(FetchError, match="playlist or channel") as err:
        fetch(site.url("/feed.rss"), tmp_path)
    assert not err.value.retryable
    assert site.requests_to("/media/") == []


def test_slow_download_gives_up_at_the_timeout(site: FakeMedia, tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match="ytdlp_timeout") as err:
        fetch(site.url("/slow/video-best.mp4"), tmp_path, ytdlp_timeout=1)
    assert time.monotonic() - started < 5
    assert err.value.retryable
    assert stored(tmp_path) == [] and leftovers(tmp_path) == []


def test_missing_video_is_a_failed_capture_with_the_reason(site: FakeMedia, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    store = FileStore(settings.archive_dir)
    store.open()
    url = site.url("/gone.mp4")
    with Http(settings) as http:
        capture = GenericVideo().fetch(
            Target("video", "generic:gone", url, "video"),
            FetchContext(settings=settings, http=http, files=store),
        )
    assert capture.status == "failed" and not capture.retryable
    assert capture.error is not None and "HTTP Error 404" in capture.error
    assert [(e.url, e.status) for e in capture.exchanges] == [(url, 404)]


def test_cookies_file_is_sent_but_neither_changed_nor_recorded(
    site: FakeMedia, tmp_path: Path
) -> None:
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(
        "# Netscape HTTP Cookie File\n"
        "127.0.0.1\tFALSE\t/\tFALSE\t4102444800\tsessionid\tsecret-session-value\n"
    )
    before = cookies.read_bytes()
    recorder = Recorder()
    info, files = fetch(
        site.url("/media/video-best.mp4"), tmp_path / "archive", recorder, cookies_file=cookies
    )
    media = site.requests_to("/media/video-best.mp4")
    assert media and all("sessionid=secret-session-value" in r["headers"]["cookie"] for r in media)
    assert cookies.read_bytes() == before
    assert "secret-session-value" not in json.dumps(info)
    assert "secret-session-value" not in json.dumps(files[0].info)
    assert all(k.lower() != "cookie" for e in recorder.exchanges() for k, _ in e.request_headers)


def test_missing_cookies_file_is_a_config_error(site: FakeMedia, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cookies file"):
        fetch(site.url("/media/video-best.mp4"), tmp_path, cookies_file=tmp_path / "nope.txt")


def test_private_page_url_is_refused_by_default(site: FakeMedia, tmp_path: Path) -> None:
    with pytest.raises(BlockedAddressError):
        fetch(site.url("/media/video-best.mp4"), tmp_path, allow_private_network=False)
    assert site.requests == []


@pytest.fixture
def localhost_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard as for a public server: ``localhost`` (the same server) counts as private."""
    real = ytdlp_support.check_public_host

    def check(url: str, allow_private: bool) -> None:
        real(url, allow_private=allow_private and urlsplit(url).hostname != "localhost")

    monkeypatch.setattr(ytdlp_support, "check_public_host", check)


@pytest.mark.usefixtures("localhost_blocked")
def test_every_request_ytdlp_makes_passes_the_guard(site: FakeMedia, tmp_path: Path) -> None:
    media = f"http://localhost:{site.port}/media/video-best.mp4"
    recorder = Recorder()
    with pytest.raises(BlockedAddressError, match="localhost"):
        fetch(site.url(f"/page/video.html?src={media}"), tmp_path, recorder)
    assert site.requests_to("/media/") == []
    assert stored(tmp_path) == []


@pytest.mark.usefixtures("localhost_blocked")
def test_redirect_to_a_private_host_is_refused_before_the_hop(
    site: FakeMedia, tmp_path: Path
) -> None:
    """yt-dlp follows redirects inside one request: each hop passes the guard before it is
    followed, so the private host is never asked (it used to be, before the refusal)."""
    media = f"http://localhost:{site.port}/media/video-best.mp4"
    recorder = Recorder()
    with pytest.raises(BlockedAddressError, match="redirected: .*localhost"):
        fetch(
            site.url(f"/page/video.html?src={site.url('/redirect?to=' + media)}"),
            tmp_path,
            recorder,
        )
    assert site.requests_to("/redirect")
    assert site.requests_to("/media/video-best.mp4") == []
    assert stored(tmp_path) == []
    (refused,) = [e for e in recorder.exchanges() if e.url.startswith(site.url("/redirect"))]
    assert "localhost" in str(refused.error)


# --- errors and provenance -----------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "ERROR: [Instagram] C7tq2Nsu7Gd: Requested content is not available, rate-limit "
        "reached or login required. Use --cookies, --cookies-from-browser …",
        "ERROR: [facebook] 1234: This video is only available for registered users. "
        "Use --cookies …",
        "ERROR: [youtube] abcdefghijk: Private video. Sign in if you've been granted access",
        "ERROR: [youtube] abcdefghijk: Video unavailable. This video has been removed",
        "ERROR: [TikTok] 7047596209028074758: This post may not be comfortable for some "
        "audiences. Log in for access.",
    ],
)
def test_login_walls_and_removals_are_unavailable_with_the_sites_words(message: str) -> None:
    from yt_dlp.utils import DownloadError

    err = ytdlp_support.error_from(DownloadError(message), ytdlp_support.Logger())
    assert isinstance(err, UnavailableError)
    assert str(err).startswith("yt-dlp: [") and "ERROR" not in str(err)


def test_other_ytdlp_errors_stay_retryable_failures() -> None:
    from yt_dlp.utils import DownloadError

    err = ytdlp_support.error_from(
        DownloadError("ERROR: [generic] x: Unable to download webpage: timed out"),
        ytdlp_support.Logger(),
    )
    assert type(err) is FetchError and err.retryable


def test_provenance_info_drops_sessions_paths_and_fragment_lists() -> None:
    info = {
        "id": "x",
        "cookies": "sessionid=1",
        "filepath": "/tmp/x.mp4",
        "__files_to_move": {},
        "automatic_captions": {"en": [{"url": "u"}], "de": [{"url": "u"}]},
        "formats": [
            {
                "format_id": "hls-1",
                "url": "https://cdn.example/x.m3u8",
                "fragments": [{"url": "a"}, {"url": "b"}],
                "http_headers": {"User-Agent": "ua", "Cookie": "sessionid=1"},
            }
        ],
    }
    kept = ytdlp_support.provenance_info(info)
    assert kept == {
        "id": "x",
        "automatic_caption_languages": ["de", "en"],
        "formats": [
            {
                "format_id": "hls-1",
                "url": "https://cdn.example/x.m3u8",
                "fragment_count": 2,
                "http_headers": {"User-Agent": "ua"},
            }
        ],
    }


def test_archive_command_takes_a_cookies_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["archive", "--help"])
    assert "--cookies" in result.output
    missing = CliRunner().invoke(cli, ["archive", "--cookies", str(tmp_path / "no.txt"), "x.html"])
    assert missing.exit_code == 2 and "does not exist" in missing.output


# --- the generic platform's matcher ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "target_id"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s", "youtube:dQw4w9WgXcQ"),
        ("https://youtu.be/dQw4w9WgXcQ", "youtube:dQw4w9WgXcQ"),
        ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?rel=0", "youtube:dQw4w9WgXcQ"),
        ("https://www.youtube.com/shorts/dQw4w9WgXcQ", "youtube:dQw4w9WgXcQ"),
        ("https://vimeo.com/76979871", "vimeo:76979871"),
        ("https://player.vimeo.com/video/76979871", "vimeo:76979871"),
        ("https://www.dailymotion.com/video/x8abcd1", "dailymotion:x8abcd1"),
        ("https://dai.ly/x8abcd1", "dailymotion:x8abcd1"),
        ("https://rumble.com/v4f5c6-some-title.html", "rumble:v4f5c6-some-title.html"),
        ("https://rumble.com/embed/v4f5c6/", "rumbleembed:v4f5c6"),
        ("https://www.bitchute.com/video/UGlrF9o9b-Q/", "bitchute:UGlrF9o9b-Q"),
        ("https://streamable.com/moo", "streamable:moo"),
        ("https://www.twitch.tv/videos/123456789", "twitchvod:123456789"),
    ],
)
def test_single_video_links_match_with_the_extractors_id(url: str, target_id: str) -> None:
    assert GenericVideo().match(url) == Target("video", target_id, url, "video")


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/@SomeChannel",
        "https://www.youtube.com/channel/UCmlqkdCBesrv2Lak1mF_MxA",
        "https://www.youtube.com/playlist?list=PLBB231211A4F62143",
        "https://www.youtube.com/results?search_query=cats",
        "https://vimeo.com/user12345",
        "https://vimeo.com/channels/staffpicks",
        "https://www.dailymotion.com/playlist/x6hynp",
        "https://rumble.com/c/SomeChannel",
        "https://www.twitch.tv/somechannel",
        "https://www.nytimes.com/2024/05/01/world/europe/ukraine-war.html",
        "https://www.bbc.com/news/world-europe-12345678",
        "https://edition.cnn.com/2024/05/01/politics/election/index.html",
        "https://www.lemonde.fr/international/article/2024/05/01/story_6231234_3210.html",
        "https://www.dw.com/en/some-story/a-68912345",
        "https://telex.hu/kulfold/2024/05/01/ukrajna",
        "https://cdn.jwplayer.com/v2/media/Jk4B44a0/poster.jpg?width=720",
        "https://example.com/clip.mp4",
        "not a url",
    ],
)
def test_profiles_channels_playlists_and_articles_do_not_match(url: str) -> None:
    assert GenericVideo().match(url) is None


def test_generic_platform_is_last_and_dedicated_platforms_win() -> None:
    assert isinstance(REGISTRY[-1], GenericVideo)
    target = match_url("https://www.dailymotion.com/video/x8abcd1")
    assert target is not None and target.platform != "video"


def test_brand_label_skips_public_suffixes() -> None:
    assert brand_label("www.bbc.co.uk") == "bbc"
    assert brand_label("player.vimeo.com") == "vimeo"
    assert brand_label("abcnews.go.com") == "abcnews"
    assert brand_label("t.me") == "t"


def test_ten_thousand_non_video_links_are_rejected_quickly() -> None:
    hosts = ["www.nytimes.com", "www.theguardian.com", "telex.hu", "www.corriere.it", "x.com"]
    paths = ["/world/europe/story-{}", "/author/someone-{}/", "/tag/election-{}", "/?p={}"]
    urls = [f"https://{hosts[i % 5]}{paths[i % 4].format(i)}" for i in range(10_000)]
    platform = GenericVideo()
    assert not any(platform.match(u) for u in urls[:100])  # warm-up: index and regexes
    started = time.perf_counter()
    assert not any(platform.match(u) for u in urls)
    assert time.perf_counter() - started < 2.0  # ~0.2 s on a laptop; generous for slow CI


# --- what a hostile site answers -------------------------------------------------------------

DASH_BOMB = (
    '<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
    'mediaPresentationDuration="PT99999999H" minBufferTime="PT1S"><Period><AdaptationSet '
    'mimeType="video/mp4"><Representation id="v" bandwidth="1000" codecs="avc1.42c00d">'
    '<SegmentTemplate media="seg$Number$.ts" initialization="init.mp4" startNumber="0" '
    'duration="1" timescale="1000000000"/></Representation></AdaptationSet></Period></MPD>'
)


def test_a_dash_manifest_claiming_endless_segments_is_refused_before_yt_dlp_lists_them(
    site: FakeMedia, tmp_path: Path
) -> None:
    """466 bytes claiming 10^20 segments: yt-dlp builds the list in memory (24 GB and the
    OOM killer) before any request the deadline or the byte budget could stop."""
    site.pages["/dash/bomb.mpd"] = ("application/dash+xml", DASH_BOMB)
    with pytest.raises(TooLargeError, match="lists about 3.6e\\+20 segments"):
        fetch(site.url("/dash/bomb.mpd"), tmp_path, ytdlp_timeout=30)
    assert stored(tmp_path) == []


def test_dash_segments_counts_templates_timelines_and_representations() -> None:
    from embedarchive.capture.ytdlp_support import dash_segments

    timeline = (
        '<MPD mediaPresentationDuration="PT10S"><Period><AdaptationSet><SegmentTemplate '
        'timescale="1"><SegmentTimeline><S d="2" r="4"/><S d="1"/></SegmentTimeline>'
        '</SegmentTemplate><Representation id="a"/><Representation id="b"/></AdaptationSet>'
        "</Period></MPD>"
    )
    assert dash_segments(timeline.encode()) == 2 * (5 + 1)
    assert dash_segments(b"not xml") == 0
    zero = DASH_BOMB.replace('duration="1" timescale', 'duration="0" timescale')
    assert dash_segments(zero.encode()) == float("inf")


def test_a_page_of_many_videos_is_refused_before_any_is_downloaded(
    site: FakeMedia, tmp_path: Path
) -> None:
    """It was refused after yt-dlp had downloaded 21 of them into the WARC."""
    videos = "".join(
        f'<video src="{{base}}/media/video-best.mp4?n={i}"></video>' for i in range(30)
    )
    site.pages["/page/thirty.html"] = ("text/html", f"<html><body>{videos}</body></html>")
    with pytest.raises(FetchError, match="is a playlist or channel \\(more than 20 entries\\)"):
        fetch(site.url("/page/thirty.html"), tmp_path)
    assert site.requests_to("/media/") == []
    assert stored(tmp_path) == []


JWPLAYER = (
    '<html><body><div id="p"></div><script>jwplayer("p").setup({{"file": '
    '"{{base}}/media/video-best.mp4", "title": "t", {extra}}});</script></body></html>'
)


def test_a_duration_that_is_no_number_is_a_failure_not_a_crash(
    site: FakeMedia, tmp_path: Path
) -> None:
    site.pages["/page/nan.html"] = ("text/html", JWPLAYER.format(extra='"duration": NaN'))
    with pytest.raises(FetchError, match="yt-dlp failed on what .* answered: ValueError"):
        fetch(site.url("/page/nan.html"), tmp_path)


def test_a_timestamp_no_calendar_holds_is_no_date(site: FakeMedia, tmp_path: Path) -> None:
    from embedarchive.capture.videos import iso_from_timestamp

    assert iso_from_timestamp(1e300) is None and iso_from_timestamp(float("nan")) is None
    assert iso_from_timestamp(0) == "1970-01-01T00:00:00Z"
    site.pages["/page/ts.html"] = ("text/html", JWPLAYER.format(extra='"pubdate": 1e300'))
    info, files = fetch(site.url("/page/ts.html"), tmp_path)
    assert files and info.get("timestamp") is not None  # yt-dlp took it; we store no date
