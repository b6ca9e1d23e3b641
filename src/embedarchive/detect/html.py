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
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

from ..models import Detection, Target
from ..platforms import REGISTRY
from ..platforms.base import Platform
from ._forms import embed_forms
from ._links import Found as FoundURL
from ._links import post_urls
from ._merge import merge_found
from ._page import Found, Page, detection, host_of
from ._positions import Positions
from ._tree import Element, markup, nearest, parse, words
from ._tree import utf8 as to_utf8
from ._visible import Texts

_SNIPPET_MAX = 20_000
#: All the snippets of one page; past it, each is at most ``_SNIPPET_MIN`` characters.
_SNIPPETS_MAX = 5_000_000
_SNIPPET_MIN = 500
#: What may follow a post's id in its URL: more path, a query, a fragment.
_URL_GOES_ON = "/?#&"
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
    kept: list[Element] = []  # held until every reading of the tree is done: see ``parse``
    root = parse(data, kept)
    if root is None:
        return []
    return _detected(html, root, registry)


def _detected(html: str, root: Element, registry: tuple[Platform, ...]) -> list[Detection]:
    page = Page(root, registry, scoped=True, own_host=_own_host(root))
    found = embed_forms(page)
    found.extend(_links(page))
    if not found:
        return []
    positions = Positions(html, root)
    placed = [(tag, replace(d, offset=positions.offset_or_nearest(tag))) for tag, d in found]
    detections = []
    left = _SNIPPETS_MAX
    preformatted: dict[Element, Element | None] = {}
    for tag, d in merge_found(placed):
        # Nested embeds each write what they hold: past the page's budget, a snippet is cut
        # short (a page of thousands of nested embeds would write 20,000 characters for each).
        limit = max(_SNIPPET_MIN, min(_SNIPPET_MAX, left))
        parent = tag.getparent()
        inside_pre = parent is not None and nearest(parent, preformatted, _preformatted)
        snippet = markup(tag, limit, positions.written, inside_pre=bool(inside_pre))
        left -= len(snippet)
        detections.append(replace(d, snippet=snippet))
    return detections


def _preformatted(node: Element) -> Element | None:
    return node if node.tag in ("pre", "textarea") else None


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
    texts = Texts()
    for a in page.seen.links:
        shown = texts.shown(a)
        if shown is None or (
            shown and not (_SHOWN_URL.fullmatch(shown) and texts.alone_in_block(a, shown))
        ):
            # Cited inside a sentence, or a headline linking to a story: an unrendered oEmbed
            # shows the URL itself, alone in its paragraph.
            continue
        # A link with nothing to read only counts for a platform with screenshot fallbacks.
        href = a.get("href") or ""
        target = page.target(href) if shown else page.fallback_target(href)
        if target is None or page.is_claimed(a) or _excluded_link(a, page, texts):
            continue
        if shown:
            yield a, detection(target, "link", links=(shown,))
        else:
            textless.append((a, target))
    for (a, target), (grid, inside) in zip(textless, _smallest_groups(textless), strict=True):
        # A post link with nothing to read: a screenshot fallback or a lazy placeholder,
        # unless it is one tile of a feed grid ("latest posts on Instagram"): the smallest
        # element holding it and two more has little text per tile.
        if grid is None or texts.length(grid) >= _FEED_TEXT_PER_TILE * inside:
            yield a, detection(target, "other")
    for parent, string in page.seen.texts:
        if page.is_claimed(parent):
            continue
        for f in post_urls(string, page.registry):
            assert f.target is not None
            shown = _whole_url(string, f)
            if (
                shown is not None
                and texts.alone_in_block(parent, shown)
                and not _excluded_link(parent, page, texts)
            ):
                yield texts.block_of(parent), detection(f.target, "link", links=(shown,))


def _whole_url(word: str, f: FoundURL) -> str | None:
    """The URL a bare-URL text shows, when a post's URL starts it. The platform's pattern stops
    at the id; what follows it in the URL (``instagram.com/p/ID/``, ``youtu.be/ID?si=…``,
    ``reddit.com/r/s/comments/ID/slug/``) is part of what the paragraph shows. None when the
    match starts inside the word (a share link carrying the post) or is followed by more than
    the URL's path, query or fragment."""
    shown = word.strip()  # the survey's texts are one word
    lead = len(word) - len(word.lstrip())
    if f.start != lead or not (f.end == lead + len(shown) or word[f.end] in _URL_GOES_ON):
        return None
    return shown


def _smallest_groups(textless: list[tuple[Element, Target]]) -> list[tuple[Element | None, int]]:
    """For each image-only post link, the smallest element above it that holds ``_FEED_MIN``
    or more of them to the same platform, and how many it holds ((None, 0) when none does).

    Each element is visited once, not once for each link below it (a nest of thousands).
    """
    groups: list[tuple[Element | None, int]] = [(None, 0)] * len(textless)
    by_platform: dict[str, list[int]] = {}
    for i, (_, target) in enumerate(textless):
        by_platform.setdefault(target.platform, []).append(i)
    for indexes in by_platform.values():
        links = {textless[i][0] for i in indexes}
        # The elements above the links, each with its parent.
        parent: dict[Element, Element | None] = {}
        for a in links:
            node: Element | None = a
            while node is not None and node not in parent:
                parent[node] = up = node.getparent()
                node = up
        # How many links each holds, counted up from the lowest.
        held = dict.fromkeys(parent, 0)
        below = Counter(up for up in parent.values() if up is not None)
        ready = [node for node in parent if not below[node]]
        while ready:
            node = ready.pop()
            up = parent[node]
            if up is not None:
                held[up] += held[node] + (node in links)
                below[up] -= 1
                if not below[up]:
                    ready.append(up)
        # Going up, an element holds at least as many as any below it.
        smallest: dict[Element, Element | None] = {}
        for i in indexes:
            path: list[Element] = []
            node = parent[textless[i][0]]
            while node is not None and node not in smallest and held[node] < _FEED_MIN:
                path.append(node)
                node = parent[node]
            found = smallest.get(node, node) if node is not None else None
            smallest.update(dict.fromkeys(path, found))
            groups[i] = (found, held[found]) if found is not None else (None, 0)
    return groups


def _excluded_link(tag: Element, page: Page, texts: Texts) -> bool:
    return not page.content(tag) or texts.hidden(tag)
