"""``embedarchive verify``: a clean archive passes; each kind of tampering fails with its message."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from .helpers import ARTICLES, SEED, cli_env, run, writer_running


@pytest.fixture
def env(fake_platform, archive_dir: Path) -> dict[str, str]:
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", str(SEED)], env).exit_code == 0
    return env


def verify(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    result = run(["verify", "--json"], env)
    return result.exit_code, json.loads(result.stdout)


def messages(report: dict[str, Any], kind: str) -> list[str]:
    return [p["message"] for p in report["problems"] if p["kind"] == kind]


def writable(path: Path) -> Path:
    os.chmod(path, 0o644)
    return path


def unprotect(db: Database, table: str) -> None:
    """What an attacker editing SQLite directly does first: drop the append-only triggers."""
    for action in ("update", "delete"):
        db.execute(f"drop trigger if exists {table}_no_{action}")


def test_clean_archive_passes(env: dict[str, str]) -> None:
    code, report = verify(env)
    assert code == 0, report["problems"]
    assert report["passed"] and report["checked"] == report["ok"] > 20
    assert report["missing"] == report["altered"] == report["orphaned"] == 0
    table = run(["verify"], {**env, "COLUMNS": "120"})
    assert table.exit_code == 0 and "OK" in table.stdout and "checked" in table.stdout


def test_runs_that_store_nothing_else_are_vouched_for_too(env: dict[str, str]) -> None:
    """A re-run of a finished article stores no article, post or capture: its run row alone."""
    assert run(["archive", str(SEED)], env).exit_code == 0
    assert run(["retry"], env).exit_code == 0
    code, report = verify(env)
    assert code == 0, report["problems"]
    db = Database(Path(env["EMBEDARCHIVE_ARCHIVE_DIR"]) / "archive.db")
    assert db["runs"].count >= 3
    kinds = [r["kind"] for r in db["manifests"].rows_where(order_by="seq")]
    assert kinds.count("run") == db["runs"].count


def test_articles_that_could_not_be_fetched_are_vouched_for_too(
    fake_platform: Any, env: dict[str, str]
) -> None:
    """A URL that answers 404 or refuses the connection stores no article, only the exchange
    and its WARC record: those are in the chain like any other (they were not: verify failed
    for good after an offline run)."""
    for url in (fake_platform.url("/no-such-article"), "http://127.0.0.1:9/refused"):
        assert run(["archive", url], env).exit_code in (1, 2)
    db = Database(Path(env["EMBEDARCHIVE_ARCHIVE_DIR"]) / "archive.db")
    orphans = db.execute(
        "select count(*) from http_exchanges where article_id is null and capture_id is null"
        " and detection_id is null"
    ).fetchone()[0]
    assert orphans == 2
    code, report = verify(env)
    assert code == 0, report["problems"]
    assert [r["kind"] for r in db["manifests"].rows_where(order_by="seq")].count("exchanges") == 2


def test_one_byte_changed_in_a_media_file_is_altered(
    env: dict[str, str], archive_dir: Path
) -> None:
    video = next(Database(archive_dir / "archive.db")["media"].rows_where("kind = 'video'"))
    path = writable(archive_dir / video["path"])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    code, report = verify(env)
    assert code == 1 and report["altered"] >= 1
    assert any(video["path"] in m and "altered" in m for m in messages(report, "altered"))


def test_deleted_media_file_is_missing(env: dict[str, str], archive_dir: Path) -> None:
    photo = next(Database(archive_dir / "archive.db")["media"].rows_where("kind != 'video'"))
    (archive_dir / photo["path"]).unlink()
    code, report = verify(env)
    assert code == 1
    assert messages(report, "missing") == [f"media file {photo['path']} is missing"]


def test_deleted_row_is_missing_and_its_file_orphaned(
    env: dict[str, str], archive_dir: Path
) -> None:
    db = Database(archive_dir / "archive.db")
    video = next(db["media"].rows_where("kind = 'video'"))
    unprotect(db, "media")
    db.execute("delete from media where id = ?", [video["id"]])
    db.conn.commit()
    code, report = verify(env)
    assert code == 1
    assert any(f"media row {video['id']} (in manifest" in m for m in messages(report, "missing"))
    assert messages(report, "orphaned") == [f"{video['path']} has no row in the archive database"]


def test_edited_row_is_altered(env: dict[str, str], archive_dir: Path) -> None:
    db = Database(archive_dir / "archive.db")
    capture = next(db["captures"].rows)
    unprotect(db, "captures")
    db.execute(
        "update captures set data = replace(data, 'Rus', 'Fake') where id = ?", [capture["id"]]
    )
    db.conn.commit()
    code, report = verify(env)
    assert code == 1
    assert any(f"captures row {capture['id']} differs" in m for m in messages(report, "altered"))


def test_edited_old_manifest_breaks_the_chain(env: dict[str, str], archive_dir: Path) -> None:
    db = Database(archive_dir / "archive.db")
    first = next(db["manifests"].rows_where("seq = 1"))
    path = writable(archive_dir / first["path"])
    path.write_bytes(path.read_bytes().replace(b'"kind": "', b'"kind": "edited-', 1))
    code, report = verify(env)
    assert code == 1
    assert any(first["path"] in m for m in messages(report, "altered"))
    # The attacker also fixes the manifest's row: the next manifest still names the old hash.
    unprotect(db, "manifests")
    import hashlib

    db.execute(
        "update manifests set sha256 = ? where seq = 1",
        [hashlib.sha256(path.read_bytes()).hexdigest()],
    )
    db.conn.commit()
    code, report = verify(env)
    assert code == 1
    assert any("manifest 2 does not follow manifest 1" in m for m in messages(report, "altered"))


@pytest.mark.parametrize(
    ("records", "said"),
    [
        ([1, 2], "lists its rows in another shape"),
        ({"runs": [{"id": "two", "sha256": "x"}]}, "lists a runs row as"),
        ({"runs": ["x"]}, "lists a runs row as"),
        ({"runs": [{"id": 10**30, "sha256": "x"}]}, "lists a runs row as"),
        ({"nosuch] where 1=1 --": [{"id": 1, "sha256": "x"}]}, "lists 'nosuch] where 1=1 --' rows"),
        ({"sqlite_master": [{"id": 1, "sha256": "x"}]}, "lists 'sqlite_master' rows"),
    ],
)
def test_a_head_manifest_rewritten_into_another_shape_is_reported_not_a_crash(
    env: dict[str, str], archive_dir: Path, records: Any, said: str
) -> None:
    """An insider can rewrite the unsealed head and its row consistently: whatever it lists is
    reported, never a traceback, and no table name it gives reaches SQL."""
    db = Database(archive_dir / "archive.db")
    unprotect(db, "manifests")
    head = next(db["manifests"].rows_where(order_by="seq desc", limit=1))
    body = json.loads((archive_dir / head["path"]).read_bytes())
    data = json.dumps({**body, "records": records}).encode()
    sha = hashlib.sha256(data).hexdigest()
    path = f"manifests/{sha[:2]}/{sha}.json"
    (archive_dir / path).parent.mkdir(parents=True, exist_ok=True)
    (archive_dir / path).write_bytes(data)
    os.chmod(archive_dir / head["path"], 0o644)
    (archive_dir / head["path"]).unlink()
    db.execute("update manifests set path = ?, sha256 = ? where id = ?", [path, sha, head["id"]])
    db.conn.commit()
    result = run(["verify", "--json"], env)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert any(said in m for m in messages(report, "altered")), report["problems"]


def test_removed_manifest_leaves_a_gap(env: dict[str, str], archive_dir: Path) -> None:
    db = Database(archive_dir / "archive.db")
    unprotect(db, "manifests")
    second = next(db["manifests"].rows_where("seq = 2"))
    db.execute("delete from manifests where seq = 2")
    db.conn.commit()
    (archive_dir / second["path"]).unlink()
    code, report = verify(env)
    assert code == 1
    missing = messages(report, "missing")
    assert any("manifests 2…2 are missing" in m for m in missing)
    assert any("in no manifest" in m for m in missing)


def test_row_added_behind_the_chains_back_is_reported(
    env: dict[str, str], archive_dir: Path
) -> None:
    db = Database(archive_dir / "archive.db")
    row = dict(next(db["media"].rows))
    row.pop("id")
    db["media"].insert(row)
    code, report = verify(env)
    assert code == 1
    assert any("1 media row(s) are in no manifest" in m for m in messages(report, "missing"))


def test_altered_warc_record_fails_its_digest(env: dict[str, str], archive_dir: Path) -> None:
    db = Database(archive_dir / "archive.db")
    warc = next(db["warc_files"].rows)
    path = writable(archive_dir / warc["path"])
    import gzip

    link = next(db["warc_records"].rows_where("target_uri like '%syndication%'"))
    data = path.read_bytes()
    member = gzip.decompress(data[link["offset"] : link["offset"] + link["length"]])
    forged = gzip.compress(member.replace(b"Rus ordusunun", b"Rus ordusuNun", 1))
    path.write_bytes(data[: link["offset"]] + forged + data[link["offset"] + link["length"] :])
    code, report = verify(env)
    assert code == 1
    altered = messages(report, "altered")
    assert any(warc["path"] in m and "is altered" in m for m in altered)
    assert any(link["record_id"] in m and "digest failed" in m for m in altered)


def test_stray_file_is_orphaned(env: dict[str, str], archive_dir: Path) -> None:
    stray = archive_dir / "media" / "ab" / ("ab" + "0" * 62 + ".jpg")
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"not evidence")
    code, report = verify(env)
    assert code == 1
    assert messages(report, "orphaned") == [
        f"{stray.relative_to(archive_dir)} has no row in the archive database"
    ]


def test_a_stray_file_dated_in_the_future_is_orphaned_not_in_flight(
    env: dict[str, str], archive_dir: Path
) -> None:
    """Files written while verify runs pass as a run's in flight; a date in 2099 must not."""
    stray = archive_dir / "media" / "ab" / ("ab" + "1" * 62 + ".jpg")
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"planted")
    os.utime(stray, (4_070_908_800, 4_070_908_800))  # 2099-01-01
    code, report = verify(env)
    assert code == 1 and not any("in progress" in n for n in report["notes"])
    assert messages(report, "orphaned") == [
        f"{stray.relative_to(archive_dir)} has no row in the archive database"
    ]


