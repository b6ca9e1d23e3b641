"""The parsed page: lxml's HTML tree, read the way the rules were first written against it
through BeautifulSoup (whose ``lxml`` builder receives the same parser events), so every rule
sees the same attribute values and text and prints the same snippet, at C speed.

What BeautifulSoup adds on top of lxml, and is kept here:

* multi-valued attributes (``class``, ``rel``…) are lists of their whitespace-separated words;
* a string of nothing but ASCII whitespace is one space (one newline if it has one), outside
  ``<pre>``/``<textarea>``; an empty comment is one space;
* ``get_text`` skips the text of ``<script>``, ``<style>``, ``<template>``, ``<rt>``, ``<rp>``;
* ``str(tag)`` sorts attributes, closes void elements with ``/>``, escapes ``&<>`` outside
  ``<script>``/``<style>`` and writes a ``<meta>`` charset as ``utf-8``.

libxml2's tree builder stops at 2,048 levels of nesting (a hostile page); the tree is then built
from the parser's events instead, which have no such limit. In such a tree one more thing
matters: when lxml frees the Python object of an element it walks up to the nearest ancestor
that still has one, so visiting a deep nest while dropping each element behind is quadratic.
The walks here keep what they visit in a list (``list(root.iter(…))``), which makes them linear.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeAlias

from lxml import etree

Element: TypeAlias = etree._Element
#: The value an attribute of an element has in the source (see ``markup``).
Written = Callable[[Element, str], str | None]
Value = str | list[str]

#: HTML's boolean attributes: libxml2's tree stores ``defer`` as ``defer="defer"``, its events
#: (and so BeautifulSoup) as ``defer=""``.
_BOOLEAN = frozenset(
    "checked compact declare defer disabled ismap multiple nohref noresize noshade nowrap "
    "readonly selected".split()
)
_LIST_ANY = frozenset({"class", "accesskey", "dropzone"})
_LIST_BY_TAG = {
    "a": {"rel", "rev"},
    "link": {"rel", "rev"},
    "td": {"headers"},
    "th": {"headers"},
    "form": {"accept-charset"},
    "object": {"archive"},
    "area": {"rel"},
    "icon": {"sizes"},
    "iframe": {"sandbox"},
    "output": {"for"},
}
_VOID = frozenset(
    "area base br col embed hr img input keygen link menuitem meta param source track wbr "
    "basefont bgsound command frame image isindex nextid spacer".split()
)
#: Tags whose strings BeautifulSoup types apart (``Script``, ``TemplateString``…).
STRING_CONTAINERS = ("rt", "rp", "style", "script", "template")
_ASCII_SPACE = " \n\t\x0c\r"
WORDS = re.compile(r"\S+")
_CHARSET_IN_CONTENT = re.compile(r"((^|;)\s*charset=)([^;]*)", re.M)
_NAME = re.compile(r"[^\W\d][\w.-]*")
#: Characters an lxml tree cannot hold (XML 1.0's excluded ones).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def utf8(html: str) -> bytes:
    """The document as the parser reads it (a lone surrogate is replaced by the parser)."""
    return html.encode("utf-8", "surrogatepass")


def parse(data: bytes, keep: list[Element] | None = None) -> Element | None:
    """The root element of a UTF-8 document (None for an empty document).

    ``keep``: when the tree has to be built from the parser's events (a nest deeper than
    libxml2 builds), its elements are added to it in document order, for the caller to hold
    until it is done with the tree. Whatever else it kept is then let go of while these are
    still held, and the list itself lets go from its end, deepest first: each proxy is freed at
    once, instead of walking up a nest of thousands to the nearest one still alive.
    """
    parser = etree.HTMLParser(encoding="utf-8", collect_ids=False, huge_tree=True, no_network=True)
    root = etree.fromstring(data, parser)
    if root is not None and parser.error_log.filter_from_fatals():
        return _parse_from_events(data, root, keep)
    return root


class _Builder:
    """Parser events to a tree, for what libxml2's own builder refuses (too deep). Names and
    characters lxml cannot hold are replaced; an event it still refuses is left out."""

    def __init__(self, keep: list[Element]) -> None:
        self._builder = etree.TreeBuilder()
        self._open: list[str | None] = []
        self._keep = keep

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = tag if _NAME.fullmatch(tag) else "_" + re.sub(r"[^\w.-]", "_", tag)
        attrs = {k: _NOT_XML.sub("\ufffd", v) for k, v in attrib.items() if _NAME.fullmatch(k)}
        try:
            self._keep.append(self._builder.start(name, attrs))
        except ValueError:
            self._open.append(None)
            return
        self._open.append(name)

    def end(self, tag: str) -> None:
        name = self._open.pop()
        if name is not None:
            self._builder.end(name)

    def data(self, data: str) -> None:
        self._builder.data(_NOT_XML.sub("\ufffd", data))

    def comment(self, text: str) -> None:
        try:
            self._builder.comment(_NOT_XML.sub("\ufffd", text))
        except ValueError:
            pass

    def close(self) -> Element | None:
        while self._open:
            self.end("")
        root: Element | None = self._builder.close()
        return root


def _parse_from_events(data: bytes, fallback: Element, keep: list[Element] | None) -> Element:
    builder = _Builder([] if keep is None else keep)
    parser = etree.HTMLParser(target=builder, encoding="utf-8", no_network=True)
    try:
        parser.feed(data)
        root: Element | None = parser.close()
    except etree.LxmlError:
        try:
            root = builder.close()
        except (etree.LxmlError, AssertionError, ValueError):
            root = None
    return fallback if root is None else root


def is_element(node: Any) -> bool:
    return isinstance(node.tag, str)


def value(el: Element, name: str) -> Value | None:
    """``tag.get(name)`` as BeautifulSoup returns it: a list for ``class`` and its kind."""
    raw = el.get(name)
    if raw is None:
        return None
    if name in _LIST_ANY or name in _LIST_BY_TAG.get(el.tag, ()):
        return WORDS.findall(raw)
    if name in _BOOLEAN and raw == name:
        return ""
    return raw


def text_value(el: Element, name: str) -> str | None:
    """A single-valued attribute (None when absent or a word list)."""
    found = value(el, name)
    return found if isinstance(found, str) else None


def words(el: Element, name: str) -> list[str]:
    """``tag.get_attribute_list(name)``."""
    found = value(el, name)
    return [] if found is None else found if isinstance(found, list) else [found]


def items(el: Element) -> list[tuple[str, Value]]:
    """``tag.attrs.items()``, in source order."""
    listed = _LIST_BY_TAG.get(el.tag, ())
    out: list[tuple[str, Value]] = []
    for name, raw in el.items():
        if name in _LIST_ANY or name in listed:
            out.append((name, WORDS.findall(raw)))
        elif name in _BOOLEAN and raw == name:
            out.append((name, ""))
        else:
            out.append((name, raw))
    return out


def in_container(el: Element) -> bool:
    """Whether the element sits inside a tag whose strings BeautifulSoup types apart."""
    return next(el.iterancestors(*STRING_CONTAINERS), None) is not None


def nearest(tag: Element, known: dict[Element, Any], own: Callable[[Element], Any]) -> Any:
    """``own(node)`` of the nearest of ``tag`` and its ancestors for which it is not None
    (None if there is none), each answer on the way kept in ``known``."""
    path: list[Element] = []
    node: Element | None = tag
    found = None
    while node is not None:
        if node in known:
            found = known[node]
            break
        found = own(node)
        if found is not None:
            known[node] = found
            break
        path.append(node)
        node = node.getparent()
    for visited in path:
        known[visited] = found
    return found


def plain_strings(el: Element) -> Iterator[str]:
    """The strings of ``el`` that ``get_text`` reads: none of a comment, and only those typed
    as ``el``'s own are (plain ones, or for a ``<template>`` those of the innermost
    template…): the text of a nested ``<script>``/``<style>``/``<template>``/``<rt>``/``<rp>``
    is typed apart by BeautifulSoup."""
    if next(el.iterdescendants(*STRING_CONTAINERS), None) is None:
        yield from el.itertext()
        return
    wanted = el.tag if el.tag in STRING_CONTAINERS else None
    # Items: (element, the innermost string container it is in), or a string to give.
    stack: list[Any] = [(el, wanted)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
            continue
        node, inner = item
        if node.text and inner == wanted:
            yield node.text
        for child in reversed(node):
            if child.tail and inner == wanted:
                stack.append(child.tail)
            if is_element(child):
                stack.append((child, child.tag if child.tag in STRING_CONTAINERS else inner))


def raw_text(el: Element, contained: bool | None = None) -> str:
    """``tag.get_text()`` of a ``<script>`` or ``<textarea>``: the raw text it holds (a
    textarea inside a ``<template>`` holds template text, which ``get_text`` skips).
    ``contained``: ``in_container(el)``, when the caller keeps the answers."""
    if el.tag != "script" and (in_container(el) if contained is None else contained):
        return ""
    text = el.text or "" if el.tag == "script" else "".join(plain_strings(el))
    return _bs4_string(text, el.tag != "script") if text else ""


def stripped_text_length(el: Element) -> int:
    """``len(tag.get_text(" ", strip=True))``."""
    if el.tag not in STRING_CONTAINERS and in_container(el):
        return 0
    return plain_text_length(el)


def plain_text_length(el: Element) -> int:
    """``joined_length(plain_strings(el))``: the strings are counted in any order, as lxml's
    ``iter`` gives them (its ``itertext`` queues the end of each element in a nest and takes
    them from the front: quadratic in the depth, 2.5 s for 200,000 levels)."""
    if next(el.iterdescendants(*STRING_CONTAINERS), None) is not None:
        return joined_length(plain_strings(el))
    total = count = 0
    for node in el.iter():
        text = node.text
        if text and node.tag.__class__ is str and (text := text.strip()):
            total += len(text)
            count += 1
        tail = node.tail
        if tail and node is not el and (tail := tail.strip()):
            total += len(tail)
            count += 1
    return total + count - 1 if count else 0


def joined_length(strings: Iterable[str]) -> int:
    """The length of the stripped, non-empty ``strings`` joined by single spaces."""
    lengths = [len(s) for s in map(str.strip, strings) if s]
    return sum(lengths) + len(lengths) - 1 if lengths else 0


def nested_text_lengths(top: Element, wanted: Callable[[Element], bool]) -> dict[Element, int]:
    """``stripped_text_length`` of ``top`` and of every element inside it that is ``wanted``,
    in one pass: each string counted into its element, each element's sums into its parent's,
    so nested ones cost no more than one."""
    nodes = list(top.iter())
    #: Per node: whether its strings are typed apart (inside a string container), and the
    #: total length and number of the stripped strings it holds.
    hidden: dict[Element, bool] = {}
    total = dict.fromkeys(nodes, 0)
    count = dict.fromkeys(nodes, 0)

    def add(node: Element, text: str) -> None:
        text = text.strip()
        if text:
            total[node] += len(text)
            count[node] += 1

    for node in nodes:
        element = is_element(node)
        if node is top:
            parent = None
            above = top.tag not in STRING_CONTAINERS and in_container(top)
        else:
            parent = node.getparent()
            above = hidden[parent]
        hidden[node] = above or (element and node.tag in STRING_CONTAINERS and node is not top)
        if element and node.text and not hidden[node]:
            add(node, node.text)
        if parent is not None and node.tail and not above:
            add(parent, node.tail)
    for node in reversed(nodes):  # every node after all it holds
        if node is not top:
            parent = node.getparent()
            total[parent] += total[node]
            count[parent] += count[node]
    return {
        el: total[el] + count[el] - 1 if count[el] else 0
        for el in nodes
        if el is top or (is_element(el) and wanted(el))
    }


def _bs4_string(s: str, preserve: bool) -> str:
    if not preserve and not s.strip(_ASCII_SPACE):
        return "\n" if "\n" in s else " "
    return s


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quoted(s: str) -> str:
    if '"' in s:
        if "'" in s:
            return '"' + s.replace('"', "&quot;") + '"'
        return "'" + s + "'"
    return '"' + s + '"'


def _start_tag(el: Element, written: Written | None) -> str:
    attrs = items(el)
    if el.tag == "meta":
        attrs = _meta_charset(el, attrs)
    if written is not None and any(n in _BOOLEAN and v == "" for n, v in attrs):
        # ``defer`` and ``defer="defer"`` read alike in lxml's tree: the source tells.
        attrs = [(n, written(el, n) or "" if n in _BOOLEAN and v == "" else v) for n, v in attrs]
    parts = [el.tag]
    for name, val in sorted(attrs, key=lambda a: a[0]):
        text = " ".join(val) if isinstance(val, list) else val
        parts.append(name + "=" + _quoted(_escape(text)))
    return "<" + " ".join(parts)


def _meta_charset(el: Element, attrs: list[tuple[str, Value]]) -> list[tuple[str, Value]]:
    """BeautifulSoup prints a ``<meta>``'s declared charset as the output encoding (utf-8)."""
    if el.get("charset") is not None:
        return [(k, "utf-8" if k == "charset" else v) for k, v in attrs]
    equiv = el.get("http-equiv")
    if el.get("content") is not None and equiv is not None and equiv.lower() == "content-type":
        return [
            (k, _CHARSET_IN_CONTENT.sub(r"\g<1>utf-8", str(v)) if k == "content" else v)
            for k, v in attrs
        ]
    return attrs


