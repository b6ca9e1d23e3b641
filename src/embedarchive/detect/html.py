"""Embeds in HTML, read from markup and attributes (where micawber-style URL matching stops).

The page is parsed once, by lxml (``_tree``), and walked once (``_survey``: only the article
region when the page has one) to pick out what the rules read; every rule is driven by the
registry's data (``embed_classes``, ``amp_markers``, ``url_patterns``, ``embed_id_attrs``,
``attribution_pattern``, ``hosts``), so a new platform needs no change here. In order:

* ``amp``: AMP elements (``amp-twitter data-tweetid``, ``amp-facebook data-href``);
* ``blockquote``: elements with an embed class (``blockquote.twitter-tweet``,
  ``instagram-media``, ``tiktok-embed``, ``div.fb-post``…, and the rendered copies that keep
  the class), and class-less blockquotes that show a post link and an attribution line. The
  post is the one the element's own attributes name (``cite``, ``data-href``,
  ``data-instgrm-permalink``…), else the *last* post link inside (the date link; earlier
  ones are t.co or pic links), else an id attribute or a frame inside;
* ``script``/``other``: embed code that exists only as text — inside ``<textarea>`` (markup
  ``other``) or an HTML template ``<script type="text/template">`` (``script``) — is parsed
  and read by the rules above; a script tag whose attribute names a post
  (``data-telegram-post="channel/123"``) is a ``script`` embed;
* ``iframe``: frames whose ``src``/``data-src``/``data-lazy-src``… is a post or player URL
  (``<noscript>`` copies included), or an embed proxy carrying one in its query;
* ``other``: lazy-load and consent placeholders whose ``data-*`` attribute is a post URL,
  wrappers that name a platform and carry its id (``div.rll-youtube-player data-id``,
  ``<lite-youtube videoid>``), and post links with no visible text: the screenshot fallback
  of a platform that has an embed widget (``embed_classes``/``amp_markers``), not a badge or
  a tile of a feed grid;
* ``link``: a post URL standing alone in its paragraph, as an ``<a>`` showing the URL or as
  bare text (an unrendered oEmbed); a linked headline alone in its paragraph is a teaser.

Not embeds: anything outside the article (``_scope``: chrome and the body region), links and
frames to the page's own site (its canonical URL's host: teasers, its own player), a post
link inside a sentence (the article citing a post, not showing it), share and intent URLs,
profile and channel pages, and anything inside ``<script>`` JSON or ``<style>``. URL matches
in attributes are anchored at the start, so a share or proxy URL that carries a post URL in
its query is not the post (embed proxies are unwrapped on purpose, frames only).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from ..models import Detection, Target
from ..platforms import REGISTRY
from ..platforms.base import Platform
from ._forms import embed_forms
from ._links import post_urls
from ._merge import merge_found
from ._page import Found, Page, detection, host_of
from ._positions import Positions
from ._tree import Element, markup, parse, words
from ._tree import utf8 as to_utf8
from ._visible import NO_TEXT, Blocks, block_of, visible_text

_SNIPPET_MAX = 20_000
_SHOWN_URL = re.compile(r"(?:https?:)?(?://)?[^\s/]+\.[^\s/]+/\S*", re.IGNORECASE)

#: Image-only post links this many together with this little text each are a feed widget.
_FEED_MIN = 3
_FEED_TEXT_PER_TILE = 80


def detect_html(html: str, registry: tuple[Platform, ...] = REGISTRY) -> list[Detection]:
    """Every embedded post in an HTML document, one per (platform, id), sorted by offset."""
    return detect_html_utf8(html, None, registry)


def detect_html_utf8(
    html: str, utf8: bytes | None, registry: tuple[Platform, ...] = REGISTRY
) -> list[Detection]:
    """``detect_html``, given the document's UTF-8 bytes too when they are at hand."""
    data = to_utf8(html) if utf8 is None else utf8
    root = parse(data)
    if root is None:
        return []
    page = Page(root, registry, scoped=True, own_host=_own_host(root))
    found = embed_forms(page)
    found.extend(_links(page))
    if not found:
        return []
    positions = Positions(html, root)
    placed = [(tag, replace(d, offset=positions.offset_or_nearest(tag))) for tag, d in found]
    return [
        replace(d, snippet=markup(tag, _SNIPPET_MAX, positions.written))
        for tag, d in merge_found(placed)
    ]


