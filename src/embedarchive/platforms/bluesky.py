"""Bluesky: posts read from the public AppView, media fetched as blobs from the author's own PDS.

Ids are ``<handle-or-did>/<rkey>``, as the article named the author: ``bsky.app`` links
usually carry the handle, the official blockquote (``data-bluesky-uri="at://did:…"``) and its
links the DID. Handles are lower-cased (the protocol compares them so); DIDs and record keys
are kept as written.

Capture: a handle is first resolved to its DID (``com.atproto.identity.resolveHandle``), then
``app.bsky.feed.getPostThread?uri=at://<did>/app.bsky.feed.post/<rkey>&depth=0`` gives the
post, its counts and a quoted post. Images, videos and link-card thumbnails are the record's
blobs, downloaded byte for byte from ``<pds>/xrpc/com.atproto.sync.getBlob`` where ``<pds>``
is the ``#atproto_pds`` service of the author's DID document (``<bluesky_plc_url>/<did>``
for ``did:plc``, ``https://<host>/.well-known/did.json`` for ``did:web``) — never a fixed host,
so posts of self-hosted accounts are archived from their own server.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, ClassVar, Literal
from urllib.parse import unquote, urlencode

from ..capture.collect import Method, MethodResult, capture_with_methods
from ..capture.context import FetchContext
from ..capture.http import Recorder
from ..errors import UnavailableError, UnexpectedResponseError
from ..models import Capture, MediaRef, PostData, Target
from ..settings import Settings
from ..untrusted import dump_json
from ._common import fail_unless_ok, iso_utc, json_body, json_error, reading
from .base import Platform

_DID = r"did:plc:[a-z2-7]{24}|did:web:[A-Za-z0-9.-]+(?:%3[Aa]\d{1,5})?"
_HANDLE = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z][A-Za-z0-9-]{0,62}"
_ACTOR = r"(?P<actor>" + _DID + "|" + _HANDLE + ")"
_RKEY = r"(?P<id>[A-Za-z0-9_~-]{1,512})(?![A-Za-z0-9_~-])"
POST_URL_RE = re.compile(
    r"(?:https?://)?(?:www\.)?(?:bsky\.app|main\.bsky\.dev)/profile/" + _ACTOR + "/post/" + _RKEY,
    re.IGNORECASE,
)
AT_URI_RE = re.compile(r"at://" + _ACTOR + r"/app\.bsky\.feed\.post/" + _RKEY)
#: The iframe embed.js puts in place of the blockquote.
EMBED_FRAME_RE = re.compile(
    r"(?:https?:)?//embed\.bsky\.app/embed/" + _ACTOR + r"/app\.bsky\.feed\.post/" + _RKEY,
    re.IGNORECASE,
)
_POST_ID_RE = re.compile(_ACTOR + "/" + _RKEY)

#: The textified official blockquote: ``— Display Name (@handle.bsky.social) March 10, 2026
#: at 9:06 AM``. Unlike an X handle a Bluesky handle is a domain name, so it has a dot.
ATTRIBUTION_RE = re.compile(
    r"(?:^|(?<=\s))(?:[\u2014\u2013\u2015]|-{1,2}|&mdash;|&#8212;|&#x2014;)[ \t\u00a0]*"
    r"(?P<name>(?:(?![ \t\u00a0][\u2014\u2013\u2015-][ \t\u00a0])[^\n(]|\((?!@)){0,64}?)"
    r"[ \t\u00a0]*\(@(?P<handle>" + _HANDLE + r")\)",
    re.MULTILINE,
)
_MEDIA_KINDS: dict[str, Literal["photo", "video", "thumbnail"]] = {
    "app.bsky.embed.images": "photo",
    "app.bsky.embed.video": "video",
    "app.bsky.embed.external": "thumbnail",
}


def canonical_post_url(actor: str, rkey: str) -> str:
    return f"https://bsky.app/profile/{actor}/post/{rkey}"


def _actor(actor: str) -> str:
    return actor if actor.lower().startswith("did:") else actor.lower()


class Bluesky(Platform):
    name: ClassVar[str] = "bluesky"
    kind = "post"
    url_patterns = (POST_URL_RE, AT_URI_RE, EMBED_FRAME_RE)
    embed_classes = ("bluesky-embed",)
    hosts = ("bsky.app", "bsky.social", "main.bsky.dev")
    #: The official blockquote names the post by its at:// URI.
    embed_id_attrs: ClassVar[tuple[str, ...]] = ("data-bluesky-uri",)
    #: "Embed post" links a post with images, video or a link card to itself by this text.
    embed_placeholders: ClassVar[tuple[str, ...]] = ("[image or embed]",)
    attribution_pattern: ClassVar[re.Pattern[str] | None] = ATTRIBUTION_RE
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        (
            "https://bsky.app/profile/soubhikbarari.bsky.social/post/3k7qmjev5lr2s",
            "soubhikbarari.bsky.social/3k7qmjev5lr2s",
        ),
        (
            "https://bsky.app/profile/did:plc:4tan3ugu55i2u3hmtblu7wf5/post/3mgpk65ei7d2u?ref_src=embed",
            "did:plc:4tan3ugu55i2u3hmtblu7wf5/3mgpk65ei7d2u",
        ),
        (
            "at://did:plc:4tan3ugu55i2u3hmtblu7wf5/app.bsky.feed.post/3mgpk65ei7d2u",
            "did:plc:4tan3ugu55i2u3hmtblu7wf5/3mgpk65ei7d2u",
        ),
        (
            "bsky.app/profile/RaymondCamden.com/post/3mgpk65ei7d2u",
            "raymondcamden.com/3mgpk65ei7d2u",
        ),
        (
            "https://embed.bsky.app/embed/did:plc:4tan3ugu55i2u3hmtblu7wf5/app.bsky.feed.post/"
            "3mgpk65ei7d2u?id=1&ref_url=https%3A%2F%2Fexample.com",
            "did:plc:4tan3ugu55i2u3hmtblu7wf5/3mgpk65ei7d2u",
        ),
        ("https://bsky.app/profile/soubhikbarari.bsky.social", None),
        ("https://bsky.app/intent/compose?text=https://example.com", None),
        ("at://did:plc:4tan3ugu55i2u3hmtblu7wf5/app.bsky.feed.like/3mgpk65ei7d2u", None),
    )

    def match(self, url: str) -> Target | None:
        for pattern in self.url_patterns:
            m = pattern.search(url)
            if m:
                return self._target(m["actor"], m["id"])
        return None

    def canonical_url(self, m: re.Match[str]) -> str:
        return canonical_post_url(_actor(m["actor"]), m["id"])

    def target_for_id(self, post_id: str) -> Target | None:
        """An at:// URI (``data-bluesky-uri``) or an ``<actor>/<rkey>`` id."""
        value = post_id.strip()
        m = AT_URI_RE.fullmatch(value) or _POST_ID_RE.fullmatch(value)
        return self._target(m["actor"], m["id"]) if m else None

    def _target(self, actor: str, rkey: str) -> Target:
        actor = _actor(actor)
        return Target(self.name, f"{actor}/{rkey}", canonical_post_url(actor, rkey), self.kind)

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        return capture_with_methods(target, ctx, list(METHODS.items()))


