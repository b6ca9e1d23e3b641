"""A Telegram widget, a Bluesky blockquote and a Mastodon blockquote archived end to end.

The CLI runs against the local fakes over real HTTP; every post must end up stored with its
media and the exchanges that fetched them. The Telegram widget page is synthesised (no real
capture exists, see tests/test_telegram.py); the embed snippets in the article are real.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlite_utils import Database

from embedarchive.cli import cli

from .helpers import ARTICLES, MEDIA, cli_env, counts, run, sha256_file

ARTICLE = ARTICLES / "social-telegram-bluesky-mastodon.html"
EXPECTED = {
    ("telegram", "durov/68"): ("durov", "photo-orig.jpg"),
    ("bluesky", "did:plc:4tan3ugu55i2u3hmtblu7wf5/3mgpk65ei7d2u"): (
        "raymondcamden.com",
        "photo-orig.jpg",
    ),
    ("mastodon", "mastodon.social/116205264348332986"): (
        "raymondcamden@mastodon.social",
        "photo-orig.jpg",
    ),
}


def archive(fake, archive_dir: Path, *args: str):
    return CliRunner().invoke(
        cli,
        ["archive", *args, str(ARTICLE)],
        env=cli_env(fake, archive_dir),
        catch_exceptions=False,
    )


def test_three_platforms_archive_with_media_and_provenance(
    fake_platform, archive_dir: Path
) -> None:
    result = archive(fake_platform, archive_dir)
    assert result.exit_code == 0, result.output
    db = Database(archive_dir / "archive.db")

    detections = {(d["platform"], d["post_id"]): d for d in db["detections"].rows}
    assert set(detections) == set(EXPECTED)
    assert detections[("telegram", "durov/68")]["markup"] == "script"
    assert all(d["post_pk"] for d in detections.values())

    posts = {(p["platform"], p["post_id"]): p for p in db["posts"].rows}
    assert set(posts) == set(EXPECTED)
    for key, (uploader_id, media_name) in EXPECTED.items():
        post = posts[key]
        assert (post["status"], post["uploader_id"]) == ("archived", uploader_id), key
        media = list(db["media"].rows_where("post_pk = ?", [post["id"]]))
        assert [m["sha256"] for m in media] == [sha256_file(MEDIA / media_name)], key
        assert all((archive_dir / m["path"]).is_file() for m in media)
        (capture,) = db["captures"].rows_where("post_pk = ?", [post["id"]])
        assert capture["raw"], key
        exchanges = {
            e["purpose"] for e in db["http_exchanges"].rows_where("capture_id = ?", [capture["id"]])
        }
        assert "media:photo" in exchanges, key
    assert all("Good morning good people" in posts[k]["text"] for k in list(EXPECTED)[1:])

    # The real Bluesky snippet links its image to the post as "[image or embed]": not words of
    # the post, so the copy matches the capture (it was reported as an edit).
    findings = {
        (d["platform"], f["kind"])
        for d in detections.values()
        for f in db["findings"].rows_where("detection_id = ?", [d["id"]])
    }
    assert findings == {("bluesky", "match")}  # the other two show no text, author or date
    bluesky = detections[("bluesky", "did:plc:4tan3ugu55i2u3hmtblu7wf5/3mgpk65ei7d2u")]
    assert bluesky["text"].endswith("at the same time.")

    (bluesky_capture,) = db["captures"].rows_where("platform = ?", ["bluesky"])
    purposes = [
        e["purpose"]
        for e in db["http_exchanges"].rows_where("capture_id = ?", [bluesky_capture["id"]])
    ]
    assert purposes == ["bluesky:getPostThread", "bluesky:did-document", "media:photo"]

    lines = archive(fake_platform, archive_dir, "--json").stdout.splitlines()
    assert json.loads(lines[0])["found"] == 3  # JSON Lines: one object per article


def test_rerun_adds_nothing(fake_platform, archive_dir: Path) -> None:
    assert archive(fake_platform, archive_dir).exit_code == 0
    before = counts(archive_dir)
    fake_platform.reset()
    assert archive(fake_platform, archive_dir).exit_code == 0
    assert counts(archive_dir) == before
    assert fake_platform.requests == []


def test_show_takes_every_platform_s_ids_as_list_prints_them(
    fake_platform, archive_dir: Path
) -> None:
    """A Bluesky id as list prints it (``did:plc:…/rkey``, colons in it) was "no post"."""
    assert archive(fake_platform, archive_dir).exit_code == 0
    env = cli_env(fake_platform, archive_dir)
    for ident in (
        "did:plc:4tan3ugu55i2u3hmtblu7wf5/3mgpk65ei7d2u",
        "bluesky:did:plc:4tan3ugu55i2u3hmtblu7wf5/3mgpk65ei7d2u",
    ):
        shown = run(["show", ident], env)
        assert shown.exit_code == 0, (ident, shown.output)
