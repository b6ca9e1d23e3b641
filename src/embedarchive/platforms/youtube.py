"""YouTube: single videos (watch, shorts, live, youtu.be, embed incl. youtube-nocookie), via yt-dlp."""

from __future__ import annotations

import re
from typing import ClassVar

from ..capture.collect import capture_with_methods
from ..capture.context import FetchContext
from ..capture.videos import oembed_method, ytdlp_method
from ..models import Capture, Target
from .base import QUERY_BEFORE, AmpMarker, Platform

_ID = r"(?P<id>[A-Za-z0-9_-]{11})(?![A-Za-z0-9_-])"
#: ``videoseries`` and ``live_stream`` are 11 characters too, but name a playlist or a channel.
_NOT_AN_ID = r"(?!videoseries|live_stream)"
VIDEO_RE = re.compile(
    r"(?:https?://)?(?:(?:www|m|music|gaming)\.)?(?:youtube\.com|youtube-nocookie\.com)/"
    r"(?:watch/?\?(?:"
    + QUERY_BEFORE
    + r"[&;])?v=|(?:embed|v|e|shorts|live|vi)/"
    + _NOT_AN_ID
    + r")"
    + _ID,
    re.IGNORECASE,
)
SHORT_RE = re.compile(r"(?:https?://)?(?:www\.)?youtu\.be/" + _NOT_AN_ID + _ID, re.IGNORECASE)
_BARE_ID = re.compile(r"[A-Za-z0-9_-]{11}")


class YouTube(Platform):
    name: ClassVar[str] = "youtube"
    kind = "video"
    url_patterns = (VIDEO_RE, SHORT_RE)
    amp_markers = (AmpMarker("amp-youtube", "data-videoid"),)
    hosts = ("youtube.com", "youtube-nocookie.com", "youtu.be")
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/watch?feature=share&amp;v=dQw4w9WgXcQ", "dQw4w9WgXcQ"),
        ("https://youtu.be/dQw4w9WgXcQ?si=abc", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/shorts/dQw4w9WgXcQ", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/live/dQw4w9WgXcQ?feature=shared", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/embed/dQw4w9WgXcQ?rel=0&autoplay=1", "dQw4w9WgXcQ"),
        ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?start=10", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/v/dQw4w9WgXcQ?version=3", "dQw4w9WgXcQ"),
        ("https://m.youtube.com/watch?v=dQw4w9WgXcQ", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/embed/videoseries?list=PL4qTakKkQATKOyZPJG_cAMnRtF7fAIdST", None),
        ("https://www.youtube.com/embed/live_stream?channel=UC123", None),
        ("https://www.youtube.com/@NASA", None),
        ("https://www.youtube.com/channel/UCLA_DiR1FfKNvjuUpBHmylQ", None),
        ("https://www.youtube.com/playlist?list=PL4qTakKkQATKOyZPJG_cAMnRtF7fAIdST", None),
    )

    def canonical_url(self, m: re.Match[str]) -> str:
        return f"https://www.youtube.com/watch?v={m.group('id')}"

    def target_for_id(self, post_id: str) -> Target | None:
        if not _BARE_ID.fullmatch(post_id):
            return None
        return Target(self.name, post_id, f"https://www.youtube.com/watch?v={post_id}", self.kind)

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        methods = [("ytdlp", ytdlp_method()), ("oembed", oembed_method("youtube_oembed_url"))]
        return capture_with_methods(target, ctx, methods)
