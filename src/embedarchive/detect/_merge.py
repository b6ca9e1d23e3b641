"""One detection per embedded item, however many forms of it the article carries.

A tweet is often present twice: widgets.js's rendered ``div`` next to the original blockquote,
an ``amp-twitter`` around its placeholder blockquote, a fallback inside ``<noscript>``, the
same post linked in the text. The most specific markup is kept (its offset and snippet), and
fields it lacks (author, date, text, links) are filled from the other forms.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import replace

from ..models import Detection

_RANK = {"amp": 0, "blockquote": 1, "iframe": 2, "script": 3, "other": 4, "text": 5, "link": 6}
_FILLABLE = ("url", "author", "handle", "date")


def _key(d: Detection) -> Hashable:
    if d.id is not None:
        return ("id", d.platform, d.id)
    # Without an id only an identical copy (the same post shown twice) is a duplicate.
    return ("shown", d.platform, d.handle, d.date, d.text, d.links)


def merge_duplicates(detections: Iterable[Detection]) -> list[Detection]:
    """Detections sorted by offset with each (platform, id) — or identical id-less post — once."""
    groups: dict[Hashable, list[Detection]] = {}
    for d in detections:
        groups.setdefault(_key(d), []).append(d)
    merged = []
    for group in groups.values():
        group.sort(key=lambda d: (_RANK.get(d.markup, len(_RANK)), d.offset))
        best = group[0]
        changes: dict[str, object] = {}
        for name in _FILLABLE:
            if getattr(best, name) is None:
                value = next((getattr(d, name) for d in group if getattr(d, name)), None)
                if value is not None:
                    changes[name] = value
        if best.text is None:
            # Text and links travel together: a post's links are the ones shown in its text.
            donor = next((d for d in group if d.text), None)
            if donor is not None:
                changes["text"] = donor.text
                changes["links"] = donor.links
        merged.append(replace(best, **changes) if changes else best)  # type: ignore[arg-type]
    return sorted(merged, key=lambda d: (d.offset, d.platform, d.id or ""))
