"""Threads: posts by their shortcode (threads.net and threads.com), via yt-dlp."""

from __future__ import annotations

import re
from typing import ClassVar

from ..capture.collect import capture_with_methods
from ..capture.context import FetchContext
from ..capture.videos import ytdlp_method
from ..models import Capture, Target
from .base import Platform

POST_RE = re.compile(
    r"(?:https?://)?(?:www\.)?threads\.(?:net|com)/"
    r"(?:@(?P<user>[A-Za-z0-9_.]{1,30})/post|t)/(?P<id>[A-Za-z0-9_-]{5,40})(?![A-Za-z0-9_-])",
    re.IGNORECASE,
)


class Threads(Platform):
    name: ClassVar[str] = "threads"
    kind = "post"
    url_patterns = (POST_RE,)
    embed_classes = ("text-post-media",)
    hosts = ("threads.net", "threads.com")
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("https://www.threads.com/@iam_ambalavanan/post/DVdP2dCE_kf", "DVdP2dCE_kf"),
        ("https://www.threads.net/@zuck/post/CuXFPIeLLod?xmt=abc", "CuXFPIeLLod"),
        ("https://www.threads.net/@zuck", None),
    )

    def canonical_url(self, m: re.Match[str]) -> str:
        user = m.group("user")
        if user:
            return f"https://www.threads.com/@{user}/post/{m.group('id')}"
        return f"https://www.threads.com/t/{m.group('id')}"

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        return capture_with_methods(target, ctx, [("ytdlp", ytdlp_method())])
