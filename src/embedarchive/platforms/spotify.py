"""Spotify: tracks, albums, playlists, episodes and shows (``<type>/<id>``); yt-dlp knows episodes.

Artist pages are profiles, not items, and are not matched.
"""

from __future__ import annotations

import re
from typing import ClassVar

from ..capture.collect import capture_with_methods
from ..capture.context import FetchContext
from ..capture.videos import ytdlp_method
from ..models import Capture, Target
from .base import Platform

ITEM_RE = re.compile(
    r"(?:https?://)?open\.spotify\.com/(?:intl-[a-z-]{2,8}/)?(?:embed(?:-podcast)?/)?"
    r"(?P<id>(?:track|album|playlist|episode|show)/[A-Za-z0-9]{22})(?![A-Za-z0-9])",
    re.IGNORECASE,
)


class Spotify(Platform):
    name: ClassVar[str] = "spotify"
    kind = "post"
    url_patterns = (ITEM_RE,)
    hosts = ("spotify.com", "spotify.link")
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC", "track/4uLU6hMCjMI75M1A2tKUQC"),
        (
            "https://open.spotify.com/embed/episode/0Q86acNRm6V9GYx55SXKwf?utm_source=generator",
            "episode/0Q86acNRm6V9GYx55SXKwf",
        ),
        ("https://open.spotify.com/artist/0OdUWJ0sBjDrqHygGUXeCF", None),
    )

    def canonical_url(self, m: re.Match[str]) -> str:
        return f"https://open.spotify.com/{m.group('id')}"

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        return capture_with_methods(target, ctx, [("ytdlp", ytdlp_method())])
