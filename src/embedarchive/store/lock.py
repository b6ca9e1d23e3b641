"""One writing command per archive at a time: an exclusive ``flock`` on ``<archive>/writer.lock``.

A writing command starts by clearing what a dead process left half-written: temp files,
manifest files whose rows never committed, media files put by a killed run that no row names.
A second command writing the same archive at that moment would lose its files in flight to
that clean-up, so it is refused with one line instead. Readers (``list``, ``show``, ``serve``,
``verify``) take no lock. The kernel drops the lock with its process, so a ``kill -9`` never
leaves a stale one behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import StoreError, write_error

LOCK_NAME = "writer.lock"


@contextmanager
def writer_lock(archive_dir: Path) -> Iterator[None]:
    """Hold the archive's writer lock, or raise ``StoreError`` naming the process that does."""
    path = archive_dir / LOCK_NAME
    try:
        archive_dir.mkdir(parents=True, exist_ok=True)
        fh = open(path, "a+", encoding="ascii")
    except OSError as err:
        raise write_error(err, f"the lock file {path}") from None
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read(20).strip()
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise StoreError(
                f"another embedarchive command{who} is writing the archive in {archive_dir}: "
                "wait for it to finish, or give this one another --archive"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield


__all__ = ["LOCK_NAME", "writer_lock"]
