"""Text as a reader sees it, and the blocks it sits in: what "a link alone in its paragraph"
and "the text of a blockquote" mean for the HTML rules.
"""

from __future__ import annotations

import re

from bs4 import NavigableString, Tag
from bs4.element import PreformattedString

BLOCKS = frozenset(
    "p div li td th dd dt figure figcaption section article main blockquote center "
    "h1 h2 h3 h4 h5 h6 pre body".split()
)
_NOT_EMBED_BLOCKS = frozenset("li td th dd dt h1 h2 h3 h4 h5 h6".split())
NO_TEXT = frozenset({"script", "style", "template", "noscript", "head", "title"})


def block_of(tag: Tag) -> Tag:
    for node in [tag, *tag.parents]:
        if node.name in BLOCKS:
            return node
    return tag


def alone_in_block(tag: Tag, shown: str) -> bool:
    """True when the link is all its paragraph says (an unrendered oEmbed, not a citation).

    List items, table cells and headings that are only a URL are a source list or a title,
    not an embed.
    """
    block = block_of(tag)
    if block.name in _NOT_EMBED_BLOCKS:
        return False
    return " ".join(visible_text(block).split()) == " ".join(shown.split())


def visible_text(tag: Tag | None, skip: Tag | None = None) -> str:
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
            if node is skip or (node is not tag and node.name in NO_TEXT):
                continue
            if node.name == "br":
                parts.append("\n")
                continue
            block = node.name in BLOCKS
            if block:
                parts.append("\n\n")
                stack.append("\n\n")
            stack.extend(reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            parts.append(re.sub(r"\s+", " ", str(node)))
    text = re.sub(r" *\n *", "\n", "".join(parts))
    return re.sub(r"\n{3,}", "\n\n", text).strip()
