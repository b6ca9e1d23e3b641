"""Start of a fetching run (session.py): what a killed run left behind is cleared before work."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from embedarchive.cli import cli
from embedarchive.errors import StoreError
from embedarchive.pipeline import begin_run
from embedarchive.session import fetching_run
from embedarchive.settings import load_settings
from embedarchive.store.files import FileStore
from embedarchive.store.records import Store

from .helpers import SEED, cli_env, media_files, writer_running


def _killed_run_with_a_stored_file(archive_dir: Path, data: bytes) -> Path:
    """What ``kill -9`` between ``FileStore.put`` and the commit of the rows leaves: a run
    without ``finished_at`` and a media file no row names."""
    loaded = load_settings({"archive_dir": archive_dir}, environ={})
    store = Store.open(archive_dir / "archive.db")
    begin_run(store, loaded, "archive", ["embedarchive", "archive"])
    files = FileStore(archive_dir)
    files.open()
    temp = files.temp_file()
    temp.write_bytes(data)
    rel = files.put(temp, hashlib.sha256(data).hexdigest(), "image/jpeg")
    store.db.close()  # no finish_run, no close: the process died
    return archive_dir / rel


def test_files_a_killed_run_left_unnamed_are_discarded_by_the_next_run(
    fake_platform, archive_dir: Path
) -> None:
    env = cli_env(fake_platform, archive_dir)
    assert CliRunner().invoke(cli, ["archive", str(SEED)], env=env).exit_code == 0
    kept = set(media_files(archive_dir))
    orphan = _killed_run_with_a_stored_file(archive_dir, b"\xff\xd8\xff\xe0 a photo never named")
    assert orphan.exists()

    assert CliRunner().invoke(cli, ["archive", str(SEED)], env=env).exit_code == 0

    assert not orphan.exists()
    assert set(media_files(archive_dir)) == kept  # what rows name is untouched
    verified = CliRunner().invoke(cli, ["verify"], env=env)
    assert verified.exit_code == 0, verified.output


def _run_that_cannot_write_at_its_end(archive_dir: Path, failure: Exception | None) -> int:
    """A fetching run whose database refuses writes from some moment on (as a full disk does),
    ending with ``failure`` raised from inside it (or normally)."""
    loaded = load_settings({"archive_dir": archive_dir}, environ={})
    with fetching_run(loaded, "archive") as (store, _files, _http, run_id):
        assert store.evidence is not None
        store.evidence.warc.metadata("urn:test:before", {"n": 1})  # an open WARC to seal
        store.db.execute("pragma query_only = 1")
        if failure is not None:
            raise failure
    return run_id


def test_an_error_ending_a_failed_run_does_not_hide_why_it_failed(archive_dir: Path) -> None:
    with pytest.raises(StoreError, match="^the first failure$"):
        _run_that_cannot_write_at_its_end(archive_dir, StoreError("the first failure"))
    db = Database(archive_dir / "archive.db")
    (run,) = db["runs"].rows
    assert run["finished_at"] is None  # left as a killed run: the next one cleans up after it
    assert db["warc_files"].count == 0
    assert len(list((archive_dir / "warc" / "open").iterdir())) == 1  # not sealed without a row
    db.close()

    env = {"EMBEDARCHIVE_ARCHIVE_DIR": str(archive_dir)}
    assert CliRunner().invoke(cli, ["verify"], env=env).exit_code == 0
    loaded = load_settings({"archive_dir": archive_dir}, environ={})
    with fetching_run(loaded, "archive") as (store, _files, _http, _run_id):
        assert store.evidence is not None
        store.evidence.warc.metadata("urn:test:after", {"n": 2})
    db = Database(archive_dir / "archive.db")
    assert db["warc_files"].count == 2  # the first run's WARC sealed by the next one
    assert list((archive_dir / "warc" / "open").iterdir()) == []
    db.close()
    verified = CliRunner().invoke(cli, ["verify"], env=env)
    assert verified.exit_code == 0, verified.output


def test_an_error_ending_a_good_run_is_said_in_one_line(archive_dir: Path) -> None:
    with pytest.raises(StoreError, match="^cannot write .*: attempt to write a readonly database$"):
        _run_that_cannot_write_at_its_end(archive_dir, None)


def test_a_second_writer_is_refused_while_another_process_writes(
    fake_platform, archive_dir: Path
) -> None:
    env = cli_env(fake_platform, archive_dir)
    assert CliRunner().invoke(cli, ["archive", str(SEED)], env=env).exit_code == 0
    with writer_running(archive_dir) as pid:
        (archive_dir / "tmp" / "its-download.part").write_bytes(b"in flight")
        for command in (["archive", str(SEED)], ["retry"], ["check"], ["seal"]):
            refused = CliRunner().invoke(cli, command, env=env)
            assert refused.exit_code == 2, (command, refused.output)
            assert refused.stderr.strip() == (
                f"error: another embedarchive command (pid {pid}) is writing the "
                f"archive in {archive_dir}: wait for it to finish, or give this one another "
                "--archive"
            )
        assert (archive_dir / "tmp" / "its-download.part").exists()  # its files are left alone
        listed = CliRunner().invoke(cli, ["list", "--json"], env=env)  # readers need no lock
        assert listed.exit_code == 0, listed.output
    again = CliRunner().invoke(cli, ["archive", str(SEED)], env=env)  # the lock died with it
    assert again.exit_code == 0, again.output
    assert not (archive_dir / "tmp" / "its-download.part").exists()