def test_files_of_a_run_in_progress_are_not_orphans(env: dict[str, str], archive_dir: Path) -> None:
    # A run writes each file, then commits its row: meanwhile the file has none.
    with writer_running(archive_dir) as pid:
        stray = archive_dir / "media" / "ab" / ("ab" + "0" * 62 + ".jpg")
        stray.parent.mkdir(exist_ok=True)
        stray.write_bytes(b"its row is about to be committed")
        code, report = verify(env)
    assert code == 0, report["problems"]
    assert report["orphaned"] == 0
    assert (
        f"1 file(s) written by a run in progress (pid {pid}) have no row yet and were not "
        "counted: verify again when it has finished"
    ) in report["notes"]
    code, report = verify(env)  # the run is over and the file still has no row
    assert code == 1 and report["orphaned"] == 1


@pytest.mark.parametrize("command", [["verify"], ["export", "1", "--out", "x.wacz"]])
def test_a_database_that_is_not_one_is_one_line_exit_2(tmp_path: Path, command: list[str]) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "archive.db").write_bytes(b"this is not sqlite" * 100)
    result = run([*command, "--archive", str(archive)], {})
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: cannot read archive database {archive / 'archive.db'}: file is not a database"
    )


def test_missing_archive_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run(["verify", "--archive", str(tmp_path / "nothing")], {})
    assert result.exit_code == 2 and "no archive" in result.stderr


