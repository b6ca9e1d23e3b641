"""What a platform is: data (URL patterns, embed markers, endpoints) plus one ``fetch`` method.

Modelled on yt-dlp's extractor classes: class attributes are the platform's data, so
detection, planning and storage stay generic and adding a platform touches one file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ..models import Capture, Kind, Target

if TYPE_CHECKING:
    from ..capture.context import FetchContext
    from ..settings import Settings

#: A URL's query before the parameter a pattern reads (``watch?feature=share&v=…``): lazily,
#: and at most 400 characters. Unbounded, text with a long word holding the pattern's start
#: many times is read to the word's end from each of them (quadratic: minutes for 400 kB).
QUERY_BEFORE = r"[^#\s\"'<>]{0,400}?"


@dataclass(frozen=True)
class AmpMarker:
    """An AMP element (``amp-twitter``) whose attribute carries the post id or the post URL.

    The value is tried as an id (``target_for_id``) first, then as a URL (``match``), so
    ``amp-youtube data-videoid`` and ``amp-facebook data-href`` are both one marker.
    """

    tag: str
    id_attr: str


class Platform:
    """Base class; subclasses set the class attributes and implement ``fetch``."""

    name: ClassVar[str] = ""
    kind: ClassVar[Kind] = "post"
    #: URL regexes of single posts/videos; each has a named group ``id``.
    url_patterns: ClassVar[tuple[re.Pattern[str], ...]] = ()
    #: CSS classes of blockquote/div embeds (``twitter-tweet``).
    embed_classes: ClassVar[tuple[str, ...]] = ()
    amp_markers: ClassVar[tuple[AmpMarker, ...]] = ()
    #: Short-link patterns that must be expanded before the post is known.
    short_link_patterns: ClassVar[tuple[re.Pattern[str], ...]] = ()
    #: Attributes that carry a bare post id once a widget script rendered the embed.
    embed_id_attrs: ClassVar[tuple[str, ...]] = ()
    #: The textified form of the platform's blockquote (attribution line), if it has one.
    #: Named groups ``name`` and ``handle``; the post's text is what precedes it.
    attribution_pattern: ClassVar[re.Pattern[str] | None] = None
    #: Whether the attribution line only counts when a date follows it (X/Twitter and Bluesky
    #: always print one; Instagram's "A post shared by …" has lost it in newer embed codes).
    attribution_date_required: ClassVar[bool] = True
    #: Texts the platform's embed code writes into the quoted post where the post has media
    #: (Bluesky's ``[image or embed]`` link): not the post's words, so not in the text an embed
    #: is read to show (its snippet keeps them).
    embed_placeholders: ClassVar[tuple[str, ...]] = ()
    #: Texts the embed code writes above the post (Instagram's "View this post on Instagram"
    #: link): not the post's words either; an embed whose only text it is has none.
    embed_headers: ClassVar[tuple[str, ...]] = ()
    #: Textified embeds matched whole, the post's text inside the match (TikTok's
    #: ``@user … ♬ original sound``). Named groups: ``handle``, optional ``name``/``text``.
    text_patterns: ClassVar[tuple[re.Pattern[str], ...]] = ()
    #: Host names the platform owns (``youtube.com`` covers its subdomains). A URL on one of
    #: them that matches no ``url_patterns`` is a profile, channel, share or search page, not a
    #: post: detection does not offer it to later platforms (the generic yt-dlp one).
    hosts: ClassVar[tuple[str, ...]] = ()
    #: Offline examples: (URL or embed id, the target id it names, or None for "not a post").
    #: Tests run every registered platform's examples.
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = ()

    def match(self, url: str) -> Target | None:
        """The target a URL points at, or None when it is not a single post of this platform."""
        for pattern in self.url_patterns:
            m = pattern.search(url)
            if m:
                return Target(self.name, m.group("id"), self.canonical_url(m), self.kind)
        return None

    def shown_text(self, text: str) -> str:
        """The post's words in the text one of its embeds shows (``embed_placeholders`` and
        ``embed_headers`` out)."""
        for placeholder in self.embed_placeholders + self.embed_headers:
            if placeholder in text:
                text = text.replace(placeholder, "").strip()
        return text

    def owns(self, host: str) -> bool:
        """Whether ``host`` (lower-case, no port) is one of ``hosts`` or a subdomain of one."""
        return any(host == h or host.endswith("." + h) for h in self.hosts)

    def target_for_id(self, post_id: str) -> Target | None:
        """A target from an id alone (AMP ``data-tweetid``); None when the id is not enough."""
        return None

    def is_short_link(self, url: str) -> bool:
        return any(p.search(url) for p in self.short_link_patterns)

    def short_link_request_url(self, link: str, settings: Settings) -> str | None:
        """Where to request a short link; None if not ours.

        By default the link itself, over https; a platform with a configurable short-link
        endpoint (X's t.co and pic.twitter.com) overrides this.
        """
        for pattern in self.short_link_patterns:
            m = pattern.match(link.strip())
            if m:
                found = m.group(0)
                return found if found.lower().startswith("http") else "https://" + found
        return None

    def canonical_url(self, m: re.Match[str]) -> str:
        raise NotImplementedError

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        raise NotImplementedError


PlatformFactory = Callable[[], Platform]
