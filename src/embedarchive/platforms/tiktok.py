"""TikTok: numeric video ids from video pages and embed players, via yt-dlp (oEmbed for metadata)."""

from __future__ import annotations

import re
from typing import ClassVar

from ..capture.collect import capture_with_methods
from ..capture.context import FetchContext
from ..capture.videos import oembed_method, ytdlp_method
from ..models import Capture, Target
from .base import AmpMarker, Platform

VIDEO_RE = re.compile(
    r"(?:https?://)?(?:(?:www|m)\.)?tiktok\.com/"
    r"(?:@(?P<user>[\w.-]{1,30})/(?:video|photo)/|embed/(?:v2/)?|v/|share/video/|player/v1/)"
    r"(?P<id>\d{15,22})(?!\d)",
    re.IGNORECASE,
)
SHORT_RE = re.compile(
    r"(?:https?://)?(?:(?:vm|vt)\.tiktok\.com|(?:www\.)?tiktok\.com/t)/(?P<code>[A-Za-z0-9]{5,15})/?",
    re.IGNORECASE,
)
#: The textified blockquote: ``@user``, the caption, ``♬ sound name``. A browser's copy of
#: the embed code puts the caption on the handle's line (its ``<a>`` is inline); other copies
#: put each on its own line, or a blank line around the caption (WordPress's oEmbed); CRLF
#: too. The caption ends at a blank line or at another ``@user`` line: each try from a
#: ``@user`` line then reads only up to the next one, so a text of many such lines is read in
#: linear time.
TEXT_RE = re.compile(
    r"(?m)^[ \t]*@(?P<handle>[A-Za-z0-9_.]{2,24})(?:[ \t]+|[ \t\r]*\n(?:[ \t\r]*\n)?)"
    r"(?P<text>(?:(?!\n[ \t\r]*\n|\n[ \t]*@[A-Za-z0-9_.]{2,24}[ \t\r]*\n)[^\u266c]){0,2200}?)"
    r"[ \t\r]*(?:\n[ \t\r]*){0,2}\u266c[ \t]*[^\n]{1,200}"
)
_BARE_ID = re.compile(r"\d{15,22}")


def _url(video_id: str, user: str | None) -> str:
    """yt-dlp takes ``/@/video/<id>`` when the page did not say whose video it is."""
    return f"https://www.tiktok.com/@{user or ''}/video/{video_id}"


class TikTok(Platform):
    name: ClassVar[str] = "tiktok"
    kind = "video"
    url_patterns = (VIDEO_RE,)
    short_link_patterns = (SHORT_RE,)
    embed_classes = ("tiktok-embed",)
    amp_markers = (AmpMarker("amp-tiktok", "data-src"),)
    text_patterns = (TEXT_RE,)
    hosts = ("tiktok.com",)
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("https://www.tiktok.com/@scout2015/video/6718335390845095173", "6718335390845095173"),
        ("https://www.tiktok.com/embed/v2/6718335390845095173?lang=en", "6718335390845095173"),
        ("https://www.tiktok.com/@scout2015", None),
        ("https://www.tiktok.com/music/original-sound-6689804660171082501", None),
        ("https://www.tiktok.com/tag/foryoupage", None),
    )

    def canonical_url(self, m: re.Match[str]) -> str:
        return _url(m.group("id"), m.groupdict().get("user"))

    def target_for_id(self, post_id: str) -> Target | None:
        if not _BARE_ID.fullmatch(post_id):
            return None
        return Target(self.name, post_id, _url(post_id, None), self.kind)

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        methods = [("ytdlp", ytdlp_method()), ("oembed", oembed_method("tiktok_oembed_url"))]
        return capture_with_methods(target, ctx, methods)