@pytest.mark.parametrize("column", ["kind", "subject", "previous", "created_at"])
def test_a_manifests_row_edited_apart_from_its_file_is_altered(
    env: dict[str, str], archive_dir: Path, column: str
) -> None:
    """The row is a copy of the manifest file's own fields, which export and the pages read."""
    db = Database(archive_dir / "archive.db")
    unprotect(db, "manifests")
    db.execute(f"update manifests set [{column}] = 'edited' where seq = 2")
    db.conn.commit()
    code, report = verify(env)
    assert code == 1
    assert "manifests row 2 differs from its manifest file" in messages(report, "altered")


def _two_posts(env: dict[str, str], archive_dir: Path) -> tuple[Database, list[dict[str, Any]]]:
    """An archive whose article shows several posts: detections linked to different posts."""
    assert run(["archive", str(ARTICLES / "four-findings.html")], env).exit_code == 0
    db = Database(archive_dir / "archive.db")
    linked = list(db.query("select * from detections where post_pk is not null order by id"))
    assert len({d["post_pk"] for d in linked}) >= 2
    return db, linked


def test_a_detection_pointed_at_another_post_is_altered(
    env: dict[str, str], archive_dir: Path
) -> None:
    """What an article showed cannot be made to show another archived post: the link is
    vouched for by its own manifest, not only the detection's rendering."""
    db, linked = _two_posts(env, archive_dir)
    assert verify(env)[0] == 0
    first, other = linked[0], next(d for d in linked if d["post_pk"] != linked[0]["post_pk"])
    db.execute("update detections set post_pk = ? where id = ?", [other["post_pk"], first["id"]])
    db.conn.commit()
    code, report = verify(env)
    assert code == 1
    assert messages(report, "altered") == [
        f"detection {first['id']} is linked otherwise than manifest "
        f"{_link_seq(db, first['id'])} says: altered"
    ]


