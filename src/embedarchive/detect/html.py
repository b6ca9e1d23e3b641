"""Embeds in HTML, read from markup and attributes (where micawber-style URL matching stops).

Every rule is driven by the registry's data (``embed_classes``, ``amp_markers``,
``url_patterns``, and the optional ``embed_id_attrs``/``attribution_pattern``), so a new
platform needs no change here. In order:

* ``amp``: AMP elements (``amp-twitter data-tweetid``), via ``target_for_id``;
* ``blockquote``: elements with an embed class (``blockquote.twitter-tweet``, and after
  widgets.js the rendered ``div``/``twitter-widget`` that keeps the class), and class-less
  blockquotes that still show a post link and an attribution line. The post is the *last*
  post link inside (the date link; earlier ones are t.co or pic links);
* ``iframe``: frames whose ``src``/``data-src``/… is a post or embed URL, or that carry an id
  attribute (``data-tweet-id``);
* ``other``: lazy-load and consent placeholders whose ``data-*`` attribute is a post URL, and
  post links with no visible text (screenshot fallbacks wrap only an image);
* ``link``: a post URL standing alone in its paragraph, as an ``<a>`` or as bare text (an
  unrendered oEmbed).

Not embeds: a post link inside a sentence (the article citing a post, not showing it), links
in ``nav``/``header``/``footer``/``aside``, share and intent URLs, profile links, and anything
inside ``<script>``/``<style>``. URL matches in attributes are anchored at the start, so a
share or proxy URL that carries a post URL in its query is not the post.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from ..models import Detection, Markup, Target
from ..platforms import REGISTRY
from ..platforms.base import Platform
from ._links import post_urls, shown_links, target_at_start
from ._merge import merge_duplicates
from ._positions import Positions
from .dates import find_date, iso_date

_SNIPPET_MAX = 20_000
_BLOCKS = frozenset(
    "p div li td th dd dt figure figcaption section article main blockquote center "
    "h1 h2 h3 h4 h5 h6 pre body".split()
)
_NO_TEXT = frozenset({"script", "style", "template", "noscript", "head", "title"})
_OUTSIDE_ARTICLE = frozenset({"nav", "footer"})
_OUTSIDE_ARTICLE_FOR_LINKS = _OUTSIDE_ARTICLE | {"header", "aside", "head"}
_ROLES_FOR_LINKS = frozenset({"navigation", "banner", "contentinfo", "complementary"})
_FRAMES = frozenset({"iframe", "amp-iframe", "frame", "embed"})
_NOT_PLACEHOLDERS = frozenset({"a", "link", "meta", "script", "base", "form", "area"})


def detect_html(html: str, registry: tuple[Platform, ...] = REGISTRY) -> list[Detection]:
    """Every embedded post in an HTML document, one per (platform, id), sorted by offset."""
    soup = BeautifulSoup(html, "lxml")
    found: list[tuple[Tag, Detection]] = []
    claimed: set[int] = set()
    for platform in registry:
        found.extend(_amp(soup, platform))
        found.extend(_containers(soup, platform, registry, claimed))
    found.extend(_frames_and_placeholders(soup, registry, claimed))
    found.extend(_links(soup, registry, claimed))
    if not found:
        return []
    positions = Positions(html, soup)
    return merge_duplicates(
        _with_offset(d, positions.offset_or_nearest(tag), tag) for tag, d in found
    )


def _with_offset(d: Detection, offset: int, tag: Tag) -> Detection:
    return replace(d, offset=offset, snippet=str(tag)[:_SNIPPET_MAX])


def _detection(target: Target, platform: Platform, markup: Markup, **fields: object) -> Detection:
    return Detection(
        platform=platform.name,
        kind=target.kind,
        markup=markup,
        offset=0,
        url=target.url,
        id=target.id,
        **fields,  # type: ignore[arg-type]
    )


def _platform(name: str, registry: tuple[Platform, ...]) -> Platform:
    return next(p for p in registry if p.name == name)


def _outside(tag: Tag, names: frozenset[str], roles: frozenset[str] = frozenset()) -> bool:
    for node in [tag, *tag.parents]:
        if node.name in names:
            return True
        role = node.get("role") if isinstance(node, Tag) else None
        if isinstance(role, str) and role.lower() in roles:
            return True
    return False


def _is_claimed(tag: Tag, claimed: set[int]) -> bool:
    return any(id(node) in claimed for node in [tag, *tag.parents])


def _amp(soup: BeautifulSoup, platform: Platform) -> Iterator[tuple[Tag, Detection]]:
    for marker in platform.amp_markers:
        for tag in soup.find_all(marker.tag):
            value = tag.get(marker.id_attr)
            target = platform.target_for_id(value.strip()) if isinstance(value, str) else None
            if target is not None and not _outside(tag, _OUTSIDE_ARTICLE):
                yield tag, _detection(target, platform, "amp")


def _id_attr_target(tag: Tag, platform: Platform) -> Target | None:
    for attr in getattr(platform, "embed_id_attrs", ()):
        value = tag.get(attr)
        if isinstance(value, str) and value.strip():
            target = platform.target_for_id(value.strip())
            if target is not None:
                return target
    return None


def _containers(
    soup: BeautifulSoup, platform: Platform, registry: tuple[Platform, ...], claimed: set[int]
) -> Iterator[tuple[Tag, Detection]]:
    classes = set(platform.embed_classes)
    pattern: re.Pattern[str] | None = getattr(platform, "attribution_pattern", None)

    def has_class(tag: Tag) -> bool:
        return bool(classes.intersection(tag.get_attribute_list("class")))

    candidates = [t for t in soup.find_all(True) if has_class(t)]
    candidates += [
        t
        for t in soup.find_all("blockquote")
        if not has_class(t) and pattern is not None and pattern.search(_visible_text(t))
    ]
    # Original blockquotes first: widgets.js leaves one next to its rendered copy, and the
    # original is the better evidence (its text, not an iframe).
    candidates.sort(key=lambda t: t.name != "blockquote")
    from_blockquotes: set[str] = set()
    for tag in candidates:
        if _outside(tag, _OUTSIDE_ARTICLE) or any(has_class(d) for d in tag.find_all(True)):
            continue  # the innermost element with the class is the embed itself
        anchors = [
            (a, t)
            for a in tag.find_all("a", href=True)
            if (t := target_at_start(str(a["href"]), registry)) and t.platform == platform.name
        ]
        target = anchors[-1][1] if anchors else None
        for node in [tag, *tag.find_all(True)]:
            target = target or _id_attr_target(node, platform)
            if target is None and node.name in _FRAMES:
                target = _frame_target(node, registry)
        if target is None or (not has_class(tag) and not anchors):
            continue
        claimed.add(id(tag))
        if tag.name == "blockquote":
            from_blockquotes.add(target.id)
        elif target.id in from_blockquotes:
            continue
        date_anchor = anchors[-1][0] if anchors else None
        yield (
            tag,
            _detection(
                target, platform, "blockquote", **_post_fields(tag, date_anchor, pattern, registry)
            ),
        )


def _post_fields(
    tag: Tag,
    date_anchor: Tag | None,
    pattern: re.Pattern[str] | None,
    registry: tuple[Platform, ...],
) -> dict[str, object]:
    """Author, handle, date, text and links as the blockquote shows them."""
    whole = _visible_text(tag)
    attribution = None
    if pattern is not None:
        attribution = next(reversed(list(pattern.finditer(whole))), None)
    if attribution is not None:
        text = whole[: attribution.start()].strip()
    else:
        text = _visible_text(tag, skip=date_anchor).strip()
    date = iso_date(_visible_text(date_anchor)) if date_anchor is not None else None
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


def _frame_target(tag: Tag, registry: tuple[Platform, ...]) -> Target | None:
    for value in tag.attrs.values():
        if isinstance(value, str):
            target = target_at_start(value, registry)
            if target is not None:
                return target
    for platform in registry:
        target = _id_attr_target(tag, platform)
        if target is not None:
            return target
    return None


def _frames_and_placeholders(
    soup: BeautifulSoup, registry: tuple[Platform, ...], claimed: set[int]
) -> Iterator[tuple[Tag, Detection]]:
    for tag in soup.find_all(True):
        if tag.name in _NOT_PLACEHOLDERS or _is_claimed(tag, claimed):
            continue
        if tag.name in _FRAMES:
            target = _frame_target(tag, registry)
            markup: Markup = "iframe"
            outside, roles = _OUTSIDE_ARTICLE, frozenset[str]()
        else:
            target = next(
                (
                    t
                    for name, value in tag.attrs.items()
                    if name.startswith("data-") and isinstance(value, str)
                    if (t := target_at_start(value, registry))
                ),
                None,
            )
            target = target or next((t for p in registry if (t := _id_attr_target(tag, p))), None)
            markup = "other"
            outside, roles = _OUTSIDE_ARTICLE_FOR_LINKS, _ROLES_FOR_LINKS
        if target is not None and not _outside(tag, outside, roles):
            claimed.add(id(tag))
            yield tag, _detection(target, _platform(target.platform, registry), markup)


def _links(
    soup: BeautifulSoup, registry: tuple[Platform, ...], claimed: set[int]
) -> Iterator[tuple[Tag, Detection]]:
    for a in soup.find_all("a", href=True):
        target = target_at_start(str(a["href"]), registry)
        if target is None or _is_claimed(a, claimed) or _excluded_link(a):
            continue
        platform = _platform(target.platform, registry)
        shown = _visible_text(a).strip()
        if not shown:
            # A post link with nothing to read: a screenshot fallback or a lazy placeholder.
            yield a, _detection(target, platform, "other")
        elif _alone_in_block(a, shown):
            yield a, _detection(target, platform, "link", links=(shown,))
    for string in soup.find_all(string=True):
        if isinstance(string, PreformattedString) or string.parent is None:
            continue
        parent = string.parent
        if parent.name in _NO_TEXT or parent.name == "a" or _is_claimed(parent, claimed):
            continue
        for f in post_urls(str(string), registry):
            assert f.target is not None
            if _alone_in_block(parent, f.shown) and not _excluded_link(parent):
                block = _block_of(parent)
                yield block, _detection(f.target, f.platform, "link", links=(f.shown,))


def _excluded_link(tag: Tag) -> bool:
    return _outside(tag, _OUTSIDE_ARTICLE_FOR_LINKS, _ROLES_FOR_LINKS) or any(
        p.name in _NO_TEXT for p in tag.parents
    )


def _block_of(tag: Tag) -> Tag:
    for node in [tag, *tag.parents]:
        if node.name in _BLOCKS:
            return node
    return tag


def _alone_in_block(tag: Tag, shown: str) -> bool:
    """True when the link is all its paragraph says (an unrendered oEmbed, not a citation)."""
    return " ".join(_visible_text(_block_of(tag)).split()) == " ".join(shown.split())


def _visible_text(tag: Tag | None, skip: Tag | None = None) -> str:
    """Text as a reader sees it: ``<br>`` is a line break, a paragraph a blank line."""
    if tag is None:
        return ""
    parts: list[str] = []
    stack: list[object] = [tag]
    while stack:
        node = stack.pop()
        if isinstance(node, str) and not isinstance(node, NavigableString):
            parts.append(node)  # a paragraph break queued at the end of a block
        elif isinstance(node, Tag):
            if node is skip or (node is not tag and node.name in _NO_TEXT):
                continue
            if node.name == "br":
                parts.append("\n")
                continue
            block = node.name in _BLOCKS
            if block:
                parts.append("\n\n")
                stack.append("\n\n")
            stack.extend(reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            parts.append(re.sub(r"\s+", " ", str(node)))
    text = re.sub(r" *\n *", "\n", "".join(parts))
    return re.sub(r"\n{3,}", "\n\n", text).strip()
