"""Content, not chrome: which parts of a page are the article an editor embedded things in.

Two rules, both generic (no site names):

* **Chrome** is never content: ``nav``/``footer``/``aside``/``menu``, the site's ``header``
  (an article's own header, inside ``<article>`` or the body region, is content), ARIA
  landmarks of the same meaning, and elements whose class or id names a chrome part
  (``sidebar``, ``related``, ``comments``, ``share``, ``newsletter``, ``outbrain``…). Class
  names are split into words (``related-posts`` → related, posts; ``shareBar`` → share, bar)
  so a word must match whole: ``social-embed`` is not ``share``.
* **The body region**, when the page says clearly where the article is: the elements marked
  ``itemprop="articleBody"`` if they hold a fair share of the page's text (widened to their ``<article>``, or to the wrappers that hold no
  more text, where lead media often sit beside the text), else the ``<article>`` that holds most of the page's paragraph text,
  else the one ``<main>``. A page that does not say (no such markup, or several articles
  none of which dominates: a listicle of ``<article>`` items, teaser cards) has no region,
  and only the chrome rule applies. Detections outside a region are dropped.
"""

from __future__ import annotations

import itertools
import re

from lxml import etree

from ._tree import (
    STRING_CONTAINERS,
    WORDS,
    Element,
    nearest,
    nested_text_lengths,
    plain_text_length,
    stripped_text_length,
)

_CHROME_TAGS = frozenset({"nav", "footer", "aside", "head", "menu"})
_CHROME_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar"}
)
_CHROME_WORDS = frozenset(
    "sidebar sidebars related relacionados relacionadas verwandte comments comment kommentare "
    "commentaires comentarios disqus share shares sharing sharer sharebar sharebuttons "
    "footer nav navbar navigation menu breadcrumb breadcrumbs newsletter subscribe recommended "
    "recommendations recommendation outbrain taboola trending popular mostread teaser teasers "
    "promo promos rail widgets recirc recirculation ads advert adverts advertisement sponsored".split()
)
#: ``widget`` alone names embed wrappers too (``embed-widget``); with these it is a sidebar one.
_WIDGET_AREAS = frozenset({"widget-area", "widget_area", "widgetarea", "live-widget"})
_TAXONOMY_PREFIXES = (
    "tag-",
    "category-",
    "autor-",
    "author-",
    "topic-",
    "label-",
    "format-",
    "type-",
    "keyword-",
)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_REGION_MIN_TEXT = 500
_REGION_SHARE = 0.5
_MARKED_SHARE = 0.3
_WIDEN_SLACK = 1.1
#: How far up a marked element is widened (a real page's wrappers are a few levels; a hostile
#: nest of marked elements would each walk up all the others).
_WIDEN_LEVELS = 64


def _chrome_name(value: object) -> bool:
    """Whether a class or id names a chrome part by its first or last word.

    ``related-posts``, ``site-sidebar``, ``commentsArea`` do; ``sticky-sidebar-relative`` (a
    layout helper) does not, nor WordPress's taxonomy classes (``tag-…``, ``category-…``),
    which repeat the article's tags and may say anything.
    """
    names = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    for name in names:
        lowered = str(name).lower()
        if lowered in _WIDGET_AREAS:
            return True
        if lowered.startswith(_TAXONOMY_PREFIXES):
            continue
        # A name with no capital has no camelCase word boundary (most have none).
        split = str(name) if lowered == name else _CAMEL.sub("-", str(name))
        words = [w.lower() for w in _SPLIT.split(split) if w]
        if words and len(words) <= 4 and (words[0] in _CHROME_WORDS or words[-1] in _CHROME_WORDS):
            return True
    return False


