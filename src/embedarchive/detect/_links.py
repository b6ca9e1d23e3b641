"""Platform URLs and short links in running text, found through each platform's own patterns.

The patterns allow a missing scheme ("pic.twitter.com/…", "x.com/h/status/1"), so a match is
only kept when it does not start inside another word or host: "linux.com/a/status/1" must not
read as x.com. A match that carries its scheme may follow a letter, because copied text glues
links to words ("…administrationhttps://t.co/WcgraWqkiA").
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..models import Target
from ..platforms.base import Platform

try:  # CPython's own regex parser (private): without it, patterns simply run ungated
    from re import _constants, _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another Python
    _constants = _parser = None

_GLUED_BEFORE = re.compile(r"[A-Za-z0-9_.\-@/]")
_GLUED_AFTER = re.compile(r"[A-Za-z0-9]")
_SCHEME = re.compile(r"https?:", re.IGNORECASE)
_OTHER_URL = re.compile(
    r"https?://[^\s<>\"]+|(?<![A-Za-z0-9_@#.\-/])(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}/[^\s<>\"]*",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\"\u2019\u201d\u00bb"
#: Query parameters through which embed proxies (Embedly, Iframely, consent managers) pass the
#: URL they show; buttons and counters pass the *page's* URL the same way and are skipped.
_WRAPPED_PARAMS = ("url", "src", "href", "u", "link")
_GROUP_NAME = re.compile(r"\(\?P<\w+>")
_SCOPED_FLAGS = (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL), ("x", re.VERBOSE))
_BUTTON_PATH = re.compile(r"like|share|follow|button|comment|subscribe|badge|count", re.I)
#: A cheap test that a value may be a URL: a dotted name and a path or port, or a scheme.
URLISH = re.compile(r"[\w-]\.[A-Za-z]{2,}[/:]|https?:", re.IGNORECASE)


@dataclass(frozen=True)
class Found:
    """One URL as shown in the text; ``target`` is set for single posts, None for short links."""

    platform: Platform
    start: int
    end: int
    shown: str
    target: Target | None
    handle: str | None = None


def _standalone(text: str, m: re.Match[str], whole_code: bool) -> bool:
    start, end = m.span()
    if whole_code and _GLUED_AFTER.match(text, end):
        return False
    if _SCHEME.match(text, start):
        return True
    return start == 0 or not _GLUED_BEFORE.match(text, start - 1)


def _scan(
    text: str, registry: tuple[Platform, ...], posts: bool, start: int, end: int
) -> list[Found]:
    found: list[Found] = []
    #: Each URL's post, by platform, asked once: a text may repeat one link many times.
    posts_of: dict[tuple[int, str], Target | None] = {}
    lowered = _lowered(text, start, end)
    for platform, pattern, gate in _gated_patterns(registry, posts):
        if gate is not None and not gate.holds(text, start, end, lowered):
            continue
        for m in pattern.finditer(text, start, end):
            if not _standalone(text, m, whole_code=not posts):
                continue
            if text.startswith("\u2026", m.end()):
                continue  # a URL shown cut short ("x.com/a/status/19892…"): not its id
            target = None
            if posts:
                url = m.group(0)
                key = (id(platform), url)
                if key not in posts_of:
                    # The cheap test first: the generic platform's match asks yt-dlp.
                    claimed = _claimed_host(url, platform, registry)
                    posts_of[key] = None if claimed else platform.match(url)
                target = posts_of[key]
                if target is None:
                    continue
            handle = m.groupdict().get("handle")
            found.append(Found(platform, m.start(), m.end(), m.group(0), target, handle))
    # Overlapping matches: the earlier platform in the registry wins (the generic platform's
    # any-URL pattern never shadows a dedicated one), then the longer match.
    rank = _ranks(registry)
    found.sort(key=lambda f: (rank[id(f.platform)], f.start, -f.end))
    # The kept matches never overlap, so sorted by start their ends are sorted too: a match
    # overlaps one of them only if it overlaps the last one starting before its end.
    starts: list[int] = []
    ends: list[int] = []
    kept: list[Found] = []
    for f in found:
        i = bisect_left(starts, f.end)
        if i and ends[i - 1] > f.start:
            continue
        starts.insert(i, f.start)
        ends.insert(i, f.end)
        kept.insert(i, f)
    return kept


#: Characters that ``re.IGNORECASE`` matches with an ASCII letter but ``str.lower`` does not
#: turn into it (``İ`` also turns into two characters).
_FOLDED_APART = re.compile("[\u0130\u0131\u017f]")
#: From this many characters on, a text is lowered once for all the gates of a scan.
_LOWER_FROM = 1 << 16


@dataclass(frozen=True)
class _Gate:
    """A pattern's ``literal_gates``: one of them is in every text the pattern matches."""

    pattern: re.Pattern[str]
    literals: tuple[str, ...]
    #: The literals as ``str.find`` looks for them in a lowered text (None: not ASCII).
    lowered: tuple[str, ...] | None

    def holds(self, text: str, start: int, end: int, lowered: str | None) -> bool:
        """Whether ``text[start:end]`` holds one of the literals. A case-insensitive regex
        search is slow (no fast literal search), so a long text is looked at lowered."""
        if lowered is not None and self.lowered is not None:
            if self.pattern.flags & re.IGNORECASE:
                return any(g in lowered for g in self.lowered)
            return any(text.find(g, start, end) >= 0 for g in self.literals)
        return self.pattern.search(text, start, end) is not None


