"""What the fake platform answers: one pure function from a request to a :class:`Reply`.

Each view imitates one real endpoint as described in ``/work/shared/real-samples/SOURCES.md``
("Facts"): cdn.syndication.twimg.com, publish.twitter.com, api.fxtwitter.com, pic.twitter.com,
t.co, pbs.twimg.com and video.twimg.com. No code is shared with ``embedarchive``: the syndication
tokens are looked up in ``data/tokens.json``, not computed. The routes of the other platforms
live in their own modules (``telegram.py``, ``bluesky.py``, ``mastodon.py``) and are served by the
same table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from . import bluesky, data, mastodon, telegram
from .reply import HTML_TYPE, Headers, Params, Reply, View
from .reply import json_reply as _json

LAST_MODIFIED = "Fri, 14 Nov 2025 09:03:30 GMT"


def _not_found() -> Reply:
    return Reply(404, b"Not Found", "text/plain; charset=utf-8")


def syndication(_m: re.Match[str], params: Params, _h: Headers, base: str) -> Reply:
    """cdn.syndication.twimg.com/tweet-result: ``{}`` with HTTP 200 unless the token is right.

    Order: ids outside the fixture set → 404 whatever the token; the HTML-page and 500 ids
    fail before any token check; a wrong or missing token → 200 ``{}``; otherwise the stored
    body, or 404 when the id has a token but no body (the "not_found_404" case).
    """
    tweet_id = params.get("id", "")
    if not tweet_id.isdigit():
        return _json(400, '{"error":"Bad Request"}')
    if tweet_id not in data.TOKENS:
        return Reply(404)
    error = data.SYNDICATION_ERRORS.get(tweet_id)
    if error is not None:
        return Reply(error["status"], error["body"].encode("utf-8"), error["content_type"])
    if params.get("token") != data.TOKENS[tweet_id]:
        return _json(200, "{}")
    body = data.SYNDICATION.get(tweet_id)
    if body is None:
        return Reply(404)
    return _json(200, data.render(body, base))


_STATUS_URL = re.compile(
    r"https?://(?:(?:www|mobile)\.)?(?:twitter|x)\.com/(?:[A-Za-z0-9_]{1,15}|i(?:/web)?)"
    r"/status(?:es)?/(?P<id>\d+)"
)


def oembed(_m: re.Match[str], params: Params, _h: Headers, base: str) -> Reply:
    """publish.twitter.com/oembed: only ``url`` matters; other parameters are ignored."""
    if not params.get("url"):
        return _json(400, '{"error":"url is required"}')
    status = _STATUS_URL.match(params["url"])
    body = data.OEMBED.get(status["id"]) if status else None
    if body is None:
        return Reply(404)
    return _json(
        200,
        data.render(body, base),
        ("content-disposition", "attachment; filename=json.json"),
        ("cache-control", "must-revalidate, max-age=3153600000"),
    )


def fxtwitter(m: re.Match[str], _p: Params, _h: Headers, base: str) -> Reply:
    """api.fxtwitter.com/[<screen_name>/]status/<id> (v1); the HTTP status equals ``code``."""
    body = data.FXTWITTER.get(m["id"])
    if body is None:
        return Reply(404, b'{"code":404,"message":"NOT_FOUND"}', "application/json")
    return Reply(200, data.render(body, base).encode("utf-8"), "application/json")


def pic(m: re.Match[str], _p: Params, _h: Headers, _base: str) -> Reply:
    """pic.twitter.com/<code> → 301 to the media permalink (…/photo/1 or …/video/1)."""
    target = data.MEDIA_LINKS.get(m["code"])
    if target is None:
        return _not_found()
    return Reply(301, headers=(("location", target),))


def tco(m: re.Match[str], _p: Params, headers: Headers, base: str) -> Reply:
    """t.co/<code>: 301 for non-browser clients, 200 + meta refresh for "Mozilla" user agents."""
    target = data.TCO_LINKS.get(m["code"])
    if target is None:
        return _not_found()
    target = data.render(target, base)
    if "Mozilla" not in headers.get("user-agent", ""):
        return Reply(301, headers=(("location", target),))
    script = json.dumps(target).replace("/", "\\/")
    page = (
        f'<noscript><META http-equiv="refresh" content="0;URL={target}"></noscript>'
        f"<script>location.replace({script})</script>"
    )
    return Reply(200, page.encode("utf-8"), HTML_TYPE)


_RANGE = re.compile(r"bytes=(?P<start>\d*)-(?P<end>\d*)")


def _byte_range(header: str | None, size: int) -> range | None:
    """The bytes to send: None for the whole body, an empty range when unsatisfiable (416).

    Only single ranges are honoured; anything else is ignored, as RFC 9110 allows.
    """
    m = _RANGE.fullmatch((header or "").strip())
    if m is None or not (m["start"] or m["end"]):
        return None
    if not m["start"]:
        suffix = int(m["end"])
        return range(max(0, size - suffix), size)
    start = int(m["start"])
    if start >= size:
        return range(0)
    end = int(m["end"]) + 1 if m["end"] else size
    if end <= start:
        return None
    return range(start, min(end, size))


def media(path: str, params: Params, headers: Headers) -> Reply | None:
    """pbs.twimg.com / video.twimg.com files; ``?name=orig`` gets the larger photo; Range works."""
    kind = data.MEDIA_PATHS.get(path)
    if kind is None:
        return None
    content_type, orig, other = data.MEDIA_KINDS[kind]
    body = data.MEDIA_BYTES[orig if params.get("name") == "orig" else other]
    common = (("accept-ranges", "bytes"), ("last-modified", LAST_MODIFIED))
    span = _byte_range(headers.get("range"), len(body))
    if span is None:
        return Reply(200, body, content_type, common)
    if not span:
        return Reply(416, b"", None, (("content-range", f"bytes */{len(body)}"),))
    content_range = ("content-range", f"bytes {span.start}-{span.stop - 1}/{len(body)}")
    return Reply(206, body[span.start : span.stop], content_type, (*common, content_range))


ROUTES: tuple[tuple[re.Pattern[str], View], ...] = (
    (re.compile(r"/syndication/tweet-result"), syndication),
    (re.compile(r"/oembed"), oembed),
    (re.compile(r"/fx/(?:[A-Za-z0-9_]{1,15}/)?status/(?P<id>\d{1,20})"), fxtwitter),
    (re.compile(r"/pic/(?P<code>[A-Za-z0-9]+)"), pic),
    (re.compile(r"/tco/(?P<code>[A-Za-z0-9]+)"), tco),
    *telegram.ROUTES,
    *bluesky.ROUTES,
    *mastodon.ROUTES,
)


_FX_STATUS = re.compile(r"/fx/(?:[A-Za-z0-9_]{1,15}/)?status/(?P<id>\d{1,20})")


def overridden(
    path: str, params: Params, base: str, tweets: Mapping[str, str | None]
) -> Reply | None:
    """A per-test X post (``FakePlatform.tweets``), or None when the request is not about one.

    A body (syndication JSON, ``{BASE}`` allowed) replaces the syndication answer, with the
    same token rule; oEmbed and FxTwitter then answer 404, as for a post they never saw. None
    deletes the post: the real tombstone on syndication, 404 on oEmbed and FxTwitter.
    """
    fx = _FX_STATUS.fullmatch(path)
    if path == "/syndication/tweet-result":
        tweet_id: str | None = params.get("id")
    elif path == "/oembed":
        status = _STATUS_URL.match(params.get("url", ""))
        tweet_id = status["id"] if status else None
    else:
        tweet_id = fx["id"] if fx else None
    if tweet_id is None or tweet_id not in tweets:
        return None
    body = tweets[tweet_id]
    if path != "/syndication/tweet-result":
        return (
            Reply(404, b'{"code":404,"message":"NOT_FOUND"}', "application/json")
            if fx
            else Reply(404)
        )
    if params.get("token") != data.TOKENS.get(tweet_id):
        return _json(200, "{}")
    if body is None:
        return _json(200, data.SYNDICATION[data.SYNDICATION_CASES["tombstone_deleted"]])
    return _json(200, data.render(body, base))


def respond(
    target: str,
    headers: Headers,
    base_url: str,
    failures: Mapping[str, int] | None = None,
    tweets: Mapping[str, str | None] | None = None,
) -> Reply:
    """Answer one GET/HEAD. ``headers`` keys are lower case; ``failures`` maps path prefixes to
    an HTTP status that replaces the normal answer (see ``FakePlatform.fail``); ``tweets``
    are per-test X posts (see :func:`overridden`)."""
    url = urlsplit(target)
    params = dict(parse_qsl(url.query, keep_blank_values=True))
    for prefix, status in (failures or {}).items():
        if url.path.startswith(prefix):
            return _json(status, json.dumps({"error": f"injected failure {status}"}))
    override = overridden(url.path, params, base_url, tweets or {})
    if override is not None:
        return override
    for pattern, view in ROUTES:
        m = pattern.fullmatch(url.path)
        if m is not None:
            return view(m, params, headers, base_url)
    return media(url.path, params, headers) or _not_found()