def test_a_detection_unlinked_or_linked_behind_the_chains_back_is_reported(
    env: dict[str, str], archive_dir: Path, tmp_path: Path
) -> None:
    db, linked = _two_posts(env, archive_dir)
    first = linked[0]
    db.execute("update detections set post_pk = null where id = ?", [first["id"]])
    db.conn.commit()
    code, report = verify(env)
    assert code == 1
    assert f"detection {first['id']} is no longer linked" in " ".join(messages(report, "altered"))
    # An embed that named no post (its link is gone from the copy) linked by hand.
    article = tmp_path / "linkless.txt"
    article.write_text(
        "Story about things.\n\nWords of the post here.\n"
        "— Someone (@someone) November 14, 2025\n\nMore story.\n"
    )
    run(["archive", str(article)], env)  # stored, unresolved: no post to link
    (linkless,) = db.execute("select id from detections where post_pk is null and id != ?", [first["id"]]).fetchall()  # fmt: skip
    db.execute("update detections set post_pk = ? where id in (?, ?)", [first["post_pk"], first["id"], linkless[0]])  # fmt: skip
    db.conn.commit()
    code, report = verify(env)
    assert code == 1
    assert messages(report, "missing") == [
        f"1 detection link(s) are in no manifest ({linkless[0]}); links made behind the "
        "chain's back"
    ]
    assert messages(report, "altered") == []  # the first is linked as its manifest says again


def test_a_post_row_renamed_to_another_post_is_altered(
    env: dict[str, str], archive_dir: Path
) -> None:
    """``posts`` is derived, but which post it is shows under every detection linked to it."""
    db = Database(archive_dir / "archive.db")
    post = next(db["posts"].rows)
    db.execute("update posts set post_id = '1' where id = ?", [post["id"]])
    db.conn.commit()
    code, report = verify(env)
    assert code == 1
    altered = messages(report, "altered")
    assert f"posts row {post['id']} is not the post its captures are of" in " ".join(altered)
    assert any("is linked otherwise than manifest" in m for m in altered)


def test_a_re_run_links_nothing_again(env: dict[str, str], archive_dir: Path) -> None:
    db = Database(archive_dir / "archive.db")
    links = db.execute("select count(*) from manifests where kind = 'link'").fetchone()[0]
    linked = db.execute("select count(*) from detections where post_pk is not null").fetchone()[0]
    assert links == linked >= 1
    assert run(["archive", str(SEED), "--refresh"], env).exit_code == 0
    assert db.execute("select count(*) from manifests where kind = 'link'").fetchone()[0] == links


def _link_seq(db: Database, detection_id: int) -> int:
    return db.execute(
        "select seq from manifests where kind = 'link' and subject = ?",
        [f"detection:{detection_id}"],
    ).fetchone()[0]


def test_a_run_stopped_by_a_bug_mid_unit_leaves_an_archive_that_verifies(
    fake_platform, archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug (here, one planted) raising inside a unit's transaction, after its manifest file
    was written: the row is rolled back, and the run's end removes the file too (it was
    left for the next run's start to remove, and verify failed meanwhile)."""
    from embedarchive.store.records import Store

    def planted(self: Store, detection_id: int, post_pk: int) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Store, "link_detection", planted)
    env = cli_env(fake_platform, archive_dir)
    with pytest.raises(RuntimeError, match="a bug"):
        run(["archive", str(SEED)], env)
    monkeypatch.undo()
    code, report = verify(env)
    assert code == 0, report["problems"]
    db = Database(archive_dir / "archive.db")
    assert db["captures"].count == 0 and db["manifests"].count >= 2


def test_files_of_a_unit_cut_short_by_ctrl_c_go_at_the_next_run(
    fake_platform, archive_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Ctrl-C after a post's media reached the store, before its rows: the run is left
    unfinished, like a killed one, so the next run (of anything) discards the files no row
    names (the interrupted run was recorded as finished and they stayed orphans for good)."""
    from embedarchive.store.records import Store

    def interrupted(self: Store, *args: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "save_capture", interrupted)
    env = cli_env(fake_platform, archive_dir)
    assert run(["archive", "--jobs", "1", str(SEED)], env).exit_code == 130
    monkeypatch.undo()
    assert any(p["kind"] == "orphaned" for p in verify(env)[1]["problems"])
    other = tmp_path / "other.html"
    other.write_text("<html><body><p>No embeds.</p></body></html>")
    assert run(["archive", str(other)], env).exit_code == 0
    code, report = verify(env)
    assert code == 0, report["problems"]


def test_a_table_rebuilt_to_hold_two_rows_of_one_id_is_altered(
    env: dict[str, str], archive_dir: Path
) -> None:
    """Without its primary key a table can hold a row the manifest hashes and, under the
    same id, another that pages show (linked to another post, say)."""
    db = sqlite3.connect(archive_dir / "archive.db")
    db.executescript(
        """pragma legacy_alter_table = on;
           create table rebuilt as select * from detections;
           insert into rebuilt select * from detections;
           drop table detections;
           alter table rebuilt rename to detections;"""
    )
    db.close()
    code, report = verify(env)
    assert code == 1
    assert "detections has rows that share an id or whose id is not a number: the table was rebuilt" in messages(report, "altered")  # fmt: skip
