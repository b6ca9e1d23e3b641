"""The embed forms that markup names: AMP elements, embed containers, embed code kept as text,
frames and placeholders (see ``html.py`` for what each one is).

Each rule first finds its few candidates with a C-level query (elements by name, or the
elements a registry marker could be on), then reads only those.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from ..models import Markup, Target
from ..platforms.base import Platform
from ._links import literal_gate, may_be_url, shown_links, wrapped_target
from ._page import Found, Page, detection
from ._survey import FRAMES, NAMED_ID_ATTRS, TEMPLATE_TYPES
from ._tree import Element, items, parse, raw_text, text_value, utf8
from ._visible import visible_text
from .dates import find_date, iso_date

_DATE_MAX = 40
_EMBED_CODE = re.compile(r"<(?:blockquote|iframe|amp-|div[^>]+data-href)", re.I)
_PROVIDER_ATTRS = (
    "data-provider",
    "data-type",
    "data-embed-type",
    "data-platform",
    "data-service",
    "data-social-embedded",
    "data-source",
    "data-network",
)
_NAMED_ID_SET = frozenset(NAMED_ID_ATTRS)
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_PLATFORM_ID_ATTR = re.compile(r"data-(?P<name>[a-z]+)-?(?:video-?|post-?)?id", re.IGNORECASE)


def embed_forms(page: Page) -> list[Found]:
    found = list(_amp(page))
    found.extend(_containers(page))
    found.extend(_fragments(page))
    found.extend(_frames_and_placeholders(page))
    return found


def _amp(page: Page) -> Iterator[Found]:
    markers = {m.tag: (p, m.id_attr) for p in page.registry for m in p.amp_markers}
    for tag in page.seen.amps:
        platform, attr = markers[tag.tag]
        found = text_value(tag, attr)
        if not found or not found.strip():
            continue
        found = found.strip()
        target = platform.target_for_id(found) or page.target(found)
        if target is not None and target.platform == platform.name and page.content(tag):
            yield tag, detection(target, "amp")


def _id_attr_target(tag: Element, platform: Platform) -> Target | None:
    for attr in platform.embed_id_attrs:
        found = text_value(tag, attr)
        if found and found.strip():
            target = platform.target_for_id(found.strip())
            if target is not None:
                return target
    return None


def _attr_target(tag: Element, page: Page) -> Target | None:
    """The post one of the element's own attribute values *is* (``cite``, ``data-href``…)."""
    for name, found in items(tag):
        if name in ("class", "style", "id") or not isinstance(found, str):
            continue
        if may_be_url(found):
            target = page.target(found)
            if target is not None:
                return target
    return None


def _marked_above(tags: list[tuple[Element, Platform]]) -> set[tuple[Element, str]]:
    """(ancestor, platform) for every ancestor of a tag of that platform."""
    marked: set[tuple[Element, str]] = set()
    for tag, platform in tags:
        for node in tag.iterancestors():
            if (node, platform.name) in marked:
                break
            marked.add((node, platform.name))
    return marked


def _anchored_blockquotes(page: Page, names: set[str]) -> set[Element]:
    """Blockquotes holding a link to a post of one of ``names`` (the only ones a class-less
    blockquote embed can be): from each such link up to its outermost blockquote, each
    element passed once (a deep nest of quotes is not read again and again)."""
    found: set[Element] = set()
    seen: set[Element] = set()
    passed: set[Element] = set()
    for top in page.seen.quotes:
        if top in seen:
            continue
        seen.update(top.iter("blockquote"))
        for a in top.iter("a"):
            href = a.get("href")
            target = page.target(href) if href is not None else None
            if target is None or target.platform not in names:
                continue
            node = a.getparent()
            while node is not None and node not in passed:
                passed.add(node)
                if node.tag == "blockquote":
                    found.add(node)
                if node is top:
                    break
                node = node.getparent()
    return found


