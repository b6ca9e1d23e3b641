"""The registry: one ordered tuple, the only place platforms are listed.

Order matters: specific platforms first, the generic yt-dlp platform (when added) last.
"""

from __future__ import annotations

from ..models import Target
from .base import AmpMarker, Platform
from .bluesky import Bluesky
from .dailymotion import Dailymotion
from .facebook import Facebook
from .generic import GenericVideo
from .instagram import Instagram
from .mastodon import Mastodon
from .reddit import Reddit
from .rumble import Rumble
from .soundcloud import SoundCloud
from .spotify import Spotify
from .telegram import Telegram
from .threads import Threads
from .tiktok import TikTok
from .truthsocial import TruthSocial
from .twitter import Twitter
from .vimeo import Vimeo
from .youtube import YouTube

REGISTRY: tuple[Platform, ...] = (
    Twitter(),
    YouTube(),
    Vimeo(),
    TikTok(),
    Instagram(),
    Facebook(),
    Threads(),
    Reddit(),
    Dailymotion(),
    Spotify(),
    SoundCloud(),
    Rumble(),
    TruthSocial(),
    Telegram(),
    Bluesky(),
    Mastodon(),  # any host: after every platform that owns its hosts
    GenericVideo(),  # any link yt-dlp downloads as one video: always last
)


def by_name(name: str, registry: tuple[Platform, ...] = REGISTRY) -> Platform | None:
    return next((p for p in registry if p.name == name), None)


def match_url(url: str, registry: tuple[Platform, ...] = REGISTRY) -> Target | None:
    """The first platform's target for a URL, or None."""
    for platform in registry:
        target = platform.match(url)
        if target is not None:
            return target
    return None


__all__ = ["REGISTRY", "AmpMarker", "Platform", "by_name", "match_url"]