def did_document_url(did: str, settings: Settings) -> str:
    """Where a DID's document is: the PLC directory, or the did:web host's well-known file."""
    if did.startswith("did:web:"):
        return f"https://{unquote(did.removeprefix('did:web:'))}/.well-known/did.json"
    return f"{settings.bluesky_plc_url.rstrip('/')}/{did}"


def pds_of(document: Any) -> str | None:
    """The ``#atproto_pds`` service endpoint of a DID document."""
    services = document.get("service") if isinstance(document, dict) else None
    for service in services if isinstance(services, list) else []:
        if not isinstance(service, dict):
            continue
        if str(service.get("id", "")).endswith("#atproto_pds") or (
            service.get("type") == "AtprotoPersonalDataServer"
        ):
            endpoint = service.get("serviceEndpoint")
            if isinstance(endpoint, str) and endpoint.startswith(("https://", "http://")):
                return endpoint.rstrip("/")
    return None


class _Blobs:
    """getBlob URLs on each author's PDS; a DID document is fetched once, and only if needed."""

    def __init__(self, ctx: FetchContext, recorder: Recorder) -> None:
        self._ctx = ctx
        self._recorder = recorder
        self._pds: dict[str, str] = {}

    def url(self, did: str, cid: str) -> str:
        if did not in self._pds:
            self._pds[did] = self._lookup(did)
        return (
            f"{self._pds[did]}/xrpc/com.atproto.sync.getBlob?{urlencode({'did': did, 'cid': cid})}"
        )

    def _lookup(self, did: str) -> str:
        url = did_document_url(did, self._ctx.settings)
        got = self._ctx.http.get(
            url, self._recorder, "bluesky:did-document", max_bytes=self._ctx.settings.max_json_bytes
        )
        fail_unless_ok(got, f"DID document of {did}")
        endpoint = pds_of(json_body(got, f"DID document of {did}"))
        if endpoint is None:
            raise UnexpectedResponseError(f"the DID document of {did} names no #atproto_pds")
        return endpoint


