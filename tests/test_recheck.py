"""Re-checks over time: the seed post edited between two captures, deleted before a third and
back again in a fourth, each change recorded and the history shown by ``embedarchive show``.

The fake platform serves a changed post through its per-test hook ``fake_platform.tweets``.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from embedarchive.cli import cli
from embedarchive.errors import InputError
from embedarchive.recheck import parse_duration

from .fakeplatform import DATA_DIR, SEED_ID
from .helpers import SEED, cli_env, run

SEED_JSON = (DATA_DIR / "syndication" / f"{SEED_ID}.json").read_text(encoding="utf-8")


def edited_seed() -> str:
    """The seed post after an edit: other words, and the video taken down (thumbnail kept)."""
    tweet = json.loads(SEED_JSON)
    tweet["text"] = tweet["text"].replace("düştü", "isabet etti")
    tweet["mediaDetails"][0]["video_info"]["variants"] = []
    tweet["isEdited"] = True
    return json.dumps(tweet, ensure_ascii=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7d", timedelta(days=7)), ("12h", timedelta(hours=12)), ("2w", timedelta(weeks=2)),
     ("30m", timedelta(minutes=30)), ("0", timedelta(0)), ("3", timedelta(days=3))],
)  # fmt: skip
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_bad_duration_is_input_error() -> None:
    with pytest.raises(InputError, match="duration"):
        parse_duration("a week")


def _changes(db: Database) -> list[tuple[int, int, str]]:
    return [
        (r["from_capture_id"], r["to_capture_id"], r["kind"])
        for r in db.query("select * from post_changes order by id")
    ]


def _findings(db: Database, capture_id: int) -> list[str]:
    return [r["kind"] for r in db.query("select kind from findings where capture_id = ?", [capture_id])]  # fmt: skip


def test_edited_then_deleted_then_back_with_history(fake_platform, archive_dir: Path) -> None:
    env = {**cli_env(fake_platform, archive_dir), "COLUMNS": "200"}
    assert run(["archive", str(SEED)], env).exit_code == 0
    db = Database(archive_dir / "archive.db")
    assert _findings(db, 1) == ["match"]
    first = dict(db["captures"].get(1))

    fake_platform.tweets[SEED_ID] = edited_seed()
    second = run(["recheck", "--json"], env)
    assert second.exit_code == 0, second.output
    [item] = json.loads(second.stdout)
    assert (item["status_before"], item["status"], item["capture_id"]) == (
        "archived",
        "archived",
        2,
    )
    assert item["changes"] == ["text-edited", "media-changed"]
    assert _findings(db, 2) == ["edited"]
    media = json.loads(db["post_changes"].get(2)["details"])
    assert media["removed"] and not media["added"]  # the video is gone, the thumbnail stayed

    fake_platform.tweets[SEED_ID] = None
    third = run(["recheck"], env)
    assert third.exit_code == 0, third.output
    assert "unavailable" in third.stdout
    assert _findings(db, 3) == ["deleted"]
    post = next(db["posts"].rows)
    assert post["status"] == "unavailable"
    assert "isabet etti" in post["text"]  # the last text seen stays searchable

    assert _changes(db) == [(1, 2, "text-edited"), (1, 2, "media-changed"), (2, 3, "unavailable")]
    assert dict(db["captures"].get(1)) == first  # earlier captures are never touched

    shown = run(["show", SEED_ID, "--json"], env)
    history = json.loads(shown.stdout)["history"]
    assert [(h["capture_id"], h["status"]) for h in history] == [
        (1, "archived"),
        (2, "archived"),
        (3, "unavailable"),
    ]
    assert [[c["kind"] for c in h["changes"]] for h in history] == [
        [],
        ["text-edited", "media-changed"],
        ["unavailable"],
    ]
    assert "düştü" in history[0]["text"] and "isabet etti" in history[1]["text"]
    assert len(history[0]["media"]) == 2 and len(history[1]["media"]) == 1
    table = run(["show", SEED_ID], env).stdout
    assert "History" in table and "text-edited; media-changed" in table
    assert "finding vs capture 3 (live): deleted" in table

    del fake_platform.tweets[SEED_ID]
    fourth = json.loads(run(["recheck", "--json"], env).stdout)
    assert fourth[0]["changes"] == ["available-again", "text-edited", "media-changed"]
    assert _changes(db)[3:] == [
        (3, 4, "available-again"),
        (2, 4, "text-edited"),
        (2, 4, "media-changed"),
    ]
    assert _findings(db, 4) == ["match"]


@pytest.mark.parametrize(
    ("edit", "edited"),
    [
        (lambda t: t + " https://evil.example/fake", True),  # a link added
        (lambda t: t.replace("düştü", "düştü❌"), True),  # an emoji added
        (lambda t: t.replace(" ", "  "), False),  # spacing only
    ],
)
def test_a_recheck_by_the_same_method_sees_links_and_emoji_edited(
    fake_platform, archive_dir: Path, edit: Any, edited: bool
) -> None:
    """The words-only comparison check uses (another method writes links and emoji its own
    way) hid a swapped link between two captures by the same method."""
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(SEED)], env).exit_code == 0
    tweet = json.loads(SEED_JSON)
    tweet["text"] = edit(tweet["text"])
    fake_platform.tweets[SEED_ID] = json.dumps(tweet, ensure_ascii=False)
    result = run(["recheck", "--json"], env)
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    assert ("text-edited" in item["changes"]) is edited


def test_older_than_and_platform_select_posts(fake_platform, archive_dir: Path) -> None:
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(SEED)], env).exit_code == 0
    assert json.loads(run(["recheck", "--older-than", "7d", "--json"], env).stdout) == []
    assert json.loads(run(["recheck", "--platform", "bluesky", "--json"], env).stdout) == []
    again = json.loads(run(["recheck", "--older-than", "0s", "--platform", "twitter", "--json"], env).stdout)  # fmt: skip
    assert [i["changes"] for i in again] == [[]]  # same post, nothing changed
    db = Database(archive_dir / "archive.db")
    assert db["captures"].count == 2 and db["post_changes"].count == 0
    assert [r["command"] for r in db["runs"].rows] == ["archive", "recheck", "recheck", "recheck"]


def test_recheck_errors_are_one_line(fake_platform, archive_dir: Path, tmp_path: Path) -> None:
    missing = run(["recheck", "--archive", str(tmp_path / "none")], {})
    assert missing.exit_code == 2 and "no archive" in missing.stderr
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(SEED)], env).exit_code == 0
    bad = run(["recheck", "--platform", "myspace"], env)
    assert bad.exit_code == 2 and "unknown platform" in bad.stderr
    with fake_platform.offline():
        offline = run(["recheck"], env)
    assert offline.exit_code == 1  # a failed fetch observes nothing: no change recorded
    assert Database(archive_dir / "archive.db")["post_changes"].count == 0


def test_post_changes_are_append_only(fake_platform, archive_dir: Path) -> None:
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(SEED)], env).exit_code == 0
    fake_platform.tweets[SEED_ID] = None
    assert run(["recheck"], env).exit_code == 0
    conn = sqlite3.connect(archive_dir / "archive.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("delete from post_changes")


def test_a_quoted_post_is_captured_once_per_recheck(fake_platform, archive_dir: Path) -> None:
    env = cli_env(fake_platform, archive_dir)
    quote = "1641895049427550208"
    text = f"As https://twitter.com/a/status/{quote} says."
    assert CliRunner().invoke(cli, ["archive", "-"], input=text, env=env).exit_code == 0
    db = Database(archive_dir / "archive.db")
    assert db["posts"].count == 2 and db["captures"].count == 2
    items = json.loads(run(["recheck", "--json"], env).stdout)
    assert [i["post_id"] for i in items] == [quote]  # the quoted post came inside it
    assert db["captures"].count == 4
