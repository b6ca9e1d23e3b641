"""One walk over the page that picks out what the rules will read, so no rule walks it again.

A page has about a thousand elements and as many texts, of which a few dozen can matter: the
elements with an embed class, with a ``data-*`` or id attribute (placeholders, parked embed
code), the frames, blockquotes and AMP elements, the links that may be URLs, and the texts
that may be a bare URL. Everything is kept in document order, as the rules read it.
What only depends on the registry is worked out once per registry (``_markers``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from lxml import etree

from ..platforms.base import Platform
from ._links import URLISH, may_be_url
from ._scope import Scope
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
#: Elements whose own text the bare-URL rule never reads.
_SILENT = NO_TEXT | {"a"}


@dataclass
class Survey:
    #: Elements with an embed class, and the platform of the first such class.
    classed: list[tuple[Element, Platform]] = field(default_factory=list)
    #: Frames, and elements with an embed-id attribute or a ``data-*`` one that may hold a
    #: post URL or a platform's id (the others cannot name a post).
    placeholders: list[Element] = field(default_factory=list)
    #: ``<textarea>``, template ``<script>`` and elements with a ``data-*`` value holding ``<``.
    coded: list[Element] = field(default_factory=list)
    #: ``<a href>`` elements whose ``href`` may be a URL.
    links: list[Element] = field(default_factory=list)
    #: Blockquotes, and elements named like one of the registry's AMP markers.
    quotes: list[Element] = field(default_factory=list)
    amps: list[Element] = field(default_factory=list)
    #: Texts that are one word and may be a URL (what a bare URL alone in its block is), with
    #: the element they are in, unless that is a link or holds no visible text.
    texts: list[tuple[Element, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Markers:
    """What the survey looks for, from the registry: read once per registry, not per page."""

    #: Embed class → its platform (the last one naming it, as a dict built in order keeps).
    by_class: dict[str, Platform]
    #: Whether every embed class has a ``-`` (a class value without one names none).
    dashed: bool
    #: Attributes whose presence makes a placeholder (``class`` is only ever an embed class),
    #: and those of them not named ``data-…``.
    id_attrs: frozenset[str]
    plain_id_attrs: tuple[str, ...]
    amp_tags: frozenset[str]


@functools.lru_cache(maxsize=16)
def _markers(registry: tuple[Platform, ...]) -> _Markers:
    by_class = {c: p for p in registry for c in p.embed_classes}
    id_attrs = frozenset({a for p in registry for a in p.embed_id_attrs} | set(NAMED_ID_ATTRS))
    id_attrs -= {"class"}
    return _Markers(
        by_class=by_class,
        dashed=all("-" in c for c in by_class),
        id_attrs=id_attrs,
        plain_id_attrs=tuple(sorted(a for a in id_attrs if a[:5] != "data-")),
        amp_tags=frozenset(m.tag for p in registry for m in p.amp_markers),
    )


def _bare_url(text: str) -> bool:
    """Whether a text is one word that may be a URL."""
    return len(text.split()) == 1 and URLISH.search(text) is not None


def survey(
    walks: list[Element], registry: tuple[Platform, ...], scope: Scope | None = None
) -> Survey:
    """What the rules read in the subtrees ``walks`` (disjoint, in document order), leaving
    out the site chrome ``scope`` names (a third of a page, which no rule would take)."""
    found = Survey()
    markers = _markers(registry)
    by_class, dashed, id_attrs = markers.by_class, markers.dashed, markers.id_attrs
    plain_id_attrs = markers.plain_id_attrs
    classes, amp_tags = by_class.keys(), markers.amp_tags
    classed, placeholders, coded = found.classed, found.placeholders, found.coded
    links, quotes, amps = found.links, found.quotes, found.amps
    # Each text with its place in document order: an element's text comes where it starts,
    # its tail where the node after its last descendant starts (waited for by that node).
    texts: list[tuple[float, Element, str]] = []
    waiting: dict[Element, list[Element]] = {}
    index = 0
    for top in walks:
        after: dict[Element, Element | None] = {}
        at_end: list[Element] = []
        # iterwalk holds the open elements, so each one it lets go of is freed at once: lxml
        # frees an element's proxy by walking up to the nearest element that still has one,
        # which makes a walk down a 100,000-deep nest quadratic otherwise. Nothing else is
        # kept, so the garbage collector is not woken up by twenty thousand live proxies.
        walker = etree.iterwalk(top, events=("start", "comment", "pi"))
        for _, el in walker:
            index += 1
            if waiting and el in waiting:
                for before in waiting.pop(el):
                    _add_tail(texts, index - 0.5, before)
            # Every URL has a "/" or a ":", which most texts lack: that test first.
            tail = el.tail
            if tail is not None and ("/" in tail or ":" in tail) and _bare_url(tail):
                following = _next_after(el, top, after)
                if following is None:
                    at_end.append(el)
                else:
                    waiting.setdefault(following, []).append(el)
            tag = el.tag
            if tag.__class__ is not str:
                continue
            names = el.keys()
            if (
                scope is not None
                and (tag == "header" or scope.is_chrome_element(el, names))
                and scope.leaves_out(el)
            ):
                # Site chrome: nothing in it is content, so nothing in it is read.
                walker.skip_subtree()
                continue
            if tag not in _SILENT:
                text = el.text
                if text is not None and ("/" in text or ":" in text) and _bare_url(text):
                    texts.append((index, el, text))
                if tag == "blockquote":
                    quotes.append(el)
            elif tag == "a":
                href = el.get("href")
                if href is not None and may_be_url(href):
                    links.append(el)
            elif tag == "script" and TEMPLATE_TYPES.match(el.get("type") or ""):
                coded.append(el)
            if tag == "textarea":
                coded.append(el)
            if tag in amp_tags:
                amps.append(el)
            if not names:
                continue
            if by_class and "class" in names:
                value = el.get("class")
                if not dashed or "-" in value:
                    words = value.split()
                    if not classes.isdisjoint(words):
                        classed.append((el, next(by_class[c] for c in words if c in by_class)))
            placeholder = tag in FRAMES
            code = False
            if "data-" in " ".join(names):  # one test for the many elements without any
                for name in names:
                    if name[:5] == "data-":
                        value = el.get(name)
                        # A post URL (a dot or a colon), or a platform's id: ``data-youtube-id``.
                        if "." in value or ":" in value or name[-2:] == "id" or name in id_attrs:
                            placeholder = True
                        code = code or "<" in value
            # Looked for in the list: a set would hash every attribute name of every element.
            for name in plain_id_attrs:
                if name in names:
                    placeholder = True
            if placeholder and tag not in NOT_PLACEHOLDERS:
                placeholders.append(el)
            if code and tag != "script" and tag != "textarea":
                coded.append(el)
        for el in at_end:
            _add_tail(texts, index + 0.5, el)
    texts.sort(key=lambda t: t[0])
    found.texts = [(parent, text) for _, parent, text in texts]
    return found


def _add_tail(texts: list[tuple[float, Element, str]], place: float, el: Element) -> None:
    parent = el.getparent()
    if parent is not None and parent.tag not in _SILENT:
        texts.append((place, parent, el.tail or ""))


def _next_after(el: Element, top: Element, known: dict[Element, Element | None]) -> Element | None:
    """The first node after ``el`` and all it holds, inside ``top`` (None: none is). The
    answers on the way up are kept: in a nest, each level would walk up again."""
    path: list[Element] = []
    node: Element | None = el
    found: Element | None = None
    while node is not None and node is not top:
        if node in known:
            found = known[node]
            break
        found = node.getnext()
        if found is not None:
            break
        path.append(node)
        node = node.getparent()
    known.update(dict.fromkeys(path, found))
    return found