def _xrpc(ctx: FetchContext, method: str) -> str:
    return f"{ctx.settings.bluesky_appview_url.rstrip('/')}/xrpc/{method}"


def resolve_handle(handle: str, ctx: FetchContext, recorder: Recorder) -> str:
    got = ctx.http.get(
        _xrpc(ctx, "com.atproto.identity.resolveHandle"),
        recorder,
        "bluesky:resolveHandle",
        params={"handle": handle},
        max_bytes=ctx.settings.max_json_bytes,
    )
    if got.status == 400:
        raise UnavailableError(f"bluesky: handle {handle} does not resolve ({json_error(got)})")
    fail_unless_ok(got, "bluesky resolveHandle")
    data = json_body(got, "bluesky resolveHandle")
    did = data.get("did") if isinstance(data, dict) else None
    if not isinstance(did, str) or not did.startswith("did:"):
        raise UnexpectedResponseError(f"bluesky resolveHandle gave no DID for {handle}")
    return did


def fetch_appview(target: Target, ctx: FetchContext, recorder: Recorder) -> MethodResult:
    actor, rkey = target.id.rsplit("/", 1)
    did = actor if actor.startswith("did:") else resolve_handle(actor, ctx, recorder)
    uri = f"at://{did}/app.bsky.feed.post/{rkey}"
    got = ctx.http.get(
        _xrpc(ctx, "app.bsky.feed.getPostThread"),
        recorder,
        "bluesky:getPostThread",
        params={"uri": uri, "depth": "0", "parentHeight": "0"},
        max_bytes=ctx.settings.max_json_bytes,
    )
    if got.status == 400 and json_error(got) == "NotFound":
        raise UnavailableError(f"bluesky: post not found ({uri})")
    fail_unless_ok(got, "bluesky getPostThread")
    data = json_body(got, "bluesky getPostThread")
    thread = data.get("thread") if isinstance(data, dict) else None
    if not isinstance(thread, dict):
        raise UnexpectedResponseError("bluesky getPostThread answered without a thread")
    kind = str(thread.get("$type", ""))
    if kind.endswith("#notFoundPost") or thread.get("notFound"):
        raise UnavailableError(f"bluesky: post not found ({uri})")
    if kind.endswith("#blockedPost") or thread.get("blocked"):
        raise UnavailableError(f"bluesky: post is blocked ({uri})")
    view = thread.get("post")
    if not isinstance(view, dict) or not isinstance(view.get("record"), dict):
        raise UnexpectedResponseError(f"bluesky getPostThread answered an unknown shape ({kind})")
    if _id_of(view.get("uri")) != f"{did}/{rkey}":
        raise UnexpectedResponseError(
            f"bluesky getPostThread answered with another post ({str(view.get('uri'))[:100]!r})"
        )
    blobs = _Blobs(ctx, recorder)
    with reading("bluesky getPostThread"):
        post = _post(view, view["record"], blobs, got.body.decode("utf-8", "replace"))
        quoted = _quoted(view, blobs)
    return MethodResult(replace(post, id=target.id, url=target.url, quoted=quoted))


