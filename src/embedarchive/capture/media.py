"""Streaming media download: hashed while streaming, size-capped, MIME sniffed, stored atomically."""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

import filetype
import httpx

from ..errors import FetchError, TooLargeError
from ..models import MediaFile
from ..store.files import FileStore
from .http import Http, Recorder

CHUNK = 256 * 1024


class ProgressSink(Protocol):
    def start(self, label: str, total: int | None) -> object: ...
    def advance(self, handle: object, size: int) -> None: ...
    def finish(self, handle: object) -> None: ...


class NullProgress:
    def start(self, label: str, total: int | None) -> object:
        return None

    def advance(self, handle: object, size: int) -> None:
        return None

    def finish(self, handle: object) -> None:
        return None


def sniff_mime(head: bytes, fallback: str = "application/octet-stream") -> str:
    """Trust the bytes, not the server's Content-Type: platforms and proxies mislabel files."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    return fallback


def download(
    http: Http,
    url: str,
    store: FileStore,
    recorder: Recorder,
    *,
    kind: str,
    progress: ProgressSink | None = None,
    info: dict[str, Any] | None = None,
) -> MediaFile:
    """Stream ``url`` to the store. Raises ``FetchError`` (or ``TooLargeError``) on failure."""
    cap = http.settings.max_media_bytes
    progress = progress or NullProgress()
    temp = store.temp_file()
    sha = hashlib.sha256()
    size = 0
    head = b""
    try:
        with http.stream(url, recorder, f"media:{kind}") as response:
            if response.status_code != 200:
                raise FetchError(
                    f"media {url} answered HTTP {response.status_code}",
                    retryable=response.status_code >= 500 or response.status_code == 429,
                )
            declared = response.headers.get("content-length")
            total = int(declared) if declared and declared.isdigit() else None
            if total is not None and total > cap:
                raise TooLargeError(f"media {url} is {total} bytes, over the cap of {cap}")
            handle = progress.start(url.rsplit("/", 1)[-1][:40], total)
            try:
                with open(temp, "wb") as out:
                    for chunk in response.iter_bytes(CHUNK):
                        size += len(chunk)
                        if size > cap:
                            raise TooLargeError(f"media {url} is over the cap of {cap} bytes")
                        if len(head) < 512:
                            head += chunk[: 512 - len(head)]
                        sha.update(chunk)
                        out.write(chunk)
                        progress.advance(handle, len(chunk))
            except httpx.HTTPError as err:
                raise FetchError(f"download of {url} broke off: {type(err).__name__}") from None
            finally:
                progress.finish(handle)
            if total is not None and size != total:
                raise FetchError(f"download of {url} is truncated: {size} of {total} bytes")
            final_url = str(response.url)
            declared_type = response.headers.get("content-type", "application/octet-stream")
        mime = sniff_mime(head, declared_type.split(";")[0].strip())
        digest = sha.hexdigest()
        rel = store.put(temp, digest, mime)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    details = dict(info or {})
    details.setdefault("declared_content_type", declared_type)
    if mime.startswith("video/"):
        details["probe"] = probe_video(str(store.path(rel)))
    return MediaFile(
        sha256=digest,
        size=size,
        mime=mime,
        kind=kind,
        source_url=url,
        final_url=final_url,
        path=rel,
        info=details,
    )


def probe_video(path: str) -> dict[str, Any]:
    """Duration, resolution and codec as ffmpeg reads them from the stored bytes."""
    import imageio_ffmpeg

    try:
        frames = imageio_ffmpeg.read_frames(path)
        meta = next(frames)
        frames.close()
    except Exception as err:  # a broken file is still evidence; record why probing failed
        return {"error": f"{type(err).__name__}: {err}"}
    keys = ("codec", "pix_fmt", "fps", "size", "duration", "rotate")
    return {k: meta[k] for k in keys if k in meta}
