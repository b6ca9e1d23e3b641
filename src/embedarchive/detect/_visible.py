"""Text as a reader sees it, and the blocks it sits in: what "a link alone in its paragraph"
and "the text of a blockquote" mean for the HTML rules.
"""

from __future__ import annotations

import re
from typing import Any

from ._tree import Element, nearest

BLOCKS = frozenset(
    "p div li td th dd dt figure figcaption section article main blockquote center "
    "h1 h2 h3 h4 h5 h6 pre body".split()
)
_NOT_EMBED_BLOCKS = frozenset("li td th dd dt h1 h2 h3 h4 h5 h6".split())
NO_TEXT = frozenset({"script", "style", "template", "noscript", "head", "title"})
_LINE_EDGES = re.compile(r" *\n *")
_BLANK_LINES = re.compile(r"\n{3,}")


#: What ``visible_text`` makes of an element, told without writing it out: the whitespace
#: before its first word and after its last, as (spaces, line breaks), the length of what lies
#: between, how many words that is, and the word when it is one (and not longer than
#: ``_WORD_MAX``). A page's shapes are built from its elements' shapes, each element read once,
#: so asking of every element in a nest of thousands costs no more than asking of the top one.
_Shape = tuple[int, int, int, int, int, int, str | None]
_NOTHING: _Shape = (0, 0, 0, 0, 0, 0, None)
_BREAK: _Shape = (0, 1, 0, 0, 0, 0, None)
_PARAGRAPH: _Shape = (0, 2, 0, 0, 0, 0, None)
_SPACE: _Shape = (1, 0, 0, 0, 0, 0, None)
#: A word longer than this is not kept (a link showing it is not a URL a reader could copy).
_WORD_MAX = 4096


def _piece(text: str) -> _Shape:
    """The shape of ``_one_space(text)``."""
    words = text.split()
    if not words:
        return _SPACE
    core = sum(map(len, words)) + len(words) - 1
    word = words[0] if len(words) == 1 and core <= _WORD_MAX else None
    return (int(text[0].isspace()), 0, core, int(text[-1].isspace()), 0, len(words), word)


def _joined(a: _Shape, b: _Shape) -> _Shape:
    """The shape of ``a``'s text followed by ``b``'s: the whitespace where they meet is one
    run, which ``visible_text`` writes as its spaces, or as its line breaks (two at most)."""
    if not a[5]:
        return (a[0] + b[0], a[1] + b[1], b[2], b[3], b[4], b[5], b[6])
    if not b[5]:
        return (a[0], a[1], a[2], a[3] + b[0], a[4] + b[1], a[5], a[6])
    spaces, breaks = a[3] + b[0], a[4] + b[1]
    if not spaces and not breaks:  # a's last word runs on into b's first
        words = a[5] + b[5] - 1
        word = None
        if words == 1 and a[6] is not None and b[6] is not None:
            word = a[6] + b[6] if len(a[6]) + len(b[6]) <= _WORD_MAX else None
        return (a[0], a[1], a[2] + b[2], b[3], b[4], words, word)
    gap = spaces if not breaks else min(breaks, 2)
    return (a[0], a[1], a[2] + gap + b[2], b[3], b[4], a[5] + b[5], None)


