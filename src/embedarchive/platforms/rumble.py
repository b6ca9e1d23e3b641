"""Rumble: videos by id. Embed ids (``/embed/v…``) differ from page ids, so each is kept as shown."""

from __future__ import annotations

import re
from typing import ClassVar

from ..capture.collect import capture_with_methods
from ..capture.context import FetchContext
from ..capture.videos import ytdlp_method
from ..models import Capture, Target
from .base import Platform

EMBED_RE = re.compile(
    r"(?:https?://)?(?:www\.)?rumble\.com/embed/(?:[0-9a-z]+\.)?(?P<id>v[0-9a-z]{3,12})(?![0-9a-z])",
    re.IGNORECASE,
)
PAGE_RE = re.compile(
    r"(?:https?://)?(?:www\.)?rumble\.com/(?P<id>v(?!ideos)[0-9a-z]{3,12})-[\w.-]*?\.html",
    re.IGNORECASE,
)


class Rumble(Platform):
    name: ClassVar[str] = "rumble"
    kind = "video"
    url_patterns = (EMBED_RE, PAGE_RE)
    hosts = ("rumble.com",)
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("https://rumble.com/embed/v4dsm6m/?pub=4", "v4dsm6m"),
        ("https://rumble.com/v4xyz12-some-title.html", "v4xyz12"),
        ("https://rumble.com/c/SomeChannel", None),
    )

    def canonical_url(self, m: re.Match[str]) -> str:
        if m.re is EMBED_RE:
            return f"https://rumble.com/embed/{m.group('id')}/"
        return "https://" + m.group(0).split("://", 1)[-1]

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        return capture_with_methods(target, ctx, [("ytdlp", ytdlp_method())])
