"""Any single video that yt-dlp can download, decided by yt-dlp's own extractor classes.

Naming: the platform is ``video``; a target's id is ``<extractor key, lower case>:<video id>``,
the id being what the extractor's own ``_VALID_URL`` captures (``ie.get_temp_id(url)``), e.g.
``dailymotion:x8abcd1`` or ``rumble:v4f5c6-some-title.html`` — the same pair yt-dlp writes to
its download archive (``"dailymotion x8abcd1"``), so ids never collide across sites. A URL
whose extractor captures no id keeps the URL itself (without scheme and fragment) as the id.

What matches: the extractor yt-dlp would use for the URL (the first suitable one, in yt-dlp's
order, its catch-all ``generic`` extractor excluded) must be a single-video extractor:
``ie.is_single_video(url)`` says so (yt-dlp derives it from the extractor's own test cases;
"unknown" and "either" are refused). Channels, playlists, tabs, searches, live channels and
news-article extractors (``youtube:tab``, ``vimeo:user``,
``RumbleChannel``, ``dw:article``…) are refused, by return type and, as a safety net, by name.
Links with a publication date in the path (``/2024/05/01/``) are articles unless the path also
says video. Still, the news sites whose extractor yt-dlp types "video" and lets match every
page of the site (Spiegel, NBC News, Bloomberg, FAZ…) match here with undated article URLs:
detection should offer this platform players and stand-alone links, not links in a sentence.

Speed: asking all ~1,750 extractors costs milliseconds per URL, so candidates are first looked
up by the URL's host. The index maps every literal word of every ``_VALID_URL`` to its
extractors; a host's "brand" label (``dailymotion`` in ``www.dailymotion.com``, ``bbc`` in
``bbc.co.uk``) is looked up with its prefixes (``youtubekids`` → ``youtube``; not ``com`` for
``comments``: the words in most patterns, ``https``, ``www``, ``com``, name no site) and as a
prefix (``tiktok`` → ``tiktokv``). It is built once per process on first use and never
changes: an ``lru_cache``'d immutable value is the only state here. On yt-dlp's own 5,832
http test URLs (yt-dlp 2026.10.26) the prefilter yields the same extractor as asking every
extractor for all but 48, whose patterns spell no host (``https?://[^/]+/Mediasite/…``), split
it (``d(?:play|iscoveryplus)``, ``ur(?:play|skola)``) or start it with a two-letter word
(``vk(?:video)?``).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ..capture.collect import capture_with_methods
from ..capture.context import FetchContext
from ..capture.videos import ytdlp_method
from ..models import Capture, Target
from .base import Platform

#: Any http(s) URL in running text or an attribute, less trailing punctuation and the fragment
#: (so a dedicated platform's match of the same link is as long and, being earlier, wins);
#: ``match`` decides. There is no ``id`` group: this platform overrides ``match``.
ANY_URL_RE = re.compile(r"(?:https?:)?//[^\s<>\"'`#]+[^\s<>\"'`#.,;:!?)\]}\u00bb\u201d\u2019]")

_COLLECTION_NAME = re.compile(
    r"(?i::(?:users?|channels?|playlists?|tabs?|search(?:_url)?|albums?|collections?|series|"
    r"seasons?|categor(?:y|ies)|tags?|feeds?|lives?|livestream|stream|articles?|story|stories|"
    r"pages?|profiles?|shows?|programs?|programmes?|courses?|lists?|favorites|history|"
    r"watchlater|subscriptions|recommended|notif))$"
    r"|(?<=[a-z0-9])(?:Users?|Tab|Search|Playlists?|Collection|Album|Series|Season|Category|"
    r"Live|Article)$"
)
#: Static assets: a poster image on a video CDN is not the video.
_ASSET_PATH = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|svg|ico|css|js|vtt|srt)$", re.IGNORECASE)
#: A publication date as path segments (``/2024/05/01/``, ``/2024-05-01/``): an article, unless
#: the path also says video (publishers' video pages: ``/video/2024/05/01/…``).
_DATED_PATH = re.compile(r"/(?:(?:19|20)\d\d/[01]?\d/|(?:19|20)\d\d-[01]\d-[0-3]\d/)")
_VIDEO_WORD = re.compile(
    r"(?:^|[/_.-])(?:videos?|watch|embed|player|clips?|vod|mediathek)(?:$|[/_.-])", re.IGNORECASE
)
#: Second-level labels of public suffixes (``co.uk``, ``com.au``, ``go.jp``…).
_SUFFIX_LABELS = frozenset("co com org net ac gov edu ne or go gob nic mil info biz nom gv".split())
_REGEX_SYNTAX = re.compile(
    r"\\[dDwWsSbBAZ]|\(\?P<\w+>|\(\?P=\w+\)|\(\?[aiLmsux-]+\)|\{\d+(?:,\d*)?\}"
)
_WORD = re.compile(r"[a-z0-9]+")
#: A word in more extractors' patterns than this is a part of every URL, not a site's name.
_COMMON_WORD = 500


@dataclass(frozen=True)
class ExtractorIndex:
    """yt-dlp's extractor classes in yt-dlp's order (catch-all removed), indexed by URL words."""

    extractors: tuple[Any, ...]
    by_word: Mapping[str, tuple[int, ...]]
    by_prefix: Mapping[str, tuple[int, ...]]
    #: The longest word: a longer prefix of a host's label is no word.
    longest: int
    #: Words in so many patterns (``https``, ``www``, ``com``) that they name no site: a brand
    #: that merely starts with one (``comments``, ``wwwhatsnew``) is not looked up under it.
    common: frozenset[str]

    def candidates(self, host: str) -> list[int]:
        """Positions of the extractors whose pattern may accept a URL on ``host``, in order."""
        brand = brand_label(host)
        found: set[int] = set()
        for part in {brand, *brand.split("-")}:
            if not part:
                continue
            for n in range(min(3, len(part)), min(len(part), self.longest) + 1):
                if n == len(part) or part[:n] not in self.common:
                    found.update(self.by_word.get(part[:n], ()))
            found.update(self.by_prefix.get(part, ()))
        return sorted(found)

    def extractor_for(self, url: str) -> Any | None:
        """The extractor yt-dlp would pick for ``url`` (``generic`` aside), or None."""
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            return None
        for position in self.candidates(host):
            ie = self.extractors[position]
            if ie.suitable(url):
                return ie
        return None


def brand_label(host: str) -> str:
    """The label naming the site: ``www.dailymotion.com`` → dailymotion, ``bbc.co.uk`` → bbc."""
    labels = [label for label in host.lower().rstrip(".").split(".") if label]
    if len(labels) >= 2:
        labels.pop()
    if len(labels) >= 2 and labels[-1] in _SUFFIX_LABELS:
        labels.pop()
    return labels[-1] if labels else ""


def _words(patterns: Any) -> set[str]:
    """The literal words of an extractor's URL pattern(s), regex syntax left out."""
    if not patterns:
        return set()
    if isinstance(patterns, str):
        patterns = (patterns,)
    words: set[str] = set()
    for pattern in patterns:
        words.update(_WORD.findall(_REGEX_SYNTAX.sub(" ", str(pattern)).lower()))
    return words


