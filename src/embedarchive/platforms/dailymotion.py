"""Dailymotion: videos by id (pages, dai.ly, embed and geo players), via yt-dlp."""

from __future__ import annotations

import re
from typing import ClassVar

from ..capture.collect import capture_with_methods
from ..capture.context import FetchContext
from ..capture.videos import ytdlp_method
from ..models import Capture, Target
from .base import QUERY_BEFORE, AmpMarker, Platform

_ID = r"(?P<id>x[a-z0-9]{4,10}|k[A-Za-z0-9]{10,25})(?![A-Za-z0-9])"
VIDEO_RE = re.compile(
    r"(?:https?://)?(?:(?:www|geo)\.)?dailymotion\.com/"
    r"(?:(?:embed/|swf/)?video/|player(?:/[\w-]+)?(?:\.html)?/?\?(?:"
    + QUERY_BEFORE
    + r"[&;])?video=)"
    + _ID,
)
SHORT_RE = re.compile(r"(?:https?://)?dai\.ly/" + _ID)
_BARE_ID = re.compile(_ID)


class Dailymotion(Platform):
    name: ClassVar[str] = "dailymotion"
    kind = "video"
    url_patterns = (VIDEO_RE, SHORT_RE)
    amp_markers = (AmpMarker("amp-dailymotion", "data-videoid"),)
    hosts = ("dailymotion.com", "dai.ly")
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("https://www.dailymotion.com/video/x8j2k3l", "x8j2k3l"),
        ("https://www.dailymotion.com/embed/video/x8j2k3l?autoplay=1", "x8j2k3l"),
        ("https://geo.dailymotion.com/player/x1abcd.html?video=x8j2k3l", "x8j2k3l"),
        ("https://dai.ly/x8j2k3l", "x8j2k3l"),
        ("https://www.dailymotion.com/franceinfo", None),
    )

    def canonical_url(self, m: re.Match[str]) -> str:
        return f"https://www.dailymotion.com/video/{m.group('id')}"

    def target_for_id(self, post_id: str) -> Target | None:
        if not _BARE_ID.fullmatch(post_id):
            return None
        return Target(self.name, post_id, f"https://www.dailymotion.com/video/{post_id}", self.kind)

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        return capture_with_methods(target, ctx, [("ytdlp", ytdlp_method())])