def _lowered(text: str, start: int, end: int) -> str | None:
    """``text[start:end].lower()`` for a long text, when that finds what a case-insensitive
    search of an ASCII literal would find; else None."""
    if end - start < _LOWER_FROM or _FOLDED_APART.search(text, start, end):
        return None
    return text[start:end].lower()


@functools.lru_cache(maxsize=32)
def _gated_patterns(
    registry: tuple[Platform, ...], posts: bool
) -> tuple[tuple[Platform, re.Pattern[str], _Gate | None], ...]:
    """Each platform's post (or short-link) patterns, in registry order, with their gates."""
    out: list[tuple[Platform, re.Pattern[str], _Gate | None]] = []
    for platform in registry:
        for pattern in platform.url_patterns if posts else platform.short_link_patterns:
            gate = literal_gate(pattern)
            literals = literal_gates(pattern)
            if gate is None or literals is None:
                out.append((platform, pattern, None))
                continue
            ascii_only = all(g.isascii() for g in literals)
            lowered = tuple(g.lower() for g in literals) if ascii_only else None
            out.append((platform, pattern, _Gate(gate, literals, lowered)))
    return tuple(out)


@functools.lru_cache(maxsize=16)
def _ranks(registry: tuple[Platform, ...]) -> dict[int, int]:
    """Each platform's place in the registry (its last, should it be listed twice)."""
    return {id(p): i for i, p in enumerate(registry)}


def may_be_url(value: str) -> bool:
    """``URLISH.search(value)``, cheaper: most links start with a scheme, and every match
    holds a ``:``, or a ``.`` and a ``/``, which most other values lack (some are long)."""
    if value.startswith(("https:", "http:")):
        return True
    return (":" in value or ("." in value and "/" in value)) and URLISH.search(value) is not None


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _claimed_host(url: str, platform: Platform, registry: tuple[Platform, ...]) -> bool:
    """True when another platform owns the URL's host, so it is that platform's non-post page
    (a YouTube channel is not a video for the generic platform)."""
    if platform.hosts or "//" not in url:
        return False
    host = _host(url)
    return bool(host) and any(p is not platform and p.owns(host) for p in registry)