@functools.lru_cache(maxsize=1)
def extractor_index() -> ExtractorIndex:
    """Built on first use (~0.2 s with yt-dlp's lazy extractors), then shared and immutable."""
    from yt_dlp.extractor import gen_extractor_classes

    extractors = tuple(ie for ie in gen_extractor_classes() if ie.ie_key() != "Generic")
    by_word: defaultdict[str, list[int]] = defaultdict(list)
    by_prefix: defaultdict[str, set[int]] = defaultdict(set)
    for position, ie in enumerate(extractors):
        # _VALID_URL is the extractor's documented data; matching itself is ie.suitable().
        for word in _words(getattr(ie, "_VALID_URL", None)):
            by_word[word].append(position)
            for n in range(min(3, len(word)), len(word) + 1):
                by_prefix[word[:n]].add(position)
    return ExtractorIndex(
        extractors,
        MappingProxyType({k: tuple(v) for k, v in by_word.items()}),
        MappingProxyType({k: tuple(sorted(v)) for k, v in by_prefix.items()}),
        max(map(len, by_word), default=0),
        frozenset(word for word, found in by_word.items() if len(found) > _COMMON_WORD),
    )


def is_single_video_extractor(ie: Any, url: str) -> bool:
    """yt-dlp's own verdict (its test cases), with collection-like names refused regardless."""
    if _COLLECTION_NAME.search(str(ie.IE_NAME)):
        return False
    return ie.is_single_video(url) is True


class GenericVideo(Platform):
    """Last in the registry: a link that no dedicated platform claimed, if yt-dlp has it."""

    name: ClassVar[str] = "video"
    kind = "video"
    url_patterns = (ANY_URL_RE,)
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("https://www.bitchute.com/video/UGlrF9o9b-Q/", "bitchute:UGlrF9o9b-Q"),
        ("https://streamable.com/moo", "streamable:moo"),
        ("https://www.twitch.tv/videos/123456789", "twitchvod:123456789"),
        ("https://rumble.com/embed/v4f5c6/", "rumbleembed:v4f5c6"),
        ("https://www.twitch.tv/somechannel", None),
        ("https://www.youtube.com/playlist?list=PLBB231211A4F62143", None),
        ("https://www.bbc.com/news/world-europe-12345678", None),
        ("https://cdn.jwplayer.com/v2/media/Jk4B44a0/poster.jpg?width=720", None),
    )

    def match(self, url: str) -> Target | None:
        url = url.strip()
        if url.startswith("//"):
            url = "https:" + url
        if not url.lower().startswith(("http://", "https://")):
            return None
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        if _ASSET_PATH.search(parts.path):
            return None
        if _DATED_PATH.search(parts.path + "/") and not _VIDEO_WORD.search(parts.path):
            return None
        ie = extractor_index().extractor_for(url)
        if ie is None or not is_single_video_extractor(ie, url):
            return None
        video_id = ie.get_temp_id(url)
        if not video_id:
            video_id = parts._replace(scheme="", fragment="").geturl().removeprefix("//")
        return Target(self.name, f"{ie.ie_key().lower()}:{video_id}", url, self.kind)

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        return capture_with_methods(target, ctx, [("ytdlp", ytdlp_method())])


__all__ = ["ExtractorIndex", "GenericVideo", "brand_label", "extractor_index"]
