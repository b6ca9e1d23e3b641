"""Embeds in HTML, read from markup and attributes (where micawber-style URL matching stops).

The page is parsed once; every rule reads the same tag list and is driven by the registry's
data (``embed_classes``, ``amp_markers``, ``url_patterns``, ``embed_id_attrs``,
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
from dataclasses import dataclass, field, replace

from bs4 import BeautifulSoup, Tag
from bs4.element import PreformattedString

from ..models import Detection, Markup, Target
from ..platforms import REGISTRY
from ..platforms.base import Platform
from ._links import post_urls, shown_links, target_at_start, wrapped_target
from ._merge import merge_duplicates
from ._positions import Positions
from ._scope import Scope
from ._visible import NO_TEXT, alone_in_block, block_of, visible_text
from .dates import find_date, iso_date

_SNIPPET_MAX = 20_000
_DATE_MAX = 40
_FRAMES = frozenset({"iframe", "amp-iframe", "frame", "embed", "object"})
_NOT_PLACEHOLDERS = frozenset({"a", "link", "meta", "base", "form", "area", "html", "body"})
_TEMPLATE_TYPES = re.compile(r"text/(?:template|html|x-template|x-tmpl|plain|x-handlebars)", re.I)
_EMBED_CODE = re.compile(r"<(?:blockquote|iframe|amp-|div[^>]+data-href)", re.I)
#: Attributes that carry a bare id on a wrapper that names its platform.
_NAMED_ID_ATTRS = (
    "data-id",
    "data-video-id",
    "data-videoid",
    "videoid",
    "data-embed-id",
    "data-shortcode",
    "data-media-id",
)
_PROVIDER_ATTRS = (
    "data-provider",
    "data-type",
    "data-embed-type",
    "data-platform",
    "data-service",
    "data-social-embedded",
    "data-source",
    "data-network",
)
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_SHOWN_URL = re.compile(r"(?:https?:)?(?://)?[^\s/]+\.[^\s/]+/\S*", re.IGNORECASE)
_HOST = re.compile(r"(?:https?:)?//([^/?#:\s]+)", re.IGNORECASE)
_URLISH = re.compile(r"[\w-]\.[A-Za-z]{2,}[/:]|https?:", re.IGNORECASE)

#: Image-only post links this many together with this little text each are a feed widget.
_FEED_MIN = 3
_FEED_TEXT_PER_TILE = 80
_PLATFORM_ID_ATTR = re.compile(r"data-(?P<name>[a-z]+)-?(?:video-?|post-?)?id", re.IGNORECASE)

Found = tuple[Tag, Detection]


@dataclass
class _Page:
    """One parsed page (or embed-code fragment) and what the rules share about it."""

    tags: list[Tag]
    registry: tuple[Platform, ...]
    scope: Scope | None
    #: The page's own site (from its canonical URL): links and frames to it are the site's
    #: navigation, teasers and own player, never an embedded post.
    own_host: str | None = None
    claimed: set[int] = field(default_factory=set)

    def target(self, value: str) -> Target | None:
        """The post an attribute value or href *is*, unless it points at the page's own site."""
        if self.own_host and _host_of(value) == self.own_host:
            return None
        return target_at_start(value, self.registry)

    def content(self, tag: Tag) -> bool:
        return self.scope is None or self.scope.contains(tag)

    def claim(self, tag: Tag) -> None:
        self.claimed.add(id(tag))

    def is_claimed(self, tag: Tag) -> bool:
        return any(id(node) in self.claimed for node in [tag, *tag.parents])


def detect_html(html: str, registry: tuple[Platform, ...] = REGISTRY) -> list[Detection]:
    """Every embedded post in an HTML document, one per (platform, id), sorted by offset."""
    soup = BeautifulSoup(html, "lxml")
    tags = soup.find_all(True)
    page = _Page(tags, registry, Scope(soup, tags), _own_host(tags))
    found = _embed_forms(page)
    found.extend(_links(soup, page))
    if not found:
        return []
    positions = Positions(html, tags)
    return merge_duplicates(
        replace(d, offset=positions.offset_or_nearest(tag), snippet=str(tag)[:_SNIPPET_MAX])
        for tag, d in found
    )


