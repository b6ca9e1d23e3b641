"""Opening an archive for a run that fetches: one place for the start-of-run housekeeping.

Every fetching command (archive, retry, recheck, recover) starts the same way — take the
archive's writer lock, discard what an interrupted run left half-written, record the run — and
ends by recording its end.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from .capture.http import Http, utcnow
from .errors import StoreError, is_disk_full, write_error
from .manifest import discard_uncommitted
from .pipeline import begin_run
from .settings import LoadedSettings
from .store.files import FileStore
from .store.lock import writer_lock
from .store.records import Store


@contextmanager
def fetching_run(
    loaded: LoadedSettings, command: str, *, create: bool = True
) -> Iterator[tuple[Store, FileStore, Http, int]]:
    """Store, file store, guarded client and run id; closed (and the run finished) in order."""
    settings = loaded.settings
    if not create:
        Store.open(settings.db_path, create=False).close()  # a missing archive is an error
    with writer_lock(settings.archive_dir):
        store = Store.open(
            settings.db_path,
            warc_max_bytes=settings.warc_max_bytes,
            durable=settings.durable_commits,
        )
        files = FileStore(settings.archive_dir)
        files.open()
        files.discard_partial()
        discard_uncommitted(store.db, settings.archive_dir)
        _discard_orphans_of_killed_runs(store, files)
        started = time.time()
        run_id: int | None = None
        failed, interrupted = True, False
        try:
            run_id = begin_run(store, loaded, command, sys.argv)
            with Http(settings) as http:
                yield store, files, http, run_id
            failed = False
        except KeyboardInterrupt:
            # Fetch threads let go may still be storing: the run is left unfinished, so the
            # next run treats it as a killed one and discards the files no row names.
            interrupted = True
            raise
        except Exception as err:
            # A unit failed to commit (a full disk above all, or a bug): drop the files only
            # it named, so the archive verifies as it is, not only after the next run's start.
            discard_uncommitted(store.db, settings.archive_dir)
            files.discard_unreferenced(store.db, started)
            if isinstance(err, StoreError | OSError | sqlite3.Error):
                raise _one_line(err, settings.archive_dir) from None
            raise
        finally:
            _finish(store, None if interrupted else run_id, settings.archive_dir, failed)


def _one_line(err: BaseException, archive_dir: Path) -> BaseException:
    """A full disk said in one line even where the write that failed was not one that says it."""
    if isinstance(err, OSError | sqlite3.Error) and is_disk_full(err):
        return write_error(err, f"the archive in {archive_dir}")
    return err


def _finish(store: Store, run_id: int | None, archive_dir: Path, failed: bool) -> None:
    """Record the run's end (unless it is None: never begun, or interrupted) and close the
    store (sealing its WARC). When the run already failed, an error here (the same full disk)
    must not hide why it failed: the run is then left unfinished, which the next run treats
    as a killed one (its WARC recovered, its orphans discarded)."""
    try:
        try:
            if run_id is not None:
                store.finish_run(run_id, utcnow())
        finally:
            store.close()
    except (StoreError, OSError, sqlite3.Error) as err:
        if not failed:
            raise _one_line(err, archive_dir) from None


def _discard_orphans_of_killed_runs(store: Store, files: FileStore) -> None:
    """A run killed between putting a media file in the store and committing the rows that
    name it leaves the file orphaned; usually a later capture of the same bytes adopts it,
    but not when that capture comes out different (text only, say). So the files put since
    the first killed run (no ``finished_at``) after the last finished one, and named by no
    row, go. The media store is walked only after a kill."""
    row = store.db.execute(
        """select min(started_at) from runs where finished_at is null and id > coalesce(
             (select max(id) from runs where finished_at is not null), 0)"""
    ).fetchone()
    if row and row[0]:
        since = datetime.fromisoformat(str(row[0]).replace("Z", "+00:00")).timestamp()
        files.discard_unreferenced(store.db, since)


__all__ = ["fetching_run"]
