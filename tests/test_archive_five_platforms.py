"""Issue 3's end-to-end case: one HTML article with an X post, a Telegram post, a Bluesky post,
a YouTube video and a TikTok, archived with the CLI against local servers.

YouTube and TikTok are fetched by the real yt-dlp: the ``ytdlp_mirrors`` setting sends it to a
local page (``tests/fakemedia.py``) in place of youtube.com / tiktok.com, the way a user points
it at an alternative front-end, so extraction and download run for real without the internet.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from embedarchive.cli import cli

from .fakemedia import FakeMedia
from .helpers import ARTICLES, MEDIA, cli_env, counts, sha256_file

ARTICLE = ARTICLES / "five-platforms.html"
EXPECTED = {
    ("twitter", "1989257861291196183"),
    ("telegram", "durov/68"),
    ("bluesky", "did:plc:4tan3ugu55i2u3hmtblu7wf5/3mgpk65ei7d2u"),
    ("youtube", "eiHXASgRTcA"),
    ("tiktok", "6806030056956251397"),
}


@pytest.fixture(scope="module")
def video_site() -> Iterator[FakeMedia]:
    with FakeMedia() as site:
        yield site


def env(fake, video_site: FakeMedia, archive_dir: Path) -> dict[str, str]:
    page = video_site.url("/page/video.html")
    mirrors = f"https://www.youtube.com/watch?v=|{page}?v=,https://www.tiktok.com/|{page}?path="
    return cli_env(fake, archive_dir, EMBEDARCHIVE_YTDLP_MIRRORS=mirrors)


def test_detect_finds_the_five_embeds_and_no_chrome() -> None:
    import json

    result = CliRunner().invoke(cli, ["detect", str(ARTICLE), "--json"])
    found = {(d["platform"], d["id"]) for d in json.loads(result.output)}
    assert found == EXPECTED


def test_five_platforms_archive_with_media(
    fake_platform, video_site: FakeMedia, archive_dir: Path
) -> None:
    result = CliRunner().invoke(
        cli, ["archive", str(ARTICLE)], env=env(fake_platform, video_site, archive_dir)
    )
    assert result.exit_code == 0, result.output
    db = Database(archive_dir / "archive.db")
    posts = {(p["platform"], p["post_id"]): p for p in db["posts"].rows}
    assert set(posts) == EXPECTED
    for key, post in posts.items():
        assert post["status"] == "archived", key
        media = list(db["media"].rows_where("post_pk = ?", [post["id"]]))
        assert media, key
        assert all((archive_dir / m["path"]).is_file() for m in media), key
        (capture,) = db["captures"].rows_where("post_pk = ?", [post["id"]])
        assert db["http_exchanges"].count_where("capture_id = ?", [capture["id"]]) >= 1, key
    for key in (("youtube", "eiHXASgRTcA"), ("tiktok", "6806030056956251397")):
        (video,) = db["media"].rows_where("post_pk = ? and kind = 'video'", [posts[key]["id"]])
        assert video["sha256"] == sha256_file(MEDIA / "video-best.mp4"), key
        assert video["info"] and '"ytdlp"' in video["info"]
        (capture,) = db["captures"].rows_where("post_pk = ?", [posts[key]["id"]])
        assert capture["method"] == "ytdlp"
        assert posts[key]["url"].startswith(("https://www.youtube.com/", "https://www.tiktok.com/"))
    before = counts(archive_dir)
    again = CliRunner().invoke(
        cli, ["archive", str(ARTICLE)], env=env(fake_platform, video_site, archive_dir)
    )
    assert again.exit_code == 0 and counts(archive_dir) == before


def test_list_prints_no_lone_at_for_a_post_without_a_handle(
    fake_platform, video_site: FakeMedia, archive_dir: Path
) -> None:
    """yt-dlp's posts (YouTube, TikTok here) have no handle: list printed "@" alone."""
    settings = env(fake_platform, video_site, archive_dir)
    assert CliRunner().invoke(cli, ["archive", str(ARTICLE)], env=settings).exit_code == 0
    listed = CliRunner().invoke(cli, ["list"], env={**settings, "COLUMNS": "250"}).stdout
    rows = [line for line in listed.splitlines() if "youtube" in line or "tiktok" in line]
    assert len(rows) == 2 and not [r for r in rows if " @ " in r or "@ │" in r], rows