def _host_of(url: str) -> str | None:
    m = _HOST.match(url.strip())
    return m.group(1).lower().removeprefix("www.") if m else None


def _own_host(tags: list[Tag]) -> str | None:
    """The page's site, from ``<link rel=canonical>`` or ``og:url`` (None when it does not say)."""
    for tag in tags:
        if tag.name == "link" and "canonical" in tag.get_attribute_list("rel"):
            value = tag.get("href")
        elif tag.name == "meta" and tag.get("property") == "og:url":
            value = tag.get("content")
        else:
            continue
        host = _host_of(str(value or ""))
        if host:
            return host
    return None


def _embed_forms(page: _Page) -> list[Found]:
    found = list(_amp(page))
    found.extend(_containers(page))
    found.extend(_fragments(page))
    found.extend(_frames_and_placeholders(page))
    return found


def _detection(target: Target, markup: Markup, **fields: object) -> Detection:
    return Detection(
        platform=target.platform,
        kind=target.kind,
        markup=markup,
        offset=0,
        url=target.url,
        id=target.id,
        **fields,  # type: ignore[arg-type]
    )


def _amp(page: _Page) -> Iterator[Found]:
    markers = {m.tag: (p, m.id_attr) for p in page.registry for m in p.amp_markers}
    for tag in page.tags:
        if tag.name not in markers:
            continue
        platform, attr = markers[tag.name]
        value = tag.get(attr)
        if not isinstance(value, str) or not value.strip():
            continue
        value = value.strip()
        target = platform.target_for_id(value) or page.target(value)
        if target is not None and target.platform == platform.name and page.content(tag):
            yield tag, _detection(target, "amp")


def _id_attr_target(tag: Tag, platform: Platform) -> Target | None:
    for attr in platform.embed_id_attrs:
        value = tag.get(attr)
        if isinstance(value, str) and value.strip():
            target = platform.target_for_id(value.strip())
            if target is not None:
                return target
    return None


def _attr_target(tag: Tag, page: _Page) -> Target | None:
    """The post one of the element's own attribute values *is* (``cite``, ``data-href``…)."""
    for name, value in tag.attrs.items():
        if name in ("class", "style", "id") or not isinstance(value, str):
            continue
        if _URLISH.search(value):
            target = page.target(value)
            if target is not None:
                return target
    return None


def _containers(page: _Page) -> Iterator[Found]:
    by_class = {c: p for p in page.registry for c in p.embed_classes}
    attributed = [p for p in page.registry if p.attribution_pattern is not None]

    def platform_of(tag: Tag) -> Platform | None:
        return next((by_class[c] for c in tag.get_attribute_list("class") if c in by_class), None)

    candidates: list[tuple[Tag, Platform, bool]] = []
    for tag in page.tags:
        platform = platform_of(tag) if by_class else None
        if platform is not None:
            candidates.append((tag, platform, True))
        elif tag.name == "blockquote" and attributed:
            text = visible_text(tag)
            for p in attributed:
                assert p.attribution_pattern is not None
                if p.attribution_pattern.search(text):
                    candidates.append((tag, p, False))
                    break
    # Original blockquotes first: widgets.js leaves one next to its rendered copy, and the
    # original is the better evidence (its text, not an iframe).
    candidates.sort(key=lambda c: c[0].name != "blockquote")
    from_blockquotes: set[tuple[str, str]] = set()
    for tag, platform, classed in candidates:
        if classed and any(platform_of(d) is platform for d in tag.find_all(True)):
            continue  # the innermost element with the class is the embed itself
        if page.is_claimed(tag) or not page.content(tag):
            continue
        anchors = [
            (a, t)
            for a in tag.find_all("a", href=True)
            if (t := page.target(str(a["href"]))) and t.platform == platform.name
        ]
        target = _attr_target(tag, page) if classed else None
        if target is not None and target.platform != platform.name:
            target = None
        target = target or (anchors[-1][1] if anchors else None)
        for node in [tag, *tag.find_all(True)]:
            target = target or _id_attr_target(node, platform)
            if target is None and node.name in _FRAMES:
                target = _frame_target(node, page)
        if target is None or (not classed and not anchors):
            continue
        page.claim(tag)
        key = (target.platform, target.id)
        if tag.name == "blockquote":
            from_blockquotes.add(key)
        elif key in from_blockquotes:
            continue
        date_anchor = anchors[-1][0] if anchors else None
        fields = _post_fields(tag, date_anchor, platform.attribution_pattern, page.registry)
        markup: Markup = "iframe" if tag.name in _FRAMES else "blockquote"
        yield tag, _detection(target, markup, **fields)


