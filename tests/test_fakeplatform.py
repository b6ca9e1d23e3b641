"""The fake X/Twitter platform behaves like the real endpoints described in real-samples/SOURCES.md."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

try:  # tests/ is a package (tests/__init__.py) or a plain folder on sys.path
    from .fakeplatform import (
        DATA_DIR,
        MEDIA_DIR,
        SEED_ID,
        SEED_PIC_CODE,
        SYNDICATION_CASES,
        TCO_LOOP,
        TCO_TWO_HOP,
        TOKENS,
        TWEETS,
        FakePlatform,
    )
except ImportError:
    from fakeplatform import (
        DATA_DIR,
        MEDIA_DIR,
        SEED_ID,
        SEED_PIC_CODE,
        SYNDICATION_CASES,
        TCO_LOOP,
        TCO_TWO_HOP,
        TOKENS,
        TWEETS,
        FakePlatform,
    )

REAL_TWITTER = Path("/work/shared/real-samples/twitter")
SNOWFLAKE_EPOCH_MS = 1288834974657
SEED_VIDEO = "/video/amplify_video/1989257489331928855/vid/avc1"
BEST_MP4 = (MEDIA_DIR / "video-best.mp4").read_bytes()
LOW_MP4 = (MEDIA_DIR / "video-low.mp4").read_bytes()
ORIG_JPEG = (MEDIA_DIR / "photo-orig.jpg").read_bytes()
SMALL_JPEG = (MEDIA_DIR / "photo-small.jpg").read_bytes()


def syndication(platform: FakePlatform, tweet_id: str, token: str | None) -> httpx.Response:
    params = {"id": tweet_id, "lang": "en"}
    if token is not None:
        params["token"] = token
    return httpx.get(platform.url("/syndication/tweet-result"), params=params)


@pytest.mark.parametrize(
    ("tweet_id", "token"),
    [
        ("1641086480675225601", "3z7miaszni8"),
        ("1684218600456876032", "42z4mwgp9h8"),
        ("2023357708301455483", "4wkkd5uwebk"),
    ],
)
def test_stored_tokens_match_the_reference_pairs(tweet_id: str, token: str) -> None:
    assert TOKENS[tweet_id] == token


@pytest.mark.parametrize("name", sorted(TWEETS))
def test_syndication_answers_empty_object_without_the_right_token(
    fake_platform: FakePlatform, name: str
) -> None:
    tweet_id = TWEETS[name]
    for token in (None, "", "3z7miaszni8x", TOKENS[SYNDICATION_CASES["not_found_404"]]):
        response = syndication(fake_platform, tweet_id, token)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == {}


@pytest.mark.parametrize("name", sorted(TWEETS))
def test_syndication_serves_the_tweet_for_the_right_token(
    fake_platform: FakePlatform, name: str
) -> None:
    response = syndication(fake_platform, TWEETS[name], TOKENS[TWEETS[name]])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    tweet = response.json()
    assert tweet["__typename"] == "Tweet"
    assert tweet["id_str"] == TWEETS[name]
    assert "{BASE}" not in response.text
    assert "twimg.com" not in response.text


@pytest.mark.skipif(not REAL_TWITTER.is_dir(), reason="real samples not on this machine")
def test_real_samples_are_served_verbatim_apart_from_media_hosts(
    fake_platform: FakePlatform,
) -> None:
    base = fake_platform.base_url
    for name, sample in [
        ("photo", "syndication-tweet-result-photo-1641086480675225601.json"),
        ("quote", "syndication-tweet-result-quoted-tweet-1641895049427550208.json"),
        ("video", "syndication-tweet-result-video-1684218600456876032.json"),
    ]:
        real = (REAL_TWITTER / sample).read_text(encoding="utf-8")
        expected = real.replace("https://pbs.twimg.com/", f"{base}/").replace(
            "https://video.twimg.com/", f"{base}/video/"
        )
        assert syndication(fake_platform, TWEETS[name], TOKENS[TWEETS[name]]).text == expected


def test_quoted_tweet_photos_point_at_the_fake(fake_platform: FakePlatform) -> None:
    quote = syndication(fake_platform, TWEETS["quote"], TOKENS[TWEETS["quote"]]).json()
    assert "mediaDetails" not in quote
    photo_url = quote["quoted_tweet"]["photos"][0]["url"]
    assert photo_url == fake_platform.url("/media/FsZNOgcWAAEQtrd.jpg")
    assert httpx.get(photo_url).content == SMALL_JPEG


def test_syndication_outcomes_of_the_special_ids(fake_platform: FakePlatform) -> None:
    def fetch(name: str) -> httpx.Response:
        tweet_id = SYNDICATION_CASES[name]
        return syndication(fake_platform, tweet_id, TOKENS[tweet_id])

    deleted = fetch("tombstone_deleted")
    assert deleted.status_code == 200
    assert deleted.json()["__typename"] == "TweetTombstone"
    assert deleted.json()["tombstone"]["text"]["text"].startswith("This Post was deleted")
    assert fetch("tombstone_age_restricted").json() == {
        "__typename": "TweetTombstone",
        "tombstone": {},
    }
    empty = fetch("not_found_empty")
    assert (empty.status_code, empty.json()) == (200, {})
    assert fetch("not_found_404").status_code == 404
    html = fetch("html_error")
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert html.text.startswith("<!DOCTYPE html>")
    server_error = fetch("server_error")
    assert server_error.status_code == 500
    assert isinstance(server_error.json()["error"], str)
    assert syndication(fake_platform, "1234567890123456789", "anything").status_code == 404


def test_seed_tweet_matches_the_article(fake_platform: FakePlatform) -> None:
    tweet = syndication(fake_platform, SEED_ID, TOKENS[SEED_ID]).json()
    created = datetime.fromtimestamp(((int(SEED_ID) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)
    assert created.date().isoformat() == "2025-11-14"
    assert 8 <= created.hour <= 10
    assert tweet["created_at"] == created.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert tweet["user"]["screen_name"] == "trhaber_com"
    assert tweet["text"].startswith("Rus ordusunun Ukrayna'ya attığı füzeler")
    assert tweet["text"].endswith(f"çağrıldı. https://t.co/{SEED_PIC_CODE}")
    media = tweet["entities"]["media"][0]
    assert tweet["text"][media["indices"][0] : media["indices"][1]] == media["url"]
    assert tweet["mediaDetails"][0]["type"] == "video"


def test_oembed_answers_known_posts_like_publish_twitter_com(fake_platform: FakePlatform) -> None:
    response = httpx.get(
        fake_platform.url("/oembed"),
        params={"url": f"https://x.com/trhaber_com/status/{SEED_ID}", "omit_script": "1"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["content-disposition"] == "attachment; filename=json.json"
    assert r"<\/a>" not in response.text and "\\u003C" in response.text
    doc = response.json()
    assert doc["url"] == f"https://twitter.com/trhaber_com/status/{SEED_ID}"
    assert (doc["type"], doc["cache_age"]) == ("rich", "3153600000")
    assert doc["provider_name"] == "Twitter"
    assert doc["html"].startswith('<blockquote class="twitter-tweet"><p lang="tr" dir="ltr">')
    assert f">pic.twitter.com/{SEED_PIC_CODE}</a>" in doc["html"]
    assert "&mdash; TRHaber (@trhaber_com)" in doc["html"]
    assert ">November 14, 2025</a></blockquote>" in doc["html"]


def test_oembed_answers_404_for_unknown_and_tombstoned_posts(fake_platform: FakePlatform) -> None:
    for tweet_id in ("1234567890123456789", SYNDICATION_CASES["tombstone_deleted"]):
        url = f"https://twitter.com/someone/status/{tweet_id}"
        assert httpx.get(fake_platform.url("/oembed"), params={"url": url}).status_code == 404


@pytest.mark.parametrize("path", [f"/fx/status/{SEED_ID}", f"/fx/anyname/status/{SEED_ID}"])
def test_fxtwitter_serves_both_route_forms(fake_platform: FakePlatform, path: str) -> None:
    doc = httpx.get(fake_platform.url(path)).json()
    assert (doc["code"], doc["message"]) == (200, "OK")
    assert doc["tweet"]["id"] == SEED_ID
    assert doc["tweet"]["author"]["screen_name"] == "trhaber_com"


def test_fxtwitter_video_url_is_the_highest_bitrate_variant(fake_platform: FakePlatform) -> None:
    for tweet_id in (SEED_ID, TWEETS["video"]):
        video = httpx.get(fake_platform.url(f"/fx/status/{tweet_id}")).json()["tweet"]["media"]
        mp4s = [v for v in video["videos"][0]["variants"] if "bitrate" in v]
        best = max(mp4s, key=lambda v: v["bitrate"])
        assert video["videos"][0]["url"] == best["url"]
        assert httpx.get(best["url"]).content == BEST_MP4


def test_fxtwitter_unknown_post_is_404_not_found(fake_platform: FakePlatform) -> None:
    response = httpx.get(fake_platform.url("/fx/status/1234567890123456789"))
    assert response.status_code == 404
    assert response.json() == {"code": 404, "message": "NOT_FOUND"}


def test_pic_redirects_to_the_media_permalink(fake_platform: FakePlatform) -> None:
    seed = httpx.get(fake_platform.url(f"/pic/{SEED_PIC_CODE}"))
    assert seed.status_code == 301
    assert seed.headers["location"] == f"https://twitter.com/trhaber_com/status/{SEED_ID}/video/1"
    photo = httpx.get(fake_platform.url("/pic/rQd6FIwZ0U"))
    assert photo.headers["location"].endswith("/SamuelSusla/status/1641086480675225601/photo/1")
    assert httpx.get(fake_platform.url("/pic/NoSuchCode")).status_code == 404


def test_tco_redirects_non_browser_clients(fake_platform: FakePlatform) -> None:
    url = fake_platform.url("/tco/4G6RAMfrHy")
    response = httpx.get(url, headers={"User-Agent": "embedarchive/0.1"})
    assert response.status_code == 301
    assert response.headers["location"] == (
        "https://github.com/reactwg/react-native-new-architecture/discussions/110"
    )
    tco = httpx.get(fake_platform.url(f"/tco/{SEED_PIC_CODE}"))
    pic = httpx.get(fake_platform.url(f"/pic/{SEED_PIC_CODE}"))
    assert tco.headers["location"] == pic.headers["location"]


def test_tco_answers_browsers_with_a_meta_refresh_page(fake_platform: FakePlatform) -> None:
    ua = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    response = httpx.get(fake_platform.url(f"/tco/{SEED_PIC_CODE}"), headers={"User-Agent": ua})
    target = f"https://twitter.com/trhaber_com/status/{SEED_ID}/video/1"
    assert response.status_code == 200
    assert "location" not in response.headers
    refresh = re.search(r'<META http-equiv="refresh" content="0;URL=([^"]+)">', response.text)
    assert refresh is not None and refresh.group(1) == target
    script = re.search(r"location\.replace\((\"[^\"]+\")\)", response.text)
    assert script is not None and "\\/" in script.group(1)
    assert json.loads(script.group(1)) == target


def test_tco_two_hop_code_reaches_the_seed_through_another_code(
    fake_platform: FakePlatform,
) -> None:
    first = httpx.get(fake_platform.url(f"/tco/{TCO_TWO_HOP}"))
    assert first.status_code == 301
    assert first.headers["location"] == fake_platform.url(f"/tco/{SEED_PIC_CODE}")
    second = httpx.get(first.headers["location"])
    assert second.headers["location"] == f"https://twitter.com/trhaber_com/status/{SEED_ID}/video/1"


def test_tco_loop_never_ends(fake_platform: FakePlatform) -> None:
    a, b = (fake_platform.url(f"/tco/{code}") for code in TCO_LOOP)
    assert httpx.get(a).headers["location"] == b
    assert httpx.get(b).headers["location"] == a
    with pytest.raises(httpx.TooManyRedirects):
        httpx.get(a, follow_redirects=True)


def test_name_orig_serves_the_larger_original_photo(fake_platform: FakePlatform) -> None:
    url = fake_platform.url("/media/FsZNOgcWAAEQtrd.jpg")
    orig = httpx.get(url, params={"format": "jpg", "name": "orig"})
    assert orig.headers["content-type"] == "image/jpeg"
    assert orig.content == ORIG_JPEG
    assert int(orig.headers["content-length"]) == len(ORIG_JPEG)
    for params in ({"name": "large"}, {"name": "small"}, {}):
        assert httpx.get(url, params=params).content == SMALL_JPEG
    assert len(SMALL_JPEG) < len(ORIG_JPEG) < 10_000


def test_one_photo_is_served_with_a_misleading_content_type(fake_platform: FakePlatform) -> None:
    tweet = syndication(fake_platform, TWEETS["video"], TOKENS[TWEETS["video"]]).json()
    response = httpx.get(tweet["video"]["poster"])
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize("name", ["video", "seed"])
def test_only_the_highest_bitrate_variant_serves_the_real_mp4(
    fake_platform: FakePlatform, name: str
) -> None:
    tweet = syndication(fake_platform, TWEETS[name], TOKENS[TWEETS[name]]).json()
    variants = [v for v in tweet["mediaDetails"][0]["video_info"]["variants"] if "bitrate" in v]
    best = max(variants, key=lambda v: v["bitrate"])
    for variant in variants:
        response = httpx.get(variant["url"])
        assert response.headers["content-type"] == "video/mp4"
        assert response.content == (BEST_MP4 if variant is best else LOW_MP4)
        assert int(response.headers["content-length"]) == len(response.content)
    assert BEST_MP4[4:8] == b"ftyp" and len(LOW_MP4) < len(BEST_MP4) < 50_000


def test_video_honours_range_requests(fake_platform: FakePlatform) -> None:
    url = fake_platform.url(f"{SEED_VIDEO}/1280x720/Qm3vT8pLx2cRkW9d.mp4?tag=21")
    size = len(BEST_MP4)
    cases = {
        "bytes=0-99": (0, 99),
        "bytes=100-": (100, size - 1),
        "bytes=-50": (size - 50, size - 1),
        f"bytes=10-{size + 500}": (10, size - 1),
    }
    for header, (first, last) in cases.items():
        response = httpx.get(url, headers={"Range": header})
        assert response.status_code == 206
        assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert response.content == BEST_MP4[first : last + 1]
    unsatisfiable = httpx.get(url, headers={"Range": f"bytes={size}-"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == f"bytes */{size}"
    whole = httpx.get(url)
    assert (whole.status_code, whole.headers["accept-ranges"]) == (200, "bytes")


def test_head_gives_the_length_without_a_body(fake_platform: FakePlatform) -> None:
    response = httpx.head(fake_platform.url(f"{SEED_VIDEO}/1280x720/Qm3vT8pLx2cRkW9d.mp4"))
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(BEST_MP4)
    assert response.content == b""


def test_every_media_url_in_the_fixture_data_is_served(fake_platform: FakePlatform) -> None:
    texts = [p.read_text(encoding="utf-8") for p in DATA_DIR.rglob("*.json")]
    urls = {u for text in texts for u in re.findall(r"\{BASE\}[^\"\s]+", text)} - {
        "{BASE}/tco/sto5JNQDWw",
        "{BASE}/tco/LoopAaaaaa",
        "{BASE}/tco/LoopBbbbbb",
    }
    media_urls = sorted(u for u in urls if ".m3u8" not in u)
    assert len(media_urls) >= 20
    for url in media_urls:
        response = httpx.get(url.replace("{BASE}", fake_platform.base_url))
        assert response.status_code == 200, url
        body = response.content
        mp3_frame = body[0] == 0xFF and body[1] & 0xE0 == 0xE0
        assert body[:3] == b"\xff\xd8\xff" or body[4:8] == b"ftyp" or mp3_frame, url


def test_request_log_records_method_path_headers_and_user_agent(
    fake_platform: FakePlatform,
) -> None:
    syndication(fake_platform, SEED_ID, TOKENS[SEED_ID])
    httpx.head(fake_platform.url("/pic/rQd6FIwZ0U"), headers={"User-Agent": "embedarchive-test/1"})
    first, second = fake_platform.requests
    assert first["method"] == "GET"
    assert first["route"] == "/syndication/tweet-result"
    assert first["params"] == {"id": SEED_ID, "lang": "en", "token": TOKENS[SEED_ID]}
    assert first["path"].startswith("/syndication/tweet-result?")
    assert first["user_agent"].startswith("python-httpx/")
    assert (second["method"], second["path"]) == ("HEAD", "/pic/rQd6FIwZ0U")
    assert second["user_agent"] == "embedarchive-test/1"
    assert second["headers"]["user-agent"] == "embedarchive-test/1"
    assert [r["path"] for r in fake_platform.requests_to("/pic/")] == ["/pic/rQd6FIwZ0U"]
    fake_platform.reset()
    assert fake_platform.requests == []


def test_outage_drops_every_connection_until_reset(fake_platform: FakePlatform) -> None:
    fake_platform.outage = True
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(fake_platform.url(f"/fx/status/{SEED_ID}"))
    assert [r["path"] for r in fake_platform.requests] == [f"/fx/status/{SEED_ID}"]
    fake_platform.reset()
    assert httpx.get(fake_platform.url(f"/fx/status/{SEED_ID}")).status_code == 200
    with fake_platform.offline(), pytest.raises(httpx.RemoteProtocolError):
        httpx.get(fake_platform.url("/pic/rQd6FIwZ0U"))
    assert httpx.get(fake_platform.url("/pic/rQd6FIwZ0U")).status_code == 301


def test_stopped_platform_refuses_connections_and_restarts_on_the_same_url() -> None:
    with FakePlatform() as platform:
        base = platform.base_url
        platform.stop()
        assert not platform.running
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{base}/pic/rQd6FIwZ0U")
        platform.start()
        assert platform.base_url == base
        assert httpx.get(f"{base}/pic/rQd6FIwZ0U").status_code == 301


def test_fail_replaces_answers_under_a_prefix(fake_platform: FakePlatform) -> None:
    fake_platform.fail("/syndication/", 503)
    assert syndication(fake_platform, SEED_ID, TOKENS[SEED_ID]).status_code == 503
    assert httpx.get(fake_platform.url(f"/fx/status/{SEED_ID}")).status_code == 200
    fake_platform.reset()
    assert syndication(fake_platform, SEED_ID, TOKENS[SEED_ID]).status_code == 200


def test_settings_and_env_point_at_the_fake(
    fake_platform: FakePlatform, fake_settings: dict, fake_env: dict, archive_dir: Path
) -> None:
    base = fake_platform.base_url
    assert fake_settings == {
        "twitter_syndication_url": f"{base}/syndication/tweet-result",
        "twitter_oembed_url": f"{base}/oembed",
        "fxtwitter_url": f"{base}/fx",
        "twitter_pic_url": f"{base}/pic",
        "twitter_tco_url": f"{base}/tco",
        "telegram_url": f"{base}/telegram",
        "bluesky_appview_url": f"{base}/bsky",
        "bluesky_plc_url": f"{base}/plc",
        "mastodon_api_url": f"{base}/mastodon",
        "allow_private_network": True,
        "per_host_rate": 0,
        "per_host_connections": 16,
        "http_retries": 0,
        "host_failure_threshold": 1000,
        "archive_dir": archive_dir,
    }
    assert fake_env["EMBEDARCHIVE_ALLOW_PRIVATE_NETWORK"] == "1"
    assert fake_env["EMBEDARCHIVE_FXTWITTER_URL"] == f"{base}/fx"
    assert fake_env["EMBEDARCHIVE_ARCHIVE_DIR"] == str(archive_dir)
    assert not archive_dir.exists()


@pytest.mark.network
def test_network_marked_tests_run_only_when_enabled() -> None:
    assert os.environ.get("EMBEDARCHIVE_NETWORK_TESTS") == "1"