def _containers(page: Page) -> Iterator[Found]:
    attributed = [p for p in page.registry if p.attribution_pattern is not None]
    classed = page.seen.classed
    platform_of = dict(classed)
    has_own_below = _marked_above(classed)
    anchored = _anchored_blockquotes(page, {p.name for p in attributed}) if attributed else set()

    def candidates() -> Iterator[tuple[Element, Platform, bool]]:
        # Original blockquotes first: widgets.js leaves one next to its rendered copy, and the
        # original is the better evidence (its text, not an iframe).
        for tag in page.seen.quotes:
            if tag in platform_of:
                yield tag, platform_of[tag], True
            elif tag in anchored and not page.is_claimed(tag) and page.content(tag):
                # Checked first, as the loop below would: a quote's text is read only when
                # it could be an embed (in a deep nest, reading each one's is quadratic).
                text = visible_text(tag)
                for p in attributed:
                    assert p.attribution_pattern is not None
                    gate = literal_gate(p.attribution_pattern)
                    if (gate is None or gate.search(text)) and p.attribution_pattern.search(text):
                        yield tag, p, False
                        break
        for tag, platform in classed:
            if tag.tag != "blockquote":
                yield tag, platform, True

    from_blockquotes: set[tuple[str, str]] = set()
    for tag, platform, is_classed in candidates():
        if is_classed and (tag, platform.name) in has_own_below:
            continue  # the innermost element with the class is the embed itself
        if page.is_claimed(tag) or not page.content(tag):
            continue
        anchors = [
            (a, t)
            for a in list(tag.iterdescendants("a"))
            if (href := a.get("href")) is not None
            if (t := page.target(href)) and t.platform == platform.name
        ]
        target = _attr_target(tag, page) if is_classed else None
        if target is not None and target.platform != platform.name:
            target = None
        target = target or (anchors[-1][1] if anchors else None)
        if target is None:
            for node in list(tag.iter()):
                if not isinstance(node.tag, str):
                    continue
                target = _id_attr_target(node, platform)
                if target is None and node.tag in FRAMES:
                    target = _frame_target(node, page)
                if target is not None:
                    break
        if target is None or (not is_classed and not anchors):
            continue
        page.claim(tag)
        key = (target.platform, target.id)
        if tag.tag == "blockquote":
            from_blockquotes.add(key)
        elif key in from_blockquotes:
            continue
        date_anchor = anchors[-1][0] if anchors else None
        fields = _post_fields(tag, date_anchor, platform, page.registry)
        markup: Markup = "iframe" if tag.tag in FRAMES else "blockquote"
        yield tag, detection(target, markup, **fields)


def _post_fields(
    tag: Element,
    date_anchor: Element | None,
    platform: Platform,
    registry: tuple[Platform, ...],
) -> dict[str, object]:
    """Author, handle, date, text and links as the blockquote shows them."""
    whole = visible_text(tag)
    pattern = platform.attribution_pattern
    attribution = None
    if pattern is not None:
        attribution = next(reversed(list(pattern.finditer(whole))), None)
    if attribution is not None:
        text = platform.shown_text(whole[: attribution.start()].strip())
    else:
        text = platform.shown_text(visible_text(tag, skip=date_anchor).strip())
    # The date link of an official blockquote ("November 14, 2022"); a long link text is a
    # caption (Instagram links its caption to the post), not a date.
    shown = visible_text(date_anchor)
    date = iso_date(shown) if date_anchor is not None and len(shown) <= _DATE_MAX else None
    if date is None and attribution is not None:
        rest = whole[attribution.end() :].split("\n", 1)[0]
        found = find_date(rest)
        date = iso_date(found[0]) if found else None
    fields: dict[str, object] = {
        "text": text or None,
        "date": date,
        "links": shown_links(text, registry) if text else (),
    }
    if attribution is not None:
        fields["author"] = " ".join(attribution.group("name").split()) or None
        fields["handle"] = attribution.group("handle")
    return fields


