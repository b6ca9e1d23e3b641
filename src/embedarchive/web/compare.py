"""What the article showed beside what was captured, and what changed between captures.

The verdict is never decided here: it is the ``findings`` table (``embedarchive check``, the
rules of :mod:`embedarchive.findings`), read for each embed against the capture it was judged
against. This module lays the values out beside each other, flags the fields the findings name,
and, for text that a finding says was edited, marks the words that differ so a reader sees
where. An embed with no finding yet is shown side by side but "not compared yet".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

_TOKEN_RE = re.compile(r"\S+\s*|\s+")

Segment = tuple[bool, str]
"""A piece of text and whether it is part of a difference."""

KIND_LABELS = {
    "match": "matches",
    "edited": "text edited",
    "deleted": "deleted",
    "author-mismatch": "different author",
    "date-mismatch": "different date",
}


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


#: The pseudo-kind of an embed that showed nothing to compare (a bare frame, widget or link):
#: ``check`` never judges it, so "not compared yet (run check)" would send readers in a loop.
NOTHING_SHOWN = "nothing-to-compare"


def shows_nothing(detection: dict[str, Any]) -> bool:
    """Whether the article showed none of the post's text, author, handle or date."""
    return not any(detection.get(k) for k in ("text", "author", "handle", "date"))


def verdict(kinds: list[str]) -> str:
    """The one line a comparison is headed with, from its finding kinds."""
    if not kinds:
        return "Not compared yet"
    if kinds == [NOTHING_SHOWN]:
        return "Nothing to compare: the article showed the post as a frame or a link, without its words, author or date"
    if "deleted" in kinds:
        return "Post no longer available"
    if kinds == ["match"]:
        return "Matches the capture"
    return "Differs from the capture: " + ", ".join(KIND_LABELS.get(k, k) for k in kinds)


def compare(
    detection: dict[str, Any],
    captured: dict[str, Any],
    findings: list[dict[str, Any]],
    capture: dict[str, Any] | None,
    article_title: str | None,
) -> dict[str, Any]:
    """One embed against one capture: its fields side by side, flagged where ``findings`` say.

    ``captured`` holds the post as that capture saw it (``uploader``, ``uploader_id``,
    ``created_at``, ``text``, ``url``); ``findings`` are the embed's findings against
    ``capture`` (empty: not compared yet).
    """
    kinds = [f["kind"] for f in findings] or ([NOTHING_SHOWN] if shows_nothing(detection) else [])
    details = {f["kind"]: f.get("details") or {} for f in findings}
    mismatch = details.get("author-mismatch", {}).get("fields") or []
    shown_text, captured_text = detection.get("text"), captured.get("text")
    text = Field("Text", shown_text, captured_text, "edited" in kinds, "text")
    if text.differs and shown_text and captured_text:
        left, right = word_diff(shown_text, captured_text)
        text = Field(text.label, shown_text, captured_text, True, "text", left, right)
    url = captured.get("url")
    fields = [
        Field("Author", detection.get("author"), captured.get("uploader"), "author" in mismatch),
        Field("Handle", detection.get("handle"), captured.get("uploader_id"), "handle" in mismatch, "handle"),
        Field("Date", detection.get("date"), captured.get("created_at"), "date-mismatch" in kinds, "date"),
        text,
        Field("Links", detection.get("links") or [], [url] if url else [], kind="links"),
    ]  # fmt: skip
    gone = "deleted" in kinds
    return {
        "detection": detection,
        "article_title": article_title,
        "capture": capture,
        "source": findings[0]["source"] if findings else None,
        "fields": fields,
        "kinds": kinds,
        "verdict": verdict(kinds),
        "compared": bool(kinds),
        "differs": bool(kinds) and kinds not in (["match"], [NOTHING_SHOWN]),
        "gone": gone,
        "reason": details.get("deleted", {}).get("reason") if gone else None,
        "similarity": details.get("edited", {}).get("similarity"),
    }


def history(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The post's history (``store.queries.post_history``), each change made ready to show:
    an edit with its words marked, media added and removed, gone and back again."""
    out = []
    for entry in entries:
        changes = []
        for change in entry["changes"]:
            details = change.get("details") or {}
            shown = dict(change, details=details, diff=([], []))
            before, after = details.get("before"), details.get("after")
            if (
                change["kind"] == "text-edited"
                and isinstance(before, str)
                and isinstance(after, str)
            ):
                shown["diff"] = word_diff(before, after)
            changes.append(shown)
        out.append({**entry, "changes": changes})
    return out
