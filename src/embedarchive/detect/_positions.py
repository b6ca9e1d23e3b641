"""Where an element of the lxml tree starts in the HTML string.

libxml2 keeps no character offsets, and only the few elements that carry a detection need one,
so they are looked up on demand: an element that is the *k*-th in the tree with its name and
attributes is the *k*-th start tag in the source with that name and those attributes. The
source is read left to right the way one regular expression would: a comment, or the raw text
of ``<script>``/``<style>``/``<textarea>``/``<title>`` (a tag written inside a script string is
not an element), is skipped whole, and a start tag of the wanted name is read whole (so a
``<!--`` inside one of its attribute values starts nothing). Only the places where one of these
can start are visited (found by a search for ``<``), and an attribute list is only decoded
when it could hold the wanted values. lxml invents some tags (``html``, ``body``, ``tbody``)
and may drop broken ones; an element that finds no start tag gets its nearest positioned
ancestor's offset instead of a wrong one. Ranks, and how far the source has been read for
each fingerprint, are kept, so a page of thousands of embeds is read once, not once for each.
"""

from __future__ import annotations

import functools
import html as htmllib
import re
from bisect import bisect_left
from collections.abc import Iterator

from ._tree import Element, items

_Fingerprint = tuple[str, frozenset[tuple[str, str]]]
_Special = tuple[int, int | None, str | None, str | None]
_RAW_TEXT = ("script", "style", "textarea", "title")
#: A start tag's attributes: quoted values may hold ``>`` (embed code parked in an attribute).
_ATTRS = r"""(?:"[^"]*"|'[^']*'|[^'">])*"""
_ATTR = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""", re.DOTALL)
#: The lookahead (every first letter those names can match case-insensitively, ``ſ`` too) turns
#: away most ``<`` with one test.
_SPECIAL = re.compile(r"<(?=[!sStT\u017f])(?:!--|(?i:script|style|textarea|title)\b)")
_RAW_START = re.compile(rf"<(?P<raw>(?i:script|style|textarea|title))\b(?P<attrs>{_ATTRS})>")
_RAW_END = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in _RAW_TEXT}
#: Different fingerprints of one name asked for before its start tags are indexed.
_INDEX_AFTER = 8
_SAFE_NAME = re.compile(r"[A-Za-z_][\w.:-]*")
_BOOLEAN_VALUE = frozenset(
    "checked compact declare defer disabled ismap multiple nohref noresize noshade nowrap "
    "readonly selected".split()
)


def _norm(value: object) -> str:
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    return " ".join(str(value).split())


def _fingerprint(tag: Element) -> _Fingerprint:
    return (tag.tag, frozenset((k, _norm(v)) for k, v in items(tag)))


def _source_fingerprint(name: str, attrs: str) -> _Fingerprint:
    pairs: dict[str, str] = {}
    for m in _ATTR.finditer(attrs):
        key = m.group(1).lower()
        if key not in pairs:  # lxml keeps the first of duplicated attributes
            value = m.group(2) if m.group(2) is not None else m.group(3) or m.group(4) or ""
            value = _norm(htmllib.unescape(value))
            pairs[key] = "" if key in _BOOLEAN_VALUE and value == key else value
    return (name.lower(), frozenset(pairs.items()))


def _probe(wanted: _Fingerprint) -> str | None:
    """A value a start tag's raw attributes must contain (unless they hold an entity)."""
    # Normalised values: a single space is the only whitespace they can hold.
    values = [v for _, v in wanted[1] if v and " " not in v]
    return max(values, key=len) if values else None


