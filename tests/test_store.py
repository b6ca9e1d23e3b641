"""The archive database: migrations, append-only evidence, refusal of newer schemas."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from embedarchive.cli import cli
from embedarchive.errors import StoreError
from embedarchive.manifest import fetch_row, fetch_rows
from embedarchive.store.records import Store
from embedarchive.store.schema import SCHEMA_VERSION

from .helpers import SEED, cli_env


def test_migrations_apply_once(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    first = Store.open(path)
    assert first.schema_version() == SCHEMA_VERSION
    first.close()
    again = Store.open(path)
    assert again.schema_version() == SCHEMA_VERSION
    assert again.db.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_archive_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    store = Store.open(path)
    store.db.execute(
        "insert into _sqlite_migrations (migration_set, name, applied_at) values ('embedarchive', 'm999_future', 'x')"
    )
    store.db.conn.commit()
    store.close()
    with pytest.raises(StoreError, match="newer embedarchive"):
        Store.open(path)


@pytest.mark.parametrize(
    "sql",
    [
        "update captures set status = 'archived'",
        "delete from captures",
        "update media set sha256 = 'x'",
        "delete from http_exchanges",
        "update articles set text = 'rewritten'",
        "update detections set text = 'what it should have said'",
        "delete from detections",
        "update runs set operator = 'someone else'",
    ],
)
def test_evidence_cannot_be_altered(fake_platform, archive_dir: Path, sql: str) -> None:
    assert (
        CliRunner()
        .invoke(cli, ["archive", str(SEED)], env=cli_env(fake_platform, archive_dir))
        .exit_code
        == 0
    )
    store = Store.open(archive_dir / "archive.db")
    with pytest.raises(sqlite3.IntegrityError, match="evidence"):
        store.db.execute(sql)


def test_resolution_can_still_be_filled_in(fake_platform, archive_dir: Path) -> None:
    assert (
        CliRunner()
        .invoke(cli, ["archive", str(SEED)], env=cli_env(fake_platform, archive_dir))
        .exit_code
        == 0
    )
    store = Store.open(archive_dir / "archive.db")
    store.db.execute("update detections set resolution_error = 'note' where id = 1")
    store.db.execute("update posts set status = 'failed'")


def test_readers_upgrade_an_older_archive(tmp_path: Path) -> None:
    from sqlite_utils import Database

    from embedarchive.store.schema import migrations

    archive = tmp_path / "archive"
    archive.mkdir()
    old = Database(archive / "archive.db")
    migrations.apply(old, stop_before="m003_search_index")  # as the first release left it
    old.close()
    result = CliRunner().invoke(cli, ["list", "--json", "--archive", str(archive)])
    assert result.exit_code == 0, result.output
    assert Store.open(archive / "archive.db", create=False).schema_version() == SCHEMA_VERSION


def test_commits_are_synced_only_when_asked(tmp_path: Path) -> None:
    """WAL + synchronous=NORMAL by default (one fsync per commit made the writer the
    bottleneck); FULL with the durable_commits setting."""
    normal = Store.open(tmp_path / "a" / "archive.db")
    full = Store.open(tmp_path / "b" / "archive.db", durable=True)
    try:
        assert normal.db.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert normal.db.execute("pragma synchronous").fetchone()[0] == 1
        assert full.db.execute("pragma synchronous").fetchone()[0] == 2
    finally:
        normal.close()
        full.close()


def test_a_failed_inner_block_undoes_only_itself(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "archive.db")
    store.db.execute("create table t (x integer)")
    with store.atomic():
        store.db.execute("insert into t values (1)")
        with pytest.raises(RuntimeError), store.atomic():
            store.db.execute("insert into t values (2)")
            with store.atomic():
                store.db.execute("insert into t values (3)")
            raise RuntimeError("the inner block fails")
        with store.atomic():
            store.db.execute("insert into t values (4)")
    assert [r[0] for r in store.db.execute("select x from t order by x")] == [1, 4]
    with pytest.raises(RuntimeError), store.atomic():
        store.db.execute("insert into t values (5)")
        with store.atomic():
            store.db.execute("insert into t values (6)")
        raise RuntimeError("the outer block fails")
    assert [r[0] for r in store.db.execute("select x from t order by x")] == [1, 4]
    assert not store.db.conn.in_transaction
    store.close()


def test_manifest_rows_are_read_by_the_page_as_they_are_one_by_one(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "archive.db")
    with store.atomic():
        ids = [
            store.begin_run({"started_at": f"2024-05-01T10:00:{n % 60:02d}Z", "command": "t"})
            for n in range(1200)
        ]
    wanted = [ids[5], 99_999, *ids[:3], *ids[600:1100]]  # one that is not there
    found = fetch_rows(store.db, "runs", wanted)
    assert list(found) == [i for i in wanted if i != 99_999]
    assert all(found[i] == fetch_row(store.db, "runs", i) for i in found)
    store.close()