def _id_of(uri: object) -> str | None:
    m = AT_URI_RE.fullmatch(uri) if isinstance(uri, str) else None
    return f"{m['actor']}/{m['id']}" if m else None


def _post(view: dict[str, Any], record: dict[str, Any], blobs: _Blobs, raw: str) -> PostData:
    """A post view (or a quoted ``#viewRecord``, whose record is its ``value``) as PostData."""
    author = view.get("author") or {}
    post_id = _id_of(view.get("uri")) or ""
    actor, _, rkey = post_id.rpartition("/")
    counts = {
        name: int(view[key])
        for key, name in (
            ("likeCount", "like_count"),
            ("repostCount", "repost_count"),
            ("replyCount", "reply_count"),
            ("quoteCount", "quote_count"),
        )
        if isinstance(view.get(key), int)
    }
    langs = record.get("langs")
    reply = record.get("reply") or {}
    return PostData(
        platform="bluesky",
        id=post_id,
        url=canonical_post_url(actor, rkey),
        uploader=author.get("displayName") or None,
        uploader_id=author.get("handle"),
        user_id=author.get("did"),
        created_at=iso_utc(record.get("createdAt")),
        text=record.get("text"),
        lang=langs[0] if isinstance(langs, list) and langs else None,
        reply_to_id=_id_of((reply.get("parent") or {}).get("uri")),
        counts=counts,
        media=_media(record.get("embed"), str(author.get("did") or ""), blobs),
        raw=raw,
    )


def _quoted(view: dict[str, Any], blobs: _Blobs) -> PostData | None:
    """The post a post quotes (``embed.record`` or ``embed.recordWithMedia``), when visible.

    ``#viewNotFound``, ``#viewBlocked`` and ``#viewDetached`` quotes, and quoted feeds, lists
    or starter packs, are kept in the raw response only.
    """
    embed = view.get("embed") or {}
    record = embed.get("record") or {}
    if str(embed.get("$type", "")).startswith("app.bsky.embed.recordWithMedia"):
        record = record.get("record") or {}
    if record.get("$type") != "app.bsky.embed.record#viewRecord" or not _id_of(record.get("uri")):
        return None
    value = record.get("value")
    if not isinstance(value, dict):
        return None
    return _post(record, value, blobs, dump_json(record))


def _blob_cid(blob: Any) -> str | None:
    """A blob's CID, in the current (``ref.$link``) or the legacy (``cid``) form."""
    if not isinstance(blob, dict):
        return None
    ref = blob.get("ref")
    cid = ref.get("$link") if isinstance(ref, dict) else blob.get("cid")
    return cid if isinstance(cid, str) and cid else None


def _media(embed: Any, did: str, blobs: _Blobs) -> tuple[MediaRef, ...]:
    """The blobs a record embeds: images, a video, a link card's thumbnail."""
    if not isinstance(embed, dict) or not did:
        return ()
    kind = str(embed.get("$type", ""))
    if kind == "app.bsky.embed.recordWithMedia":
        return _media(embed.get("media"), did, blobs)
    items: list[tuple[Any, dict[str, Any]]] = []
    if kind == "app.bsky.embed.images":
        items = [(i.get("image"), i) for i in embed.get("images") or [] if isinstance(i, dict)]
    elif kind == "app.bsky.embed.video":
        items = [(embed.get("video"), embed)]
    elif kind == "app.bsky.embed.external":
        external = embed.get("external") or {}
        items = [
            (external.get("thumb"), {"uri": external.get("uri"), "title": external.get("title")})
        ]
    refs: list[MediaRef] = []
    for blob, about in items:
        cid = _blob_cid(blob)
        if cid is None:
            continue
        info = {
            "cid": cid,
            "mime_type": blob.get("mimeType"),
            "size": blob.get("size"),
            **{k: v for k, v in about.items() if k in ("alt", "aspectRatio", "uri", "title") and v},
        }
        refs.append(MediaRef(_MEDIA_KINDS[kind], blobs.url(did, cid), info=info))
    return tuple(refs)


METHODS: dict[str, Method] = {"appview": fetch_appview}
