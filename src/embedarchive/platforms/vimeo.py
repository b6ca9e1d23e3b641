"""Vimeo: numeric video ids from vimeo.com pages and player.vimeo.com frames, via yt-dlp."""

from __future__ import annotations

import re
from typing import ClassVar

from ..capture.collect import capture_with_methods
from ..capture.context import FetchContext
from ..capture.videos import oembed_method, ytdlp_method
from ..models import Capture, Target
from .base import QUERY_BEFORE, AmpMarker, Platform

VIDEO_RE = re.compile(
    r"(?:https?://)?(?:(?:www|player)\.)?vimeo\.com/"
    r"(?:video/|channels/[\w-]+/|groups/[\w-]+/videos/|(?:album|showcase)/\d+/video/)?"
    r"(?P<id>\d{5,12})(?!\d)(?:/(?P<hash>[0-9a-f]{8,20})\b|"
    + QUERY_BEFORE
    + r"[?&;]h=(?P<h>[0-9a-f]{8,20}))?",
    re.IGNORECASE,
)


def _url(video_id: str, unlisted_hash: str | None = None) -> str:
    """Unlisted videos need their hash to play, so it stays in the URL when the page had it."""
    return f"https://vimeo.com/{video_id}" + (f"/{unlisted_hash}" if unlisted_hash else "")


class Vimeo(Platform):
    name: ClassVar[str] = "vimeo"
    kind = "video"
    url_patterns = (VIDEO_RE,)
    amp_markers = (AmpMarker("amp-vimeo", "data-videoid"),)
    hosts = ("vimeo.com",)
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("https://vimeo.com/235352744", "235352744"),
        ("https://player.vimeo.com/video/235352744?h=0123abcd89&badge=0", "235352744"),
        ("https://vimeo.com/channels/staffpicks/235352744", "235352744"),
        ("https://vimeo.com/user12345", None),
        ("https://vimeo.com/channels/staffpicks", None),
    )

    def canonical_url(self, m: re.Match[str]) -> str:
        return _url(m.group("id"), m.group("hash") or m.group("h"))

    def target_for_id(self, post_id: str) -> Target | None:
        if not re.fullmatch(r"\d{5,12}", post_id):
            return None
        return Target(self.name, post_id, _url(post_id), self.kind)

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        methods = [("ytdlp", ytdlp_method()), ("oembed", oembed_method("vimeo_oembed_url"))]
        return capture_with_methods(target, ctx, methods)
