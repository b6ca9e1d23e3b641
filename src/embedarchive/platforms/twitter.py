"""X/Twitter: URL forms, embed markers, and key-less fetching (syndication → oEmbed → FxTwitter → yt-dlp)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bs4 import BeautifulSoup

from ..capture.collect import Method, MethodResult, capture_with_methods
from ..capture.context import FetchContext
from ..capture.http import Fetched, Recorder
from ..capture.videos import iso_from_timestamp
from ..capture.ytdlp import fetch_in_context
from ..errors import FetchError, UnavailableError, UnexpectedResponseError
from ..models import Capture, MediaRef, PostData, Target
from ..settings import Settings
from ..untrusted import dump_json, load_json
from ._common import html_to_text, reading
from .base import QUERY_BEFORE, AmpMarker, Platform

_HOSTS = (
    r"(?:(?:www|mobile|m)\.)?(?:twitter\.com|x\.com)"
    r"|(?:(?:www|d)\.)?(?:fxtwitter\.com|vxtwitter\.com|fixupx\.com|fixvx\.com|twittpr\.com)"
    r"|nitter\.[a-z0-9.-]+"
)
STATUS_RE = re.compile(
    r"(?:https?://)?(?:" + _HOSTS + r")/"
    r"(?:(?P<handle>[A-Za-z0-9_]{1,15})|i(?:/web)?)/status(?:es)?/(?P<id>\d{1,20})(?!\d)",
    re.IGNORECASE,
)
EMBED_IFRAME_RE = re.compile(
    r"(?:https?:)?//platform\.(?:twitter|x)\.com/embed/(?:Tweet|index)\.html\?"
    + QUERY_BEFORE
    + r"\bid=(?P<id>\d{1,20})",
    re.IGNORECASE,
)
PIC_RE = re.compile(r"(?:https?://)?pic\.(?:twitter|x)\.com/(?P<code>[A-Za-z0-9]{6,20})")
TCO_RE = re.compile(r"(?:https?://)?t\.co/(?P<code>[A-Za-z0-9]{6,20})")

#: The textified official blockquote: ``— Display Name (@handle) November 14, 2025``, which is
#: what survives when a reader copies an article or a CMS strips the embed. The dash may be an
#: em dash, en dash, horizontal bar, hyphen or an unconverted ``&mdash;``; the display name cannot
#: span a spaced dash (so the nearest dash before ``(@handle)`` wins). The date after it is in
#: the embedding page's language and is parsed by the detector, not here.
ATTRIBUTION_RE = re.compile(
    r"(?:^|(?<=\s))(?:[\u2014\u2013\u2015]|-{1,2}|&mdash;|&#8212;|&#x2014;)[ \t\u00a0]*"
    r"(?P<name>(?:(?![ \t\u00a0][\u2014\u2013\u2015-][ \t\u00a0])[^\n(]|\((?!@)){0,60}?)"
    r"[ \t\u00a0]*\(@(?P<handle>[A-Za-z0-9_]{1,15})\)",
    re.MULTILINE,
)

_RESERVED_HANDLES = {"i", "intent", "share", "home", "search", "hashtag", "settings"}


def canonical_status_url(post_id: str, handle: str | None = None) -> str:
    """twitter.com is the canonical host (labels and the web archive both use it)."""
    name = handle if handle and handle.lower() not in _RESERVED_HANDLES else "i"
    return f"https://twitter.com/{name}/status/{post_id}"


class Twitter(Platform):
    name: ClassVar[str] = "twitter"
    kind = "post"
    url_patterns = (STATUS_RE, EMBED_IFRAME_RE)
    embed_classes = ("twitter-tweet", "twitter-video")
    amp_markers = (AmpMarker("amp-twitter", "data-tweetid"),)
    short_link_patterns = (PIC_RE, TCO_RE)
    #: Attributes that carry the bare post id once widgets.js has rendered the blockquote.
    embed_id_attrs: ClassVar[tuple[str, ...]] = ("data-tweet-id",)
    attribution_pattern: ClassVar[re.Pattern[str] | None] = ATTRIBUTION_RE
    hosts = ("twitter.com", "x.com", "t.co", "twimg.com")
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("https://twitter.com/SpaceX/status/1590000000000000001?s=20", "1590000000000000001"),
        ("https://x.com/SpaceX/status/1590000000000000001/photo/1", "1590000000000000001"),
        (
            "https://platform.twitter.com/embed/Tweet.html?id=1590000000000000001",
            "1590000000000000001",
        ),
        (  # the host X's own embed code uses since 2024
            "https://platform.x.com/embed/Tweet.html?dnt=false&id=1590000000000000001",
            "1590000000000000001",
        ),
        ("1590000000000000001", "1590000000000000001"),
        ("https://twitter.com/SpaceX", None),
        ("https://twitter.com/intent/tweet?url=https%3A%2F%2Fexample.com", None),
    )

    def canonical_url(self, m: re.Match[str]) -> str:
        groups = m.groupdict()
        return canonical_status_url(m.group("id"), groups.get("handle"))

    def target_for_id(self, post_id: str) -> Target | None:
        if not post_id.isdigit():
            return None
        return Target(self.name, post_id, canonical_status_url(post_id), self.kind)

    def short_link_request_url(self, link: str, settings: Settings) -> str | None:
        for pattern, base in (
            (PIC_RE, settings.twitter_pic_url),
            (TCO_RE, settings.twitter_tco_url),
        ):
            m = pattern.match(link.strip())
            if m:
                return f"{base.rstrip('/')}/{m.group('code')}"
        return None

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        methods = [(name, METHODS[name]) for name in ctx.settings.twitter_methods]
        return capture_with_methods(target, ctx, methods)


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def js_to_radix(value: float, radix: int = 36) -> str:
    """``Number.prototype.toString(radix)`` as V8 writes it (shortest round-trip fraction).

    A port of V8's DoubleToRadixCString for finite positive values; the syndication token
    depends on every digit, so a fixed-precision conversion would not do.
    """
    integer = math.floor(value)
    fraction = value - integer
    delta = max(0.5 * (math.nextafter(value, math.inf) - value), math.nextafter(0.0, 1.0))
    frac_digits: list[int] = []
    if fraction >= delta:
        while True:
            fraction *= radix
            delta *= radix
            digit = int(fraction)
            frac_digits.append(digit)
            fraction -= digit
            if fraction > 0.5 or (fraction == 0.5 and (digit & 1)):
                if fraction + delta > 1:
                    while True:
                        if not frac_digits:
                            integer += 1
                            break
                        last = frac_digits.pop()
                        if last + 1 < radix:
                            frac_digits.append(last + 1)
                            break
                    break
            if fraction < delta:
                break
    int_digits = ""
    while True:
        integer, remainder = divmod(integer, radix)
        int_digits = _DIGITS[int(remainder)] + int_digits
        if integer <= 0:
            break
    if not frac_digits:
        return int_digits
    return int_digits + "." + "".join(_DIGITS[d] for d in frac_digits)


def syndication_token(post_id: str) -> str:
    """The token cdn.syndication.twimg.com wants: (id / 1e15 · π) in base 36, without 0s and '.'."""
    return re.sub(r"0+|\.", "", js_to_radix((float(int(post_id)) / 1e15) * math.pi))


def orig_photo_url(url: str) -> str:
    """Ask pbs.twimg.com for the original size instead of the default downscaled one."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "name"] + [("name", "orig")]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _iso(value: str | None) -> str | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%a %b %d %H:%M:%S %z %Y"):
        try:
            return (
                datetime.strptime(value, fmt).replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
            )
        except ValueError:
            continue
    return value


