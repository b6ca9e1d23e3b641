"""Sealing WARC files: hashing a closed WARC, linking it to its content address, and recovering
the ones a crashed run left open. See ``store/warc.py`` for the lifecycle."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import IO

from sqlite_utils import Database
from warcio.archiveiterator import ArchiveIterator

CHUNK = 1024 * 1024
#: What ``os.link`` says on a file system that has no hard links.
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK})
#: The suffix of a copy being put in place (left behind only by a killed run).
_COPYING = ".sealing"


def sha256_file(path: Path) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def warc_path(sha256: str) -> str:
    return f"warc/{sha256[:2]}/{sha256}.warc.gz"


def seal_file(
    root: Path, db: Database, path: Path, records: int, on_sealed: Callable[[int], None]
) -> str:
    """Hash a closed WARC, give it its content address, add its ``warc_files`` row.

    ``on_sealed(row id)`` runs in the same transaction as the insert (it writes the manifest).
    The file stays in ``warc/open`` until that transaction commits (the sealed name is a
    second link to it), so a run killed or out of space in between leaves it where the next
    run seals it again, never as a sealed file without a row.
    """
    sha, size = sha256_file(path)
    rel = warc_path(sha)
    dest = root / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())
    linked = _link(path, dest)
    from ..capture.http import utcnow

    try:
        with db.atomic():
            row_id = (
                db.table("warc_files")
                .insert(
                    {
                        "name": path.name,
                        "path": rel,
                        "sha256": sha,
                        "size": size,
                        "records": records,
                        "created_at": _created_at(path.name),
                        "sealed_at": utcnow(),
                    }
                )
                .last_pk
            )
            on_sealed(int(row_id or 0))
    except BaseException:
        if linked:
            dest.unlink(missing_ok=True)
        raise
    path.unlink(missing_ok=True)
    os.chmod(dest, 0o444)
    return rel


def _link(path: Path, dest: Path) -> bool:
    """Give ``path`` the name ``dest`` too; False when ``dest`` was already there (an earlier
    seal of the same bytes that did not commit: same name, same content)."""
    try:
        os.link(path, dest)
    except FileExistsError:
        return False
    except OSError as err:
        if err.errno not in _NO_HARD_LINKS:
            raise
        # A file system without hard links (FAT on a USB stick): a copy, put in place whole.
        part = path.with_name(path.name + _COPYING)
        shutil.copyfile(path, part)
        os.replace(part, dest)
    return True


def _created_at(name: str) -> str | None:
    stamp = name.removeprefix("embedarchive-").split("-", 1)[0]
    if len(stamp) < 15:
        return None
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}Z"


def recover_open_files(root: Path, db: Database, on_sealed: Callable[[int], None]) -> list[str]:
    """Seal WARCs a crashed run left open (cut back to their last complete record).

    Files another live process holds (its ``flock``) are left alone.
    """
    sealed: list[str] = []
    open_dir = root / "warc" / "open"
    if not open_dir.is_dir():
        return sealed
    for leftover in open_dir.glob("*" + _COPYING):
        leftover.unlink()
    sealed_names = {r[0] for r in db.execute("select name from warc_files").fetchall()}
    for path in sorted(open_dir.glob("*.warc.gz")):
        if path.name in sealed_names:
            path.unlink()  # sealed and committed; killed before its open name went
            continue
        with open(path, "r+b") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue
            end, count = _last_complete_record(fh)
            fh.truncate(end)
        if count == 0:
            path.unlink()
            continue
        sealed.append(seal_file(root, db, path, count, on_sealed))
    return sealed


def _last_complete_record(fh: IO[bytes]) -> tuple[int, int]:
    fh.seek(0)
    end = count = 0
    try:
        iterator = ArchiveIterator(fh)
        for record in iterator:
            stream = record.content_stream()
            while stream.read(CHUNK):
                pass
            iterator.read_to_end()
            end = iterator.get_record_offset() + iterator.get_record_length()
            count += 1
    except Exception:  # a torn last record: everything before it is kept
        pass
    return end, count
