"""Content-addressed file store: ``media/<sha[:2]>/<sha256>.<ext>``, written atomically.

Files are first written under ``tmp/`` and renamed into place only once complete and hashed,
so an interrupted run never leaves a partial file in the store, and the same bytes seen in two
posts are stored once. A write that fails (a full disk above all) raises ``StoreError`` /
``DiskFullError`` with its temp file already removed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

from sqlite_utils import Database

from ..errors import StoreError, write_error

_EXT_BY_MIME = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "video/x-matroska": "mkv",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "text/html": "html",
    "text/plain": "txt",
    "application/json": "json",
}


def extension_for(mime: str) -> str:
    return _EXT_BY_MIME.get(mime.split(";")[0].strip().lower(), "bin")


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.media = root / "media"
        self.tmp = root / "tmp"

    def open(self) -> None:
        try:
            self.media.mkdir(parents=True, exist_ok=True)
            self.tmp.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"cannot create archive folders in {self.root}: {err}") from None

    def discard_partial(self) -> int:
        """Remove temp files left by an interrupted run; they were never referenced."""
        count = 0
        if self.tmp.is_dir():
            for item in self.tmp.iterdir():
                if item.is_dir():
                    shutil.rmtree(item, ignore_errors=True)
                else:
                    item.unlink(missing_ok=True)
                count += 1
        return count

    def discard_unreferenced(self, db: Database, since: float) -> list[str]:
        """Remove the files put since ``since`` (the run's start) that no row names.

        They belong to a unit whose transaction failed after its files were stored (a full
        disk while writing its WARC records or rows); left alone they would be orphaned until
        a later run stored the same bytes again. ``put`` renames and chmods, so the ctime of a
        file it stored is when it did (a file that was already there is not touched). Walks
        the whole store: for a run that stops, not for every unit.
        """
        removed = []
        for path in self.media.rglob("*"):
            try:
                info = path.lstat()
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode) or info.st_ctime < since - 1:  # coarse clock
                continue
            rel = path.relative_to(self.root).as_posix()
            named = db.execute(
                "select 1 from media where path = ? union all "
                "select 1 from articles where raw_path = ? limit 1",
                [rel, rel],
            ).fetchone()
            if named is None:
                path.unlink(missing_ok=True)
                removed.append(rel)
        return removed

    def temp_file(self, suffix: str = "") -> Path:
        try:
            fd, name = tempfile.mkstemp(dir=self.tmp, suffix=suffix + ".part")
        except OSError as err:
            raise write_error(err, f"a temp file in {self.tmp}") from None
        os.close(fd)
        return Path(name)

    def temp_dir(self) -> Path:
        try:
            return Path(tempfile.mkdtemp(dir=self.tmp))
        except OSError as err:
            raise write_error(err, f"a temp folder in {self.tmp}") from None

    def relative(self, sha256: str, mime: str) -> str:
        return f"media/{sha256[:2]}/{sha256}.{extension_for(mime)}"

    def put(self, temp: Path, sha256: str, mime: str) -> str:
        """Move a complete, hashed temp file into the store; returns its archive-relative path."""
        rel = self.relative(sha256, mime)
        dest = self.root / rel
        if dest.exists():
            temp.unlink(missing_ok=True)
            return rel
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(temp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(temp, dest)
            os.chmod(dest, 0o444)
        except OSError as err:
            temp.unlink(missing_ok=True)
            raise write_error(err, rel) from None
        return rel

    def put_bytes(self, data: bytes, mime: str) -> tuple[str, str]:
        sha = hashlib.sha256(data).hexdigest()
        temp = self.temp_file()
        try:
            temp.write_bytes(data)
        except OSError as err:
            temp.unlink(missing_ok=True)
            raise write_error(err, self.relative(sha, mime)) from None
        return sha, self.put(temp, sha, mime)

    def path(self, rel: str) -> Path:
        return self.root / rel
