"""SoundCloud: tracks by numeric id (player frames) or ``<user>/<slug>`` (pages), via yt-dlp.

The widget frame (``w.soundcloud.com/player/?url=…``) carries the track's API URL encoded in
its query; it is unwrapped here.
"""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import unquote

from ..capture.collect import capture_with_methods
from ..capture.context import FetchContext
from ..capture.videos import ytdlp_method
from ..models import Capture, Target
from .base import QUERY_BEFORE, Platform

PLAYER_RE = re.compile(
    r"(?:https?://)?w\.soundcloud\.com/player/?\?(?:"
    + QUERY_BEFORE
    + r"[&;])?url=(?P<url>[^&\s\"'<>]+)",
    re.IGNORECASE,
)
API_RE = re.compile(
    r"(?:https?://)?api(?:-widget|-v2)?\.soundcloud\.com/(?P<type>tracks|playlists)/"
    r"(?:soundcloud(?::|%3A)(?:tracks|playlists)(?::|%3A))?(?P<id>\d{3,15})(?!\d)",
    re.IGNORECASE,
)
_RESERVED = (
    "discover|stream|upload|you|search|charts|pages|settings|messages|notifications|people|"
    "tags|terms-of-use|mobile|jobs|imprint|premium|go|artists|popular|signin|logout"
)
PAGE_RE = re.compile(
    r"(?:https?://)?(?:(?:www|m)\.)?soundcloud\.com/(?!(?:" + _RESERVED + r")\b)"
    r"(?P<id>[a-z0-9_-]{2,60}/(?:sets/)?(?!(?:sets|likes|tracks|albums|reposts|followers|"
    r"following|popular-tracks|comments|spotlight)\b)[a-z0-9_-]{1,120})(?![a-z0-9_/-])",
    re.IGNORECASE,
)


class SoundCloud(Platform):
    name: ClassVar[str] = "soundcloud"
    kind = "post"
    url_patterns = (PLAYER_RE, API_RE, PAGE_RE)
    hosts = ("soundcloud.com", "snd.sc", "on.soundcloud.com")
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        (
            "https://w.soundcloud.com/player/?url=https%3A//api.soundcloud.com/tracks/367477112&color=%23ff5500",
            "367477112",
        ),
        ("https://api.soundcloud.com/tracks/367477112", "367477112"),
        ("https://soundcloud.com/forss/flickermood", "forss/flickermood"),
        ("https://soundcloud.com/forss", None),
        ("https://soundcloud.com/forss/tracks", None),
    )

    def match(self, url: str) -> Target | None:
        player = PLAYER_RE.match(url.strip())
        if player:
            inner = unquote(player.group("url"))
            return None if PLAYER_RE.match(inner) else self.match(inner)
        m = API_RE.match(url.strip())
        if m:
            kind = m.group("type").lower()
            post_id = m.group("id") if kind == "tracks" else f"playlists/{m.group('id')}"
            return Target(
                self.name, post_id, f"https://api.soundcloud.com/{kind}/{m.group('id')}", self.kind
            )
        m = PAGE_RE.match(url.strip())
        if m:
            return Target(
                self.name, m.group("id"), f"https://soundcloud.com/{m.group('id')}", self.kind
            )
        return None

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        return capture_with_methods(target, ctx, [("ytdlp", ytdlp_method())])
