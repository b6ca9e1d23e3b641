"""Embeds in plain text: what of a post survives when a reader copies an article.

Four things are found:

* post URLs (status links) anywhere in the text, markup ``link``;
* the textified official blockquote: the post's text followed by an attribution line in the
  platform's ``attribution_pattern`` (for X/Twitter ``— Display Name (@handle) November 14,
  2025``, see ``platforms/twitter.py``), markup ``text``. The status URL usually does not
  survive, so ``url``/``id`` stay None unless a link to that account's post is inside. The
  date comes right after the handle, from its first word (a byline's ", November 14, 2025" or
  an aside's "— on 14 November 2025" is not the embed's); an attribution that needs no date
  (Instagram's) counts only where it ends its line;
* textified embeds a platform's ``text_patterns`` match whole (TikTok: ``@user``, the
  caption, ``♬ original sound - …``), markup ``text`` without url/id;
* bare short links (``pic.twitter.com/…``, ``t.co/…``) outside any such post, markup ``text``
  with only ``links`` set: they are still evidence that something was embedded there.

Where a copied post starts is not marked, so it is inferred from the layout. Lines are grouped
into blocks (paragraphs); the document's usual gap between blocks (its most common number of
newlines) is its *base* gap. Walking back from the attribution:

1. the block that ends at the attribution is always the post's last block;
2. a block separated by *more* than the base gap belongs to the post: copied embeds keep
   their ``<br><br>`` and ``<p>`` breaks, which come out wider than the article's;
3. a block ending in a colon is the article's lead-in ("… wrote:") and ends the walk;
4. blocks at the base gap are only taken when the walk then reaches a frame within three
   blocks and 600 characters: a lead-in colon, or the previous attribution when this one hugs
   its text (on the same line, or closer than the base gap, so the copy kept the embed's own
   line breaks). Otherwise the run is the article's, and only the last block is taken;
5. a post quoted inside a sentence on one line ("As X wrote: … — Name (@h) date") starts after
   the opening quote mark, or else after a colon that follows at least three words.

The post's ``text`` is kept exactly as shown, including its ``pic.twitter.com``/``t.co``
links; those links are also listed in ``links``. The document is never lower-cased: ids and
short codes are case-sensitive.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from ..models import Detection
from ..platforms import REGISTRY
from ..platforms.base import Platform
from ._links import Found, literal_gate, post_urls, short_links, shown_links
from ._merge import merge_duplicates
from .dates import DATE_WINDOW, find_date, iso_date

_MAX_FRAMED_BLOCKS = 3
_FRAME_BUDGET = 600
_DEFAULT_BASE_GAP = 2
_LEAD_IN_WORDS = 3
_COLON_RE = re.compile(r"[:：]\s")
#: Invisible marks right-to-left pages put around a name or a date.
_DIRECTION_MARKS = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_QUOTES = {'"': '"', "”": '“"', "“": "„", "»": "«", "«": "»", "」": "「", "』": "『", "’": "‘"}


@dataclass(frozen=True)
class _Line:
    """A non-blank line: its stripped span and how many newlines precede it (0 at the start)."""

    start: int
    end: int
    gap: int


class _Spans:
    """Spans of the text taken by detections, added in the order of their starts and merged
    where they overlap, so "is this offset in one?" is a bisection: a text with thousands of
    posts is not read once per post."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def add(self, start: int, end: int) -> None:
        if self._ends and start < self._ends[-1]:
            self._ends[-1] = max(self._ends[-1], end)
        else:
            self._starts.append(start)
            self._ends.append(end)

    def holds(self, offset: int) -> bool:
        i = bisect_right(self._starts, offset) - 1
        return i >= 0 and offset < self._ends[i]


@dataclass(frozen=True)
class _Attribution:
    platform: Platform
    dash: int
    end: int
    name: str
    handle: str
    date: str | None


