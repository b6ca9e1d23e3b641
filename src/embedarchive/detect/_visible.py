"""Text as a reader sees it, and the blocks it sits in: what "a link alone in its paragraph"
and "the text of a blockquote" mean for the HTML rules.
"""

from __future__ import annotations

import re
from typing import Any

from ._tree import Element

BLOCKS = frozenset(
    "p div li td th dd dt figure figcaption section article main blockquote center "
    "h1 h2 h3 h4 h5 h6 pre body".split()
)
_NOT_EMBED_BLOCKS = frozenset("li td th dd dt h1 h2 h3 h4 h5 h6".split())
NO_TEXT = frozenset({"script", "style", "template", "noscript", "head", "title"})
_LINE_EDGES = re.compile(r" *\n *")
_BLANK_LINES = re.compile(r"\n{3,}")


def block_of(tag: Element) -> Element:
    node: Element | None = tag
    while node is not None:
        if node.tag in BLOCKS:
            return node
        node = node.getparent()
    return tag


class Blocks:
    """The blocks links sit in, each one's text read once: a paragraph of a thousand links is
    not read a thousand times."""

    def __init__(self) -> None:
        #: Each block's raw text without whitespace (None when it holds hidden parts).
        self._raw: dict[Element, str | None] = {}
        #: Each block's visible text with single spaces.
        self._visible: dict[Element, str] = {}

    def alone_in_block(self, tag: Element, shown: str) -> bool:
        """True when the link is all its paragraph says (an unrendered oEmbed, not a
        citation). List items, table cells and headings that are only a URL are a source
        list or a title, not an embed.
        """
        block = block_of(tag)
        if block.tag in _NOT_EMBED_BLOCKS:
            return False
        if block not in self._raw:
            # Without hidden parts the block's raw text has the same non-space characters as
            # its visible text: most blocks are paragraphs of prose and fail here at once.
            hidden = next(block.iterdescendants(*NO_TEXT), None) is not None
            self._raw[block] = None if hidden else "".join("".join(block.itertext()).split())
        raw = self._raw[block]
        if raw is not None and raw != "".join(shown.split()):
            return False
        if block not in self._visible:
            self._visible[block] = " ".join(visible_text(block).split())
        return self._visible[block] == " ".join(shown.split())


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