class Scope:
    """Answers "is this element part of the article?" for one parsed page.

    Each element's answer is kept, and an element's answer is its parent's unless it is the
    region or chrome, so a page (however deeply nested) is walked about once in all.
    """

    def __init__(self, root: Element) -> None:
        self._paragraphs: dict[Element, int] = {}
        self._answers: dict[Element, bool] = {}
        #: Whether a class or an id value names chrome, by value: a page repeats its values.
        self._classes: dict[str, bool] = {}
        self._ids: dict[str, bool] = {}
        #: The ancestors of the region's elements (made when first needed).
        self._holding: set[Element] | None = None
        #: Each element's nearest paragraph or string container (itself included), and the
        #: outermost paragraph of those above it.
        self._holders: dict[Element, Element | None] = {}
        #: The paragraph text inside each element asked about.
        self._totals: dict[Element, int] = {}
        #: Each element's nearest ``<article>`` and marked element (itself included), and the
        #: text length of the marked elements inside marked ones.
        self._articles: dict[Element, Element | None] = {}
        self._marked_above: dict[Element, Element | None] = {}
        self._outermost_marked: dict[Element, Element] = {}
        self._marked_lengths: dict[Element, int] = {}
        self._outermost: dict[Element, Element | None] = {}
        # One walk for both: lxml's iterator looks ahead to the next match, so even
        # ``next(root.iter("body"))`` walks the whole tree.
        found = list(root.iter("body", "template", "rt", "rp"))
        #: Whether any element could put a paragraph's strings in a class of their own.
        self._in_container = any(el.tag != "body" for el in found)
        body = next((el for el in found if el.tag == "body"), None)
        self._total = self._paragraph_text(root if body is None else body)
        self.region: tuple[Element, ...] = self._find_region(root)
        self._regions = frozenset(self.region)

    def walks(self, root: Element) -> list[Element]:
        """Where an embed can be: the region's elements (outermost first, in document order),
        or the whole page when it has no region."""
        if not self.region:
            return [root]
        above: dict[Element, Element | None] = {}
        regions = self._regions
        return [
            r
            for r in self.region
            if (parent := r.getparent()) is None
            or nearest(parent, above, lambda node: node if node in regions else None) is None
        ]

    def _paragraph_text(self, tag: Element) -> int:
        """The length of the paragraphs inside ``tag`` (kept: the region's rules ask of
        nested elements again and again)."""
        if tag in self._totals:
            return self._totals[tag]
        total = 0
        known = self._paragraphs
        for p in tag.iterdescendants("p"):
            total += known[p] if p in known else self._length(p)
        self._totals[tag] = total
        return total

    def _length(self, p: Element) -> int:
        """One paragraph's text length (``stripped_text_length``), kept."""
        known = self._paragraphs
        if p not in known:
            # Most paragraphs are one plain string.
            text = p.text
            if not len(p) and not self._in_container:
                known[p] = len(text.strip()) if text else 0
            elif self._holder(p) is None:
                # One look up for the two cases below: most paragraphs are in neither.
                known[p] = plain_text_length(p)
            elif (outer := self._outermost_paragraph(p)) is not None:
                # Paragraphs inside paragraphs (a broken page): count every one from the
                # outermost's strings in one walk, not each one's strings again.
                known.update(nested_text_lengths(outer, _is_paragraph))
            else:
                known[p] = 0  # in a string container: ``get_text`` types its strings apart
        return known[p]

    def _paragraph_text_around(self, parent: Element, child: Element, inside: int) -> int:
        """``_paragraph_text(parent)``, given ``child``'s: only the other children are read
        (walking up a nest of wrappers, each level would read all below it again)."""
        if parent in self._totals:
            return self._totals[parent]
        total = inside + self._own(child)
        for other in parent:
            if other is not child and other.tag.__class__ is str:
                total += self._paragraph_text(other) + self._own(other)
        self._totals[parent] = total
        return total

    def _paragraph_text_below(self, tag: Element) -> int:
        """``_paragraph_text(tag)``, from its parent's when that is known: the parent's, less
        the other children's (going down a nest of chrome-named wrappers, each level would
        read all below it again)."""
        parent = tag.getparent()
        if tag in self._totals or parent is None or parent not in self._totals:
            return self._paragraph_text(tag)
        total = self._totals[parent] - self._own(tag)
        for other in parent:
            if other is not tag and other.tag.__class__ is str:
                total -= self._paragraph_text(other) + self._own(other)
        self._totals[tag] = total
        return total

    def _own(self, tag: Element) -> int:
        """What a paragraph adds to its parent's paragraph text besides what it holds."""
        return self._length(tag) if tag.tag == "p" else 0

    def _holder(self, node: Element) -> Element | None:
        """The nearest paragraph or string container above ``node`` (kept for each element
        on the way up: in a nest, each paragraph would walk up again)."""
        parent = node.getparent()
        return None if parent is None else nearest(parent, self._holders, _holds_strings)

    def _outermost_paragraph(self, p: Element) -> Element | None:
        """The outermost paragraph above ``p``, found through ``_holder`` and kept."""
        chain: list[Element] = []
        node = self._holder(p)
        found = None
        while node is not None:
            if node in self._outermost:
                found = self._outermost[node]
                break
            chain.append(node)
            node = self._holder(node)
        for node in reversed(chain):  # down from the top: the first paragraph is outermost
            if found is None and node.tag == "p":
                found = node
            self._outermost[node] = found
        return found

    def _find_region(self, root: Element) -> tuple[Element, ...]:
        total = self._total
        candidates = [p.getparent() for p in _ITEMPROPS(root) if "articlebody" in p.lower()]
        marked_set = set(candidates)
        marked = [t for t in candidates if self._has_text(t, marked_set)]
        # Marked text that is not most of the page's text marks teaser cards, not the article.
        if marked and sum(map(self._paragraph_text, marked)) >= _MARKED_SHARE * total:
            return tuple(dict.fromkeys(self._widened(t) for t in marked))
        if total < _REGION_MIN_TEXT:
            return ()
        above: dict[Element, Element | None] = {}
        articles = [
            t
            for t in list(root.iter("article"))
            if (parent := t.getparent()) is None or nearest(parent, above, _article) is None
        ]
        if articles:
            best = max(articles, key=self._paragraph_text)
            if self._paragraph_text(best) >= _REGION_SHARE * total:
                return (best,)
        mains = _MAINS(root)
        if len(mains) == 1 and self._paragraph_text(mains[0]) >= _REGION_SHARE * total:
            return (mains[0],)
        return ()

    def _widened(self, tag: Element) -> Element:
        """``articleBody`` often marks only the text: lead media sit beside it in the article,
        or in a wrapper that holds no other text."""
        parent = tag.getparent()
        article = None if parent is None else nearest(parent, self._articles, _article)
        if article is not None:
            return article
        own = self._paragraph_text(tag)
        node, inside = tag, own
        for parent in itertools.islice(tag.iterancestors(), _WIDEN_LEVELS):
            if parent.tag in ("body", "html"):
                break
            inside = self._paragraph_text_around(parent, node, inside)
            if inside > _WIDEN_SLACK * own:
                break
            node = parent
        return node

    def _has_text(self, marked: Element, all_marked: set[Element]) -> bool:
        """Whether a marked element holds text (``stripped_text_length``), asked in document
        order. The marked elements inside a marked one (a hostile nest: each would read all
        below it) are answered in one pass over the outermost, which also counts every
        element's paragraphs."""
        parent = marked.getparent()
        above = (
            None
            if parent is None
            else nearest(parent, self._marked_above, lambda n: n if n in all_marked else None)
        )
        self._marked_above[marked] = marked
        if above is None:
            self._outermost_marked[marked] = marked
            return stripped_text_length(marked) > 0
        outer = self._outermost_marked[marked] = self._outermost_marked[above]
        if outer not in self._marked_lengths:
            self._marked_lengths.update(nested_text_lengths(outer, all_marked.__contains__))
            self._count_paragraphs_below(outer)
        return self._marked_lengths[marked] > 0

    def _count_paragraphs_below(self, top: Element) -> None:
        """``_paragraph_text`` of every element in ``top``, in one pass."""
        nodes = [node for node in top.iter() if node.tag.__class__ is str]
        sums = dict.fromkeys(nodes, 0)
        for node in reversed(nodes):  # each after all it holds
            if node is not top:
                sums[node.getparent()] += sums[node] + self._own(node)
        self._totals.update(sums)

    def _is_chrome(self, node: Element) -> bool:
        if node.tag == "header":
            return not self.region and next(node.iterancestors("article"), None) is None
        # A wrapper named like chrome that holds most of the page's paragraphs is layout
        # (``has-sidebar``, ``with-comments``), not the chrome itself.
        return self.is_chrome_element(node) and (
            node.tag in _CHROME_TAGS
            or self._paragraph_text_below(node) <= _REGION_SHARE * self._total
        )

    def is_chrome_element(self, tag: Element, names: list[str] | None = None) -> bool:
        """Whether this element itself (not its ancestors) is named or marked as site chrome
        (``names``: its attribute names, when they are at hand)."""
        if tag.tag in _CHROME_TAGS:
            return True
        names = tag.keys() if names is None else names
        if not names:
            return False
        if "class" in names:
            raw = tag.get("class") or ""
            if raw not in self._classes:
                self._classes[raw] = _chrome_name(WORDS.findall(raw))
            if self._classes[raw]:
                return True
        if "id" in names:
            raw = tag.get("id") or ""
            if raw not in self._ids:
                self._ids[raw] = _chrome_name(raw)
            if self._ids[raw]:
                return True
        return "role" in names and (tag.get("role") or "").lower() in _CHROME_ROLES

    def leaves_out(self, tag: Element) -> bool:
        """Whether nothing in ``tag`` is content, for a walk down from the region (or the
        page's top) that has met no chrome above it. Asked only of ``header`` elements and
        those ``is_chrome_element`` names chrome."""
        if tag.tag in ("html", "body") or tag in self._regions or not self._is_chrome(tag):
            return False
        if self._holding is None:
            # What holds part of the region, found once (a deep page's thousands of chrome
            # elements do not each walk up from the region).
            self._holding = set()
            for r in self.region:
                for a in r.iterancestors():
                    if a in self._holding:
                        break  # and all above it
                    self._holding.add(a)
        if tag in self._holding:
            return False
        self._answers[tag] = False
        return True

    def contains(self, tag: Element) -> bool:
        """True when ``tag`` is in the body region (if any) and inside no chrome."""
        path: list[Element] = []
        node: Element | None = tag
        answer = not self.region  # reaching the top: in no region
        while node is not None:
            if node in self._answers:
                answer = self._answers[node]
                break
            path.append(node)
            if node in self._regions:
                answer = True
                break
            if node.tag not in ("html", "body") and self._is_chrome(node):
                answer = False
                break
            node = node.getparent()
        for visited in path:
            self._answers[visited] = answer
        return answer


def _is_paragraph(node: Element) -> bool:
    return node.tag == "p"


def _article(node: Element) -> Element | None:
    return node if node.tag == "article" else None


def _holds_strings(node: Element) -> Element | None:
    return node if node.tag == "p" or node.tag in STRING_CONTAINERS else None


# Attribute steps rather than predicates, which libxml2 evaluates on every element several
# times slower (20 ms against 4 for ``_MAINS`` over the corpus).
#: Every ``itemprop`` value (its element is its parent), in document order.
_ITEMPROPS = etree.XPath("descendant-or-self::*/@itemprop")
_MAINS = etree.XPath("descendant-or-self::main | descendant-or-self::*/@role[. = 'main']/..")
