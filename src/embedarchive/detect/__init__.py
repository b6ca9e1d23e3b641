"""Stage 2: article → detections. Pure: no network, no I/O, the same input gives the same list.

``detect`` reads the decoded document (``Article.text``) as HTML or as plain text. Offsets are
character offsets into that string; each (platform, id) is reported once, and a post without
an id (a copied tweet) once per distinct (handle, date, text).
"""

from __future__ import annotations

from ..models import Article, Detection
from ..platforms import REGISTRY
from ..platforms.base import Platform
from .html import detect_html
from .text import detect_text


def detect(article: Article, registry: tuple[Platform, ...] = REGISTRY) -> list[Detection]:
    """Every embed the article shows, sorted by offset, without duplicates."""
    if article.is_html:
        return detect_html(article.text, registry)
    return detect_text(article.text, registry)


__all__ = ["detect", "detect_html", "detect_text"]
