"""Reddit: posts by their base36 thread id (a comment permalink names its thread), via yt-dlp."""

from __future__ import annotations

import re
from typing import ClassVar

from ..capture.collect import capture_with_methods
from ..capture.context import FetchContext
from ..capture.videos import ytdlp_method
from ..models import Capture, Target
from .base import AmpMarker, Platform

THREAD_RE = re.compile(
    r"(?:https?://)?(?:(?:www|old|new|np|embed|m|i|sh)\.)?(?:reddit|redditmedia)\.com/"
    r"(?:(?P<space>r|u|user)/(?P<sub>[A-Za-z0-9_-]{2,30})/)?comments/(?P<id>[a-z0-9]{4,10})(?![a-z0-9])",
    re.IGNORECASE,
)
REDDIT_SHORT_RE = re.compile(r"(?:https?://)?redd\.it/(?P<id>[a-z0-9]{4,10})(?![a-z0-9])", re.I)
SHARE_RE = re.compile(
    r"(?:https?://)?(?:www\.)?reddit\.com/r/[A-Za-z0-9_]{2,30}/s/[A-Za-z0-9]{5,20}", re.IGNORECASE
)


class Reddit(Platform):
    name: ClassVar[str] = "reddit"
    kind = "post"
    url_patterns = (THREAD_RE, REDDIT_SHORT_RE)
    short_link_patterns = (SHARE_RE,)
    embed_classes = ("reddit-embed-bq", "reddit-card")
    amp_markers = (AmpMarker("amp-reddit", "data-src"),)
    hosts = ("reddit.com", "redd.it", "redditmedia.com")
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        (
            "https://www.reddit.com/r/aww/comments/90bu6w/heat_index_was_110_degrees_so_we_offered_him_a/",
            "90bu6w",
        ),
        ("https://old.reddit.com/r/aww/comments/90bu6w/heat_index/e2o6u1s/", "90bu6w"),
        ("https://embed.reddit.com/r/aww/comments/90bu6w/heat_index/?embed=true", "90bu6w"),
        ("https://redd.it/90bu6w", "90bu6w"),
        # The legacy embed frame (before embed.reddit.com).
        ("https://www.redditmedia.com/r/aww/comments/90bu6w/heat_index/?embed=true", "90bu6w"),
        ("https://www.reddit.com/r/aww/", None),
        ("https://www.reddit.com/user/spez/", None),
    )

    def canonical_url(self, m: re.Match[str]) -> str:
        post_id = m.group("id").lower()
        sub = m.groupdict().get("sub")
        if not sub:
            return f"https://www.reddit.com/comments/{post_id}/"
        space = "r" if m.group("space").lower() == "r" else "user"
        return f"https://www.reddit.com/{space}/{sub}/comments/{post_id}/"

    def match(self, url: str) -> Target | None:
        target = super().match(url)
        return Target(self.name, target.id.lower(), target.url, self.kind) if target else None

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        return capture_with_methods(target, ctx, [("ytdlp", ytdlp_method())])