def _post_fields(
    tag: Tag,
    date_anchor: Tag | None,
    pattern: re.Pattern[str] | None,
    registry: tuple[Platform, ...],
) -> dict[str, object]:
    """Author, handle, date, text and links as the blockquote shows them."""
    whole = visible_text(tag)
    attribution = None
    if pattern is not None:
        attribution = next(reversed(list(pattern.finditer(whole))), None)
    if attribution is not None:
        text = whole[: attribution.start()].strip()
    else:
        text = visible_text(tag, skip=date_anchor).strip()
    # The date link of an official blockquote ("November 14, 2022"); a long link text is a
    # caption (Instagram links its caption to the post), not a date.
    shown = visible_text(date_anchor)
    date = iso_date(shown) if date_anchor is not None and len(shown) <= _DATE_MAX else None
    if date is None and attribution is not None:
        rest = whole[attribution.end() :].split("\n", 1)[0]
        found = find_date(rest)
        date = iso_date(found[0]) if found else None
    fields: dict[str, object] = {
        "text": text or None,
        "date": date,
        "links": shown_links(text, registry) if text else (),
    }
    if attribution is not None:
        fields["author"] = " ".join(attribution.group("name").split()) or None
        fields["handle"] = attribution.group("handle")
    return fields


def _fragments(page: _Page) -> Iterator[Found]:
    """Embed code kept as text (``<textarea>``, HTML templates in ``<script>``, consent
    placeholders' ``data-*`` attributes), parsed on its own."""
    for tag in page.tags:
        codes: list[str] = []
        markup: Markup = "other"
        if tag.name == "textarea":
            codes.append(tag.get_text())
        elif tag.name == "script" and _TEMPLATE_TYPES.match(str(tag.get("type") or "")):
            codes.append(tag.get_text())
            markup = "script"
        elif tag.name != "script":
            # Consent managers park the embed code in an attribute until the reader agrees.
            codes.extend(
                v for k, v in tag.attrs.items() if k.startswith("data-") and isinstance(v, str)
            )
        codes = [c for c in codes if _EMBED_CODE.search(c)]
        if not codes or not page.content(tag):
            continue
        for code in codes:
            fragment = BeautifulSoup(code, "lxml")
            inner = _Page(fragment.find_all(True), page.registry, None)
            for _, d in _embed_forms(inner):
                page.claim(tag)
                yield tag, replace(d, markup=markup)


def _frame_target(tag: Tag, page: _Page) -> Target | None:
    for name, value in tag.attrs.items():
        if isinstance(value, str) and name not in ("class", "style") and _URLISH.search(value):
            target = page.target(value) or wrapped_target(value, page.registry)
            if target is not None:
                return target
    for platform in page.registry:
        target = _id_attr_target(tag, platform)
        if target is not None:
            return target
    return None


def _named_id_target(tag: Tag, registry: tuple[Platform, ...]) -> Target | None:
    """A wrapper naming its platform with a bare id: ``data-youtube-id="…"``, or a platform
    named by the tag, a class or a provider attribute plus ``data-id``/``videoid``/….
    """
    for name, value in tag.attrs.items():
        m = _PLATFORM_ID_ATTR.fullmatch(name)
        if m and isinstance(value, str) and value.strip():
            platform = next((p for p in registry if p.name == m.group("name").lower()), None)
            target = platform.target_for_id(value.strip()) if platform else None
            if target is not None:
                return target
    ids = [v.strip() for a in _NAMED_ID_ATTRS if isinstance(v := tag.get(a), str) and v.strip()]
    if not ids:
        return None
    words = set(_WORD_SPLIT.split(tag.name.lower()))
    for name in ("class", *_PROVIDER_ATTRS):
        hint = tag.get(name)
        text = " ".join(hint) if isinstance(hint, list) else str(hint or "")
        words.update(_WORD_SPLIT.split(text.lower()))
    for platform in registry:
        if platform.name in words:
            for bare in ids:
                target = platform.target_for_id(bare)
                if target is not None:
                    return target
    return None


