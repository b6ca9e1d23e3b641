"""Telegram: public channel posts, read from the page the official post widget shows.

Detection: ``t.me/<channel>/<id>`` links (also ``telegram.me`` and the ``t.me/s/`` channel
preview form), the widget's iframe (``t.me/<channel>/<id>?embed=1``) and the widget script's
``data-telegram-post="<channel>/<id>"``. Channel links without a post id, invite links
(``t.me/+…``, ``joinchat``) and private-channel links (``t.me/c/…``) are not posts.

Capture needs no key: ``<telegram_url>/<channel>/<id>?embed=1`` is the HTML page that
telegram-widget.js puts in its iframe. Without ``single`` it shows every item of an album,
so the whole album is archived whichever item the article linked.
"""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag

from ..capture.collect import Method, MethodResult, capture_with_methods
from ..capture.context import FetchContext
from ..capture.http import Recorder
from ..errors import UnavailableError, UnexpectedResponseError
from ..models import Capture, MediaRef, PostData, Target
from ._common import fail_unless_ok, html_to_text, iso_utc
from .base import Platform

#: First path segments of t.me that are features, not channels.
_RESERVED = (
    "addemoji|addlist|addstickers|addtheme|boost|confirmphone|contact|invoice|iv|joinchat"
    "|login|proxy|setlanguage|share|socks"
)
#: A public username: 4–32 characters, starting with a letter (4 for collectible names).
_CHANNEL = r"(?!(?:" + _RESERVED + r")/)[A-Za-z][A-Za-z0-9_]{3,31}"
POST_RE = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t|telegram)\.me/(?:s/)?"
    r"(?P<id>(?P<channel>" + _CHANNEL + r")/(?P<msg>\d{1,10}))(?!\d)(?!/\d)",
    re.IGNORECASE,
)
_WIDGET_ID_RE = re.compile(r"(?P<channel>" + _CHANNEL + r")/(?P<msg>\d{1,10})", re.IGNORECASE)
_BACKGROUND_RE = re.compile(r"background-image\s*:\s*url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
_COUNT_RE = re.compile(r"([\d.,]+)\s*([KMB]?)", re.IGNORECASE)
_MULTIPLIERS = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}


def canonical_post_url(channel: str, msg: str) -> str:
    return f"https://t.me/{channel}/{msg}"


class Telegram(Platform):
    name: ClassVar[str] = "telegram"
    kind = "post"
    url_patterns = (POST_RE,)
    hosts = ("t.me", "telegram.me", "telegram.dog", "telegram.org")
    #: The official widget: ``<script … data-telegram-post="durov/68">``.
    embed_id_attrs: ClassVar[tuple[str, ...]] = ("data-telegram-post",)
    #: Offline examples: (URL or widget id, expected target id or None for "not a post").
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("https://t.me/durov/68", "durov/68"),
        ("https://t.me/s/durov/68", "durov/68"),
        ("http://telegram.me/durov/68?single", "durov/68"),
        ("https://t.me/durov/68?embed=1&userpic=true", "durov/68"),
        ("t.me/Ukraine_NOW/12345", "Ukraine_NOW/12345"),
        ("https://t.me/durov", None),
        ("https://t.me/s/durov", None),
        ("https://t.me/c/1234567890/55", None),
        ("https://t.me/joinchat/AAAAAEkk2WdoDrB4-Q8-gg", None),
        ("https://t.me/share/url?url=https://example.com/a/1", None),
        ("https://t.me/forumgroup/5/678", None),
    )

    def canonical_url(self, m: re.Match[str]) -> str:
        return canonical_post_url(m.group("channel"), m.group("msg"))

    def target_for_id(self, post_id: str) -> Target | None:
        m = _WIDGET_ID_RE.fullmatch(post_id.strip().strip("/"))
        if m is None:
            return None
        return Target(
            self.name, f"{m['channel']}/{m['msg']}", canonical_post_url(m["channel"], m["msg"])
        )

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        return capture_with_methods(target, ctx, list(METHODS.items()))


def fetch_widget(target: Target, ctx: FetchContext, recorder: Recorder) -> MethodResult:
    channel, msg = target.id.rsplit("/", 1)
    url = f"{ctx.settings.telegram_url.rstrip('/')}/{channel}/{msg}"
    got = ctx.http.get(
        url,
        recorder,
        "telegram:widget",
        params={"embed": "1"},
        max_bytes=ctx.settings.max_json_bytes,
    )
    if got.status == 404:
        raise UnavailableError("telegram: post not found (HTTP 404)")
    fail_unless_ok(got, "telegram widget")
    if "html" not in got.content_type.lower():
        raise UnexpectedResponseError(
            f"telegram widget answered {got.content_type or 'no content type'}, not HTML"
        )
    page = got.body.decode("utf-8", "replace")
    return MethodResult(post_from_widget(page, target, got.final_url))


