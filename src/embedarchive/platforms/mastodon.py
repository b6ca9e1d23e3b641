"""Mastodon: statuses of any instance, read from the instance's public REST API.

Mastodon runs on thousands of hosts, so a URL cannot be recognised by its host. The rule:

* ``https://<host>/@<user>/<id>`` (also ``@<user>@<remote host>``, and ``…/embed``) and the
  ActivityPub form ``https://<host>/users/<user>/statuses/<id>`` are statuses when ``<id>`` has
  15 to 20 digits — Mastodon's time-based ids, which every status since 2017 has. Shorter
  numbers after ``/@user/`` are too common elsewhere to be read as Mastodon on any host.
* The explicit embed markers name a status whatever its id: ``blockquote.mastodon-embed``
  (its link or ``data-embed-url``) and ``iframe.mastodon-embed`` (``…/@user/<id>/embed``).
* ``truthsocial.com`` runs Mastodon's software but is its own platform (``truthsocial.py``,
  listed before this one; its API is not open), so it is never read as an instance here.

No ``hosts``: any host may run Mastodon, so a non-status URL on a known instance is not
withheld from other platforms.

Ids are ``<instance host>/<status id>``: a status id is only unique on the instance that
assigned it, and ``<instance>/api/v1/statuses/<id>`` (or the ``mastodon_api_url`` mirror) is
where it is fetched. A status is public there since Mastodon 2.7; 404 means deleted or
private and 401 an instance in authorized-fetch mode: both are final (``unavailable``).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from ..capture.collect import Method, MethodResult, capture_with_methods
from ..capture.context import FetchContext
from ..capture.http import Recorder
from ..errors import UnavailableError, UnexpectedResponseError
from ..models import Capture, MediaRef, PostData, Target
from ..untrusted import dump_json
from ._common import fail_unless_ok, html_to_text, iso_utc, json_body, json_error, reading
from .base import Platform

#: Hosts with Mastodon-shaped URLs that are platforms of their own.
NOT_MASTODON_HOSTS = ("truthsocial.com",)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = (
    r"(?<![A-Za-z0-9.-])(?P<host>(?!(?:www\.)?(?:"
    + "|".join(re.escape(h) for h in NOT_MASTODON_HOSTS)
    + r")(?![A-Za-z0-9.-]))(?:"
    + _LABEL
    + r"\.)+[A-Za-z]{2,63})"
)
_USER = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?"
_ACCOUNT = r"(?P<user>" + _USER + r"(?:@(?:" + _LABEL + r"\.)+[A-Za-z]{2,63})?)"
PROFILE_STATUS_RE = re.compile(
    r"(?:https?://)?" + _HOST + r"/@" + _ACCOUNT + r"/(?P<id>\d{15,20})(?!\d)", re.IGNORECASE
)
USERS_STATUS_RE = re.compile(
    r"(?:https?://)?" + _HOST + r"/users/(?P<user>" + _USER + r")/statuses/(?P<id>\d{15,20})(?!\d)",
    re.IGNORECASE,
)
#: What an explicit embed marker carries: a status or embed URL, with an id of any length.
_MARKED_RE = re.compile(
    r"(?:https?://)?" + _HOST + r"/@" + _ACCOUNT + r"/(?P<id>\d{1,20})(?:/embed)?/?(?:[?#].*)?",
    re.IGNORECASE,
)
_ATTACHMENT_KINDS: dict[str, Literal["photo", "video", "gif", "audio"]] = {
    "image": "photo",
    "video": "video",
    "gifv": "gif",
    "audio": "audio",
}


class Mastodon(Platform):
    name: ClassVar[str] = "mastodon"
    kind = "post"
    url_patterns = (PROFILE_STATUS_RE, USERS_STATUS_RE)
    embed_classes = ("mastodon-embed",)
    #: The Mastodon ≥ 4.3 blockquote: ``data-embed-url="https://<host>/@<user>/<id>/embed"``.
    embed_id_attrs: ClassVar[tuple[str, ...]] = ("data-embed-url",)
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        (
            "https://mastodon.social/@raymondcamden/116205264348332986",
            "mastodon.social/116205264348332986",
        ),
        (
            "https://botsin.space/@superjoycat/109439745302574877/embed",
            "botsin.space/109439745302574877",
        ),
        (
            "https://mastodon.social/users/thislight/statuses/107751441476337212",
            "mastodon.social/107751441476337212",
        ),
        (
            "https://Mastodon.Social/@someone@fosstodon.org/109439745302574877",
            "mastodon.social/109439745302574877",
        ),
        ("https://mastodon.social/@Gargron/1", None),
        ("https://mastodon.social/@Gargron", None),
        ("https://truthsocial.com/@realDonaldTrump/116431297579272777", None),
        ("https://www.tiktok.com/@scout2015/video/6718335390845095173", None),
    )

    def match(self, url: str) -> Target | None:
        for pattern in self.url_patterns:
            m = pattern.search(url)
            if m:
                return self._target(m["host"], m["user"], m["id"])
        return None

    def canonical_url(self, m: re.Match[str]) -> str:
        return canonical_status_url(m["host"], m["user"], m["id"])

    def target_for_id(self, post_id: str) -> Target | None:
        """A status named by an explicit embed marker (``data-embed-url``), whatever its id."""
        m = _MARKED_RE.fullmatch(post_id.strip())
        return self._target(m["host"], m["user"], m["id"]) if m else None

    def _target(self, host: str, user: str, status_id: str) -> Target:
        url = canonical_status_url(host, user, status_id)
        return Target(self.name, f"{host.lower()}/{status_id}", url, self.kind)

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        return capture_with_methods(target, ctx, list(METHODS.items()))


def canonical_status_url(host: str, user: str, status_id: str) -> str:
    return f"https://{host.lower()}/@{user}/{status_id}"


def fetch_api(target: Target, ctx: FetchContext, recorder: Recorder) -> MethodResult:
    instance, status_id = target.id.rsplit("/", 1)
    base = ctx.settings.mastodon_api_url or f"https://{instance}"
    url = f"{base.rstrip('/')}/api/v1/statuses/{status_id}"
    got = ctx.http.get(url, recorder, "mastodon:status", max_bytes=ctx.settings.max_json_bytes)
    if got.status in (404, 410):
        reason = json_error(got) or f"HTTP {got.status}"
        raise UnavailableError(f"mastodon: {reason} (deleted, private or never public)")
    if got.status == 401:
        reason = json_error(got) or "HTTP 401"
        raise UnavailableError(
            f"mastodon: {instance} requires a login (authorized fetch): {reason}"
        )
    fail_unless_ok(got, "mastodon status")
    data = json_body(got, "mastodon status")
    if not isinstance(data, dict) or not data.get("id"):
        raise UnexpectedResponseError("mastodon status answered JSON that is not a status")
    with reading("mastodon status"):
        post = post_from_status(data, instance, got.body.decode("utf-8", "replace"))
    return MethodResult(post)


def post_from_status(status: dict[str, Any], instance: str, raw: str) -> PostData:
    """A Status entity as PostData; a quoted (4.5+) or reblogged status becomes ``quoted``."""
    account = status.get("account") or {}
    status_id = str(status["id"])
    counts = {
        name: int(status[key])
        for key, name in (
            ("favourites_count", "like_count"),
            ("reblogs_count", "repost_count"),
            ("replies_count", "reply_count"),
            ("quotes_count", "quote_count"),
        )
        if isinstance(status.get(key), int)
    }
    inner = _quoted_status(status)
    reply_to = status.get("in_reply_to_id")
    return PostData(
        platform="mastodon",
        id=f"{instance}/{status_id}",
        url=str(status.get("url") or status.get("uri") or f"https://{instance}/"),
        uploader=account.get("display_name") or account.get("username"),
        uploader_id=_handle(account, instance),
        user_id=str(account["id"]) if account.get("id") else None,
        created_at=iso_utc(status.get("created_at")),
        text=html_to_text(str(status.get("content") or "")) or None,
        lang=status.get("language"),
        reply_to_id=f"{instance}/{reply_to}" if reply_to else None,
        quoted=post_from_status(inner, instance, dump_json(inner)) if inner else None,
        counts=counts,
        media=_media(status.get("media_attachments")),
        raw=raw,
    )


def _quoted_status(status: dict[str, Any]) -> dict[str, Any] | None:
    quote = status.get("quote")
    for candidate in (
        quote.get("quoted_status") if isinstance(quote, dict) else None,
        status.get("reblog"),
    ):
        if isinstance(candidate, dict) and candidate.get("id"):
            return candidate
    return None


def _handle(account: dict[str, Any], instance: str) -> str | None:
    """``user@host``: ``acct`` is relative to the instance asked, so it is made absolute."""
    acct = account.get("acct") or account.get("username")
    if not acct:
        return None
    if "@" in str(acct):
        return str(acct)
    host = urlsplit(str(account.get("url") or "")).hostname or instance
    return f"{acct}@{host}"


def _media(attachments: Any) -> tuple[MediaRef, ...]:
    refs: list[MediaRef] = []
    for item in attachments if isinstance(attachments, list) else []:
        if not isinstance(item, dict):
            continue
        kind = _ATTACHMENT_KINDS.get(str(item.get("type")))
        url = item.get("url") or item.get("remote_url")
        if kind is None or not url:
            continue
        info = {
            k: item[k]
            for k in ("id", "type", "description", "meta", "blurhash", "remote_url")
            if item.get(k) is not None
        }
        refs.append(MediaRef(kind, str(url), info=info))
        if kind in ("video", "gif") and item.get("preview_url"):
            refs.append(
                MediaRef("thumbnail", str(item["preview_url"]), info={"of": item.get("id")})
            )
    return tuple(refs)


METHODS: dict[str, Method] = {"api": fetch_api}
