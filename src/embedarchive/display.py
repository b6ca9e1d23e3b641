"""Archived values shown to people, in the web pages and the bundle's report alike: text whose
bidirectional controls act inside it only, and media shown inline only in the types the
browser is given them as (every other file is a download).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

#: Unicode's explicit directional marks, embeddings, overrides and isolates (UAX #9).
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_FIRST_STRONG_ISOLATE, _POP_ISOLATE = "\u2068", "\u2069"


def isolation(text: str) -> tuple[str, str]:
    """What to put before and after ``text`` so that its bidirectional controls act inside it
    only: nothing for plain text; else a first-strong isolate, and after the text a
    pop-isolate for each isolate it left open and one for the wrapper (which also ends every
    embedding and override it opened)."""
    marks = _BIDI.findall(text)
    if not marks:
        return "", ""
    open_isolates = 0
    for mark in marks:
        if mark in "\u2066\u2067\u2068":
            open_isolates += 1
        elif mark == _POP_ISOLATE and open_isolates:
            open_isolates -= 1
    return _FIRST_STRONG_ISOLATE, _POP_ISOLATE * (open_isolates + 1)


def isolate(value: Any) -> Any:
    """A string isolated as ``isolation`` says (every ``{{ value }}`` of the templates, text
    and attribute values alike); other values, and markup built here, unchanged. A form's
    value is written ``{{ value|e }}`` (markup, so left alone): it goes back to the server as
    typed, not with a pair of isolates more each time."""
    if not isinstance(value, str) or isinstance(value, Markup):
        return value
    before, after = isolation(value)
    return before + value + after if before else value


def quote_bidi(url: str) -> str:
    """A URL with its bidirectional controls percent-encoded, as a browser sends them: a
    link's address is never isolated (the marks would become part of it)."""
    return _BIDI.sub(lambda m: quote(m.group()), url)


#: The types ``/media`` serves inline and pages play or show: what browsers render safely.
INLINE_TYPES = frozenset(
    "image/jpeg image/png image/gif image/webp image/avif video/mp4 video/webm video/ogg "
    "video/quicktime audio/mpeg audio/mp4 audio/ogg audio/webm audio/wav audio/x-wav "
    "audio/flac audio/x-flac".split()
)


def player(item: dict[str, Any]) -> str | None:
    """How a page shows a stored file: ``image``, ``video`` or ``audio`` for the types that
    ``/media`` serves inline, None for the rest (offered as a download: an SVG, a file whose
    bytes are no known type)."""
    mime = (item.get("mime") or "").split(";")[0].strip().lower()
    return mime.split("/")[0] if mime in INLINE_TYPES else None