class Texts:
    """How a page's elements read, each element's answer kept: which block it is in, whether
    it is hidden, and the shape of its visible text. In a nest of thousands of links or
    blocks, reading each one's text whole (or walking up from each) is quadratic."""

    def __init__(self) -> None:
        self._shapes: dict[Element, _Shape] = {}
        self._blocks: dict[Element, Element | None] = {}
        self._hidden: dict[Element, bool | None] = {}

    def block_of(self, tag: Element) -> Element:
        """The nearest block holding ``tag`` (itself included), else ``tag``."""
        found = nearest(tag, self._blocks, lambda node: node if node.tag in BLOCKS else None)
        return tag if found is None else found

    def hidden(self, tag: Element) -> bool:
        """Whether ``tag`` is inside an element whose text no reader sees (``NO_TEXT``)."""
        parent = tag.getparent()
        return parent is not None and bool(
            nearest(parent, self._hidden, lambda node: True if node.tag in NO_TEXT else None)
        )

    def shown(self, tag: Element) -> str | None:
        """``visible_text(tag).strip()`` when it is one word or none, else None."""
        if not len(tag) and tag.tag != "br":  # most links: their own text, read at once
            words = tag.text.split() if tag.text else ()
            if not words:
                return ""
            return words[0] if len(words) == 1 and len(words[0]) <= _WORD_MAX else None
        shape = self._shape(tag)
        if shape[5] > 1:
            return None
        return "" if not shape[5] else shape[6]

    def length(self, tag: Element) -> int:
        """``len(visible_text(tag))``."""
        return self._shape(tag)[2]

    def alone_in_block(self, tag: Element, shown: str) -> bool:
        """True when the link is all its paragraph says (an unrendered oEmbed, not a
        citation). List items, table cells and headings that are only a URL are a source
        list or a title, not an embed.
        """
        block = self.block_of(tag)
        if block.tag in _NOT_EMBED_BLOCKS:
            return False
        wanted = shown.split()
        shape = self._shape(block)
        if shape[5] != len(wanted):
            return False
        if shape[5] == 1 and shape[6] is not None:
            return shape[6] == wanted[0]
        return visible_text(block).split() == wanted

    def _shape(self, tag: Element) -> _Shape:
        shapes = self._shapes
        if tag in shapes:
            return shapes[tag]
        # Children before their parent, without recursion (a nest may be 100,000 deep).
        stack: list[tuple[Element, bool]] = [(tag, False)]
        while stack:
            node, ready = stack.pop()
            if ready:
                shapes[node] = self._shape_of(node)
                continue
            stack.append((node, True))
            if node.tag == "br":
                continue
            for child in node:
                name = child.tag
                if name.__class__ is str and name not in NO_TEXT and child not in shapes:
                    stack.append((child, False))
        return shapes[tag]

    def _shape_of(self, node: Element) -> _Shape:
        """Its shape, from its children's (``visible_text`` read one level down)."""
        if node.tag == "br":
            return _BREAK
        shapes = self._shapes
        block = node.tag in BLOCKS
        shape = _PARAGRAPH if block else _NOTHING
        if node.text:
            shape = _joined(shape, _piece(node.text))
        for child in node:
            name = child.tag
            if name.__class__ is str and name not in NO_TEXT:
                shape = _joined(shape, shapes[child])
            tail = child.tail
            if tail:
                shape = _joined(shape, _piece(tail))
        return _joined(shape, _PARAGRAPH) if block else shape


def _one_space(text: str) -> str:
    """``re.sub(r"\\s+", " ", text)`` of a non-empty text (``str.split`` knows the same
    whitespace, and is twice as fast)."""
    words = text.split()
    if not words:
        return " "
    joined = " ".join(words)
    if text[0].isspace():
        joined = " " + joined
    if text[-1].isspace():
        joined += " "
    return joined


def visible_text(tag: Element | None, skip: Element | None = None) -> str:
    """Text as a reader sees it: ``<br>`` is a line break, a paragraph a blank line."""
    if tag is None:
        return ""
    parts: list[str] = []
    # Items: an element to enter, or a string to write as it is. Entered elements are kept
    # (see ``survey``: freeing them one by one is quadratic in a deep nest).
    stack: list[Any] = [tag]
    entered: list[Element] = []
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            parts.append(node)
            continue
        entered.append(node)
        name = node.tag
        if name == "br":
            parts.append("\n")
            continue
        if name in BLOCKS:
            parts.append("\n\n")
            stack.append("\n\n")
        for child in reversed(node):
            tail = child.tail
            if tail:
                stack.append(_one_space(tail))
            child_name = child.tag
            if isinstance(child_name, str) and child is not skip and child_name not in NO_TEXT:
                stack.append(child)
        if node.text:
            stack.append(_one_space(node.text))
    text = _LINE_EDGES.sub("\n", "".join(parts))
    return _BLANK_LINES.sub("\n\n", text).strip()