def _own_host(root: Element) -> str | None:
    """The page's site, from ``<link rel=canonical>`` or ``og:url`` (None when it does not say)."""
    for tag in root.iter("link", "meta"):  # the first one that says is in the head
        if tag.tag == "link" and "canonical" in words(tag, "rel"):
            found = tag.get("href")
        elif tag.tag == "meta" and tag.get("property") == "og:url":
            found = tag.get("content")
        else:
            continue
        host = host_of(found or "")
        if host:
            return host
    return None


def _links(page: Page) -> Iterator[Found]:
    textless: list[tuple[Element, Target]] = []
    blocks = Blocks()
    for a in page.seen.links:
        if not _may_show_a_url(a):
            continue
        shown = visible_text(a).strip()
        if shown and not (_SHOWN_URL.fullmatch(shown) and blocks.alone_in_block(a, shown)):
            # Cited inside a sentence, or a headline linking to a story: an unrendered oEmbed
            # shows the URL itself, alone in its paragraph.
            continue
        # A link with nothing to read only counts for a platform with screenshot fallbacks.
        href = a.get("href") or ""
        target = page.target(href) if shown else page.fallback_target(href)
        if target is None or page.is_claimed(a) or _excluded_link(a, page):
            continue
        if shown:
            yield a, detection(target, "link", links=(shown,))
        else:
            textless.append((a, target))
    lengths: dict[Element, int] = {}
    held = _links_held(textless)
    for a, target in textless:
        # A post link with nothing to read: a screenshot fallback or a lazy placeholder,
        # unless it is one tile of a feed grid ("latest posts on Instagram").
        if not _in_feed_grid(a, target.platform, held, lengths):
            yield a, detection(target, "other")
    for parent, string in page.seen.texts:
        if page.is_claimed(parent):
            continue
        for f in post_urls(string, page.registry):
            assert f.target is not None
            if blocks.alone_in_block(parent, f.shown) and not _excluded_link(parent, page):
                yield block_of(parent), detection(f.target, "link", links=(f.shown,))


def _may_show_a_url(a: Element) -> bool:
    """False when the link's visible text is sure to be neither empty nor one URL: its raw
    text holds two words, or one without a dot and a slash (hidden parts aside, what a reader
    sees has the same characters, and never fewer spaces between them)."""
    if len(a):
        if next(a.iterdescendants(*NO_TEXT), None) is not None:
            return True
        raw = "".join(a.itertext())
    else:
        raw = a.text or ""
    words = raw.split()
    return not words or (len(words) == 1 and "/" in raw and "." in raw)


def _links_held(textless: list[tuple[Element, Target]]) -> dict[tuple[str, Element], int]:
    """How many of the image-only post links to each platform each element holds."""
    held: dict[tuple[str, Element], int] = {}
    for a, target in textless:
        for node in a.iterancestors():
            key = (target.platform, node)
            held[key] = held.get(key, 0) + 1
    return held


def _in_feed_grid(
    a: Element,
    platform: str,
    held: dict[tuple[str, Element], int],
    lengths: dict[Element, int],
) -> bool:
    """Whether the smallest element holding this and two more image-only links to the same
    platform's posts is a grid of tiles (little text per tile), not an article with fallbacks.
    ``held``: ``_links_held``; ``lengths``: the visible text length of the elements asked about
    so far (the tiles of one grid all ask about it).
    """
    for node in a.iterancestors():
        inside = held.get((platform, node), 0)
        if inside >= _FEED_MIN:
            if node not in lengths:
                lengths[node] = len(visible_text(node))
            return lengths[node] < _FEED_TEXT_PER_TILE * inside
    return False


def _excluded_link(tag: Element, page: Page) -> bool:
    return not page.content(tag) or next(tag.iterancestors(*NO_TEXT), None) is not None