def _json(body: bytes, content_type: str, url: str) -> Any:
    if "json" not in content_type.lower():
        raise UnexpectedResponseError(
            f"{url} answered {content_type or 'no content type'}, not JSON"
        )
    try:
        return load_json(body)
    except ValueError:
        raise UnexpectedResponseError(f"{url} answered malformed JSON") from None


def _expanded_text(tweet: dict[str, Any]) -> str:
    """Replace t.co links by what they stand for: URLs expanded, media as the pic.twitter.com form."""
    text = str(tweet.get("text") or tweet.get("full_text") or "")
    entities = tweet.get("entities") or {}
    for group in ("urls", "media"):
        items = entities.get(group)
        for item in items if isinstance(items, list) else []:
            short = item.get("url")
            if not short:
                continue
            shown = item.get("expanded_url") if group == "urls" else item.get("display_url")
            text = text.replace(short, shown or short)
    return text


def _media_refs(tweet: dict[str, Any]) -> tuple[MediaRef, ...]:
    refs: list[MediaRef] = []
    for item in tweet.get("mediaDetails") or []:
        kind = item.get("type")
        if kind == "photo" and item.get("media_url_https"):
            refs.append(
                MediaRef(
                    "photo",
                    orig_photo_url(item["media_url_https"]),
                    info={"original_info": item.get("original_info")},
                )
            )
            continue
        variants = (item.get("video_info") or {}).get("variants") or []
        mp4 = [v for v in variants if v.get("content_type") == "video/mp4" and v.get("url")]
        info = {"video_info": item.get("video_info")}
        if mp4:
            best = max(mp4, key=lambda v: int(v.get("bitrate") or 0))
            refs.append(
                MediaRef(
                    "gif" if kind == "animated_gif" else "video",
                    best["url"],
                    info={**info, "bitrate": best.get("bitrate")},
                )
            )
        elif variants:
            refs.append(MediaRef("video", variants[0]["url"], via_ytdlp=True, info=info))
        if item.get("media_url_https"):
            refs.append(MediaRef("thumbnail", item["media_url_https"]))
    return tuple(refs)