def markup(
    el: Element, limit: int, written: Written | None = None, inside_pre: bool | None = None
) -> str:
    """``str(tag)[:limit]`` as BeautifulSoup prints the element (its tail left out).

    ``written(element, name)``: the value a boolean attribute (``defer``) has in the source,
    which the tree cannot tell from its name; without it such an attribute prints as empty.
    ``inside_pre``: whether a ``<pre>`` or ``<textarea>`` holds the element, when the caller
    keeps the answers (asked of each of thousands of nested embeds, walking up is quadratic).
    """
    out: list[str] = []
    size = 0
    preserve_above = (
        next(el.iterancestors("pre", "textarea"), None) is not None
        if inside_pre is None
        else inside_pre
    )
    # Items: an element to open, or (text, ready) to write as it is.
    stack: list[Any] = [(el, preserve_above)]
    entered: list[Element] = []  # kept alive: see ``survey``
    while stack and size < limit:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            size += len(item)
            continue
        node, preserve = item
        entered.append(node)
        if not is_element(node):
            piece = "<!--" + _bs4_string(node.text or "", preserve) + "-->"
            out.append(piece)
            size += len(piece)
            continue
        inner = preserve or node.tag in ("pre", "textarea")
        start = _start_tag(node, written)
        if not node.text and len(node) == 0 and node.tag in _VOID:
            piece = start + "/>"
            out.append(piece)
            size += len(piece)
            continue
        out.append(start + ">")
        size += len(start) + 1
        stack.append("</" + node.tag + ">")
        for child in reversed(node):
            if child.tail:
                stack.append(_escape(_bs4_string(child.tail, inner)))
            stack.append((child, inner))
        if node.text:
            text = _bs4_string(node.text, inner)
            stack.append(text if node.tag in ("script", "style") else _escape(text))
    return "".join(out)[:limit]