def _frames_and_placeholders(page: _Page) -> Iterator[Found]:
    id_attrs = {a for p in page.registry for a in p.embed_id_attrs} | set(_NAMED_ID_ATTRS)
    # A data-* URL is a placeholder of a dedicated platform's embed; for the generic one it is
    # as likely a share or bookmark widget's own page URL.
    named = {p.name for p in page.registry if p.hosts or p.embed_classes or p.amp_markers}
    for tag in page.tags:
        if tag.name in _NOT_PLACEHOLDERS or not tag.attrs:
            continue
        markup: Markup
        if tag.name in _FRAMES:
            target = _frame_target(tag, page)
            markup = "iframe"
        elif not any(k.startswith("data-") or k in id_attrs for k in tag.attrs):
            continue
        else:
            target = next(
                (
                    t
                    for name, value in tag.attrs.items()
                    if name.startswith("data-") and isinstance(value, str)
                    if _URLISH.search(value) and (t := page.target(value)) and t.platform in named
                ),
                None,
            )
            target = target or next(
                (t for p in page.registry if (t := _id_attr_target(tag, p))), None
            )
            target = target or _named_id_target(tag, page.registry)
            markup = "script" if tag.name == "script" else "other"
        if target is not None and not page.is_claimed(tag) and page.content(tag):
            page.claim(tag)
            yield tag, _detection(target, markup)


def _links(soup: BeautifulSoup, page: _Page) -> Iterator[Found]:
    textless: list[tuple[Tag, Target]] = []
    fallbacks = {p.name for p in page.registry if p.embed_classes or p.amp_markers}
    for a in page.tags:
        href = a.get("href") if a.name == "a" else None
        if not isinstance(href, str) or not _URLISH.search(href):
            continue
        shown = visible_text(a).strip()
        if shown and not (_SHOWN_URL.fullmatch(shown) and alone_in_block(a, shown)):
            # Cited inside a sentence, or a headline linking to a story: an unrendered oEmbed
            # shows the URL itself, alone in its paragraph.
            continue
        target = page.target(href)
        if target is None or page.is_claimed(a) or _excluded_link(a, page):
            continue
        if shown:
            yield a, _detection(target, "link", links=(shown,))
        elif target.platform in fallbacks:
            textless.append((a, target))
    for a, target in textless:
        # A post link with nothing to read: a screenshot fallback or a lazy placeholder,
        # unless it is one tile of a feed grid ("latest posts on Instagram").
        if not _in_feed_grid(a, target.platform, textless):
            yield a, _detection(target, "other")
    for string in soup.find_all(string=_URLISH):
        if isinstance(string, PreformattedString) or string.parent is None:
            continue
        parent = string.parent
        if parent.name in NO_TEXT or parent.name == "a" or page.is_claimed(parent):
            continue
        for f in post_urls(str(string), page.registry):
            assert f.target is not None
            if alone_in_block(parent, f.shown) and not _excluded_link(parent, page):
                yield block_of(parent), _detection(f.target, "link", links=(f.shown,))


def _in_feed_grid(a: Tag, platform: str, textless: list[tuple[Tag, Target]]) -> bool:
    """Whether the smallest element holding this and two more image-only links to the same
    platform's posts is a grid of tiles (little text per tile), not an article with fallbacks.
    """
    others = [t for t, target in textless if target.platform == platform and t is not a]
    if len(others) < _FEED_MIN - 1:
        return False
    for node in a.parents:
        inside = sum(1 for t in others if node in t.parents)
        if inside + 1 >= _FEED_MIN:
            return len(visible_text(node)) < _FEED_TEXT_PER_TILE * (inside + 1)
    return False


def _excluded_link(tag: Tag, page: _Page) -> bool:
    return not page.content(tag) or any(p.name in NO_TEXT for p in tag.parents)