def post_from_widget(page: str, target: Target, page_url: str) -> PostData:
    """The post shown by a widget page; raises ``UnavailableError`` when it shows an error.

    Media URLs are resolved against ``page_url``, so relative or scheme-less ones still work.
    """
    if "<" not in page:  # no markup at all (BeautifulSoup would warn that it looks like a URL)
        raise UnexpectedResponseError("telegram widget page holds no HTML")
    soup = BeautifulSoup(page, "lxml")
    error = soup.select_one(".tgme_widget_message_error")
    if error is not None:
        reason = " ".join(error.get_text(" ").split()) or "the widget shows an error"
        raise UnavailableError(f"telegram: {reason}")
    message = soup.select_one(".tgme_widget_message[data-post]")
    if message is None:
        raise UnexpectedResponseError("telegram widget page shows neither a post nor an error")
    channel, msg = target.id.rsplit("/", 1)
    shown = str(message.get("data-post") or "")
    if shown.casefold() != target.id.casefold():  # the channel's own spelling is kept
        raise UnexpectedResponseError(f"telegram widget shows another post ({shown[:100]!r})")
    channel = shown.split("/", 1)[0]
    author = _own(message, ".tgme_widget_message_author")
    uploader = " ".join(author.get_text(" ").split()) if author is not None else ""
    views = message.select_one(".tgme_widget_message_views")
    view_count = _count(views.get_text()) if views is not None else None
    return PostData(
        platform="telegram",
        id=target.id,
        url=canonical_post_url(channel, msg),
        uploader=uploader or None,
        uploader_id=channel,
        created_at=_date(message),
        text=_text(message),
        reply_to_id=_reply_to(message),
        counts={"view_count": view_count} if view_count is not None else {},
        media=_media(message, page_url),
        raw=page,
    )


def _outside_reply(tag: Tag) -> bool:
    """The quoted message a post replies to carries the same classes; it is not this post."""
    return not any("tgme_widget_message_reply" in (p.get("class") or []) for p in tag.parents)


def _own(message: Tag, selector: str) -> Tag | None:
    """The first element matching ``selector`` that belongs to the post, not to its reply."""
    return next((t for t in message.select(selector) if _outside_reply(t)), None)


def _text(message: Tag) -> str | None:
    node = _own(message, ".tgme_widget_message_text")
    if node is None:
        return None
    return html_to_text(node.decode_contents()) or None


def _date(message: Tag) -> str | None:
    time = message.select_one(".tgme_widget_message_date time[datetime]") or message.select_one(
        "time[datetime]"
    )
    return iso_utc(str(time["datetime"])) if time is not None else None


def _reply_to(message: Tag) -> str | None:
    reply = message.select_one("a.tgme_widget_message_reply[href]")
    m = POST_RE.search(str(reply["href"])) if reply is not None else None
    return m.group("id") if m else None


def _count(text: str) -> int | None:
    """Views as the widget prints them ("1.2K", "3.4M", "987") — rounded, as Telegram rounds."""
    m = _COUNT_RE.search(text.strip())
    if m is None:
        return None
    try:
        number = float(m.group(1).replace(",", ""))
    except ValueError:
        return None
    return round(number * _MULTIPLIERS[m.group(2).upper()])


def _background(tag: Tag) -> str | None:
    m = _BACKGROUND_RE.search(str(tag.get("style") or ""))
    return m.group(1) if m else None


def _item(tag: Tag) -> dict[str, str]:
    """Which album item a media element belongs to (its link names the item's own post id)."""
    link = tag if tag.name == "a" else tag.find_parent("a")
    m = POST_RE.search(str(link.get("href") or "")) if link is not None else None
    return {"item": m.group("id")} if m else {}


def _media(message: Tag, page_url: str) -> tuple[MediaRef, ...]:
    """Photos, videos (with their thumbnails) and audio, in page order; never the reply's."""
    refs: list[MediaRef] = []
    for tag in message.select(
        ".tgme_widget_message_photo_wrap, .tgme_widget_message_video_thumb,"
        " .tgme_widget_message_roundvideo_thumb, video[src], audio[src]"
    ):
        if not _outside_reply(tag):
            continue
        if tag.name == "video":
            refs.append(MediaRef("video", urljoin(page_url, str(tag["src"])), info=_item(tag)))
            continue
        if tag.name == "audio":
            refs.append(MediaRef("audio", urljoin(page_url, str(tag["src"])), info=_item(tag)))
            continue
        url = _background(tag)
        if url:
            photo = "tgme_widget_message_photo_wrap" in tag.get_attribute_list("class")
            refs.append(
                MediaRef("photo" if photo else "thumbnail", urljoin(page_url, url), info=_item(tag))
            )
    return tuple(refs)


METHODS: dict[str, Method] = {"widget": fetch_widget}
