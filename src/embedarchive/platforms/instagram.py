"""Instagram: posts, reels and IGTV by shortcode, via yt-dlp (often login-walled: ``--cookies``)."""

from __future__ import annotations

import re
from typing import ClassVar

from ..capture.collect import capture_with_methods
from ..capture.context import FetchContext
from ..capture.videos import ytdlp_method
from ..models import Capture, Target
from .base import AmpMarker, Platform

POST_RE = re.compile(
    r"(?:https?://)?(?:(?:www|m)\.)?(?:instagram\.com|instagr\.am)/"
    r"(?:[A-Za-z0-9_.]{1,30}/)?(?:p|reels?|tv)/(?!audio/)(?P<id>[A-Za-z0-9_-]{5,40})(?![A-Za-z0-9_-])",
    re.IGNORECASE,
)
#: "A post shared by Name (@handle) on Dec 5, 2016 …", in the languages embed codes come in.
#: Newer embed codes dropped the date, so it is optional. Hungarian, Turkish and Japanese put
#: the name first ("Name (@handle) által megosztott bejegyzés"): then the line starts with it.
ATTRIBUTION_RE = re.compile(
    r"(?m)(?:(?P<lead>A post shared by|A photo posted by|A video posted by|"
    r"Ein Beitrag geteilt von|Une publication partagée par|"
    r"Una publicación compartida (?:de|por)|Un post condiviso da|"
    r"Uma publicação compartilhada por|Een bericht gedeeld door|Post udostępniony przez|"
    r"Публикация от|Um post compartilhado por|Sebuah kiriman dibagikan oleh)[ \t\u00a0]+"
    r"|^[ \t\u00a0]*)"
    r"(?P<name>[^\n(]{0,60}?)[ \t\u00a0]*\(@(?P<handle>[A-Za-z0-9_.]{1,30})\)"
    r"(?(lead)(?:[ \t\u00a0]+(?:on|am|le|el|il|em|op|dnia))?"
    r"|(?:'[^\W\d_]{1,3})?[ \t\u00a0]*"
    r"(?:által megosztott bejegyzés|paylaştığı bir gönderi|がシェアした投稿))",
)
_SHORTCODE = re.compile(r"[A-Za-z0-9_-]{5,40}")


def _url(shortcode: str) -> str:
    """/p/ serves posts, reels and IGTV alike: one canonical form per shortcode."""
    return f"https://www.instagram.com/p/{shortcode}/"


class Instagram(Platform):
    name: ClassVar[str] = "instagram"
    kind = "post"
    url_patterns = (POST_RE,)
    embed_classes = ("instagram-media",)
    amp_markers = (AmpMarker("amp-instagram", "data-shortcode"),)
    attribution_pattern: ClassVar[re.Pattern[str] | None] = ATTRIBUTION_RE
    attribution_date_required: ClassVar[bool] = False
    #: The link the embed code shows above the caption, in the languages it comes in.
    embed_headers: ClassVar[tuple[str, ...]] = (
        "View this post on Instagram",
        "Diesen Beitrag auf Instagram ansehen",
        "Voir cette publication sur Instagram",
        "Ver esta publicación en Instagram",
        "Visualizza questo post su Instagram",
        "Ver esta publicação no Instagram",
        "Ver essa foto no Instagram",
        "Посмотреть эту публикацию в Instagram",
        "Wyświetl ten post na Instagramie",
        "Dit bericht op Instagram bekijken",
        "Instagram-bejegyzés megtekintése",
        "Bu gönderiyi Instagram'da gör",
        "Lihat postingan ini di Instagram",
        "この投稿をInstagramで見る",
    )
    hosts = ("instagram.com", "instagr.am")
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("https://www.instagram.com/p/BNpLF8LD0GD/", "BNpLF8LD0GD"),
        ("https://www.instagram.com/reel/C1a2B3c4D5e/?utm_source=ig_web_copy_link", "C1a2B3c4D5e"),
        ("https://www.instagram.com/tv/B_xa5JzDzEF/", "B_xa5JzDzEF"),
        ("https://www.instagram.com/p/BNpLF8LD0GD/embed/captioned/", "BNpLF8LD0GD"),
        ("https://instagr.am/p/BNpLF8LD0GD", "BNpLF8LD0GD"),
        ("https://www.instagram.com/ladygaga/", None),
        ("https://www.instagram.com/explore/tags/halloween/", None),
    )

    def canonical_url(self, m: re.Match[str]) -> str:
        return _url(m.group("id"))

    def target_for_id(self, post_id: str) -> Target | None:
        if not _SHORTCODE.fullmatch(post_id):
            return None
        return Target(self.name, post_id, _url(post_id), self.kind)

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        return capture_with_methods(target, ctx, [("ytdlp", ytdlp_method())])