def detect_text(text: str, registry: tuple[Platform, ...] = REGISTRY) -> list[Detection]:
    """Every embed trace in ``text``, sorted by offset, duplicates merged."""
    lines = _lines(text)
    starts = [line.start for line in lines]
    base = _base_gap(lines)
    detections: list[Detection] = []
    posts = _Spans()
    floor = 0
    for attr in _attributions(text, registry):
        placeholders = attr.platform.embed_placeholders
        span = _post_span(text, lines, starts, base, floor, attr.dash, placeholders)
        start, end = span if span else (attr.dash, attr.dash)
        detections.append(_post_detection(text, registry, attr, start, end))
        posts.add(start, attr.end)
        floor = attr.end
    claimed = [posts]
    for pattern_found in _whole_posts(text, registry):
        whole = _Spans()  # one pattern's matches: in order, never overlapping
        for d in pattern_found:
            if not any(spans.holds(d.offset) for spans in claimed):
                detections.append(d)
                whole.add(d.offset, d.offset + len(d.snippet))
        claimed.append(whole)

    def is_claimed(f: Found) -> bool:
        return any(spans.holds(f.start) for spans in claimed)

    claimed_ids = {(d.platform, d.id) for d in detections if d.id}
    for f in post_urls(text, registry):
        assert f.target is not None
        if (f.platform.name, f.target.id) in claimed_ids:
            continue
        detections.append(
            Detection(
                platform=f.platform.name,
                kind=f.target.kind,
                markup="link",
                offset=f.start,
                url=f.target.url,
                id=f.target.id,
                handle=f.handle,
                links=(f.shown,),
                snippet=f.shown,
            )
        )
    for f in short_links(text, registry):
        if not is_claimed(f):
            detections.append(
                Detection(
                    platform=f.platform.name,
                    kind=f.platform.kind,
                    markup="text",
                    offset=f.start,
                    links=(f.shown,),
                    snippet=f.shown,
                )
            )
    return merge_duplicates(detections)


def _attributions(text: str, registry: tuple[Platform, ...]) -> list[_Attribution]:
    """Attribution lines followed by a date; without a date the line is not the embed form
    (unless the platform's attribution is distinctive on its own: ``attribution_date_required``).
    """
    found: list[_Attribution] = []
    #: Each date text read once: dateparser takes a millisecond, and posts share their dates.
    iso: dict[str, str | None] = {}
    for platform in registry:
        pattern = platform.attribution_pattern
        if pattern is None or not _may_match(pattern, text):
            continue
        for m in pattern.finditer(text):
            stop = min(len(text), m.end() + DATE_WINDOW)
            line_end = text.find("\n", m.end(), stop)
            rest = text[m.end() : stop if line_end < 0 else line_end]
            date = find_date(rest)
            if date is not None and date[0] not in iso:
                iso[date[0]] = iso_date(date[0])
            if date is not None and (iso[date[0]] is None or not _date_comes_first(date[0], iso)):
                # Not a date ("12 years at the paper, joined 2013"), or an aside's or a
                # byline's date ("— on 14 November 2025", ", November 14, 2025").
                date = None
            if date is None and (platform.attribution_date_required or rest.strip()):
                # Without a date, the line is the embed form only when the attribution ends it:
                # "A post shared by X (@x) on Instagram announced …" is the article's prose.
                continue
            date_text, date_end = date if date else ("", 0)
            iso.setdefault(date_text, None)
            found.append(
                _Attribution(
                    platform,
                    m.start(),
                    m.end() + date_end,
                    " ".join(m.group("name").split()),
                    m.group("handle"),
                    iso[date_text],
                )
            )
    return sorted(found, key=lambda a: a.dash)


def _date_comes_first(date_text: str, iso: dict[str, str | None]) -> bool:
    """Whether the text after the handle is a date from its first word on, as an embed prints
    it. An aside or a byline puts a dash, a bar or a comma first ("— on 14 November 2025",
    ", November 14, 2025"), or a word the date does without ("on November 14, 2025")."""
    shown = date_text.lstrip(_DIRECTION_MARKS)
    if not shown[:1].isalnum():
        return False
    word, space, others = shown.partition(" ")
    if not space or not word.isalpha():
        return True
    if others not in iso:
        iso[others] = iso_date(others)
    return iso[others] is None  # without its first word it is no date: a month name


def _whole_posts(text: str, registry: tuple[Platform, ...]) -> Iterator[list[Detection]]:
    """Textified embeds a platform's ``text_patterns`` match whole (TikTok's ``@user … ♬``),
    pattern by pattern."""
    for platform in registry:
        for pattern in platform.text_patterns:
            if not _may_match(pattern, text):
                continue
            found = []
            for m in pattern.finditer(text):
                groups = m.groupdict()
                body = (groups.get("text") or "").strip()
                name = groups.get("name")
                found.append(
                    Detection(
                        platform=platform.name,
                        kind=platform.kind,
                        markup="text",
                        offset=m.start(),
                        author=" ".join(name.split()) if name else None,
                        handle=groups.get("handle"),
                        text=body or None,
                        links=shown_links(body, registry) if body else (),
                        snippet=m.group(0),
                    )
                )
            yield found


