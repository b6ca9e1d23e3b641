"""Fetch methods shared by every platform that yt-dlp downloads (YouTube, Vimeo, TikTok, …).

A platform file builds its method list from these: ``ytdlp_method`` downloads the video and
keeps yt-dlp's info JSON as provenance; ``oembed_method`` reads the platform's oEmbed for
metadata only (title, author), the fallback when the video itself cannot be had.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..errors import FetchError, UnavailableError, UnexpectedResponseError
from ..models import PostData, Target
from ..settings import Settings
from ..untrusted import dump_json, load_json
from .collect import Method, MethodResult
from .context import FetchContext
from .http import Recorder
from .ytdlp import fetch_in_context


def iso_from_timestamp(value: Any) -> str | None:
    """A POSIX time as UTC ISO 8601; None for one no calendar holds (a site's 1e300, NaN)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
        except (OverflowError, OSError, ValueError):
            return None
    return None


def post_from_info(target: Target, info: dict[str, Any]) -> PostData:
    """yt-dlp's info dict → PostData; field names already match (uploader, uploader_id, …)."""
    counts = {
        k: int(info[k])
        for k in ("like_count", "repost_count", "comment_count", "view_count")
        if isinstance(info.get(k), int)
    }
    parts = [str(p) for p in (info.get("title"), info.get("description")) if p]
    text = "\n\n".join(dict.fromkeys(parts))  # title and description, once if they are equal
    return PostData(
        platform=target.platform,
        id=target.id,
        url=target.url,  # canonical; the URL yt-dlp actually read stays in the info JSON
        uploader=info.get("uploader") or info.get("channel"),
        uploader_id=info.get("uploader_id") or info.get("channel_id"),
        created_at=iso_from_timestamp(info.get("timestamp"))
        or _upload_date(info.get("upload_date")),
        text=text or None,
        lang=info.get("language"),
        counts=counts,
        raw=dump_json(info, default=str),
    )


def _upload_date(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return None


def mirrored(url: str, settings: Settings) -> str:
    """The URL yt-dlp should fetch: the post's own, or its counterpart on a configured mirror."""
    for pair in settings.ytdlp_mirrors:
        prefix, _, replacement = pair.partition("|")
        if url.startswith(prefix):
            return replacement + url[len(prefix) :]
    return url


def ytdlp_method() -> Method:
    """Download with yt-dlp; every request it makes is checked and recorded on ``recorder``."""

    def fetch(target: Target, ctx: FetchContext, recorder: Recorder) -> MethodResult:
        info, files = fetch_in_context(mirrored(target.url, ctx.settings), ctx, recorder)
        return MethodResult(post_from_info(target, info), media=files)

    return fetch


def oembed_method(setting: str) -> Method:
    """oEmbed at the endpoint named by ``setting`` (e.g. ``"youtube_oembed_url"``)."""

    def fetch(target: Target, ctx: FetchContext, recorder: Recorder) -> MethodResult:
        endpoint = str(getattr(ctx.settings, setting))
        got = ctx.http.get(
            endpoint,
            recorder,
            f"{target.platform}:oembed",
            params={"url": target.url, "format": "json"},
            max_bytes=ctx.settings.max_json_bytes,
        )
        if got.status in (401, 403, 404):
            raise UnavailableError(
                f"oembed: HTTP {got.status} (private, removed or embedding disabled)"
            )
        if got.status != 200:
            raise FetchError(
                f"oembed answered HTTP {got.status}",
                retryable=got.status >= 500 or got.status == 429,
            )
        if "json" not in got.content_type.lower():
            raise UnexpectedResponseError(
                f"oembed answered {got.content_type or 'no content type'}, not JSON"
            )
        try:
            data = load_json(got.body)
        except ValueError:
            raise UnexpectedResponseError("oembed answered malformed JSON") from None
        if not isinstance(data, dict):
            raise UnexpectedResponseError("oembed answered JSON that is not an object")
        return MethodResult(
            PostData(
                platform=target.platform,
                id=target.id,
                url=target.url,
                uploader=data.get("author_name"),
                uploader_id=data.get("author_unique_id") or data.get("author_url"),
                text=data.get("title"),
                raw=got.body.decode("utf-8", "replace"),
            )
        )

    return fetch
