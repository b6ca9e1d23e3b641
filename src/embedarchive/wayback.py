"""The Wayback Machine as a source: CDX look-ups and raw snapshot replays turned into captures.

Two endpoints, both settings: the CDX API (``wayback_cdx_url``: which snapshots exist) and the
replay (``wayback_url``: ``<wayback_url>/<timestamp>id_/<original>`` returns the archived bytes
without the Wayback toolbar or rewritten links). A snapshot becomes a normal :class:`Capture`
whose ``method`` is ``wayback`` and whose attempt says ``via web.archive.org`` with the
snapshot's time, so its provenance is never mistaken for a live fetch.

X posts are often archived as the JSON of the syndication API; that is parsed with the X
platform's own parser. An HTML snapshot of a status page is kept whole as the raw response,
with its text, author and handle read from the page (legacy markup, then OpenGraph tags).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bs4 import BeautifulSoup

from .capture.context import FetchContext
from .capture.http import Recorder, utcnow
from .capture.media import download
from .errors import EmbedArchiveError, FetchError, UnexpectedResponseError
from .models import Attempt, Capture, MediaFile, PostData, Target
from .platforms._common import reading
from .platforms.twitter import (
    STATUS_RE,
    _post_from_fxtwitter,
    _post_from_syndication,
    canonical_status_url,
)
from .untrusted import load_json

SNOWFLAKE_EPOCH_MS = 1288834974657
CDX_FIELDS = "timestamp,original,statuscode,mimetype,digest"
#: Where a status page says it is: ``<link rel="canonical">`` and ``og:url``.
_CANONICAL = re.compile(
    r"<(?:link|meta)\b[^>]*?(?:rel=[\"']?canonical|property=[\"']?og:url)[^>]*>", re.I
)
_TITLE_RE = re.compile(r"^(?P<name>.+?) on (?:Twitter|X): [\"“](?P<text>.*)[\"”]", re.DOTALL)


@dataclass(frozen=True)
class Snapshot:
    """One CDX line: when (``timestamp``, 14 digits, UTC) the archive fetched ``original``."""

    timestamp: str
    original: str
    statuscode: str
    mimetype: str
    digest: str

    @property
    def captured_at(self) -> str:
        return taken_at(self.timestamp) or self.timestamp

    def replay_url(self, wayback_url: str, flag: str = "id_") -> str:
        return f"{wayback_url.rstrip('/')}/{self.timestamp}{flag}/{self.original}"

    def to_json(self) -> dict[str, str]:
        return {**self.__dict__, "captured_at": self.captured_at}


#: A CDX timestamp: 4 to 14 digits (a shorter one stands for the start of that period).
_TIMESTAMP = re.compile(r"\d{4,14}")
#: A replay address's timestamp (``/web/20250402101500id_/…``): where a redirect took us.
_REPLAYED_AT = re.compile(r"/(\d{14})(?:[a-z]{2}_)?/")


def taken_at(timestamp: str) -> str | None:
    """A CDX timestamp as ISO time in UTC, or None when it is no date (``20259999999999``)."""
    if not _TIMESTAMP.fullmatch(timestamp):
        return None
    try:
        moment = datetime.strptime(timestamp[:14].ljust(14, "0"), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def snowflake_time(post_id: int) -> datetime:
    """When an X post was created, from its id (milliseconds since the epoch in bits 22+)."""
    return datetime.fromtimestamp(((post_id >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)


def snowflake_iso(post_id: str) -> str | None:
    if not post_id.isdigit() or int(post_id) < 1 << 22:
        return None
    try:
        moment = snowflake_time(int(post_id))
    except (OverflowError, OSError, ValueError):  # an id no X post has (40 digits)
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cdx(ctx: FetchContext, recorder: Recorder, url: str, *, prefix: bool = False) -> list[Snapshot]:
    """Snapshots of ``url`` (a URL, or a prefix when ``prefix``; one line per URL then)."""
    params = {"url": url, "output": "json", "fl": CDX_FIELDS}
    if prefix:
        params.update({"matchType": "prefix", "collapse": "urlkey"})
    got = ctx.http.get(
        ctx.settings.wayback_cdx_url,
        recorder,
        "wayback:cdx",
        params=params,
        max_bytes=ctx.settings.max_json_bytes,
    )
    if got.status == 404:
        return []
    if got.status != 200:
        raise FetchError(
            f"the Wayback CDX API answered HTTP {got.status}",
            retryable=got.status >= 500 or got.status == 429,
        )
    if not got.body.strip():
        return []
    try:
        rows = load_json(got.body)
    except ValueError:
        raise UnexpectedResponseError("the Wayback CDX API answered malformed JSON") from None
    if not isinstance(rows, list) or not rows:
        return []
    header = rows[0]
    if not isinstance(header, list):
        raise UnexpectedResponseError("the Wayback CDX API answered rows of an unknown shape")
    snapshots = []
    for row in rows[1:]:
        if not isinstance(row, list):
            continue
        item = dict(zip(header, row, strict=False))
        if _TIMESTAMP.fullmatch(str(item.get("timestamp"))) and item.get("original"):
            snapshots.append(
                Snapshot(
                    str(item["timestamp"]),
                    str(item["original"]),
                    str(item.get("statuscode") or ""),
                    str(item.get("mimetype") or ""),
                    str(item.get("digest") or ""),
                )
            )
    return snapshots


def names_post(snapshot: Snapshot, post_id: str) -> bool:
    """Whether a snapshot is of this post: a status URL or an API URL whose ``id`` is the id
    (a CDX prefix ``?id=12*`` also matches id 123)."""
    m = STATUS_RE.search(snapshot.original)
    if m is not None:
        return m["id"] == post_id
    query = dict(parse_qsl(urlsplit(snapshot.original).query))
    return query.get("id") == post_id or urlsplit(snapshot.original).path.endswith(f"/{post_id}")


def _text_of(tag: Any) -> str | None:
    return tag.get_text(" ", strip=True) if tag is not None else None


def post_from_html(body: str, target: Target) -> PostData:
    """What an archived status page shows: text, author and handle; the time from the id."""
    soup = BeautifulSoup(body, "lxml")
    tweet = soup.select_one(".permalink-tweet") or soup
    text = _text_of(tweet.select_one(".js-tweet-text, .tweet-text"))
    author = _text_of(tweet.select_one(".fullname"))
    handle = _text_of(tweet.select_one(".username b"))

    def meta(name: str) -> str | None:
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        value = tag.get("content") if tag is not None else None
        return str(value) if value else None

    title = meta("og:title") or _text_of(soup.find("title")) or ""
    titled = _TITLE_RE.match(title)
    if text is None:
        description = meta("og:description")
        text = description.strip('“”"') if description else (titled["text"] if titled else None)
    if author is None and titled:
        author = titled["name"]
    elif author is None and title.endswith((" on Twitter", " on X")):
        author = title.rsplit(" on ", 1)[0]
    m = STATUS_RE.search(target.url)
    handle = (handle or (m["handle"] if m and m["handle"] else None) or "").lstrip("@") or None
    return PostData(
        platform=target.platform,
        id=target.id,
        url=canonical_status_url(target.id, handle) if target.platform == "twitter" else target.url,
        uploader=author,
        uploader_id=handle,
        created_at=snowflake_iso(target.id) if target.platform == "twitter" else None,
        text=text,
        raw=body,
    )


def _post_from_json(data: Any, raw: str) -> tuple[PostData | None, str | None]:
    """(post, None), or (None, why the snapshot shows no post) for a tombstone or ``{}``."""
    if isinstance(data, dict) and isinstance(data.get("tweet"), dict):
        return _post_from_fxtwitter(data["tweet"], raw), None
    if not isinstance(data, dict):
        raise UnexpectedResponseError("the snapshot is JSON but not an object")
    if data.get("__typename") == "TweetTombstone":
        text = ((data.get("tombstone") or {}).get("text") or {}).get("text")
        return None, f"the snapshot is a tombstone: {text or 'post unavailable'}"
    if not data:
        return None, "the snapshot is an empty answer (post not found)"
    if data.get("id_str"):
        return _post_from_syndication(data, raw), None
    raise UnexpectedResponseError("the snapshot is JSON of an unknown shape")


def _media(
    post: PostData, snapshot: Snapshot, ctx: FetchContext, recorder: Recorder
) -> tuple[tuple[MediaFile, ...], tuple[str, ...]]:
    """The post's media as the Wayback Machine kept them (``im_`` replay, nearest time)."""
    files, errors = [], []
    for ref in post.media:
        original = ref.url.split("?", 1)[0] if "twimg.com" in ref.url else ref.url
        url = f"{ctx.settings.wayback_url.rstrip('/')}/{snapshot.timestamp}im_/{original}"
        info = {**ref.info, "wayback_original": original, "snapshot": snapshot.timestamp}
        try:
            files.append(
                download(
                    ctx.http,
                    url,
                    ctx.files,
                    recorder,
                    kind=ref.kind,
                    progress=ctx.progress,
                    info=info,
                )
            )
        except EmbedArchiveError as err:
            errors.append(f"{ref.kind} {original}: {err}")
    return tuple(files), tuple(errors)


