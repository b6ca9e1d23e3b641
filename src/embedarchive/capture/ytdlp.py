"""The one adapter around yt-dlp, used only through its public API.

``YoutubeDL(params)``, ``extract_info``, ``sanitize_info``, progress hooks, ``match_filter``,
and one override of the public ``YoutubeDL.urlopen`` — the method every extractor and every
native downloader (HTTP, HLS, DASH fragments) sends its requests through. That override
(``guarded_ytdlp_class()`` in ``ytdlp_support``) is what lets embedarchive's rules hold for
yt-dlp too, for every request it makes in Python:

* the private-network guard: each URL's host is checked before the request is sent, and each
  redirect hop before it is followed (yt-dlp's requests all go through its urllib handler,
  given a redirect handler of ours);
* provenance: each request becomes an ``HttpExchange`` (status, headers, sha256 of the bytes
  yt-dlp read), so a capture shows what yt-dlp fetched, not only what it concluded;
* limits: a deadline (``ytdlp_timeout``) and a byte budget checked on every read.

What it cannot see: requests of external programs. Native downloaders are forced,
RTMP/RTSP/MMS formats are never selected, and unless private networks are allowed ffmpeg may
only read local inputs — so yt-dlp handing an HLS stream to ffmpeg fails instead of slipping
past the guard. ffmpeg merges and remuxes local files only.
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
from pathlib import Path
from typing import Any

from ..errors import (
    ConfigError,
    EmbedArchiveError,
    FetchError,
    TooLargeError,
    UnavailableError,
    UnexpectedResponseError,
)
from ..models import MediaFile
from ..settings import Settings
from ..store.files import FileStore
from .context import FetchContext
from .http import Recorder, check_public_host
from .limits import HostLimiter
from .media import CHUNK, NullProgress, ProgressSink, probe_video, sniff_mime
from .ytdlp_support import (
    Guard,
    Logger,
    ProgressBridge,
    error_from,
    guarded_ytdlp_class,
    provenance_info,
)

#: A post with several media (an Instagram carousel, a tweet with four videos) comes back
#: from yt-dlp as a playlist of resolved entries; more than this many is a collection.
MAX_POST_ITEMS = 20


def ffmpeg_location(settings: Settings) -> str | None:
    """The configured ffmpeg, else the machine's, else imageio-ffmpeg's (pip alone sets it up)."""
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


def format_selector(cap: int) -> str:
    """Best quality that fits under ``cap`` bytes, so a big video yields a smaller format.

    Formats whose exact size is known come first, then those with yt-dlp's estimate, then those
    of unknown size (``max_filesize`` and the byte budget stop those during the download). A
    merged video+audio pair gets 90 % / 10 % of the cap. Protocols that only external programs
    download (RTMP, RTSP, MMS) are never picked: their requests would bypass the guard.
    """
    audio = max(cap // 10, 1)
    video = max(cap - audio, 1)
    choices = "/".join(
        (
            f"bv*[filesize<{video}]+ba[filesize<{audio}]",
            f"b[filesize<{cap}]",
            f"bv*[filesize_approx<{video}]+ba[filesize_approx<{audio}]",
            f"b[filesize_approx<{cap}]",
            f"(bv*+ba/b)[filesize<?{cap}][filesize_approx<?{cap}]",
        )
    )
    return f"({choices})[protocol!^=rtmp][protocol!^=rtsp][protocol!^=mms]"


def refusal(info: dict[str, Any], settings: Settings) -> tuple[str, bool] | None:
    """Why a video is not downloaded (live, too long), and whether trying later may help."""
    if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming", "post_live"):
        return "live streams are not archived (try again once it is a recording)", True
    duration = info.get("duration")
    # NaN is no duration (and NaN > cap is False): the probe after the download decides.
    if isinstance(duration, int | float) and duration == duration and duration > settings.ytdlp_max_duration:  # fmt: skip
        return (
            f"video is {duration:g}s long, over the cap of {settings.ytdlp_max_duration:g}s "
            "(ytdlp_max_duration)",
            False,
        )
    return None


def ytdlp_params(
    settings: Settings,
    workdir: Path,
    *,
    logger: Logger,
    hooks: list[Any],
    match_filter: Any,
    cookiefile: Path | None,
) -> dict[str, Any]:
    """yt-dlp's options: one item, native downloaders, caps from the settings."""
    params: dict[str, Any] = {
        "paths": {"home": str(workdir), "temp": str(workdir)},
        "outtmpl": {"default": "%(id).60B.%(format_id).40B.%(ext)s"},
        "noplaylist": True,
        "extract_flat": "in_playlist",
        "playlistend": MAX_POST_ITEMS + 1,
        "quiet": True,
        "noprogress": True,
        "color": {"stdout": "no_color", "stderr": "no_color"},
        "logger": logger,
        "progress_hooks": hooks,
        "match_filter": match_filter,
        "format": format_selector(settings.max_media_bytes),
        "merge_output_format": "mp4",
        "max_filesize": settings.max_media_bytes,
        "socket_timeout": min(settings.read_timeout, settings.ytdlp_timeout),
        "http_headers": {"User-Agent": settings.user_agent},
        "retries": 1,
        "fragment_retries": 1,
        "extractor_retries": 1,
        "cachedir": False,
        "external_downloader": {"default": "native"},
        "hls_prefer_native": True,
    }
    if not settings.allow_private_network:
        params["external_downloader_args"] = {
            "ffmpeg_i": ["-protocol_whitelist", "file,crypto,data"]
        }
    location = ffmpeg_location(settings)
    if location:
        params["ffmpeg_location"] = location
    if cookiefile is not None:
        params["cookiefile"] = str(cookiefile)
    return params