def _fragments(page: Page) -> Iterator[Found]:
    """Embed code kept as text (``<textarea>``, HTML templates in ``<script>``, consent
    placeholders' ``data-*`` attributes), parsed on its own."""
    for tag in page.seen.coded:
        codes: list[str] = []
        markup: Markup = "other"
        if tag.tag == "textarea":
            codes.append(raw_text(tag, page.in_container(tag)))
        elif tag.tag == "script" and TEMPLATE_TYPES.match(text_value(tag, "type") or ""):
            codes.append(raw_text(tag))
            markup = "script"
        elif tag.tag != "script":
            # Consent managers park the embed code in an attribute until the reader agrees.
            codes.extend(v for k, v in tag.items() if k.startswith("data-"))
        codes = [c for c in codes if _EMBED_CODE.search(c)]
        if not codes or not page.content(tag):
            continue
        for code in codes:
            fragment = parse(utf8(code))
            if fragment is None:
                continue
            inner = Page(fragment, page.registry, scoped=False)
            for _, d in embed_forms(inner):
                page.claim(tag)
                yield tag, replace(d, markup=markup)


def _frame_target(tag: Element, page: Page) -> Target | None:
    for name, found in items(tag):
        if isinstance(found, str) and name not in ("class", "style") and may_be_url(found):
            target = page.target(found) or wrapped_target(found, page.registry)
            if target is not None:
                return target
    for platform in page.id_platforms(tag):
        target = _id_attr_target(tag, platform)
        if target is not None:
            return target
    return None


def _named_id_target(tag: Element, page: Page) -> Target | None:
    """A wrapper naming its platform with a bare id: ``data-youtube-id="…"``, or a platform
    named by the tag, a class or a provider attribute plus ``data-id``/``videoid``/….
    """
    names = tag.keys()
    for name in names:
        if name[-2:].lower() != "id" or name[:5].lower() != "data-":
            continue  # what _PLATFORM_ID_ATTR needs
        m = _PLATFORM_ID_ATTR.fullmatch(name)
        found = tag.get(name) if m else None
        if m and found and found.strip():
            platform = page.facts.by_name.get(m.group("name").lower())
            target = platform.target_for_id(found.strip()) if platform else None
            if target is not None:
                return target
    if _NAMED_ID_SET.isdisjoint(names):
        return None
    # None of these is a word list or a boolean attribute: ``get`` reads what ``text_value`` does.
    ids = [v.strip() for a in NAMED_ID_ATTRS if (v := tag.get(a)) and v.strip()]
    if not ids:
        return None
    words = set(_WORD_SPLIT.split(tag.tag.lower()))
    for name in ("class", *_PROVIDER_ATTRS):
        # Split into the same words as the class list ``value`` would give.
        words.update(_WORD_SPLIT.split((tag.get(name) or "").lower()))
    for platform in page.registry:
        if platform.name in words:
            for bare in ids:
                target = platform.target_for_id(bare)
                if target is not None:
                    return target
    return None


def _frames_and_placeholders(page: Page) -> Iterator[Found]:
    # A data-* URL is a placeholder of a dedicated platform's embed; for the generic one it is
    # as likely a share or bookmark widget's own page URL.
    for tag in page.seen.placeholders:
        markup: Markup
        if tag.tag in FRAMES:
            target = _frame_target(tag, page)
            markup = "iframe"
        else:
            target = next(
                (
                    t
                    for name, found in tag.items()
                    if name.startswith("data-") and may_be_url(found)
                    if (t := page.named_target(found))
                ),
                None,
            )
            target = target or next(
                (t for p in page.id_platforms(tag) if (t := _id_attr_target(tag, p))), None
            )
            target = target or _named_id_target(tag, page)
            markup = "script" if tag.tag == "script" else "other"
        if target is not None and not page.is_claimed(tag) and page.content(tag):
            page.claim(tag)
            yield tag, detection(target, markup)