def _post_from_syndication(tweet: dict[str, Any], raw: str) -> PostData:
    user = tweet.get("user") or {}
    post_id = str(tweet.get("id_str") or "")
    counts = {
        name: int(tweet[key])
        for key, name in (
            ("favorite_count", "like_count"),
            ("retweet_count", "repost_count"),
            ("reply_count", "reply_count"),
            ("conversation_count", "conversation_count"),
            ("quote_count", "quote_count"),
        )
        if isinstance(tweet.get(key), int)
    }
    quoted = tweet.get("quoted_tweet")
    return PostData(
        platform="twitter",
        id=post_id,
        url=canonical_status_url(post_id, user.get("screen_name")),
        uploader=user.get("name"),
        uploader_id=user.get("screen_name"),
        user_id=user.get("id_str"),
        created_at=_iso(tweet.get("created_at")),
        text=_expanded_text(tweet),
        lang=tweet.get("lang"),
        reply_to_id=tweet.get("in_reply_to_status_id_str"),
        quoted=_post_from_syndication(quoted, dump_json(quoted))
        if isinstance(quoted, dict) and _is_post_id(quoted.get("id_str"))
        else None,
        counts=counts,
        media=_media_refs(tweet),
        raw=raw,
    )


def fetch_syndication(target: Target, ctx: FetchContext, recorder: Recorder) -> MethodResult:
    url = ctx.settings.twitter_syndication_url
    params = {"id": target.id, "lang": "en", "token": syndication_token(target.id)}
    got = ctx.http.get(
        url, recorder, "twitter:syndication", params=params, max_bytes=ctx.settings.max_json_bytes
    )
    if got.status == 404:
        raise UnavailableError("syndication: post not found (HTTP 404)")
    if got.status != 200:
        raise FetchError(
            f"syndication answered HTTP {got.status}",
            retryable=got.status >= 500 or got.status == 429,
        )
    data = _json(got.body, got.content_type, url)
    if not isinstance(data, dict):
        raise UnexpectedResponseError("syndication answered JSON that is not an object")
    typename = data.get("__typename")
    if typename == "TweetTombstone":
        text = ((data.get("tombstone") or {}).get("text") or {}).get("text")
        raise UnavailableError(
            f"syndication: {text or 'tombstone (deleted, suspended, protected or age-restricted)'}"
        )
    if not data:
        raise UnavailableError("syndication: empty answer (post not found)")
    if typename not in (None, "Tweet") or not data.get("id_str"):
        raise UnexpectedResponseError(f"syndication answered an unknown shape ({typename})")
    with reading("syndication"):
        return MethodResult(_post_from_syndication(data, got.body.decode("utf-8", "replace")))


def fetch_oembed(target: Target, ctx: FetchContext, recorder: Recorder) -> MethodResult:
    url = ctx.settings.twitter_oembed_url
    params = {"url": target.url, "omit_script": "1", "dnt": "true"}
    got = ctx.http.get(
        url, recorder, "twitter:oembed", params=params, max_bytes=ctx.settings.max_json_bytes
    )
    if got.status == 404:
        raise UnavailableError("oembed: post not found or not public (HTTP 404)")
    if got.status != 200:
        raise FetchError(
            f"oembed answered HTTP {got.status}", retryable=got.status >= 500 or got.status == 429
        )
    with reading("oembed"):
        return MethodResult(_post_from_oembed(target, _json(got.body, got.content_type, url), got))


def _is_post_id(value: object) -> bool:
    """An X post id as the platform writes it (a quoted post named ``1/../x`` is not one)."""
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return text.isascii() and text.isdigit()