def _served(snapshot: Snapshot, final_url: str, where: str) -> str:
    """The provenance line, with the time of the snapshot the replay served: the Wayback
    Machine redirects a replay to the nearest snapshot it has, which the CDX line may not be."""
    m = _REPLAYED_AT.search(urlsplit(final_url).path)
    if m is None or m.group(1) == snapshot.timestamp[:14]:
        return where
    served = taken_at(m.group(1)) or m.group(1)
    return f"{where}; served as the snapshot taken {served} ({final_url})"


def _same_post(post: PostData | None, target: Target, final_url: str, body: str) -> None:
    """A snapshot of another post (another id in its JSON, a redirect to another status, a
    page whose canonical address is another status) is no snapshot of this one."""
    named: list[str] = []
    if post is not None and post.id and post.id != target.id:
        named.append(post.id)
    replayed = _REPLAYED_AT.split(urlsplit(final_url).path, maxsplit=1)[-1]
    for text in (replayed, *_CANONICAL.findall(body[:200_000])):
        m = STATUS_RE.search(text)
        if m is not None and m["id"] != target.id:
            named.append(m["id"])
    if named:
        raise UnexpectedResponseError(
            f"the snapshot is of another post ({named[0]}), not {target.id}"
        )


def capture_snapshot(
    snapshot: Snapshot, target: Target, ctx: FetchContext, recorder: Recorder
) -> Capture:
    """Fetch a snapshot's raw bytes and make it a capture (``archived``, or ``unavailable`` when
    the archived answer itself says the post was gone, or ``failed``)."""
    started = utcnow()
    replay = snapshot.replay_url(ctx.settings.wayback_url)
    where = f"via web.archive.org: snapshot of {snapshot.original} taken {snapshot.captured_at}"
    post: PostData | None = None
    gone: str | None = None
    try:
        got = ctx.http.get(
            replay, recorder, "wayback:replay", max_bytes=ctx.settings.max_article_bytes
        )
        if got.status != 200:
            raise FetchError(
                f"the Wayback replay answered HTTP {got.status}",
                retryable=got.status >= 500 or got.status == 429,
            )
        where = _served(snapshot, got.final_url, where)
        body = got.body.decode("utf-8", "replace")
        with reading("the Wayback snapshot"):
            if "json" in got.content_type.lower() or body.lstrip().startswith(("{", "[")):
                try:
                    data = load_json(body)
                except ValueError:
                    raise UnexpectedResponseError("the snapshot is malformed JSON") from None
                post, gone = _post_from_json(data, body)
            else:
                post = post_from_html(body, target)
        _same_post(post, target, got.final_url, body)
    except EmbedArchiveError as err:
        return Capture(
            target=target,
            status="failed",
            started_at=started,
            finished_at=utcnow(),
            method="wayback",
            attempts=(Attempt("wayback", "failed", f"{where}: {err}"),),
            exchanges=recorder.exchanges(),
            error=str(err),
            retryable=err.retryable,
        )
    if post is None:
        return Capture(
            target=target,
            status="unavailable",
            started_at=started,
            finished_at=utcnow(),
            method="wayback",
            attempts=(Attempt("wayback", "unavailable", f"{where}; {gone}"),),
            exchanges=recorder.exchanges(),
            error=gone,
        )
    media, errors = _media(post, snapshot, ctx, recorder)
    return Capture(
        target=target,
        status="archived",
        started_at=started,
        finished_at=utcnow(),
        method="wayback",
        post=post,
        media=media,
        media_errors=errors,
        attempts=(Attempt("wayback", "ok", where + f" ({snapshot.timestamp}, {replay})"),),
        exchanges=recorder.exchanges(),
        error="; ".join(errors) if errors else None,
    )


__all__ = [
    "SNOWFLAKE_EPOCH_MS",
    "Snapshot",
    "capture_snapshot",
    "cdx",
    "names_post",
    "post_from_html",
    "snowflake_iso",
    "snowflake_time",
]
