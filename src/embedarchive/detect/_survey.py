"""One walk over the page that picks out what the rules will read, so no rule walks it again.

A page has about a thousand elements and as many texts, of which a few dozen can matter: the
elements with an embed class, with a ``data-*`` or id attribute (placeholders, parked embed
code), the frames, the links, and the texts that could hold a URL. Everything is kept in
document order, as the rules read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..platforms.base import Platform
from ._tree import Element
from ._visible import NO_TEXT

#: Script types that hold HTML (templates), not code.
TEMPLATE_TYPES = re.compile(r"text/(?:template|html|x-template|x-tmpl|plain|x-handlebars)", re.I)
FRAMES = frozenset({"iframe", "amp-iframe", "frame", "embed", "object"})
NOT_PLACEHOLDERS = frozenset({"a", "link", "meta", "base", "form", "area", "html", "body"})
#: Attributes that carry a bare id on a wrapper that names its platform.
NAMED_ID_ATTRS = (
    "data-id",
    "data-video-id",
    "data-videoid",
    "videoid",
    "data-embed-id",
    "data-shortcode",
    "data-media-id",
)


@dataclass
class Survey:
    #: Elements with an embed class, and the platform of the first such class.
    classed: list[tuple[Element, Platform]] = field(default_factory=list)
    #: Frames, and elements with an embed-id attribute or a ``data-*`` one that may hold a
    #: post URL or a platform's id (the others cannot name a post).
    placeholders: list[Element] = field(default_factory=list)
    #: ``<textarea>``, template ``<script>`` and elements with a ``data-*`` value holding ``<``.
    coded: list[Element] = field(default_factory=list)
    #: ``<a href>`` elements.
    links: list[Element] = field(default_factory=list)
    #: Texts with a ``/`` or ``:`` (every URL has one), with the element they are in.
    texts: list[tuple[Element, str]] = field(default_factory=list)


def survey(walks: list[Element], registry: tuple[Platform, ...]) -> Survey:
    """What the rules read in the subtrees ``walks`` (disjoint, in document order)."""
    found = Survey()
    by_class = {c: p for p in registry for c in p.embed_classes}
    dashed = all("-" in c for c in by_class)
    id_attrs = frozenset({a for p in registry for a in p.embed_id_attrs} | set(NAMED_ID_ATTRS))
    silent = NO_TEXT | {"a"}  # texts the bare-URL rule never reads
    classed, placeholders, coded = found.classed, found.placeholders, found.coded
    # Each text with its place in document order: an element's text comes where it starts,
    # its tail after its last descendant.
    texts: list[tuple[float, Element, str]] = []
    tails: list[tuple[int, Element]] = []
    index = 0
    # Kept in a list: lxml frees an element's proxy by walking up to the nearest element that
    # still has one, which makes a walk down a 100,000-deep nest quadratic otherwise.
    nodes = [node for top in walks for node in top.iter()]
    for el in nodes:
        index += 1
        tail = el.tail
        if tail is not None and ("/" in tail or ":" in tail):
            tails.append((index, el))
        tag = el.tag
        if tag.__class__ is not str:
            continue
        if tag not in silent:
            text = el.text
            if text is not None and ("/" in text or ":" in text):
                texts.append((index, el, text))
        elif tag == "a":
            if el.get("href") is not None:
                found.links.append(el)
        elif tag == "script" and TEMPLATE_TYPES.match(el.get("type") or ""):
            coded.append(el)
        if tag == "textarea":
            coded.append(el)
        names = el.keys()
        if not names:
            continue
        placeholder = tag in FRAMES
        code = False
        for name in names:
            if name[:5] == "data-":
                value = el.get(name)
                # A post URL (a dot or a colon), or a platform's id: ``data-youtube-id``.
                if "." in value or ":" in value or name[-2:] == "id" or name in id_attrs:
                    placeholder = True
                code = code or "<" in value
            elif name == "class":
                if by_class:
                    value = el.get(name)
                    if not dashed or "-" in value:
                        platform = next((by_class[c] for c in value.split() if c in by_class), None)
                        if platform is not None:
                            classed.append((el, platform))
            elif name in id_attrs:
                placeholder = True
        if placeholder and tag not in NOT_PLACEHOLDERS:
            placeholders.append(el)
        if code and tag != "script" and tag != "textarea":
            coded.append(el)
    for start, el in tails:
        parent = el.getparent()
        if parent is not None:
            texts.append((start + len(list(el.iter())) - 0.5, parent, el.tail or ""))
    texts.sort(key=lambda t: t[0])
    found.texts = [(parent, text) for _, parent, text in texts]
    return found
