"""Content-addressed file store: ``media/<sha[:2]>/<sha256>.<ext>``, written atomically.

Files are first written under ``tmp/`` and renamed into place only once complete and hashed,
so an interrupted run never leaves a partial file in the store, and the same bytes seen in two
posts are stored once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import StoreError

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

    def temp_file(self, suffix: str = "") -> Path:
        fd, name = tempfile.mkstemp(dir=self.tmp, suffix=suffix + ".part")
        os.close(fd)
        return Path(name)

    def temp_dir(self) -> Path:
        return Path(tempfile.mkdtemp(dir=self.tmp))

    def relative(self, sha256: str, mime: str) -> str:
        return f"media/{sha256[:2]}/{sha256}.{extension_for(mime)}"

    def put(self, temp: Path, sha256: str, mime: str) -> str:
        """Move a complete, hashed temp file into the store; returns its archive-relative path."""
        rel = self.relative(sha256, mime)
        dest = self.root / rel
        if dest.exists():
            temp.unlink(missing_ok=True)
            return rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(temp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(temp, dest)
        os.chmod(dest, 0o444)
        return rel

    def put_bytes(self, data: bytes, mime: str) -> tuple[str, str]:
        sha = hashlib.sha256(data).hexdigest()
        temp = self.temp_file()
        temp.write_bytes(data)
        return sha, self.put(temp, sha, mime)

    def path(self, rel: str) -> Path:
        return self.root / rel
