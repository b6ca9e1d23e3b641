"""Where an element of an lxml-built BeautifulSoup tree starts in the HTML string.

bs4 keeps ``sourcepos`` only for the ``html.parser`` and ``html5lib`` builders, while lxml is
the parser we want for real-world pages. Only the few elements that carry a detection need a
position, so they are looked up on demand: an element that is the *k*-th in the tree with its
name and attributes is the *k*-th start tag in the source with that name and those attributes.
The source is scanned by one regular expression that skips comments and the raw text of
``<script>``/``<style>``/``<textarea>``/``<title>`` (a tag written inside a script string is
not an element) and reads only start tags of the wanted names. lxml invents some tags
(``html``, ``body``, ``tbody``) and may drop broken ones; an element that finds no start tag
gets its nearest positioned ancestor's offset instead of a wrong one.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Sequence

from bs4 import Tag

_Fingerprint = tuple[str, frozenset[tuple[str, str]]]
_RAW_TEXT = ("script", "style", "textarea", "title")
#: A start tag's attributes: quoted values may hold ``>`` (embed code parked in an attribute).
_ATTRS = r"""(?:"[^"]*"|'[^']*'|[^'">])*"""
_ATTR = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""", re.DOTALL)


def _norm(value: object) -> str:
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    return " ".join(str(value).split())


def _fingerprint(tag: Tag) -> _Fingerprint:
    return (tag.name, frozenset((k, _norm(v)) for k, v in tag.attrs.items()))


def _source_fingerprint(name: str, attrs: str) -> _Fingerprint:
    pairs: dict[str, str] = {}
    for m in _ATTR.finditer(attrs):
        key = m.group(1).lower()
        if key not in pairs:  # lxml keeps the first of duplicated attributes
            value = m.group(2) if m.group(2) is not None else m.group(3) or m.group(4) or ""
            pairs[key] = _norm(htmllib.unescape(value))
    return (name.lower(), frozenset(pairs.items()))


class Positions:
    """Character offsets of the tree's start tags in the HTML string they were parsed from."""

    def __init__(self, html: str, tags: Sequence[Tag]) -> None:
        self._html = html
        self._tags = tags
        self._offsets: dict[int, int | None] = {}
        self._scanned: dict[str, list[tuple[_Fingerprint, int]]] = {}
        self._tree: dict[str, list[tuple[_Fingerprint, Tag]]] = {}

    def _scan(self, name: str) -> list[tuple[_Fingerprint, int]]:
        """Every start tag called ``name`` in the source, in order, with its fingerprint."""
        if name not in self._scanned:
            raw = "|".join(_RAW_TEXT)
            pattern = re.compile(
                r"<!--.*?(?:-->|\Z)"
                rf"|<(?P<raw>{raw})\b(?P<rawattrs>{_ATTRS})>.*?(?:</(?P=raw)\s*>|\Z)"
                rf"|<(?P<name>{re.escape(name)})(?=[\s/>])(?P<attrs>{_ATTRS})>",
                re.IGNORECASE | re.DOTALL,
            )
            found = []
            for m in pattern.finditer(self._html):
                if m.group("name"):
                    found.append((_source_fingerprint(name, m.group("attrs")), m.start()))
                elif m.group("raw") and m.group("raw").lower() == name:
                    found.append((_source_fingerprint(name, m.group("rawattrs")), m.start()))
            self._scanned[name] = found
        return self._scanned[name]

    def offset(self, tag: Tag) -> int | None:
        """Where ``tag``'s start tag begins, or None if it was not in the source as such."""
        key = id(tag)
        if key not in self._offsets:
            if tag.name not in self._tree:
                self._tree[tag.name] = [
                    (_fingerprint(t), t) for t in self._tags if t.name == tag.name
                ]
            wanted = _fingerprint(tag)
            same = [t for fp, t in self._tree[tag.name] if fp == wanted]
            rank = next((i for i, t in enumerate(same) if t is tag), None)
            source = [offset for fp, offset in self._scan(tag.name) if fp == wanted]
            self._offsets[key] = source[rank] if rank is not None and rank < len(source) else None
        return self._offsets[key]

    def offset_or_nearest(self, tag: Tag) -> int:
        """The tag's offset, else its nearest positioned ancestor's, else 0: always in range."""
        node: Tag | None = tag
        while node is not None:
            found = self.offset(node)
            if found is not None:
                return found
            node = node.parent
        return 0
