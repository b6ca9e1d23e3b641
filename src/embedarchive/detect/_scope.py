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

import re
from collections.abc import Iterable

from bs4 import BeautifulSoup, Tag

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
        words = [w.lower() for w in _SPLIT.split(_CAMEL.sub("-", str(name))) if w]
        if words and len(words) <= 4 and (words[0] in _CHROME_WORDS or words[-1] in _CHROME_WORDS):
            return True
    return False


def is_chrome_element(tag: Tag) -> bool:
    """Whether this element itself (not its ancestors) is named or marked as site chrome."""
    if tag.name in _CHROME_TAGS:
        return True
    role = tag.get("role")
    if isinstance(role, str) and role.lower() in _CHROME_ROLES:
        return True
    return _chrome_name(tag.get("class")) or _chrome_name(tag.get("id"))


def _paragraph_text(tag: Tag) -> int:
    return sum(len(p.get_text(" ", strip=True)) for p in tag.find_all("p"))


class Scope:
    """Answers "is this element part of the article?" for one parsed page."""

    def __init__(self, soup: BeautifulSoup, tags: Iterable[Tag]) -> None:
        self._chrome: dict[int, bool] = {}
        self._total = _paragraph_text(soup.body or soup)
        self.region: tuple[Tag, ...] = self._find_region(soup, list(tags))
        self._region_ids = {id(t) for t in self.region}

    def _find_region(self, soup: BeautifulSoup, tags: list[Tag]) -> tuple[Tag, ...]:
        total = self._total
        marked = [
            t
            for t in tags
            if "articlebody" in str(t.get("itemprop") or "").lower() and t.get_text(" ", strip=True)
        ]
        # Marked text that is not most of the page's text marks teaser cards, not the article.
        if marked and sum(map(_paragraph_text, marked)) >= _MARKED_SHARE * total:
            return tuple(dict.fromkeys(self._widened(t) for t in marked))
        if total < _REGION_MIN_TEXT:
            return ()
        articles = [t for t in tags if t.name == "article" and t.find_parent("article") is None]
        if articles:
            best = max(articles, key=_paragraph_text)
            if _paragraph_text(best) >= _REGION_SHARE * total:
                return (best,)
        mains = [t for t in tags if t.name == "main" or str(t.get("role") or "") == "main"]
        if len(mains) == 1 and _paragraph_text(mains[0]) >= _REGION_SHARE * total:
            return (mains[0],)
        return ()

    @staticmethod
    def _widened(tag: Tag) -> Tag:
        """``articleBody`` often marks only the text: lead media sit beside it in the article,
        or in a wrapper that holds no other text."""
        article = tag.find_parent("article")
        if article is not None:
            return article
        own = _paragraph_text(tag)
        node = tag
        for parent in tag.parents:
            if parent.name in ("body", "html", "[document]") or not isinstance(parent, Tag):
                break
            if _paragraph_text(parent) > _WIDEN_SLACK * own:
                break
            node = parent
        return node

    def _is_chrome(self, node: Tag, in_region: bool) -> bool:
        if node.name == "header":
            return not in_region and node.find_parent("article") is None
        key = id(node)
        if key not in self._chrome:
            # A wrapper named like chrome that holds most of the page's paragraphs is layout
            # (``has-sidebar``, ``with-comments``), not the chrome itself.
            self._chrome[key] = is_chrome_element(node) and (
                node.name in _CHROME_TAGS or _paragraph_text(node) <= _REGION_SHARE * self._total
            )
        return self._chrome[key]

    def contains(self, tag: Tag) -> bool:
        """True when ``tag`` is in the body region (if any) and inside no chrome."""
        chain = [tag, *tag.parents]
        in_region = not self.region or any(id(n) in self._region_ids for n in chain)
        if not in_region:
            return False
        for node in chain:
            if id(node) in self._region_ids:
                break
            if isinstance(node, Tag) and node.name not in ("html", "[document]", "body"):
                if self._is_chrome(node, bool(self.region)):
                    return False
        return True
