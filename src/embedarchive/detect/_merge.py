"""One detection per embedded item, however many forms of it the article carries.

A tweet is often present twice: widgets.js's rendered ``div`` next to the original blockquote,
an ``amp-twitter`` around its placeholder blockquote, a fallback inside ``<noscript>``, the
same post linked in the text. The most specific markup is kept (its offset and snippet), and
fields it lacks (author, date, text, links) are filled from the other forms.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import replace
from typing import TypeVar

from ..models import Detection

T = TypeVar("T")

_RANK = {"amp": 0, "blockquote": 1, "iframe": 2, "script": 3, "other": 4, "text": 5, "link": 6}
_FILLABLE = ("url", "author", "handle", "date")


def _key(d: Detection) -> Hashable:
    if d.id is not None:
        return ("id", d.platform, d.id)
    # Without an id only an identical copy (the same post shown twice) is a duplicate.
    return ("shown", d.platform, d.handle, d.date, d.text, d.links)


def merge_duplicates(detections: Iterable[Detection]) -> list[Detection]:
    """Detections sorted by offset with each (platform, id) — or identical id-less post — once."""
    return [d for _, d in merge_found((None, d) for d in detections)]


def merge_found(found: Iterable[tuple[T, Detection]]) -> list[tuple[T, Detection]]:
    """``merge_duplicates``, each detection kept with the item it came with (its element: a
    snippet is only printed for the detections that are kept)."""
    groups: dict[Hashable, list[tuple[T, Detection]]] = {}
    for item, d in found:
        groups.setdefault(_key(d), []).append((item, d))
    merged = []
    for group in groups.values():
        group.sort(key=lambda pair: (_RANK.get(pair[1].markup, len(_RANK)), pair[1].offset))
        item, best = group[0]
        changes: dict[str, object] = {}
        for name in _FILLABLE:
            if getattr(best, name) is None:
                value = next((getattr(d, name) for _, d in group if getattr(d, name)), None)
                if value is not None:
                    changes[name] = value
        if best.text is None:
            # Text and links travel together: a post's links are the ones shown in its text.
            donor = next((d for _, d in group if d.text), None)
            if donor is not None:
                changes["text"] = donor.text
                changes["links"] = donor.links
        merged.append((item, replace(best, **changes) if changes else best))  # type: ignore[arg-type]
    return sorted(merged, key=lambda pair: (pair[1].offset, pair[1].platform, pair[1].id or ""))