@functools.lru_cache(maxsize=512)
def literal_gate(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    """``literal_gates`` as a pattern of its own: a text where it finds nothing cannot match
    ``pattern``, and finding it is many times cheaper than trying the whole pattern at every
    position. None when the pattern has no such literals.
    """
    gates = literal_gates(pattern)
    if gates is None:
        return None
    alternatives = "|".join(re.escape(g) for g in gates)
    return re.compile(alternatives, pattern.flags & (re.IGNORECASE | re.ASCII))


@functools.lru_cache(maxsize=512)
def literal_gates(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Literal strings one of which every match of ``pattern`` holds, as long as can be found:
    ``/status`` for an X status URL, ``(@`` for an attribution, ``pic.twitter.com/`` or
    ``pic.x.com/`` for an X short link (alternatives of literals are spelt out). None when
    the pattern has none.
    """
    if _parser is None:
        return None
    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - an internal parser: no gate is always correct
        return None
    return _sequence_gates(parsed)


#: At most this many spelt-out alternatives per gate.
_MAX_GATES = 16


def _strength(gates: tuple[str, ...]) -> tuple[int, int]:
    """The rarer the better: the shortest literal as long as can be, then the fewest."""
    return min(map(len, gates)), -len(gates)


def _pure_literal(items: Any) -> str | None:
    """The text a sequence of literal characters (plain groups of them too) spells, else None."""
    chars = []
    for op, av in items:
        if op is _constants.LITERAL:
            chars.append(chr(av))
        elif op is _constants.SUBPATTERN and not av[1] and not av[2]:
            inner = _pure_literal(av[3])
            if inner is None:
                return None
            chars.append(inner)
        else:
            return None
    return "".join(chars)


def _sequence_gates(items: Any) -> tuple[str, ...] | None:
    """The strongest gates of a parsed sequence: a run of literals (with alternatives of
    literals inside it spelt out), or an alternation each of whose branches has gates."""
    best: tuple[str, ...] | None = None
    spelt = [""]

    def consider(gates: tuple[str, ...]) -> None:
        nonlocal best
        if all(gates) and (best is None or _strength(gates) > _strength(best)):
            best = gates

    def end_run() -> None:
        nonlocal spelt
        consider(tuple(dict.fromkeys(spelt)))
        spelt = [""]

    def walk(items: Any) -> None:
        nonlocal spelt
        for op, av in items:
            if op is _constants.LITERAL:
                spelt = [s + chr(av) for s in spelt]
            elif op is _constants.SUBPATTERN and not av[1] and not av[2]:
                walk(av[3])  # a plain group: its contents are part of the sequence
            elif op is _constants.BRANCH:
                branches = [_pure_literal(branch) for branch in av[1]]
                if None not in branches and len(spelt) * len(branches) <= _MAX_GATES:
                    spelt = [s + str(b) for s in spelt for b in branches]
                    continue
                end_run()
                inner = [_sequence_gates(branch) for branch in av[1]]
                if all(inner) and sum(len(g) for g in inner if g) <= _MAX_GATES:
                    consider(tuple(dict.fromkeys(g for gates in inner if gates for g in gates)))
            else:
                end_run()

    walk(items)
    end_run()
    return best


def post_urls(
    text: str, registry: tuple[Platform, ...], start: int = 0, end: int | None = None
) -> list[Found]:
    """Links to single posts (status URLs, embed URLs) in ``text[start:end]``."""
    return _scan(text, registry, True, start, len(text) if end is None else end)


def short_links(
    text: str, registry: tuple[Platform, ...], start: int = 0, end: int | None = None
) -> list[Found]:
    """Short links (pic.twitter.com, t.co) that hide which post they belong to."""
    return _scan(text, registry, False, start, len(text) if end is None else end)


def shown_links(text: str, registry: tuple[Platform, ...]) -> tuple[str, ...]:
    """Every link shown in a post's text, in order, exactly as shown (no scheme added).

    Platform links are cut by their own patterns (a short code ends where the pattern says);
    other URLs run to the next space, less trailing punctuation.
    """
    spans = [(f.start, f.end) for f in post_urls(text, registry) + short_links(text, registry)]
    for m in _OTHER_URL.finditer(text):
        end = m.start() + len(m.group(0).rstrip(_TRAILING))
        if not any(s < end and m.start() < e for s, e in spans):
            spans.append((m.start(), end))
    return tuple(text[s:e] for s, e in sorted(spans))


def target_at_start(value: str, registry: tuple[Platform, ...]) -> Target | None:
    """The post an attribute value or href points at, when the value *is* that URL.

    Anchored at the start so a share link or a proxy that merely carries a post URL in its
    query ("facebook.com/sharer.php?u=https://twitter.com/…") is not taken for the post.
    """
    value = value.strip()
    if value.startswith("//"):
        value = "https:" + value
    gate = _any_pattern(registry)
    if gate is not None and gate.match(value) is None:
        return None  # no platform's pattern matches: nothing below could return a target
    owner = None
    if value[:8].lower().startswith(("http://", "https://")):
        owner = _first_owner(_host(value), registry)
    for index, platform in enumerate(registry):
        for pattern in platform.url_patterns:
            m = pattern.match(value)
            if m:
                target = platform.match(m.group(0))
                if target is not None:
                    return target
        if index == owner:
            return None  # the platform's profile, channel or share page: not a post
    return None


def _first_owner(host: str, registry: tuple[Platform, ...]) -> int | None:
    """The position of the first platform that owns ``host`` (None: no platform does)."""
    if not host:
        return None
    owners = _owned_hosts(registry)
    if owners is None:
        return next((i for i, p in enumerate(registry) if p.hosts and p.owns(host)), None)
    labels = host.split(".")
    # Only the endings with as many labels as an owned host can be one (a hostile host name
    # of 50,000 labels is not joined 50,000 times).
    most = max((h.count(".") + 1 for h in owners), default=0)
    endings = (".".join(labels[k:]) for k in range(max(0, len(labels) - most), len(labels)))
    found = [owners[h] for h in endings if h in owners]
    return min(found) if found else None


@functools.lru_cache(maxsize=16)
def _owned_hosts(registry: tuple[Platform, ...]) -> dict[str, int] | None:
    """Each owned host name and the first platform owning it, when every platform reads its
    ``hosts`` the standard way (a host or any subdomain of it); else None."""
    owners: dict[str, int] = {}
    for index, platform in enumerate(registry):
        if type(platform).owns is not Platform.owns:
            return None
        for host in platform.hosts:
            owners.setdefault(host, index)
    return owners


@functools.lru_cache(maxsize=16)
def _any_pattern(registry: tuple[Platform, ...]) -> re.Pattern[str] | None:
    """Every post pattern of the registry as one alternation (group names dropped), to turn
    away in one call the many attribute values that are no post at all; None when a pattern
    cannot be embedded so. Whether one alternative matches does not depend on their order:
    the last platforms' come first, as a registry ends with the one that takes any URL."""
    parts = []
    for platform in reversed(registry):
        for pattern in platform.url_patterns:
            if pattern.flags & (re.ASCII | re.LOCALE) or "(?P=" in pattern.pattern:
                return None
            flags = "".join(f for f, bit in _SCOPED_FLAGS if pattern.flags & bit)
            parts.append(f"(?{flags}:{_GROUP_NAME.sub('(?:', pattern.pattern)})")
    try:
        return re.compile("|".join(parts)) if parts else None
    except re.error:
        return None


def wrapped_target(value: str, registry: tuple[Platform, ...]) -> Target | None:
    """The post an embed proxy frame shows (``…/media.html?url=<post URL>``), if any."""
    value = value.strip()
    if "?" not in value or not value.lower().startswith(("http", "//")):
        return None
    parts = urlsplit("https:" + value if value.startswith("//") else value)
    if _BUTTON_PATH.search(parts.path):
        return None
    for name, inner in parse_qsl(parts.query.replace("&amp;", "&")):
        if name.lower() in _WRAPPED_PARAMS and inner.lower().startswith(("http", "//")):
            target = target_at_start(inner, registry)
            if target is not None:
                return target
    return None
