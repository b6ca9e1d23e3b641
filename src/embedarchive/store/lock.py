"""One writing command per archive at a time: an exclusive ``flock`` on ``<archive>/writer.lock``.

A writing command starts by clearing what a dead process left half-written: temp files,
manifest files whose rows never committed, media files put by a killed run that no row names.
A second command writing the same archive at that moment would lose its files in flight to
that clean-up, so it is refused with one line instead. Readers (``list``, ``show``, ``serve``,
``verify``) take no lock; ``verify`` only asks whether a writer holds it (``active_writer``),
since that writer's files in flight have no row yet. The kernel drops the lock with its
process, so a ``kill -9`` never leaves a stale one behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ..errors import StoreError, write_error

LOCK_NAME = "writer.lock"
#: How long a writer waits for the lock before it is refused: long enough for a reader's probe.
WAIT = 1.0


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
        if not _lock(fh, fcntl.LOCK_EX, WAIT):
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


def active_writer(archive_dir: Path) -> str | None:
    """The pid of the command writing the archive now ("" if it did not say), or None when
    none is. The probe holds a shared lock for an instant; a writer starting in that instant
    waits for it (``WAIT``) rather than being refused."""
    try:
        fh = open(archive_dir / LOCK_NAME, encoding="ascii")
    except OSError:
        return None  # never written by a writer: none is running
    with fh:
        if _lock(fh, fcntl.LOCK_SH, 0):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return None
        holder = fh.read(20).strip()
        return holder if holder.isdigit() else ""


def _lock(fh: IO[str], kind: int, wait: float) -> bool:
    """Take the lock, trying again for ``wait`` seconds; False if it stays taken."""
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fh.fileno(), kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


__all__ = ["LOCK_NAME", "active_writer", "writer_lock"]
