"""HTML rendering: one Jinja environment, autoescaping everything, and the display filters.

Archived values are untrusted (an article or a post can contain ``<script>``), so every template
is autoescaped, no template uses ``|safe`` on archived data, and links are only made from
http(s) URLs (``href``): anything else, ``javascript:`` included, is shown as text. A value
with bidirectional controls is isolated (``isolate``), so a name ending in an unclosed
right-to-left override cannot turn the handle or the verdict printed after it around.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..display import isolate, player, quote_bidi

STATIC_PREFIX = "/-/embedarchive/"


def when(value: str | None) -> Markup:
    """An ISO timestamp shown as ``YYYY-MM-DD HH:MM:SS UTC`` in a ``<time>`` element.

    A bare date (what an article printed) stays a date; a time without zone says so.
    """
    if not value:
        return Markup("—")
    text = isolate(str(value))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return Markup("<time>{}</time>").format(text)
    if len(text) <= 10:
        shown = parsed.date().isoformat()
    elif parsed.tzinfo is None:
        shown = f"{parsed:%Y-%m-%d %H:%M:%S} (no time zone)"
    else:
        try:
            shown = f"{parsed.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
        except OverflowError:  # year 9999 behind UTC, year 1 ahead of it: as written
            return Markup("<time>{}</time>").format(text)
    return Markup('<time datetime="{0}" title="{0}">{1}</time>').format(text, shown)


def size(value: int | None) -> str:
    if value is None:
        return "—"
    amount = float(value)
    for unit in ("bytes", "kB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "bytes" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{value} bytes"


def href(url: Any) -> str | None:
    """The URL if it is safe to link to (http or https), else None: the caller shows text."""
    if not isinstance(url, str):
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    if scheme not in ("http", "https"):
        return None
    return quote_bidi(url.strip())


def still_of(media: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first image of a post (a photo, or a video's thumbnail), for result lists."""
    return next((m for m in media if player(m) == "image"), None)


def poster_of(media: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The thumbnail to show on the post's video: only when it has one video and one
    thumbnail. Platforms list a post's thumbnails in their own orders, and the first
    thumbnail on every video showed one video's still on the others."""
    videos = [m for m in media if m.get("kind") in ("video", "gif") and player(m) == "video"]
    stills = [m for m in media if m.get("kind") == "thumbnail" and player(m) == "image"]
    return stills[0] if len(videos) == 1 and len(stills) == 1 else None


def query(base: str, **params: Any) -> str:
    """A link to ``base`` with the given non-empty query parameters."""
    kept = {k: v for k, v in params.items() if v not in (None, "", False)}
    return base + ("?" + urlencode(kept) if kept else "")


@cache
def static_files() -> dict[str, bytes]:
    """The CSS and JS shipped in the package (read once; a non-editable install works too)."""
    folder = resources.files("embedarchive.web") / "static"
    return {item.name: item.read_bytes() for item in folder.iterdir() if item.is_file()}


def static_url(name: str) -> str:
    digest = hashlib.sha256(static_files()[name]).hexdigest()[:10]
    return f"{STATIC_PREFIX}{name}?v={digest}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("embedarchive.web", "pages"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.do"],
        finalize=isolate,
    )
    env.filters.update(size=size)
    env.globals.update(
        when=when,
        href=href,
        query=query,
        static_url=static_url,
        still_of=still_of,
        poster_of=poster_of,
        player=player,
    )
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