def _post_detection(
    text: str, registry: tuple[Platform, ...], attr: _Attribution, start: int, end: int
) -> Detection:
    body = attr.platform.shown_text(text[start:end])
    own = [
        f
        for f in post_urls(text, registry, start, attr.end)
        if f.platform is attr.platform
        and (f.handle is None or f.handle.lower() == attr.handle.lower())
    ]
    target = own[-1].target if own else None
    return Detection(
        platform=attr.platform.name,
        kind=attr.platform.kind,
        markup="text",
        offset=start,
        url=target.url if target else None,
        id=target.id if target else None,
        author=attr.name or None,
        handle=attr.handle,
        date=attr.date,
        text=body or None,
        links=shown_links(body, registry),
        snippet=text[start : attr.end],
    )


def _may_match(pattern: re.Pattern[str], text: str) -> bool:
    gate = literal_gate(pattern)
    return gate is None or gate.search(text) is not None


def _lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    offset = 0
    gap = 0
    for raw in text.split("\n"):
        content = raw.strip()
        if content:
            lead = len(raw) - len(raw.lstrip())
            lines.append(_Line(offset + lead, offset + len(raw.rstrip()), gap))
            gap = 1
        elif lines:
            gap += 1
        offset += len(raw) + 1
    return lines


def _base_gap(lines: list[_Line]) -> int:
    """The article's usual paragraph gap: the most common one (ties go to the wider gap)."""
    counts = Counter(line.gap for line in lines if line.gap)
    if not counts:
        return _DEFAULT_BASE_GAP
    return max(counts, key=lambda gap: (counts[gap], gap))


def _post_span(
    text: str,
    lines: list[_Line],
    starts: list[int],
    base: int,
    floor: int,
    dash: int,
    placeholders: tuple[str, ...] = (),
) -> tuple[int, int] | None:
    units = []
    hugging = False
    # Only the lines from the floor (or the one holding the dash) to the dash matter; looking
    # them up keeps a long document with many attributions linear, not quadratic.
    last = bisect_right(starts, dash)
    first = max(0, min(bisect_left(starts, floor), last - 1))
    for line in lines[first:last]:
        if line.start <= dash <= line.end:
            hugging = line.start < dash or line.gap < base
        if line.start < floor or line.start >= dash:
            continue
        end = min(line.end, dash)
        while end > line.start and text[end - 1].isspace():
            end -= 1
        if end > line.start:
            units.append(_Line(line.start, end, line.gap))
    if not units:
        return None
    blocks: list[_Line] = []
    for unit in units:
        if blocks and unit.gap < base:
            blocks[-1] = _Line(blocks[-1].start, unit.end, blocks[-1].gap)
        else:
            blocks.append(unit)
    post = [blocks[-1]]
    earlier = blocks[:-1]
    if earlier and text[post[0].start : post[0].end].strip() in placeholders:
        # The embed's own line under the post's words (Bluesky's "[image or embed]"): the
        # block above it is the post's last.
        post.insert(0, earlier.pop())
    pending: list[_Line] = []
    framed = True
    for prev in reversed(earlier):
        gap_after = (pending or post)[0].gap
        if gap_after > base and not pending:
            post.insert(0, prev)
            continue
        if text[prev.start : prev.end].endswith((":", "：")):
            break
        pending.insert(0, prev)
        size = sum(b.end - b.start for b in pending + post)
        if len(pending) > _MAX_FRAMED_BLOCKS or size > _FRAME_BUDGET:
            framed = False
            break
    else:
        # Reached the previous attribution or the document start. The previous embed frames
        # the post only when the attribution hugs the text (the copy kept the embed's own
        # line breaks); the document start never does (articles open with their own words).
        framed = floor > 0 and hugging
    if framed:
        post = pending + post
    start, end = post[0].start, post[-1].end
    inline = len(post) == 1 and text.find("\n", start, end) < 0 and end == _trimmed(text, dash)
    return _after_lead_in(text, start, end) if inline else (start, end)


def _trimmed(text: str, pos: int) -> int:
    while pos > 0 and text[pos - 1] in " \t\u00a0":
        pos -= 1
    return pos


def _after_lead_in(text: str, start: int, end: int) -> tuple[int, int]:
    """For a post quoted inside a sentence, drop the sentence's own words before it."""
    body = text[start:end]
    openers = _QUOTES.get(body[-1:], "")
    if openers:
        opening = max(body.rfind(c, 0, len(body) - 1) for c in openers)
        if opening > 0 and body[:opening].strip():
            return start + opening + 1, end - 1
    colon = _COLON_RE.search(body)
    if colon and len(body[: colon.start()].split()) >= _LEAD_IN_WORDS:
        inner = colon.end()
        while inner < len(body) and body[inner].isspace():
            inner += 1
        if inner < len(body):
            return start + inner, end
    return start, end
