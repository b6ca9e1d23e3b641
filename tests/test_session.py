"""Start of a fetching run (session.py): what a killed run left behind is cleared before work."""

from __future__ import annotations

import hashlib
from pathlib import Path

from click.testing import CliRunner

from embedarchive.cli import cli
from embedarchive.pipeline import begin_run
from embedarchive.settings import load_settings
from embedarchive.store.files import FileStore
from embedarchive.store.records import Store

from .helpers import SEED, cli_env, media_files


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
