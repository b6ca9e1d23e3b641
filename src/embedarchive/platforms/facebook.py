"""Facebook: posts, photos and videos (page permalinks, fbid links, plugin frames), via yt-dlp.

Ids follow the corpus convention: ``<page>/<posts|videos|photos>/<id>`` for page permalinks,
the bare number for ``fbid``/``story_fbid``/``watch?v=``/``reel`` links. The social plugins
(``plugins/post.php?href=…``, ``plugins/video.php?href=…``) carry the post as an encoded
``href`` and are unwrapped; other plugins (like, share, page, comments) are chrome.
"""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

from ..capture.collect import capture_with_methods
from ..capture.context import FetchContext
from ..capture.videos import ytdlp_method
from ..models import Capture, Target
from .base import QUERY_BEFORE, AmpMarker, Platform

_HOST = r"(?:https?://)?(?:(?:www|m|web|mbasic|business|touch)\.)?facebook\.com/"
_RESERVED = (
    r"(?!(?:sharer|share|dialog|plugins|login|tr|hashtag|search|events|pages|profile\.php)\b)"
)
PERMALINK_RE = re.compile(
    _HOST
    + _RESERVED
    + r"(?P<page>(?:groups/)?[\w.-]{2,80})/(?P<type>posts|videos|photos|permalink)/"
    r"(?:(?:a|pcb|vb)\.[\d.]+/|[\w.%-]{1,200}/(?=\d{8,}))?(?P<fbid>pfbid\w{20,80}|\d{5,25})(?![\w])",
    re.IGNORECASE,
)
FBID_RE = re.compile(
    _HOST + r"(?:photo(?:\.php)?/?|permalink\.php|story\.php|video\.php|watch/?|reel/?)"
    r"(?:\?(?:"
    + QUERY_BEFORE
    + r"[&;])?(?:story_fbid|fbid|v)=|(?<=reel/))(?P<fbid>pfbid\w{20,80}|\d{5,25})",
    re.IGNORECASE,
)
PLUGIN_RE = re.compile(
    _HOST
    + r"(?:v[\d.]+/)?plugins/(?:post|video)\.php\?"
    + QUERY_BEFORE
    + r"\bhref=(?P<href>[^&\s\"'<>]+)",
    re.IGNORECASE,
)
SHORT_RE = re.compile(
    r"(?:https?://)?(?:fb\.watch/[\w-]{5,20}|(?:www\.)?facebook\.com/share/[prv]/[\w-]{5,30})/?",
    re.IGNORECASE,
)


class Facebook(Platform):
    name: ClassVar[str] = "facebook"
    kind = "post"
    url_patterns = (PLUGIN_RE, PERMALINK_RE, FBID_RE)
    short_link_patterns = (SHORT_RE,)
    embed_classes = ("fb-post", "fb-video")
    amp_markers = (AmpMarker("amp-facebook", "data-href"),)
    hosts = ("facebook.com", "fb.watch", "fb.com")
    examples: ClassVar[tuple[tuple[str, str | None], ...]] = (
        (
            "https://www.facebook.com/Sozialdemokratie/posts/928812574504508/",
            "Sozialdemokratie/posts/928812574504508",
        ),
        (
            "https://www.facebook.com/cnn/videos/some-title/10155012345678901/",
            "cnn/videos/10155012345678901",
        ),
        (
            "https://www.facebook.com/parcoabruzzo/photos/a.1234.5678/2395361813834269/?type=3",
            "parcoabruzzo/photos/2395361813834269",
        ),
        (
            "https://www.facebook.com/photo.php?fbid=10207393772231779&set=a.1332832050135&type=3",
            "10207393772231779",
        ),
        ("https://www.facebook.com/permalink.php?story_fbid=1234567890&id=100044", "1234567890"),
        ("https://www.facebook.com/watch/?v=2817492538540046", "2817492538540046"),
        (
            "https://www.facebook.com/plugins/post.php?href=https%3A%2F%2Fwww.facebook.com%2Fegypt.mohp%2Fposts%2F139298604287427&width=500",
            "egypt.mohp/posts/139298604287427",
        ),
        (
            "https://www.facebook.com/plugins/video.php?href=https%3A%2F%2Fwww.facebook.com%2Fcnn%2Fvideos%2F10155012345678901%2F",
            "cnn/videos/10155012345678901",
        ),
        ("https://www.facebook.com/Sozialdemokratie", None),
        ("https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fexample.com%2Fa", None),
        ("https://www.facebook.com/plugins/like.php?href=https%3A%2F%2Fexample.com%2Fa", None),
        (
            "https://www.facebook.com/plugins/page.php?href=https%3A%2F%2Fwww.facebook.com%2Fnews",
            None,
        ),
    )

    def match(self, url: str) -> Target | None:
        plugin = PLUGIN_RE.search(url)
        if plugin:
            inner = unquote(plugin.group("href").replace("&amp;", "&"))
            return None if PLUGIN_RE.search(inner) else self.match(inner)
        m = PERMALINK_RE.search(url)
        if m:
            page, kind, fbid = m.group("page"), m.group("type").lower(), m.group("fbid")
            if kind == "permalink":
                kind = "posts"
            post_id = f"{page}/{kind}/{fbid}"
            return Target(
                self.name,
                post_id,
                f"https://www.facebook.com/{post_id}",
                "video" if kind == "videos" else "post",
            )
        m = FBID_RE.search(url)
        if m:
            return self._from_fbid(m.group("fbid"), m.group(0), url)
        return None

    def _from_fbid(self, fbid: str, matched: str, url: str) -> Target:
        path = urlsplit(matched if "://" in matched else "https://" + matched).path.lower()
        if path.startswith(("/watch", "/video.php", "/reel")):
            return Target(self.name, fbid, f"https://www.facebook.com/watch/?v={fbid}", "video")
        if "story_fbid" in matched:
            query = parse_qs(urlsplit(url.replace("&amp;", "&")).query)
            owner = next(iter(query.get("id", [])), "")
            suffix = f"&id={owner}" if owner.isdigit() else ""
            return Target(
                self.name,
                fbid,
                f"https://www.facebook.com/permalink.php?story_fbid={fbid}{suffix}",
                "post",
            )
        return Target(self.name, fbid, f"https://www.facebook.com/photo.php?fbid={fbid}", "post")

    def target_for_id(self, post_id: str) -> Target | None:
        return self.match(post_id)

    def fetch(self, target: Target, ctx: FetchContext) -> Capture:
        return capture_with_methods(target, ctx, [("ytdlp", ytdlp_method())])
