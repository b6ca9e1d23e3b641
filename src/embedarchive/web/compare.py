"""What the article showed beside what was captured, and a post's captures over time.

Whether two values differ is decided once, in SQL (the ``embed_comparisons`` view of the
m003 migration, which also feeds the search's "changed" status); this module only lays the
values out and, for text that differs, marks the words that differ so a reader sees where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

_TOKEN_RE = re.compile(r"\S+\s*|\s+")

Segment = tuple[bool, str]
"""A piece of text and whether it is part of a difference."""


@dataclass(frozen=True)
class Field:
    label: str
    shown: Any
    captured: Any
    differs: bool = False
    kind: str = "plain"
    shown_segments: list[Segment] = field(default_factory=list)
    captured_segments: list[Segment] = field(default_factory=list)


def word_diff(a: str, b: str) -> tuple[list[Segment], list[Segment]]:
    """Both texts cut into segments; words only in one of them are marked, whitespace ignored."""
    ta, tb = _TOKEN_RE.findall(a), _TOKEN_RE.findall(b)
    left: list[Segment] = []
    right: list[Segment] = []
    matcher = SequenceMatcher(
        None, [t.strip() for t in ta], [t.strip() for t in tb], autojunk=False
    )
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        differs = op != "equal"
        if a1 > a0:
            left.append((differs, "".join(ta[a0:a1])))
        if b1 > b0:
            right.append((differs, "".join(tb[b0:b1])))
    return left, right


def compare(
    detection: dict[str, Any],
    post: dict[str, Any],
    flags: dict[str, Any] | None,
    article_title: str | None,
    last_error: str | None,
) -> dict[str, Any]:
    """One embed of the post: its fields as shown and as captured, differences flagged."""
    flags = flags or {}
    shown_text, captured_text = detection.get("text"), post.get("text")
    text = Field("Text", shown_text, captured_text, bool(flags.get("text_differs")), "text")
    if text.differs and shown_text and captured_text:
        left, right = word_diff(shown_text, captured_text)
        text = Field(text.label, shown_text, captured_text, True, "text", left, right)
    fields = [
        Field("Author", detection.get("author"), post.get("uploader"), bool(flags.get("author_differs"))),
        Field("Handle", detection.get("handle"), post.get("uploader_id"), bool(flags.get("handle_differs")), "handle"),
        Field("Date", detection.get("date"), post.get("created_at"), bool(flags.get("date_differs")), "date"),
        text,
        Field("Links", detection.get("links") or [], [post.get("url")] if post.get("url") else [], kind="links"),
    ]  # fmt: skip
    gone = post.get("status") != "archived"
    return {
        "detection": detection,
        "article_title": article_title,
        "fields": fields,
        "differs": gone or any(f.differs for f in fields),
        "gone": gone,
        "reason": last_error if gone else None,
    }


def history(captures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every capture, oldest first, noting when the captured text changed from the one before."""
    out = []
    previous: str | None = None
    for capture in captures:
        data = capture.get("data")
        text = data.get("text") if isinstance(data, dict) else None
        changed = text is not None and previous is not None and text != previous
        segments: tuple[list[Segment], list[Segment]] = ([], [])
        if changed and previous is not None and text is not None:
            segments = word_diff(previous, text)
        if text is not None:
            previous = text
        out.append({"capture": capture, "text": text, "text_changed": changed, "diff": segments})
    return out