def _post_from_oembed(target: Target, data: Any, got: Fetched) -> PostData:
    shown = set(re.findall(r"/status(?:es)?/(\d+)", str(data.get("html") or "")))
    if shown and target.id not in shown:  # the blockquote links the post it shows
        raise UnexpectedResponseError(f"oembed answered with another post ({min(shown)})")
    soup = BeautifulSoup(str(data.get("html") or ""), "lxml")
    para = soup.find("p")
    text = html_to_text(para) if para else None  # its <br> are the post's line breaks
    links = soup.find_all("a")
    handle_match = re.search(
        r"(?:twitter|x)\.com/([A-Za-z0-9_]{1,15})", str(data.get("author_url") or "")
    )
    date_text = links[-1].get_text(strip=True) if links else None
    created = None
    if date_text:
        try:
            created = datetime.strptime(date_text, "%B %d, %Y").date().isoformat()
        except ValueError:
            created = None
    return PostData(
        platform="twitter",
        id=target.id,
        url=canonical_status_url(target.id, handle_match.group(1) if handle_match else None),
        uploader=data.get("author_name"),
        uploader_id=handle_match.group(1) if handle_match else None,
        created_at=created,
        text=text,
        lang=str(para.get("lang")) if para and para.get("lang") else None,
        raw=got.body.decode("utf-8", "replace"),
    )


def _post_from_fxtwitter(tweet: dict[str, Any], raw: str) -> PostData:
    author = tweet.get("author") or {}
    media = tweet.get("media") or {}
    refs = [
        MediaRef("photo", orig_photo_url(p["url"]))
        for p in media.get("photos") or []
        if p.get("url")
    ]
    refs += [
        MediaRef("gif" if v.get("type") == "gif" else "video", v["url"])
        for v in media.get("videos") or []
        if v.get("url")
    ]
    created = tweet.get("created_timestamp")
    quote = tweet.get("quote")
    counts = {
        name: int(tweet[key])
        for key, name in (
            ("likes", "like_count"),
            ("retweets", "repost_count"),
            ("replies", "reply_count"),
            ("views", "view_count"),
        )
        if isinstance(tweet.get(key), int)
    }
    return PostData(
        platform="twitter",
        id=str(tweet.get("id")),
        url=canonical_status_url(str(tweet.get("id")), author.get("screen_name")),
        uploader=author.get("name"),
        uploader_id=author.get("screen_name"),
        user_id=str(author["id"]) if author.get("id") else None,
        created_at=datetime.fromtimestamp(created, UTC).isoformat().replace("+00:00", "Z")
        if isinstance(created, int | float)
        else _iso(tweet.get("created_at")),
        text=tweet.get("text"),
        lang=tweet.get("lang"),
        reply_to_id=tweet.get("replying_to_status"),
        quoted=_post_from_fxtwitter(quote, dump_json(quote))
        if isinstance(quote, dict) and _is_post_id(quote.get("id"))
        else None,
        counts=counts,
        media=tuple(refs),
        raw=raw,
    )


def fetch_fxtwitter(target: Target, ctx: FetchContext, recorder: Recorder) -> MethodResult:
    url = f"{ctx.settings.fxtwitter_url.rstrip('/')}/status/{target.id}"
    got = ctx.http.get(url, recorder, "twitter:fxtwitter", max_bytes=ctx.settings.max_json_bytes)
    data = _json(got.body, got.content_type, url) if "json" in got.content_type else {}
    message = data.get("message") if isinstance(data, dict) else None
    if got.status in (401, 404) or message in ("PRIVATE_TWEET", "NOT_FOUND"):
        raise UnavailableError(f"fxtwitter: {message or got.status}")
    if got.status != 200 or not isinstance(data, dict) or not isinstance(data.get("tweet"), dict):
        raise FetchError(f"fxtwitter answered HTTP {got.status} {message or ''}".strip())
    with reading("fxtwitter"):
        return MethodResult(
            _post_from_fxtwitter(data["tweet"], got.body.decode("utf-8", "replace"))
        )


def fetch_ytdlp(target: Target, ctx: FetchContext, recorder: Recorder) -> MethodResult:
    info, files = fetch_in_context(target.url, ctx, recorder)
    timestamp = info.get("timestamp")
    return MethodResult(
        PostData(
            platform="twitter",
            id=target.id,
            url=target.url,
            uploader=info.get("uploader"),
            uploader_id=info.get("uploader_id"),
            created_at=iso_from_timestamp(timestamp),
            text=info.get("description") or info.get("title"),
            counts={
                k: int(info[k])
                for k in ("like_count", "repost_count", "comment_count", "view_count")
                if isinstance(info.get(k), int)
            },
            raw=dump_json(info, default=str),
        ),
        media=files,
    )


METHODS: dict[str, Method] = {
    "syndication": fetch_syndication,
    "oembed": fetch_oembed,
    "fxtwitter": fetch_fxtwitter,
    "ytdlp": fetch_ytdlp,
}
