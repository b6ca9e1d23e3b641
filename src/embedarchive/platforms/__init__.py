"""The registry: one ordered tuple, the only place platforms are listed.

Order matters: specific platforms first, the generic yt-dlp platform (when added) last.
"""

from __future__ import annotations

from ..models import Target
from .base import AmpMarker, Platform
from .twitter import Twitter

REGISTRY: tuple[Platform, ...] = (Twitter(),)


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