def fetch_with_ytdlp(
    url: str,
    settings: Settings,
    store: FileStore,
    *,
    progress: ProgressSink | None = None,
    download: bool = True,
    recorder: Recorder | None = None,
    limiter: HostLimiter | None = None,
) -> tuple[dict[str, Any], tuple[MediaFile, ...]]:
    """Extract (and download) one video or one post's media; returns provenance info and files.

    The info dict is yt-dlp's, sanitized and trimmed (``provenance_info``). Raises
    ``UnavailableError`` when the site says no (private, login, removed), ``TooLargeError``
    when no format fits the size cap, and ``FetchError`` otherwise; nothing is left in the
    store's temp folder either way.
    """
    check_public_host(url, settings.allow_private_network)
    workdir = store.temp_dir()
    try:
        return _fetch(
            url, settings, store, workdir, progress or NullProgress(), download, recorder, limiter
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def fetch_in_context(
    url: str, ctx: FetchContext, recorder: Recorder
) -> tuple[dict[str, Any], tuple[MediaFile, ...]]:
    """``fetch_with_ytdlp`` as a platform's fetch calls it: the run's store, progress and
    per-host limiter, every exchange into ``recorder``."""
    return fetch_with_ytdlp(
        url,
        ctx.settings,
        ctx.files,
        progress=ctx.progress,
        recorder=recorder,
        limiter=ctx.http.limiter,
    )


def _fetch(
    url: str,
    settings: Settings,
    store: FileStore,
    workdir: Path,
    progress: ProgressSink,
    download: bool,
    recorder: Recorder | None,
    limiter: HostLimiter | None,
) -> tuple[dict[str, Any], tuple[MediaFile, ...]]:
    import yt_dlp

    guard = Guard(settings, recorder or Recorder(), spool=recorder is not None, limiter=limiter)
    logger = Logger()
    bridge = ProgressBridge(progress, on_file_done=guard.allow)
    refused: list[tuple[str, bool]] = []

    def match_filter(info: dict[str, Any], *, incomplete: bool = False) -> str | None:
        reason = refusal(info, settings)
        if reason is not None:
            refused.append(reason)
            return reason[0]
        return None

    params = ytdlp_params(
        settings,
        workdir,
        logger=logger,
        hooks=[bridge],
        match_filter=match_filter,
        cookiefile=_private_cookie_copy(settings.cookies_file, workdir),
    )
    try:
        with guarded_ytdlp_class()(params, guard) as ydl:
            # Read first, download after: a page of a thousand videos is refused before any
            # of them is fetched (with download=True, yt-dlp fetched 21 before the check).
            found = ydl.extract_info(url, download=False, process=False)
            info = ydl.process_ie_result(_few_items(url, found), download=download)
            _check_single(url, info, refused)
            info = ydl.sanitize_info(info)
    except EmbedArchiveError:
        raise
    except yt_dlp.utils.YoutubeDLError as err:
        raise error_from(err, logger) from None
    except Exception as err:  # yt-dlp choking on what a site answered (NaN as a duration)
        raise UnexpectedResponseError(
            f"yt-dlp failed on what {url} answered: {type(err).__name__}: {str(err)[:200]}"
        ) from None
    finally:
        guard.close_all()
        bridge.close()
    if not download:
        return provenance_info(info), ()
    files = tuple(_store_outputs(store, info, url, settings))
    if not files:
        raise _nothing_downloaded(url, logger, settings)
    return provenance_info(info), files


def _private_cookie_copy(cookies: Path | None, workdir: Path) -> Path | None:
    """yt-dlp writes its cookie jar back on exit: give it a copy, never the user's own file."""
    if cookies is None:
        return None
    if not cookies.is_file():
        raise ConfigError(f"cookies file {cookies} does not exist")
    copy = workdir / "cookies.txt"
    shutil.copyfile(cookies, copy)
    return copy


def _few_items(url: str, found: dict[str, Any] | None) -> dict[str, Any] | None:
    """An extracted playlist with its entries counted before anything is downloaded: more
    than a post's worth, or links to other pages (a channel), is refused here."""
    if not found or found.get("_type") not in ("playlist", "multi_video"):
        return found
    entries = [e for e in itertools.islice(iter(found.get("entries") or ()), MAX_POST_ITEMS + 1)]
    entries = [e for e in entries if e is not None]
    if len(entries) > MAX_POST_ITEMS or any(
        e.get("_type") in ("url", "url_transparent", "playlist") for e in entries
    ):
        more = "more than " if len(entries) > MAX_POST_ITEMS else ""
        raise FetchError(
            f"{url} is a playlist or channel ({more}{min(len(entries), MAX_POST_ITEMS)} "
            "entries), not a single video",
            retryable=False,
        )
    return {**found, "entries": entries}


def _check_single(url: str, info: dict[str, Any] | None, refused: list[tuple[str, bool]]) -> None:
    """Refuse what the match filter refused, and channels or playlists.

    Playlist entries are left as links (``extract_flat``), so refusing a channel downloads
    nothing; entries yt-dlp resolved in the same answer are the items of one post.
    """
    if refused:
        reason, retryable = refused[0]
        raise FetchError(f"yt-dlp: {reason}", retryable=retryable)
    if info is None:
        raise FetchError(f"yt-dlp returned nothing for {url}")
    if info.get("_type") not in ("playlist", "multi_video"):
        return
    entries = [e for e in info.get("entries") or () if e is not None]
    links = [e for e in entries if e.get("_type") in ("url", "url_transparent", "playlist")]
    if links or len(entries) > MAX_POST_ITEMS:
        raise FetchError(
            f"{url} is a playlist or channel ({len(entries)} entries), not a single video",
            retryable=False,
        )


def _downloads(info: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(entry info, requested download) pairs, for one video or each item of a post."""
    items = [info] if info.get("_type") not in ("playlist", "multi_video") else info["entries"]
    return [
        (item, done)
        for item in items
        if item is not None
        for done in item.get("requested_downloads") or ()
        if done.get("filepath")
    ]


def _store_outputs(
    store: FileStore, info: dict[str, Any], url: str, settings: Settings
) -> list[MediaFile]:
    """Check every produced file against the caps first, then move them all into the store."""
    checked = []
    for item, done in _downloads(info):
        path = Path(done["filepath"])
        if not path.is_file():
            continue
        digest, size, mime = hash_file(path)
        if size > settings.max_media_bytes:
            raise TooLargeError(
                f"yt-dlp produced {size} bytes for {url}, over the cap of {settings.max_media_bytes}"
            )
        probe = probe_video(str(path)) if mime.startswith("video/") else {}
        duration = probe.get("duration")
        if isinstance(duration, int | float) and duration > settings.ytdlp_max_duration:
            raise FetchError(
                f"yt-dlp: video is {duration:g}s long, over the cap of "
                f"{settings.ytdlp_max_duration:g}s (ytdlp_max_duration)",
                retryable=False,
            )
        checked.append((item, done, path, digest, size, mime, probe))
    files = []
    for item, done, path, digest, size, mime, probe in checked:
        sources = [f.get("url") for f in done.get("requested_formats") or [done]]
        kind = mime.split("/")[0] if mime.startswith(("video/", "audio/")) else "file"
        files.append(
            MediaFile(
                sha256=digest,
                size=size,
                mime=mime,
                kind=kind,
                source_url=url,
                final_url=str(sources[0] or item.get("webpage_url") or url),
                path=store.put(path, digest, mime),
                info={
                    "ytdlp": provenance_info(item),
                    "format_id": done.get("format_id"),
                    "downloaded_from": [s for s in sources if s],
                    "probe": probe,
                },
            )
        )
    return files


def hash_file(path: Path) -> tuple[str, int, str]:
    """sha256, size and sniffed MIME type of a finished download."""
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        head = fh.read(512)
        fh.seek(0)
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size, sniff_mime(head)


def _nothing_downloaded(url: str, logger: Logger, settings: Settings) -> EmbedArchiveError:
    said = logger.last("max-filesize", "larger than")
    if said:
        return TooLargeError(
            f"yt-dlp: {said} (cap {settings.max_media_bytes} bytes, max_media_bytes)"
        )
    said = logger.last("skipping", "unavailable", "no video")
    if said:
        return UnavailableError(f"yt-dlp: {said}")
    return FetchError(f"yt-dlp downloaded no file for {url}")


__all__ = [
    "MAX_POST_ITEMS",
    "fetch_with_ytdlp",
    "ffmpeg_location",
    "format_selector",
    "refusal",
    "ytdlp_params",
    "ytdlp_version",
]
