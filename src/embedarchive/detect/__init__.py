"""Stage 2: article → detections. Pure: no network, no I/O, the same input gives the same list.

``detect`` reads the decoded document (``Article.text``) as HTML or as plain text. Offsets are
character offsets into that string; each (platform, id) is reported once, and a post without
an id (a copied tweet) once per distinct (handle, date, text).
"""

from __future__ import annotations

import codecs

from ..models import Article, Detection
from ..platforms import REGISTRY
from ..platforms.base import Platform
from .html import detect_html, detect_html_utf8
from .text import detect_text


def detect(article: Article, registry: tuple[Platform, ...] = REGISTRY) -> list[Detection]:
    """Every embed the article shows, sorted by offset, without duplicates."""
    if article.is_html:
        if _is_utf8_of_text(article):
            return detect_html_utf8(article.text, article.raw, registry)
        return detect_html(article.text, registry)
    return detect_text(article.text, registry)


def _is_utf8_of_text(article: Article) -> bool:
    """Whether the article's bytes are its text in UTF-8 (read as such, without a BOM), so
    the parser can take them as they are instead of encoding the text again."""
    try:
        utf8 = codecs.lookup(article.encoding).name == "utf-8"
    except LookupError:
        return False
    if not utf8 or article.raw.startswith(codecs.BOM_UTF8):
        return False
    # A cheap look at both ends: an Article put together by hand may not match.
    text, raw = article.text, article.raw
    try:
        return raw.startswith(text[:64].encode()) and raw.endswith(text[-64:].encode())
    except UnicodeEncodeError:
        return False


__all__ = ["detect", "detect_html", "detect_text"]
