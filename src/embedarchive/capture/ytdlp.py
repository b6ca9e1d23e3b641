"""The one adapter around yt-dlp, used only through its public API (YoutubeDL, extract_info, hooks)."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path
from typing import Any

from ..errors import FetchError, UnavailableError
from ..models import MediaFile
from ..settings import Settings
from ..store.files import FileStore
from .http import check_public_host
from .media import CHUNK, NullProgress, ProgressSink, sniff_mime

_UNAVAILABLE_HINTS = (
    "private",
    "deleted",
    "removed",
    "not available",
    "unavailable",
    "suspended",
    "login",
    "age",
    "does not exist",
    "no video could be found",
    "blocked",
)


def ffmpeg_location(settings: Settings) -> str | None:
    """The machine's ffmpeg, else the one imageio-ffmpeg ships, so pip alone sets everything up."""
    if settings.ffmpeg_location:
        return settings.ffmpeg_location
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        return None


def ytdlp_version() -> str:
    from yt_dlp.version import __version__

    return str(__version__)


class _Logger:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def debug(self, msg: str) -> None:
        return None

    def info(self, msg: str) -> None:
        return None

    def warning(self, msg: str) -> None:
        self.messages.append(msg)

    def error(self, msg: str) -> None:
        self.messages.append(msg)


def fetch_with_ytdlp(
    url: str,
    settings: Settings,
    store: FileStore,
    *,
    progress: ProgressSink | None = None,
    download: bool = True,
) -> tuple[dict[str, Any], tuple[MediaFile, ...]]:
    """Extract (and download) one video; returns yt-dlp's sanitized info dict and the stored files."""
    import yt_dlp

    check_public_host(url, settings.allow_private_network)
    progress = progress or NullProgress()
    workdir = store.temp_dir()
    logger = _Logger()
    handles: dict[str, object] = {}
    started = time.monotonic()

    def hook(status: dict[str, Any]) -> None:
        if time.monotonic() - started > settings.ytdlp_timeout:
            raise yt_dlp.utils.DownloadError(f"download took longer than {settings.ytdlp_timeout}s")
        name = str(status.get("filename", ""))
        if status.get("status") == "downloading":
            if name not in handles:
                total = status.get("total_bytes") or status.get("total_bytes_estimate")
                handles[name] = progress.start(Path(name).name[:40], int(total) if total else None)
                handles[name + ":done"] = 0  # type: ignore[assignment]
            done = int(status.get("downloaded_bytes") or 0)
            prev = int(handles.get(name + ":done") or 0)  # type: ignore[call-overload]
            progress.advance(handles[name], max(0, done - prev))
            handles[name + ":done"] = done  # type: ignore[assignment]
        elif status.get("status") in ("finished", "error") and name in handles:
            progress.finish(handles[name])

    params: dict[str, Any] = {
        "outtmpl": str(workdir / "%(id)s.%(ext)s"),
        "noplaylist": True,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": logger,
        "progress_hooks": [hook],
        "socket_timeout": settings.read_timeout,
        "max_filesize": settings.max_media_bytes,
        "http_headers": {"User-Agent": settings.user_agent},
        "retries": 1,
        "fragment_retries": 1,
        "format": "bv*+ba/b",
        "merge_output_format": "mp4",
        "match_filter": _refuse_live,
        "cachedir": False,
    }
    location = ffmpeg_location(settings)
    if location:
        params["ffmpeg_location"] = location
    try:
        with yt_dlp.YoutubeDL(params) as ydl:
            info = ydl.extract_info(url, download=download)
            info = ydl.sanitize_info(info)
    except yt_dlp.utils.DownloadError as err:
        shutil.rmtree(workdir, ignore_errors=True)
        message = str(err).replace("ERROR: ", "").strip().splitlines()[0]
        if any(h in message.lower() for h in _UNAVAILABLE_HINTS):
            raise UnavailableError(f"yt-dlp: {message}") from None
        raise FetchError(f"yt-dlp: {message}") from None
    if info is None:
        shutil.rmtree(workdir, ignore_errors=True)
        raise FetchError(f"yt-dlp returned nothing for {url}")
    if info.get("_type") == "playlist":
        shutil.rmtree(workdir, ignore_errors=True)
        raise FetchError(f"{url} is a playlist or channel, not a single video", retryable=False)
    files = tuple(_store_outputs(workdir, store, info, url)) if download else ()
    shutil.rmtree(workdir, ignore_errors=True)
    return info, files


def _refuse_live(info: dict[str, Any], *, incomplete: bool = False) -> str | None:
    if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming"):
        return "live streams are not archived"
    return None


def _store_outputs(
    workdir: Path, store: FileStore, info: dict[str, Any], url: str
) -> list[MediaFile]:
    files = []
    for path in sorted(
        p for p in workdir.rglob("*") if p.is_file() and not p.name.endswith(".part")
    ):
        sha = hashlib.sha256()
        size = 0
        with open(path, "rb") as fh:
            head = fh.read(512)
            fh.seek(0)
            while chunk := fh.read(CHUNK):
                sha.update(chunk)
                size += len(chunk)
        mime = sniff_mime(head)
        digest = sha.hexdigest()
        rel = store.put(path, digest, mime)
        files.append(
            MediaFile(
                sha256=digest,
                size=size,
                mime=mime,
                kind="video"
                if mime.startswith("video/")
                else "audio"
                if mime.startswith("audio/")
                else "file",
                source_url=url,
                final_url=str(info.get("webpage_url") or info.get("url") or url),
                path=rel,
                info={"ytdlp": info},
            )
        )
    return files
