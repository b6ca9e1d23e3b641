"""Where each element of an lxml-built BeautifulSoup tree starts in the HTML string.

bs4 keeps ``sourcepos`` only for the ``html.parser`` and ``html5lib`` builders, while lxml is
the parser we want for real-world pages. So the start tags are read a second time with the
standard library's tokenizer (which knows comments and ``<script>``/``<style>`` content), and
the tree's tags are matched to them in document order by name and attributes. lxml invents
some tags (``html``, ``body``, ``tbody``) and may drop broken ones; a tag that finds no match
close ahead gets no position instead of a wrong one, and matching continues from the last hit.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bs4 import Tag

_LOOKAHEAD_WITH_ATTRS = 256
_LOOKAHEAD_BARE = 8

_Fingerprint = tuple[str, frozenset[tuple[str, str]]]


def _norm(value: object) -> str:
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    return " ".join(str(value).split())


class _StartTags(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", html)]
        self.tags: list[tuple[_Fingerprint, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line, col = self.getpos()
        fingerprint = (tag, frozenset((k, _norm(v or "")) for k, v in attrs))
        self.tags.append((fingerprint, self.line_starts[line - 1] + col))


def _fingerprint(tag: Tag) -> _Fingerprint:
    return (tag.name, frozenset((k, _norm(v)) for k, v in tag.attrs.items()))


class Positions:
    """Character offsets of the tree's start tags in the HTML string they were parsed from."""

    def __init__(self, html: str, root: Tag) -> None:
        scanner = _StartTags(html)
        scanner.feed(html)
        scanner.close()
        raw = scanner.tags
        self._offsets: dict[int, int] = {}
        cursor = 0
        for tag in root.find_all(True):
            wanted = _fingerprint(tag)
            ahead = _LOOKAHEAD_WITH_ATTRS if wanted[1] else _LOOKAHEAD_BARE
            for j in range(cursor, min(len(raw), cursor + ahead)):
                if raw[j][0] == wanted:
                    self._offsets[id(tag)] = raw[j][1]
                    cursor = j + 1
                    break

    def offset(self, tag: Tag) -> int | None:
        """Where ``tag``'s start tag begins, or None if it was not in the source as such."""
        return self._offsets.get(id(tag))

    def offset_or_nearest(self, tag: Tag) -> int:
        """The tag's offset, else its nearest positioned ancestor's, else 0: always in range."""
        node: Tag | None = tag
        while node is not None:
            found = self.offset(node)
            if found is not None:
                return found
            node = node.parent
        return 0
