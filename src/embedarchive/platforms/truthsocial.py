"""Truth Social: posts by numeric id (Mastodon software, its own host); yt-dlp has an extractor.

Listed before the Mastodon platform so its host is not read as just another instance.
"""

from __future__ import annotations

import re
from typing import ClassVar

from ..capture.collect import capture_with_methods
from ..capture.context import FetchContext
from ..capture.videos import ytdlp_method
from ..models import Capture, Target
from .base import Platform

POST_RE = re.compile(
    r"(?:https?://)?(?:www\.)?truthsocial\.com/@(?P<user>[A-Za-z0-9_]{1,30})/(?:posts/)?"
    r"(?P<id>\d{15,20})(?!\d)",
    re.IGNORECASE,
)


class TruthSocial(Platform):
    name: ClassVar[str] = "truthsocial"
    kind = "post"
    url_patterns = (POST_RE,)
    embed_classes = ("truthsocial-embed",)
    hosts = ("truthsocial.com",)
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("https://truthsocial.com/@realDonaldTrump/116431297579272777", "116431297579272777"),
        ("https://truthsocial.com/@realDonaldTrump/posts/116431297579272777", "116431297579272777"),
        ("https://truthsocial.com/@realDonaldTrump/116431297579272777/embed", "116431297579272777"),
        ("https://truthsocial.com/@realDonaldTrump", None),
    )

    def canonical_url(self, m: re.Match[str]) -> str:
        return f"https://truthsocial.com/@{m.group('user')}/{m.group('id')}"

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        return capture_with_methods(target, ctx, [("ytdlp", ytdlp_method())])