@functools.lru_cache(maxsize=256)
def _tag_patterns(name: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Where a start tag called ``name`` begins, and the whole tag with its attributes."""
    escaped = re.escape(name)
    return re.compile(rf"<(?i:{escaped})(?=[\s/>])"), re.compile(rf"<(?i:{escaped})({_ATTRS})>")


class _Specials:
    """The places a comment or raw-text element may start, read as far as asked (shared by
    every name's reader; held apart from ``Positions`` so that its readers, which hold this,
    make no reference cycle: a page's proxies are then freed when the page is done, not by a
    later collection in whatever order it takes)."""

    def __init__(self, html: str) -> None:
        self._html = html
        self._found: list[_Special] = []
        self._reader = _SPECIAL.finditer(html)

    def __call__(self, i: int) -> _Special | None:
        """The ``i``-th (start, end or None when none starts there, raw element name, its
        attributes)."""
        while len(self._found) <= i:
            m = next(self._reader, None)
            if m is None:
                return None
            self._found.append(self._at(m.start()))
        return self._found[i]

    def _at(self, pos: int) -> _Special:
        html = self._html
        if html.startswith("<!--", pos):
            end = html.find("-->", pos + 4)
            return pos, len(html) if end < 0 else end + 3, None, None
        raw = _RAW_START.match(html, pos)
        if raw is None:
            return pos, None, None, None
        name = raw.group("raw").lower()
        close = _RAW_END[name].search(html, raw.end())
        return pos, close.end() if close else len(html), name, raw.group("attrs")


def _read(html: str, name: str, special: _Specials) -> Iterator[tuple[int, str]]:
    """The start tags called ``name`` in the source, in order, with their raw attributes."""
    starts, tag = _tag_patterns(name)
    i = 0
    cursor = 0
    for m in starts.finditer(html):
        pos = m.start()
        # Comments and raw text starting before this tag, in order, may swallow it.
        while (found := special(i)) is not None and found[0] <= pos:
            start, end, raw, attrs = found
            i += 1
            if start < cursor or end is None:
                continue
            if raw == name and attrs is not None:
                yield start, attrs
            cursor = end
        if pos < cursor:
            continue
        whole = tag.match(html, pos)
        if whole is not None:
            yield pos, whole.group(1)
            cursor = whole.end()
    while (found := special(i)) is not None:
        start, end, raw, attrs = found
        i += 1
        if start >= cursor and end is not None:
            if raw == name and attrs is not None:
                yield start, attrs
            cursor = end


class Positions:
    """Character offsets of the tree's start tags in the HTML string they were parsed from."""

    def __init__(self, html: str, root: Element) -> None:
        self._html = html
        self._root = root
        self._offsets: dict[Element, int | None] = {}
        self._specials = _Specials(html)
        self._readers: dict[str, Iterator[tuple[int, str]]] = {}
        #: Each name's start tags read so far: (offset, raw attributes).
        self._source: dict[str, list[tuple[int, str]]] = {}
        self._by_value: dict[tuple[str, str], dict[str, list[Element]]] = {}
        #: Each element's rank among the tree's elements with its fingerprint.
        self._ranks: dict[Element, int] = {}
        #: Per fingerprint: where its start tags are, as far as the source has been read for
        #: it, and how many start tags of its name that reading has passed.
        self._found: dict[_Fingerprint, tuple[list[int], int]] = {}
        self._asked: dict[str, set[_Fingerprint]] = {}
        self._indexes: dict[str, dict[str, list[int]]] = {}

    def _start_tag(self, name: str, i: int) -> tuple[int, str] | None:
        """The ``i``-th start tag called ``name`` in the source with its raw attributes (None
        past the last); read as far as asked and kept in ``_source``."""
        if name not in self._readers:
            self._readers[name] = _read(self._html, name, self._specials)
            self._source[name] = []
        seen = self._source[name]
        while len(seen) <= i:
            found = next(self._readers[name], None)
            if found is None:
                return None
            seen.append(found)
        return seen[i]

    def offset(self, tag: Element) -> int | None:
        """Where ``tag``'s start tag begins, or None if it was not in the source as such."""
        if tag in self._offsets:
            return self._offsets[tag]
        name = str(tag.tag)
        wanted = _fingerprint(tag)
        rank = self._rank(tag, name, wanted)
        # Each fingerprint's start tags are read once, however many elements ask (a page of
        # a thousand identical embeds is not read a thousand times from the top).
        positions, passed = self._found.get(wanted, ([], 0))
        if len(positions) <= rank:
            for i in self._candidates(name, wanted, passed):
                passed = i + 1
                pos, attrs = self._source[name][i]
                if _source_fingerprint(name, attrs) == wanted:
                    positions.append(pos)
                    if len(positions) > rank:
                        break
            else:
                passed = len(self._source[name])
            self._found[wanted] = (positions, passed)
        found = positions[rank] if rank < len(positions) else None
        self._offsets[tag] = found
        return found

    def _candidates(self, name: str, wanted: _Fingerprint, start: int) -> Iterator[int]:
        """The start tags called ``name`` from the ``start``-th on that may have the ``wanted``
        fingerprint, by their place among those tags: those holding its probe value (or an
        entity that may spell it). Looked up in an index of the tags' values once many
        fingerprints of the name have been asked for (a page of a thousand different links
        is not read a thousand times from the top), else read in order."""
        probe = _probe(wanted)
        asked = self._asked.setdefault(name, set())
        asked.add(wanted)
        if probe is not None and len(asked) > _INDEX_AFTER:
            places = self._index(name).get(probe, [])
            for k in range(bisect_left(places, start), len(places)):
                yield places[k]
            return
        i = start
        while (source := self._start_tag(name, i)) is not None:
            attrs = source[1]
            if probe is None or probe in attrs or "&" in attrs:
                yield i
            i += 1

    def _index(self, name: str) -> dict[str, list[int]]:
        """Every start tag called ``name``, by its place among them, under each attribute value
        it holds (entities decoded, stripped): where a fingerprint's probe can be."""
        if name not in self._indexes:
            values: dict[str, list[int]] = {}
            i = 0
            while (source := self._start_tag(name, i)) is not None:
                for m in _ATTR.finditer(source[1]):
                    raw = m.group(2) if m.group(2) is not None else m.group(3) or m.group(4) or ""
                    value = (htmllib.unescape(raw) if "&" in raw else raw).strip()
                    places = values.setdefault(value, [])
                    if not places or places[-1] != i:
                        places.append(i)
                i += 1
            self._indexes[name] = values
        return self._indexes[name]

    def _rank(self, tag: Element, name: str, wanted: _Fingerprint) -> int:
        """How many elements before ``tag`` have its fingerprint. They all share its name and
        its longest attribute value, so only that group is fingerprinted, once."""
        if tag not in self._ranks:
            seen: dict[_Fingerprint, int] = {}
            for el in self._same_name_and_value(name, wanted):
                fingerprint = _fingerprint(el)
                self._ranks.setdefault(el, seen.get(fingerprint, 0))
                seen[fingerprint] = seen.get(fingerprint, 0) + 1
        return self._ranks.get(tag, 0)

    def _same_name_and_value(self, name: str, wanted: _Fingerprint) -> list[Element]:
        """The elements called ``name`` with, when ``wanted`` has one, its longest attribute
        value (the only ones that can have its fingerprint), in document order."""
        key, value = max(wanted[1], key=lambda kv: len(kv[1]), default=("", ""))
        if not value or not _SAFE_NAME.fullmatch(key):
            key, value = "", ""
        if (name, key) not in self._by_value:
            index: dict[str, list[Element]] = {}
            for el in _named(self._root, name):
                raw = el.get(key) if key else ""
                if raw is not None:
                    index.setdefault(_norm(raw) if key else "", []).append(el)
            self._by_value[(name, key)] = index
        return self._by_value[(name, key)].get(value, [])

    def written(self, tag: Element, name: str) -> str | None:
        """The value of attribute ``name`` in ``tag``'s start tag in the source ("" when it is
        written without one), or None when the tag or the attribute is not found there."""
        start = self.offset(tag)
        if start is None:
            return None
        m = _tag_patterns(str(tag.tag))[1].match(self._html, start)
        for a in _ATTR.finditer(m.group(1) if m else ""):
            if a.group(1).lower() == name:
                found = a.group(2) if a.group(2) is not None else a.group(3) or a.group(4) or ""
                return htmllib.unescape(found)
        return None

    def offset_or_nearest(self, tag: Element) -> int:
        """The tag's offset, else its nearest positioned ancestor's, else 0: always in range."""
        node: Element | None = tag
        while node is not None:
            found = self.offset(node)
            if found is not None:
                return found
            node = node.getparent()
        return 0


def _named(root: Element, name: str) -> list[Element]:
    """The tree's elements called ``name`` (which may hold characters lxml refuses to look up),
    as a list (see ``_tree``: elements are kept, not freed one by one)."""
    try:
        return list(root.iter(name))
    except ValueError:
        return [el for el in list(root.iter()) if el.tag == name]
